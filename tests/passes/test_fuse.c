/* test_fuse.c: the `fuse` pass (passes/fuse.c) on the tiny encoder and decoder: which rewrites
 * happen (counted op by op), which must not (a linear read twice, pre-norm residual adds, qkv on
 * a mesh of several chips), every switch turning its fusion off, and that the graph stays valid
 * (verified after the pass, every activation produced once, the separate q/k/v weights gone). */
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "unit.h"

/* Compiles `spec` (under specs/) through `fuse` (or only up to it when fuse < 0: the unfused
 * graph) with the --set assignments given; counts ops of every kind into n[]. */
static int compile_to_fuse(const char *spec, int fuse, const char *const *sets, int n_sets, int n[TTC_OP_COUNT],
                           Compilation *c) {
    char path[512];
    snprintf(path, sizeof path, "%s/specs/%s", unit_source_dir(), spec);
    CompileOptions o;
    compile_options_init(&o);
    o.spec = path;
    o.sets = sets;
    o.n_sets = n_sets;
    o.seq = 16;
    o.max_seq = 32;
    o.stop_after = fuse ? PASS_FUSE : PASS_PRECISION;
    int rc = compile_spec(&o, c);
    if (rc) diag_print(&c->diags, stderr);
    memset(n, 0, sizeof(int) * TTC_OP_COUNT);
    for (int k = 0; rc == 0 && k < c->graph.n_ops; k++) n[c->graph.ops[k].d.kind]++;
    return rc;
}

/* Ops of `kind` whose path ends with `suffix`, with attribute epilogue == `epilogue` (-1: any). */
static int count_ops(const Graph *g, int kind, const char *suffix, int epilogue) {
    int n = 0;
    size_t ls = strlen(suffix);
    for (int k = 0; k < g->n_ops; k++) {
        const IrOp *op = &g->ops[k];
        size_t lp = strlen(op->d.path);
        if (op->d.kind == kind && lp >= ls && strcmp(op->d.path + lp - ls, suffix) == 0 &&
            (epilogue < 0 || op->d.attrs.epilogue == epilogue))
            n++;
    }
    return n;
}

static int has_weight(const Graph *g, const char *name) { return ir_find_weight(g, name) >= 0; }

/* Every activation produced by exactly one op, as the plan validator wants. */
static void expect_ssa(const Graph *g) {
    for (int v = 0; v < g->n_vals; v++) {
        if (g->vals[v].d.kind != TTC_TENSOR_ACT) continue;
        int producers = 0;
        for (int k = 0; k < g->n_ops; k++) producers += g->ops[k].d.out == v;
        CU_ASSERT_EQUAL(producers, 1);
        CU_ASSERT(g->vals[v].producer >= 0 && g->ops[g->vals[v].producer].d.out == v);
    }
}

