/* test_core_shard.c: the `core-shard` pass (passes/core_shard.c): where activations live on a
 * chip's cores. Small activations go to L1 sharded; a tensor that does not fit stays in DRAM (the
 * boundary found to the byte on a hand-built chain); overlay pins are honoured; a reshard appears
 * exactly where a height-sharded producer feeds a consumer pinned to width; placements change
 * neither results (bit-identical outputs) nor anything but speed (L1 activations cost less). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "cg.h"
#include "cost.h"
#include "dev_layout.h"
#include "ttc_runtime.h"
#include "unit.h"

static Diags D;
static HwConfig C;

static int compile_with(Compilation *c, const char *spec, const char *overlay_text, int64_t seq, int core_shard) {
    char path[512];
    snprintf(path, sizeof path, "%s/specs/%s", unit_source_dir(), spec);
    const char *hws[1];
    CompileOptions o;
    compile_options_init(&o);
    o.spec = path;
    if (overlay_text) {
        hws[0] = unit_write_tmp("overlay.yaml", overlay_text, strlen(overlay_text));
        o.hw = hws;
        o.n_hw = 1;
    }
    o.seq = seq;
    o.allow_misfit = 1; /* placement is tested, also on models too large for the device's DRAM */
    if (!core_shard) o.disabled[o.n_disabled++] = PASS_CORE_SHARD;
    int rc = compile_spec(&o, c);
    if (rc) diag_print(&c->diags, stderr);
    return rc;
}

static int is_sharded(const IrPlacement *p) {
    return p->memory == TTC_MEM_L1 && p->sharding >= HW_SHARD_HEIGHT && p->sharding <= HW_SHARD_BLOCK;
}

static int count_reshards(const Graph *g) {
    int n = 0;
    for (int k = 0; k < g->n_ops; k++) n += g->ops[k].d.kind == TTC_OP_RESHARD;
    return n;
}

/* ---- the policy on shipped specs ---- */

/* tiny-bert on n150 with no overlay: every activation that is not a graph output is small, so all
 * of them land in L1 sharded; the outputs stay in DRAM for the host; the dump shows the tags. */
static void test_small_activations_in_l1_sharded(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_with(&c, "tiny-bert.yaml", NULL, 0, 1) == 0);
    const Graph *g = &c.graph;
    int sharded = 0, outputs = 0;
    for (int k = 0; k < g->n_ops; k++) {
        const IrValue *v = &g->vals[g->ops[k].d.out];
        CU_ASSERT(v->place.set);
        if (v->d.role >= TTC_ROLE_HIDDEN) {
            CU_ASSERT_EQUAL(v->place.memory, TTC_MEM_DRAM);
            outputs++;
        } else {
            CU_ASSERT(is_sharded(&v->place));
            CU_ASSERT(!v->place.pinned);
            sharded += is_sharded(&v->place);
        }
    }
    CU_ASSERT(sharded > 10);
    CU_ASSERT_EQUAL(outputs, 2);
    CU_ASSERT_EQUAL(count_reshards(g), 0); /* nothing pinned: no producer and consumer disagree */
    CU_ASSERT(g->entries[0].l1_peak_bytes <= c.hw.device.l1_bytes);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ir_dump_text(g, -1, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, " l1:height["));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, " dram  # pooler"));
    free(text);
    compile_free(&c);
}

/* x[1,32,64] -> relu -> relu -> out on a 1x1 grid: the middle value (2 bf16 tiles, 4096 bytes)
 * fits L1 next to the relus' circular buffers (2+2 tiles: 8192 bytes) with L1 = 12288 and not
 * with one byte less; then it stays in DRAM. The output is in DRAM either way. */
static void chain(Graph *g) {
    ir_init(g);
    g->max_batch = 1;
    g->max_seq = g->max_ctx = 32;
    ir_begin_entry(g, "prefill", 0, 32);
    int v = ir_add_input(g, "x", TTC_ROLE_NONE, TTC_BF16, ir_shape(3, ir_dim(1), ir_dim(32), ir_dim(64)));
    TtcAttrs none;
    memset(&none, 0, sizeof none);
    for (int i = 0; i < 2; i++) {
        char p[32];
        snprintf(p, sizeof p, "block.ffn.relu%d", i);
        int k = ir_add_op(g, TTC_OP_RELU, p, "ffn", &v, 1, none); /* may move g->ops */
        v = g->ops[k].d.out;
    }
    ir_mark_output(g, v, TTC_ROLE_HIDDEN);
    ir_end_entry(g);
    PassCtx cx = {.diags = &D};
    CU_ASSERT_FATAL(pass_shape_infer(g, &cx) == 0);
    for (int k = 0; k < g->n_ops; k++)
        g->ops[k].d.cfg = (TtcOpConfig){TTC_BF16, TTC_BF16, TTC_FIDELITY_HIFI4, 1, TTC_LAYOUT_TILE, TTC_MEM_DRAM};
    for (int i = 0; i < g->n_vals; i++) g->vals[i].d.dtype = TTC_BF16;
}

