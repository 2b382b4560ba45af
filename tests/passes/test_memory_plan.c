/* test_memory_plan.c: the memory plan never lets two live values share bytes, and does reuse. */
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "unit.h"

static int compile_tiny(Compilation *c, int64_t batch, int64_t seq) {
    char spec[512];
    snprintf(spec, sizeof spec, "%s/specs/tiny-bert.yaml", unit_source_dir());
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.batch = batch;
    o.seq = seq;
    int rc = compile_spec(&o, c);
    if (rc) diag_print(&c->diags, stderr);
    return rc;
}

static int lifetimes_intersect(const IrValue *a, const IrValue *b) {
    return a->first_use <= b->last_use && b->first_use <= a->last_use;
}

static void check_plan(const Graph *g) {
    int64_t total = 0, peak_live = 0;
    for (int i = 0; i < g->n_vals; i++) {
        const IrValue *a = &g->vals[i];
        if (a->d.kind == TTC_TENSOR_WEIGHT || a->d.kind == TTC_TENSOR_STATE || a->d.alias >= 0) continue;
        total += a->host_bytes;
        CU_ASSERT(a->d.offset % 64 == 0);
        CU_ASSERT(a->d.offset + ttc_shape_max_elems(&a->d.shape) * 4 <= g->arena_bytes);
        for (int j = i + 1; j < g->n_vals; j++) {
            const IrValue *b = &g->vals[j];
            if (b->d.kind == TTC_TENSOR_WEIGHT || !lifetimes_intersect(a, b)) continue;
            int disjoint = a->d.offset + a->host_bytes <= b->d.offset || b->d.offset + b->host_bytes <= a->d.offset;
            if (!disjoint) printf("\n  overlap: %s and %s", a->d.name, b->d.name);
            CU_ASSERT(disjoint);
        }
    }
    /* Lower bound: the bytes live at the busiest op. */
    for (int k = -1; k <= g->n_ops; k++) {
        int64_t live = 0;
        for (int i = 0; i < g->n_vals; i++) {
            const IrValue *v = &g->vals[i];
            if (v->d.kind != TTC_TENSOR_WEIGHT && v->first_use <= k && k <= v->last_use) live += v->host_bytes;
        }
        if (live > peak_live) peak_live = live;
    }
    printf("\n  arena %lld bytes, peak live %lld, no reuse %lld", (long long)g->arena_bytes, (long long)peak_live,
           (long long)total);
    CU_ASSERT(g->arena_bytes >= peak_live);
    CU_ASSERT(g->arena_bytes < total / 2); /* a 2-layer model already reuses most of its memory */
    /* Greedy placement stays within 1.5x of the lower bound on these chain-shaped graphs. */
    CU_ASSERT(g->arena_bytes * 2 <= peak_live * 3);
}

static void test_no_live_overlap_tiny_bert(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_tiny(&c, 2, 16) == 0);
    check_plan(&c.graph);
    compile_free(&c);
}

static void test_no_live_overlap_other_bounds(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_tiny(&c, 3, 37) == 0);
    check_plan(&c.graph);
    compile_free(&c);
}

/* Graph outputs stay alive to the end, so the executor can read them after the last op. */
static void test_outputs_live_to_end(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_tiny(&c, 1, 8) == 0);
    int outputs = 0;
    for (int i = 0; i < c.graph.n_vals; i++)
        if (c.graph.vals[i].d.role >= TTC_ROLE_HIDDEN) {
            outputs++;
            CU_ASSERT_EQUAL(c.graph.vals[i].last_use, c.graph.n_ops);
        }
    CU_ASSERT_EQUAL(outputs, 2); /* hidden and pooled */
    compile_free(&c);
}

/* A hand-built chain a -> b -> c -> d of equal sizes needs exactly two slots. */
static void test_chain_needs_two_slots(void) {
    Graph g;
    ir_init(&g);
    g.max_batch = 1;
    g.max_seq = 4;
    ir_begin_entry(&g, "prefill", 0, 4);
    TtcShape sh = ir_shape(2, ir_dim(4), ir_dim(16)); /* 256 bytes */
    int x = ir_add_input(&g, "x", TTC_ROLE_NONE, TTC_F32, sh);
    TtcAttrs none;
    memset(&none, 0, sizeof none);
    int v = x;
    for (int i = 0; i < 3; i++) {
        char p[16];
        snprintf(p, sizeof p, "m.relu%d", i);
        int k = ir_add_op(&g, TTC_OP_RELU, p, "ffn", &v, 1, none);
        v = g.ops[k].d.out;
    }
    ir_mark_output(&g, v, TTC_ROLE_HIDDEN);
    ir_end_entry(&g);
    Diags d;
    memset(&d, 0, sizeof d);
    PassCtx cx = {.diags = &d};
    CU_ASSERT_FATAL(pass_shape_infer(&g, &cx) == 0);
    CU_ASSERT_FATAL(pass_memory_plan(&g, &cx) == 0);
    CU_ASSERT_EQUAL(g.arena_bytes, 512);
    diag_free(&d);
    ir_free(&g);
}

static CU_TestInfo tests[] = {
    {"tiny BERT: no two live values overlap", test_no_live_overlap_tiny_bert},
    {"tiny BERT at other bounds", test_no_live_overlap_other_bounds},
    {"graph outputs live to the end", test_outputs_live_to_end},
    {"a chain needs exactly two slots", test_chain_needs_two_slots},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"memory-plan", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