static void test_encoder(void) {
    Compilation u, f;
    int nu[TTC_OP_COUNT], nf[TTC_OP_COUNT];
    CU_ASSERT_FATAL(compile_to_fuse("tiny-bert.yaml", 0, NULL, 0, nu, &u) == 0);
    CU_ASSERT_FATAL(compile_to_fuse("tiny-bert.yaml", 1, NULL, 0, nf, &f) == 0);
    /* 2 layers: each loses scores + softmax (2 ops), k and v projections (2), gelu (1), two
     * residual adds (2); the embedding's position add (1) and the pooler's tanh (1) go too. */
    CU_ASSERT_EQUAL(nu[TTC_OP_ATTN_SCORES], 2);
    CU_ASSERT_EQUAL(nf[TTC_OP_ATTN_SCORES] + nf[TTC_OP_SOFTMAX] + nf[TTC_OP_ATTN_CONTEXT], 0);
    CU_ASSERT_EQUAL(nf[TTC_OP_ATTENTION], 2);
    CU_ASSERT_EQUAL(nf[TTC_OP_GELU] + nf[TTC_OP_TANH] + nf[TTC_OP_LAYERNORM], 0);
    CU_ASSERT_EQUAL(nf[TTC_OP_ADD_LAYERNORM], 5);
    CU_ASSERT_EQUAL(nf[TTC_OP_ADD], 1); /* word + token type: its reader is another add, not a norm */
    CU_ASSERT_EQUAL(nf[TTC_OP_LINEAR], nu[TTC_OP_LINEAR] - 4);
    CU_ASSERT_EQUAL(f.graph.n_ops, u.graph.n_ops - 2 * 7 - 2);
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "ffn.up", TTC_EPILOGUE_GELU), 2);
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "pooler.dense", TTC_EPILOGUE_TANH), 1);
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "attention.qkv", TTC_EPILOGUE_NONE), 2);
    /* the attention reads q, k, v from the one fused tensor, at their column offsets */
    for (int k = 0; k < f.graph.n_ops; k++) {
        const IrOp *op = &f.graph.ops[k];
        if (op->d.kind != TTC_OP_ATTENTION) continue;
        CU_ASSERT(op->d.in[0] == op->d.in[1] && op->d.in[1] == op->d.in[2]);
        CU_ASSERT(op->d.attrs.q_col == 0 && op->d.attrs.k_col == 32 && op->d.attrs.v_col == 64);
        CU_ASSERT(op->d.attrs.has_mask && op->d.n_in == 4);
        CU_ASSERT_STRING_EQUAL(op->module_type, "attention");
    }
    CU_ASSERT(has_weight(&f.graph, "encoder.layer.1.attention.self.query.weight:32|encoder.layer.1.attention.self.key."
                                   "weight:32|encoder.layer.1.attention.self.value.weight:32"));
    CU_ASSERT(!has_weight(&f.graph, "encoder.layer.1.attention.self.key.weight"));
    expect_ssa(&f.graph);
    compile_free(&u);
    compile_free(&f);
}

static void test_decoder(void) {
    Compilation u, f;
    int nu[TTC_OP_COUNT], nf[TTC_OP_COUNT];
    CU_ASSERT_FATAL(compile_to_fuse("tiny-llama.yaml", 0, NULL, 0, nu, &u) == 0);
    CU_ASSERT_FATAL(compile_to_fuse("tiny-llama.yaml", 1, NULL, 0, nf, &f) == 0);
    /* prefill and decode, 2 layers each: RoPE goes into the qkv epilogue, silu into the gate's */
    CU_ASSERT_EQUAL(nf[TTC_OP_ROPE] + nf[TTC_OP_SILU] + nf[TTC_OP_SOFTMAX], 0);
    CU_ASSERT_EQUAL(nf[TTC_OP_ATTENTION], 4);
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "attention.qkv", TTC_EPILOGUE_ROPE_QK), 4);
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "ffn.gate", TTC_EPILOGUE_SILU), 4);
    /* not fused: the gated ffn's up projection is read by the multiply, not an activation; the
     * pre-norm residual adds feed both the next norm and the next add */
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "ffn.up", TTC_EPILOGUE_NONE), 4);
    CU_ASSERT_EQUAL(nf[TTC_OP_ADD], nu[TTC_OP_ADD]);
    CU_ASSERT_EQUAL(nf[TTC_OP_RMSNORM], nu[TTC_OP_RMSNORM]);
    CU_ASSERT_EQUAL(nf[TTC_OP_ADD_LAYERNORM], 0);
    CU_ASSERT_EQUAL(nf[TTC_OP_KV_UPDATE], 8);
    for (int k = 0; k < f.graph.n_ops; k++) {
        const IrOp *op = &f.graph.ops[k];
        if (op->d.kind == TTC_OP_KV_UPDATE) /* k from column 32 (after 4 q heads of 8), v from 48 */
            CU_ASSERT(op->d.attrs.k_col == (strstr(op->d.path, "k_cache") ? 32 : 48));
        if (op->d.kind == TTC_OP_LINEAR && strstr(op->d.path, "qkv")) {
            CU_ASSERT(op->d.attrs.heads == 4 && op->d.attrs.kv_heads == 2 && op->d.attrs.k_col == 32);
            CU_ASSERT(op->d.attrs.rope_theta == 10000.0f);
            CU_ASSERT_EQUAL(f.graph.vals[op->d.out].d.shape.d[2].size, 64);
        }
    }
    /* one fused weight per layer, shared by prefill and decode */
    int fused = 0;
    for (int v = 0; v < f.graph.n_vals; v++) fused += f.graph.vals[v].d.kind == TTC_TENSOR_WEIGHT &&
                                                      strchr(f.graph.vals[v].d.name, '|') != NULL;
    CU_ASSERT_EQUAL(fused, 2);
    expect_ssa(&f.graph);
    compile_free(&u);
    compile_free(&f);
}