static int place_chain(Graph *g, int64_t l1) {
    hw_config_free(&C);
    diag_free(&D);
    memset(&D, 0, sizeof D);
    CU_ASSERT_FATAL(hw_config_init(&C, &D) == 0);
    C.device.grid_x = C.device.grid_y = 1;
    C.device.l1_bytes = l1;
    chain(g);
    PassCtx cx = {.diags = &D, .hw = &C};
    int rc = pass_core_shard(g, &cx);
    if (rc == 0) rc = pass_device_memory(g, &cx);
    return rc;
}

static void test_capacity_decides(void) {
    Graph g;
    CU_ASSERT_EQUAL(place_chain(&g, 12288), 0);
    const IrValue *mid = &g.vals[g.ops[0].d.out];
    CU_ASSERT(is_sharded(&mid->place));
    CU_ASSERT_EQUAL(g.vals[g.ops[1].d.out].place.memory, TTC_MEM_DRAM);
    CU_ASSERT_EQUAL(g.entries[0].l1_peak_bytes, 12288);
    ir_free(&g);

    CU_ASSERT_EQUAL(place_chain(&g, 12287), 0);
    CU_ASSERT_EQUAL(g.vals[g.ops[0].d.out].place.memory, TTC_MEM_DRAM);
    CU_ASSERT_EQUAL(g.entries[0].l1_peak_bytes, 8192); /* circular buffers only */
    CU_ASSERT_EQUAL(D.n_errors, 0);
    ir_free(&g);
}

/* Llama 3.1 8B prefill of 4096 tokens: the FFN's [4096, 14336] intermediates need 1.75 MiB per
 * core however they are sharded, more than the 1.43 MiB usable: they stay in DRAM, while smaller
 * ones still go to L1, and the peak stays under the capacity in both modes. */
static void test_too_large_stays_in_dram(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_with(&c, "llama-3.1-8b.yaml", NULL, 4096, 1) == 0);
    const Graph *g = &c.graph;
    const HwDevice *dev = &c.hw.device;
    int too_big = 0, in_l1 = 0;
    for (int k = g->entries[0].first_op; k < g->entries[0].first_op + g->entries[0].n_ops; k++) {
        const IrValue *v = &g->vals[g->ops[k].d.out];
        if (v->d.alias >= 0) continue;
        DevTensor t = dev_tensor(&v->d, TTC_LAYOUT_TILE, TTC_MEM_L1, HW_SHARD_HEIGHT);
        int64_t least = dev_l1_per_core(&t, dev);
        for (int s = HW_SHARD_WIDTH; s <= HW_SHARD_BLOCK; s++) {
            t.sharding = s;
            if (dev_l1_per_core(&t, dev) < least) least = dev_l1_per_core(&t, dev);
        }
        if (least > dev->l1_bytes) {
            too_big++;
            CU_ASSERT_EQUAL(v->place.memory, TTC_MEM_DRAM);
        }
        in_l1 += v->place.memory == TTC_MEM_L1;
    }
    CU_ASSERT(too_big >= 32);
    CU_ASSERT(in_l1 > 0);
    for (int e = 0; e < g->n_entries; e++) CU_ASSERT(g->entries[e].l1_peak_bytes <= dev->l1_bytes);
    compile_free(&c);
}

/* ---- pins ---- */

