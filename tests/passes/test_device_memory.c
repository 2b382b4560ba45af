/* test_device_memory.c: the `device-memory` pass (passes/device_memory.c) and the device layout
 * it rests on (passes/dev_layout.c): tile and page arithmetic worked out by hand, a plan that
 * fits L1 (and DRAM) exactly and one that misses by one byte, the shape of the messages, and
 * what the shipped specs and presets give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "dev_layout.h"
#include "unit.h"

static Diags D;
static HwConfig C;

/* The default device (wormhole_n150) with capacities a test may shrink. */
static void fresh_device(int grid_x, int grid_y, int64_t l1, int64_t dram, int banks) {
    hw_config_free(&C);
    diag_free(&D);
    memset(&D, 0, sizeof D);
    CU_ASSERT_FATAL(hw_config_init(&C, &D) == 0);
    C.device.grid_x = grid_x;
    C.device.grid_y = grid_y;
    C.device.l1_bytes = l1;
    C.device.dram_bytes = dram;
    C.device.dram_banks = banks;
}

static TtcOpConfig cfg_of(int memory) {
    return (TtcOpConfig){TTC_BF16, TTC_BF16, TTC_FIDELITY_HIFI4, 1, TTC_LAYOUT_TILE, (uint8_t)memory};
}

/* x[1,32,64] -> relu -> relu -> out, every op's config `memory`, values bf16. */
static void chain(Graph *g, int memory) {
    ir_init(g);
    g->max_batch = 1;
    g->max_seq = 32;
    g->max_ctx = 32;
    ir_begin_entry(g, "prefill", 0, 32);
    int v = ir_add_input(g, "x", TTC_ROLE_NONE, TTC_BF16, ir_shape(3, ir_dim(1), ir_dim(32), ir_dim(64)));
    TtcAttrs none;
    memset(&none, 0, sizeof none);
    for (int i = 0; i < 2; i++) {
        char p[32];
        snprintf(p, sizeof p, "block.ffn.relu%d", i);
        int k = ir_add_op(g, TTC_OP_RELU, p, "ffn", &v, 1, none);
        v = g->ops[k].d.out;
    }
    ir_mark_output(g, v, TTC_ROLE_HIDDEN);
    ir_end_entry(g);
    PassCtx cx = {.diags = &D};
    CU_ASSERT_FATAL(pass_shape_infer(g, &cx) == 0);
    for (int k = 0; k < g->n_ops; k++) g->ops[k].d.cfg = cfg_of(memory);
    for (int i = 0; i < g->n_vals; i++) g->vals[i].d.dtype = TTC_BF16;
}

static int run_pass_allowing(Graph *g, int allow_misfit, PassCtx *out) {
    PassCtx cx = {.diags = &D, .hw = &C, .allow_misfit = allow_misfit};
    int rc = pass_device_memory(g, &cx);
    if (out) *out = cx;
    return rc;
}

static int run_pass(Graph *g) { return run_pass_allowing(g, 0, NULL); }

/* ---- layout arithmetic ---- */

static TtcTensorDesc desc(int dtype, int rank, int64_t d0, int64_t d1, int64_t d2) {
    TtcTensorDesc d;
    memset(&d, 0, sizeof d);
    d.dtype = dtype;
    d.shape = rank == 3 ? ir_shape(3, ir_dim(d0), ir_dim(d1), ir_dim(d2)) : ir_shape(2, ir_dim(d0), ir_dim(d1));
    return d;
}