/* Each switch off: its fusion, and only it, is gone. */
static void test_switches(void) {
    static const struct { const char *set; int kind; const char *suffix; } cases[] = {
        {"attention.kernel_variant=naive", TTC_OP_SOFTMAX, "softmax"},
        {"attention.fused_qkv=false", TTC_OP_LINEAR, "attention.k"},
        {"defaults.fuse_epilogue=false", TTC_OP_GELU, "ffn.act"},
        {"defaults.fuse_residual_norm=false", TTC_OP_LAYERNORM, "attention_norm"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Compilation f;
        int n[TTC_OP_COUNT];
        const char *sets[1] = {cases[i].set};
        CU_ASSERT_FATAL(compile_to_fuse("tiny-bert.yaml", 1, sets, 1, n, &f) == 0);
        CU_ASSERT_EQUAL(count_ops(&f.graph, cases[i].kind, cases[i].suffix, -1), 2);
        /* the others still happen (naive attention also keeps q, k, v apart: only the fused
         * attention reads them at column offsets) */
        CU_ASSERT_EQUAL(n[TTC_OP_ATTENTION], i == 0 ? 0 : 2);
        CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "qkv", -1), i <= 1 ? 0 : 2);
        CU_ASSERT_EQUAL(n[TTC_OP_GELU], i == 2 ? 2 : 0);
        CU_ASSERT_EQUAL(n[TTC_OP_ADD_LAYERNORM], i == 3 ? 0 : 5);
        compile_free(&f);
    }
    /* per layer: only layer_1's attention keeps the naive kernel */
    Compilation f;
    int n[TTC_OP_COUNT];
    const char *one[1] = {"layer_1.attention.kernel_variant=naive"};
    CU_ASSERT_FATAL(compile_to_fuse("tiny-bert.yaml", 1, one, 1, n, &f) == 0);
    CU_ASSERT_EQUAL(n[TTC_OP_ATTENTION], 1);
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_SOFTMAX, "layer_1.attention.softmax", -1), 1);
    compile_free(&f);
    /* every switch off: nothing fused */
    const char *all[4] = {cases[0].set, cases[1].set, cases[2].set, cases[3].set};
    Compilation u;
    int nu[TTC_OP_COUNT];
    CU_ASSERT_FATAL(compile_to_fuse("tiny-bert.yaml", 1, all, 4, n, &f) == 0);
    CU_ASSERT_FATAL(compile_to_fuse("tiny-bert.yaml", 0, NULL, 0, nu, &u) == 0);
    CU_ASSERT_EQUAL(memcmp(n, nu, sizeof n), 0);
    compile_free(&f);
    compile_free(&u);
}

/* A mesh of two chips keeps q, k and v apart (shard splits them by heads); the rest fuses. */
static void test_mesh_keeps_qkv(void) {
    Compilation f;
    int n[TTC_OP_COUNT];
    const char *sets[1] = {"device=wormhole_n300"};
    CU_ASSERT_FATAL(compile_to_fuse("tiny-llama.yaml", 1, sets, 1, n, &f) == 0);
    CU_ASSERT_EQUAL(f.graph.mesh_rows * f.graph.mesh_cols, 2);
    CU_ASSERT_EQUAL(count_ops(&f.graph, TTC_OP_LINEAR, "qkv", -1), 0);
    CU_ASSERT_EQUAL(n[TTC_OP_ROPE], 8);
    CU_ASSERT_EQUAL(n[TTC_OP_ATTENTION], 4);
    compile_free(&f);
}

static CU_TestInfo tests[] = {
    {"encoder: attention, qkv, epilogues, residual+norm", test_encoder},
    {"decoder: rope in the qkv epilogue; pre-norm adds and read-twice linears stay", test_decoder},
    {"each switch turns its fusion off; all off fuses nothing", test_switches},
    {"a multi-chip mesh keeps q, k, v separate", test_mesh_keeps_qkv},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"fuse pass", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