static void test_width_pin_honoured(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_with(&c, "tiny-llama.yaml", "hw_version: 1\nmodules:\n  \"layer_*.ffn\": {sharding: width}\n",
                                 0, 1) == 0);
    const Graph *g = &c.graph;
    int ffn = 0;
    for (int k = 0; k < g->n_ops; k++) {
        const IrOp *op = &g->ops[k];
        const IrPlacement *p = &g->vals[op->d.out].place;
        if (strcmp(op->module_type, "ffn") != 0 || op->d.kind == TTC_OP_RESHARD) continue;
        ffn++;
        CU_ASSERT_EQUAL(p->memory, TTC_MEM_L1);
        CU_ASSERT_EQUAL(p->sharding, HW_SHARD_WIDTH);
        CU_ASSERT(p->pinned);
    }
    CU_ASSERT(ffn >= 4);
    compile_free(&c);

    /* `memory: dram` beats the pin and the policy alike */
    CU_ASSERT_FATAL(compile_with(&c, "tiny-llama.yaml",
                                 "hw_version: 1\nmodules:\n  ffn: {sharding: width, memory: dram}\n", 0, 1) == 0);
    for (int k = 0; k < c.graph.n_ops; k++)
        if (strcmp(c.graph.ops[k].module_type, "ffn") == 0)
            CU_ASSERT_EQUAL(c.graph.vals[c.graph.ops[k].d.out].place.memory, TTC_MEM_DRAM);
    compile_free(&c);
}

/* final_norm pinned to height feeding lm_head pinned to width: one reshard per entry point, and
 * only there: its input is final_norm's height-sharded output, its output is width-sharded, and
 * lm_head (and nothing else) reads it. */
static void test_reshard_exactly_where_needed(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_with(&c, "tiny-llama.yaml",
                                 "hw_version: 1\nmodules:\n  final_norm: {sharding: height}\n"
                                 "  lm_head: {sharding: width}\n", 0, 1) == 0);
    const Graph *g = &c.graph;
    CU_ASSERT_EQUAL(count_reshards(g), g->n_entries);
    for (int k = 0; k < g->n_ops; k++) {
        const IrOp *op = &g->ops[k];
        if (op->d.kind != TTC_OP_RESHARD) continue;
        const IrValue *src = &g->vals[op->d.in[0]], *dst = &g->vals[op->d.out];
        CU_ASSERT_STRING_EQUAL(g->ops[src->producer].d.path, "final_norm");
        CU_ASSERT_EQUAL(src->place.sharding, HW_SHARD_HEIGHT);
        CU_ASSERT_EQUAL(dst->place.sharding, HW_SHARD_WIDTH);
        CU_ASSERT_EQUAL(dst->place.memory, TTC_MEM_L1);
        CU_ASSERT_FATAL(k + 1 < g->n_ops);
        CU_ASSERT_STRING_EQUAL(g->ops[k + 1].d.path, "lm_head");
        CU_ASSERT_EQUAL(g->ops[k + 1].d.in[0], op->d.out);
        CU_ASSERT_EQUAL(ir_count_uses(g, op->d.out, NULL), 1);
        CU_ASSERT_EQUAL(ir_entry_of_op(g, k), ir_entry_of_op(g, k + 1));
    }
    TtcPlan p;
    CU_ASSERT_EQUAL(cg_plan_from_graph(g, &p, "test"), 0);
    TtcError e = {0};
    CU_ASSERT_EQUAL(ttc_plan_validate(&p, "resharded", &e), TTC_OK);
    ttc_plan_free(&p);
    compile_free(&c);

    /* the same pins without the pass: no reshard */
    CU_ASSERT_FATAL(compile_with(&c, "tiny-llama.yaml",
                                 "hw_version: 1\nmodules:\n  final_norm: {sharding: height}\n"
                                 "  lm_head: {sharding: width}\n", 0, 0) == 0);
    CU_ASSERT_EQUAL(count_reshards(&c.graph), 0);
    compile_free(&c);
}

/* ---- results and cost ---- */

static int plan_of(const char *spec, const char *overlay, int core_shard, TtcModel *m) {
    char path[512], ref[512];
    snprintf(path, sizeof path, "%s/specs/%s", unit_source_dir(), spec);
    snprintf(ref, sizeof ref, "%s/specs/hw/reference.yaml", unit_source_dir());
    const char *hws[2] = {ref, unit_write_tmp(core_shard ? "pins1.yaml" : "pins0.yaml", overlay, strlen(overlay))};
    CompileOptions o;
    compile_options_init(&o);
    o.spec = path;
    o.hw = hws;
    o.n_hw = 2;
    o.seq = 8;
    o.max_seq = 16;
    if (!core_shard) o.disabled[o.n_disabled++] = PASS_CORE_SHARD;
    TtcPlan plan;
    int rc = compile_spec_to_plan(&o, &plan, stderr);
    if (rc == 0) ttc_model_from_plan(m, &plan);
    return rc;
}

/* tiny-llama with pins that force reshards: prefill and three decode steps with and without the
 * pass give the same logits to the bit. */