static void test_tiles_pages_and_shards(void) {
    fresh_device(2, 2, 1 << 20, (int64_t)1 << 30, 3);
    /* [3, 40, 100] bf16: each of the 3 slices pads 40 rows to 64 (2 row tiles) and 100 columns
     * to 128 (4 tiles): 6 x 4 = 24 tiles of 2048 bytes. */
    TtcTensorDesc d = desc(TTC_BF16, 3, 3, 40, 100);
    DevTensor t = dev_tensor(&d, TTC_LAYOUT_TILE, TTC_MEM_L1, HW_SHARD_AUTO);
    CU_ASSERT_EQUAL(t.row_tiles, 6);
    CU_ASSERT_EQUAL(t.col_tiles, 4);
    CU_ASSERT_EQUAL(t.pages, 24);
    CU_ASSERT_EQUAL(t.bytes, 24 * 2048);
    /* 4 cores: interleaved 24/4 = 6 tiles each; height ceil(6/4) = 2 row tiles x 4 = 8 tiles;
     * width 6 x ceil(4/4) = 6; block 2x2: ceil(6/2) x ceil(4/2) = 6. */
    CU_ASSERT_EQUAL(dev_l1_per_core(&t, &C.device), 6 * 2048);
    t.sharding = HW_SHARD_HEIGHT;
    CU_ASSERT_EQUAL(dev_l1_per_core(&t, &C.device), 8 * 2048);
    t.sharding = HW_SHARD_WIDTH;
    CU_ASSERT_EQUAL(dev_l1_per_core(&t, &C.device), 6 * 2048);
    t.sharding = HW_SHARD_BLOCK;
    CU_ASSERT_EQUAL(dev_l1_per_core(&t, &C.device), 6 * 2048);
    /* DRAM over 3 banks: 8 tiles per bank, times 3. */
    CU_ASSERT_EQUAL(dev_dram_per_chip(&t, &C.device), 24 * 2048);
    /* The other formats' tile sizes (DEVICE.md §2). */
    d.dtype = TTC_F32;
    CU_ASSERT_EQUAL(dev_tensor(&d, TTC_LAYOUT_TILE, 0, 0).bytes, 24 * 4096);
    d.dtype = TTC_BFP8;
    CU_ASSERT_EQUAL(dev_tensor(&d, TTC_LAYOUT_TILE, 0, 0).bytes, 24 * 1088);
    d.dtype = TTC_BFP4;
    CU_ASSERT_EQUAL(dev_tensor(&d, TTC_LAYOUT_TILE, 0, 0).bytes, 24 * 576);
    /* Row-major: 120 rows of 100 bf16 = 200 bytes, pages aligned to 32: 224. Interleaved over 4
     * cores: 30 rows each; over 3 banks: 40 rows per bank. */
    d.dtype = TTC_BF16;
    t = dev_tensor(&d, TTC_LAYOUT_ROW_MAJOR, TTC_MEM_L1, HW_SHARD_AUTO);
    CU_ASSERT_EQUAL(t.pages, 120);
    CU_ASSERT_EQUAL(t.page_bytes, 224);
    CU_ASSERT_EQUAL(dev_l1_per_core(&t, &C.device), 30 * 224);
    CU_ASSERT_EQUAL(dev_dram_per_chip(&t, &C.device), 40 * 224 * 3);
    /* A 5-tile tensor on 4 cores: the first core holds 2 tiles. 1 tile over 3 banks: a whole
     * page in the fullest bank, so 3 pages' worth of the chip. */
    TtcTensorDesc five = desc(TTC_BF16, 2, 32, 160, 0);
    t = dev_tensor(&five, TTC_LAYOUT_TILE, TTC_MEM_L1, HW_SHARD_AUTO);
    CU_ASSERT_EQUAL(dev_l1_per_core(&t, &C.device), 2 * 2048);
    TtcTensorDesc one = desc(TTC_BF16, 2, 1, 1, 0);
    t = dev_tensor(&one, TTC_LAYOUT_TILE, TTC_MEM_DRAM, HW_SHARD_AUTO);
    CU_ASSERT_EQUAL(t.bytes, 2048);
    CU_ASSERT_EQUAL(dev_dram_per_chip(&t, &C.device), 3 * 2048);
}