static void test_results_unchanged(void) {
    static const char *pins = "hw_version: 1\nmodules:\n  final_norm: {sharding: height}\n"
                              "  lm_head: {sharding: width}\n  \"layer_0.ffn\": {sharding: block}\n";
    TtcModel m[2];
    TtcSession s[2];
    TtcError err = {0};
    for (int f = 0; f < 2; f++) {
        CU_ASSERT_FATAL(plan_of("tiny-llama.yaml", pins, f, &m[f]) == 0);
        CU_ASSERT_FATAL(ttc_model_random_weights(&m[f], 7, 0, &err) == TTC_OK);
        CU_ASSERT_FATAL(ttc_session_init(&s[f], &m[f], NULL, &err) == TTC_OK);
    }
    int reshards = 0;
    for (int k = 0; k < m[1].plan.n_ops; k++) {
        const TtcOpDesc *op = &m[1].plan.ops[k];
        if (op->kind != TTC_OP_RESHARD) continue;
        reshards++;
        /* one move per value and destination: ffn up and gate share the reshard of their input */
        for (int j = 0; j < k; j++)
            CU_ASSERT(m[1].plan.ops[j].kind != TTC_OP_RESHARD || m[1].plan.ops[j].in[0] != op->in[0]);
    }
    CU_ASSERT(reshards >= 4);
    int32_t ids[5] = {3, 17, 42, 5, 88};
    TtcInputs in = {ids, NULL, NULL, 1, 5};
    for (int f = 0; f < 2; f++) CU_ASSERT_FATAL(ttc_forward(&s[f], &in, &err) == TTC_OK);
    for (int step = 0; step < 4; step++) {
        RtTensor a, b;
        const float *x = ttc_session_output(&s[0], TTC_ROLE_LOGITS, &a);
        const float *y = ttc_session_output(&s[1], TTC_ROLE_LOGITS, &b);
        CU_ASSERT_FATAL(rt_tensor_elems(&a) == rt_tensor_elems(&b));
        CU_ASSERT(memcmp(x, y, (size_t)rt_tensor_elems(&a) * sizeof *x) == 0);
        int32_t next = (int32_t)(11 + 13 * step);
        for (int f = 0; f < 2 && step < 3; f++) CU_ASSERT_FATAL(ttc_decode_step(&s[f], &next, &err) == TTC_OK);
    }
    for (int f = 0; f < 2; f++) {
        ttc_session_free(&s[f]);
        ttc_model_close(&m[f]);
    }
}

/* bert-base at 128 tokens: with activations in L1 the forward is estimated faster than with
 * `memory: dram` everywhere (where the pass leaves every activation in DRAM). */
static void test_l1_activations_cost_less(void) {
    Compilation a, b;
    CU_ASSERT_FATAL(compile_with(&a, "bert-base.yaml", NULL, 128, 1) == 0);
    CU_ASSERT_FATAL(compile_with(&b, "bert-base.yaml", "hw_version: 1\ndefaults:\n  memory: dram\n", 128, 1) == 0);
    int in_l1 = 0;
    for (int v = 0; v < b.graph.n_vals; v++) in_l1 += b.graph.vals[v].place.set && b.graph.vals[v].place.memory;
    CU_ASSERT_EQUAL(in_l1, 0);
    printf("\n    bert-base seq 128: %lld cycles with L1 activations, %lld with memory: dram",
           (long long)a.graph.entries[0].device_cycles, (long long)b.graph.entries[0].device_cycles);
    CU_ASSERT(a.graph.entries[0].device_cycles > 0);
    CU_ASSERT(a.graph.entries[0].device_cycles < b.graph.entries[0].device_cycles);
    compile_free(&a);
    compile_free(&b);
}

static int cleanup(void) {
    hw_config_free(&C);
    diag_free(&D);
    return 0;
}

static CU_TestInfo tests[] = {
    {"small activations go to L1 sharded", test_small_activations_in_l1_sharded},
    {"the L1 capacity decides, to the byte", test_capacity_decides},
    {"a tensor too large for L1 stays in DRAM", test_too_large_stays_in_dram},
    {"sharding: width pins a module's outputs", test_width_pin_honoured},
    {"a reshard exactly where height feeds width", test_reshard_exactly_where_needed},
    {"outputs are bit-identical with and without the pass", test_results_unchanged},
    {"L1 activations cost less than DRAM", test_l1_activations_cost_less},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"core-shard", NULL, cleanup, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