static void test_module_of(void) {
    IrOp op;
    memset(&op, 0, sizeof op);
    static const struct { const char *path, *type, *want; } cases[] = {
        {"layer_3.attention.q", "attention", "layer_3.attention"},
        {"embedding.word", "embedding", "embedding"},
        {"layer_3.attention_norm", "norm", "layer_3.attention_norm"},
        {"embedding.norm", "norm", "embedding.norm"},
        {"lm_head", "lm_head", "lm_head"},
        {"pooler.dense", "pooler", "pooler"},
        {"final_norm", "norm", "final_norm"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(op.d.path, sizeof op.d.path, "%s", cases[i].path);
        snprintf(op.module_type, sizeof op.module_type, "%s", cases[i].type);
        char m[TTC_NAME_MAX];
        dev_module_of(&op, m, sizeof m);
        CU_ASSERT_STRING_EQUAL(m, cases[i].want);
    }
}

/* ---- fit: exactly, and one byte short ---- */

/* By hand, one core: x, a = relu(x), b = relu(a), 2 tiles (4096 bytes) each. In program order
 * x sits at offset 0 (live before op 0 to op 0), a at 4096 (live with x), b at 0 (x is dead by
 * then): the tensors reach 8192 bytes below the top at both ops. A relu's circular buffers are
 * 2 input + 2 output tiles: 8192. Peak: 16384 bytes per core. */
static void test_l1_fits_exactly(void) {
    Graph g;
    fresh_device(1, 1, 16384, (int64_t)1 << 30, 1);
    chain(&g, TTC_MEM_L1);
    CU_ASSERT_EQUAL(run_pass(&g), 0);
    CU_ASSERT_EQUAL(D.n, 0);
    CU_ASSERT_EQUAL(g.entries[0].l1_peak_bytes, 16384);
    CU_ASSERT_EQUAL(g.entries[0].dram_peak_bytes, 0);
    ir_free(&g);
}

static void test_l1_misses_by_one_byte(void) {
    Graph g;
    fresh_device(1, 1, 16383, (int64_t)1 << 30, 1);
    chain(&g, TTC_MEM_L1);
    CU_ASSERT_EQUAL(run_pass(&g), -1);
    CU_ASSERT_EQUAL_FATAL(D.n, 1);
    CU_ASSERT_EQUAL(D.v[0].severity, DIAG_ERROR);
    CU_ASSERT_STRING_EQUAL(D.v[0].msg, "module 'block.ffn' (prefill): L1 needs 16384 B per core, wormhole_n150 has "
                                       "16383 B usable (at 'block.ffn.relu0': circular buffers 8.0 KiB, L1 tensors "
                                       "8.0 KiB)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(D.v[0].hint);
    CU_ASSERT_PTR_NOT_NULL(strstr(D.v[0].hint, "set memory: dram for it (--set block.ffn.memory=dram, frees 8.0 KiB)"));
    ir_free(&g);

    /* --allow-misfit: the same problem, as a warning, and the pass goes on; it says where it is */
    fresh_device(1, 1, 16383, (int64_t)1 << 30, 1);
    chain(&g, TTC_MEM_L1);
    PassCtx cx;
    CU_ASSERT_EQUAL(run_pass_allowing(&g, 1, &cx), 0);
    CU_ASSERT_EQUAL_FATAL(D.n, 1);
    CU_ASSERT_EQUAL(D.v[0].severity, DIAG_WARNING);
    CU_ASSERT_EQUAL(D.n_errors, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(D.v[0].msg, "module 'block.ffn' (prefill): L1 needs 16384 B per core"));
    CU_ASSERT_EQUAL(cx.misfit_first, 0);
    CU_ASSERT_EQUAL(cx.n_misfits, 1);
    ir_free(&g);
}

/* The same chain in DRAM, over 3 banks: each 2-tile tensor takes a page in 2 banks, so 3 pages'
 * worth (6144 bytes) of the chip; x and a are live together: 12288 bytes at the peak. */
static void test_dram_fits_exactly_and_misses_by_one(void) {
    Graph g;
    fresh_device(8, 8, 1 << 20, 12288, 3);
    chain(&g, TTC_MEM_DRAM);
    CU_ASSERT_EQUAL(run_pass(&g), 0);
    CU_ASSERT_EQUAL(D.n, 0);
    CU_ASSERT_EQUAL(g.entries[0].dram_peak_bytes, 12288);
    CU_ASSERT_EQUAL(g.entries[0].l1_peak_bytes, 8192); /* circular buffers only */
    ir_free(&g);

    /* one byte short: an error, as for L1 (does not fit is one verdict) */
    fresh_device(8, 8, 1 << 20, 12287, 3);
    chain(&g, TTC_MEM_DRAM);
    PassCtx cx;
    CU_ASSERT_EQUAL(run_pass_allowing(&g, 0, &cx), -1);
    CU_ASSERT_EQUAL_FATAL(D.n, 1);
    CU_ASSERT_EQUAL(D.v[0].severity, DIAG_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(D.v[0].msg, "model '' (prefill): DRAM needs 12288 B per chip, wormhole_n150 has "
                                              "12287 B (weights 0 B, KV cache 0 B, activations 12.0 KiB at the peak)"));
    CU_ASSERT_EQUAL(cx.n_misfits, 1);
    ir_free(&g);

    /* --allow-misfit: a warning, and the pass succeeds */
    fresh_device(8, 8, 1 << 20, 12287, 3);
    chain(&g, TTC_MEM_DRAM);
    CU_ASSERT_EQUAL(run_pass_allowing(&g, 1, &cx), 0);
    CU_ASSERT_EQUAL_FATAL(D.n, 1);
    CU_ASSERT_EQUAL(D.v[0].severity, DIAG_WARNING);
    CU_ASSERT_EQUAL(cx.n_misfits, 1);
    ir_free(&g);
}

/* ---- resident weights ---- */

/* Two layers, each an FFN whose weight [256, 256] bf16 (64 tiles, 128 KiB) lives in L1 on one
 * core; x [1, 32, 256] bf16 (8 tiles) in DRAM. */
static void two_layers(Graph *g) {
    ir_init(g);
    g->max_batch = 1;
    g->max_seq = g->max_ctx = 32;
    ir_begin_entry(g, "prefill", 0, 32);
    int v = ir_add_input(g, "x", TTC_ROLE_NONE, TTC_BF16, ir_shape(3, ir_dim(1), ir_dim(32), ir_dim(256)));
    TtcAttrs none;
    memset(&none, 0, sizeof none);
    for (int i = 0; i < 2; i++) {
        char p[32], w[32];
        snprintf(p, sizeof p, "layer_%d.ffn.up", i);
        snprintf(w, sizeof w, "layers.%d.up.weight", i);
        int in[2] = {v, ir_add_weight(g, w, ir_shape(2, ir_dim(256), ir_dim(256)), TTC_INIT_NORMAL)};
        int k = ir_add_op(g, TTC_OP_LINEAR, p, "ffn", in, 2, none);
        v = g->ops[k].d.out;
    }
    ir_mark_output(g, v, TTC_ROLE_HIDDEN);
    ir_end_entry(g);
    PassCtx cx = {.diags = &D};
    CU_ASSERT_FATAL(pass_shape_infer(g, &cx) == 0);
    for (int k = 0; k < g->n_ops; k++) g->ops[k].d.cfg = cfg_of(TTC_MEM_L1);
    for (int i = 0; i < g->n_vals; i++) g->vals[i].d.dtype = TTC_BF16;
}

static void test_resident_weights_per_module_merged_across_layers(void) {
    Graph g;
    fresh_device(1, 1, 100 * 1024, (int64_t)1 << 30, 1); /* each layer's 128 KiB alone is too much */
    two_layers(&g);
    CU_ASSERT_EQUAL(run_pass(&g), -1);
    int resident = 0;
    for (int i = 0; i < D.n; i++) {
        if (!strstr(D.v[i].msg, "weights need")) continue;
        resident++;
        CU_ASSERT_STRING_EQUAL(D.v[i].msg, "modules 'layer_*.ffn' (2 of them, layer_0.ffn to layer_1.ffn) (prefill): "
                                           "weights need 128.0 KiB per core in L1 (interleaved over 1 cores), "
                                           "wormhole_n150 has 100.0 KiB usable");
        CU_ASSERT_PTR_NOT_NULL(strstr(D.v[i].hint, "--set layer_*.ffn.memory=dram"));
    }
    CU_ASSERT_EQUAL(resident, 1);
    ir_free(&g);
}

static void test_resident_weights_together(void) {
    Graph g;
    fresh_device(1, 1, 200 * 1024, (int64_t)1 << 30, 1); /* one layer fits, both do not */
    two_layers(&g);
    CU_ASSERT_EQUAL(run_pass(&g), -1);
    CU_ASSERT_TRUE_FATAL(D.n >= 1);
    CU_ASSERT_STRING_EQUAL(D.v[0].msg, "model '' (prefill): the L1-resident weights and KV caches of 2 modules need "
                                       "256.0 KiB per core together, wormhole_n150 has 200.0 KiB usable");
    CU_ASSERT_PTR_NOT_NULL(strstr(D.v[0].hint, "set memory: dram for ffn (--set ffn.memory=dram, frees 256.0 KiB)"));
    ir_free(&g);
}

/* ---- shipped specs ---- */

static int compile_allowing(Compilation *c, const char *spec, const char *hw, const char *set, int allow_misfit) {
    char sp[512], hp[512];
    snprintf(sp, sizeof sp, "%s/specs/%s", unit_source_dir(), spec);
    snprintf(hp, sizeof hp, "%s/specs/hw/%s", unit_source_dir(), hw ? hw : "");
    const char *hws[1] = {hp}, *sets[1] = {set};
    CompileOptions o;
    compile_options_init(&o);
    o.spec = sp;
    o.hw = hws;
    o.n_hw = hw != NULL;
    o.sets = sets;
    o.n_sets = set != NULL;
    o.allow_misfit = allow_misfit;
    return compile_spec(&o, c);
}

static int compile_with(Compilation *c, const char *spec, const char *hw, const char *set) {
    return compile_allowing(c, spec, hw, set, 0);
}

static void test_tiny_bert_everywhere(void) {
    static const char *const presets[] = {NULL, "reference.yaml", "accuracy.yaml", "performance.yaml",
                                          "l1-everything.yaml", "blackhole_p150.yaml"};
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        Compilation c;
        int rc = compile_with(&c, "tiny-bert.yaml", presets[i], NULL);
        if (rc) diag_print(&c.diags, stderr);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(c.diags.n, 0);
        const TtcEntry *e = &c.graph.entries[0];
        CU_ASSERT(e->l1_peak_bytes > 0 && e->l1_peak_bytes < c.hw.device.l1_bytes);
        /* everything in L1: nothing left in DRAM */
        if (presets[i] && strcmp(presets[i], "l1-everything.yaml") == 0) CU_ASSERT_EQUAL(e->dram_peak_bytes, 0);
        if (!presets[i]) CU_ASSERT(e->dram_peak_bytes > 0);
        compile_free(&c);
    }
}

/* Llama 3.1 8B in bf16 (15 GiB of weights) does not fit a 12 GiB Wormhole chip: an error that
 * proposes bfp8 FFN weights; with them (or on a 32 GiB Blackhole) it fits. With allow_misfit the
 * compile goes through with a warning, and its plan records the problem. */
static void test_llama_8b_dram(void) {
    Compilation c;
    CU_ASSERT_EQUAL_FATAL(compile_with(&c, "llama-3.1-8b.yaml", NULL, NULL), 1);
    CU_ASSERT_EQUAL_FATAL(c.diags.n, 1);
    CU_ASSERT_EQUAL(c.diags.v[0].severity, DIAG_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.diags.v[0].msg, "model 'llama-3.1-8b' (prefill): DRAM needs 15.16 GiB per chip, "
                                                    "wormhole_n150 has 12.00 GiB"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.diags.v[0].hint, "--set ffn.weight_dtype=bfp8"));
    CU_ASSERT_EQUAL(c.misfit_first, 0);
    CU_ASSERT_EQUAL(c.n_misfits, 1);
    compile_free(&c);

    CU_ASSERT_EQUAL_FATAL(compile_allowing(&c, "llama-3.1-8b.yaml", NULL, NULL, 1), 0);
    CU_ASSERT_EQUAL_FATAL(c.diags.n, 1);
    CU_ASSERT_EQUAL(c.diags.v[0].severity, DIAG_WARNING);
    CU_ASSERT_EQUAL(c.n_misfits, 1);
    for (int e = 0; e < c.graph.n_entries; e++) CU_ASSERT(c.graph.entries[e].dram_peak_bytes > c.hw.device.dram_bytes);
    TtcPlan plan;
    CU_ASSERT_EQUAL_FATAL(compile_plan_of(&c, "test", &plan), 0);
    CU_ASSERT_EQUAL(plan.n_misfits, 1);
    CU_ASSERT_STRING_EQUAL(plan.misfit, c.diags.v[0].msg);
    ttc_plan_free(&plan);
    compile_free(&c);
    CU_ASSERT_EQUAL(compile_with(&c, "llama-3.1-8b.yaml", "performance.yaml", NULL), 0);
    CU_ASSERT_EQUAL(c.diags.n, 0);
    CU_ASSERT_EQUAL(c.n_misfits, 0);
    TtcPlan fits;
    CU_ASSERT_EQUAL_FATAL(compile_plan_of(&c, "test", &fits), 0);
    CU_ASSERT_EQUAL(fits.n_misfits, 0);
    CU_ASSERT_STRING_EQUAL(fits.misfit, "");
    ttc_plan_free(&fits);
    compile_free(&c);
    CU_ASSERT_EQUAL(compile_with(&c, "llama-3.1-8b.yaml", "blackhole_p150.yaml", NULL), 0);
    CU_ASSERT_EQUAL(c.diags.n, 0);
    compile_free(&c);
}

/* Everything in L1 on an 8B model: errors naming modules and modes, compile fails. */
static void test_llama_8b_l1_everything(void) {
    Compilation c;
    CU_ASSERT_EQUAL(compile_with(&c, "llama-3.1-8b.yaml", "l1-everything.yaml", NULL), 1);
    int ffn = 0, lm_head = 0;
    for (int i = 0; i < c.diags.n; i++) {
        const char *m = c.diags.v[i].msg;
        ffn += strstr(m, "modules 'layer_*.ffn' (32 of them, layer_0.ffn to layer_31.ffn) (prefill, decode): "
                         "weights need 5.25 MiB") != NULL;
        lm_head += strstr(m, "module 'lm_head' (prefill): L1 needs") != NULL;
    }
    CU_ASSERT_EQUAL(ffn, 1);
    CU_ASSERT_EQUAL(lm_head, 1);
    compile_free(&c);
}

static int cleanup(void) {
    hw_config_free(&C);
    diag_free(&D);
    return 0;
}

static CU_TestInfo tests[] = {
    {"tiles, pages and shards by hand", test_tiles_pages_and_shards},
    {"module of an op", test_module_of},
    {"L1 fits exactly", test_l1_fits_exactly},
    {"L1 misses by one byte", test_l1_misses_by_one_byte},
    {"DRAM fits exactly and misses by one byte", test_dram_fits_exactly_and_misses_by_one},
    {"resident weights: per module, merged across layers", test_resident_weights_per_module_merged_across_layers},
    {"resident weights: together", test_resident_weights_together},
    {"tiny BERT under every preset", test_tiny_bert_everywhere},
    {"Llama 3.1 8B DRAM on n150", test_llama_8b_dram},
    {"Llama 3.1 8B with everything in L1", test_llama_8b_l1_everything},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"device-memory", NULL, cleanup, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
