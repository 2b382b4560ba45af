/* test_ir_edit.c: the incremental helpers of ir_edit.c agree with the scans they replace: use
 * counts kept up to date through rewrites (IrUses vs ir_count_uses) and the weight name index
 * (IrWeightIndex vs ir_find_weight), on a real graph and through growth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "unit.h"

/* tiny-llama lowered and through precision: the graph `fuse` gets (both entry points). */
static int compile_unfused(Compilation *c) {
    char spec[512];
    snprintf(spec, sizeof spec, "%s/specs/tiny-llama.yaml", unit_source_dir());
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.stop_after = PASS_PRECISION;
    int rc = compile_spec(&o, c);
    if (rc) diag_print(&c->diags, stderr);
    return rc;
}

/* Every value's kept count equals a fresh scan's; returns how many differ. */
static int mismatches(const Graph *g, const IrUses *u, const unsigned char *dead) {
    int bad = 0;
    for (int v = 0; v < g->n_vals; v++) {
        if (ir_uses_of(u, v) == ir_count_uses(g, v, dead)) continue;
        if (bad++ < 5) printf("\n  value %d (%s): kept %d, scan %d", v, g->vals[v].d.name, ir_uses_of(u, v),
                              ir_count_uses(g, v, dead));
    }
    return bad;
}

static void test_uses_follow_rewrites(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_unfused(&c) == 0);
    Graph *g = &c.graph;
    unsigned char *dead = calloc((size_t)g->n_ops, 1);
    CU_ASSERT_FATAL(dead != NULL);
    IrUses u;
    CU_ASSERT_FATAL(ir_uses_init(&u, g, NULL) == 0);
    CU_ASSERT_EQUAL(mismatches(g, &u, dead), 0);
    int reads = 0;
    for (int v = 0; v < g->n_vals; v++) reads += ir_uses_of(&u, v) > 0;
    CU_ASSERT(reads > g->n_ops / 2); /* the counts are not all zero */

    /* Kill every third op, rewire every fifth op's first input to another value, and make some
     * ops read a value added after init (beyond the array's first size). */
    int added = ir_add_act(g, "test.added", 0);
    CU_ASSERT_FATAL(added >= 0);
    int late = -1;
    for (int k = 0; k < g->n_ops; k++) {
        if (k % 3 == 0) {
            CU_ASSERT(ir_uses_count_op(&u, &g->ops[k], -1) == 0);
            dead[k] = 1;
        } else if (k % 5 == 0 && g->ops[k].d.n_in > 0) {
            CU_ASSERT(ir_uses_count_op(&u, &g->ops[k], -1) == 0);
            g->ops[k].d.in[0] = k % 2 ? added : g->ops[k - 1].d.out;
            CU_ASSERT(ir_uses_count_op(&u, &g->ops[k], +1) == 0);
        }
    }
    /* far past the count array's first size (n_vals + 1 at init): it must grow */
    for (int i = 0, n = 3 * g->n_vals; i < n; i++) late = ir_add_act(g, "test.late", 0);
    CU_ASSERT_FATAL(late >= 0);
    for (int k = 1; k < g->n_ops; k += 3) {
        CU_ASSERT(ir_uses_count_op(&u, &g->ops[k], -1) == 0);
        g->ops[k].d.in[0] = late;
        CU_ASSERT(ir_uses_count_op(&u, &g->ops[k], +1) == 0);
    }
    CU_ASSERT(ir_uses_of(&u, late) > 0);
    CU_ASSERT_EQUAL(mismatches(g, &u, dead), 0);
    CU_ASSERT_EQUAL(ir_uses_of(&u, -1), 0);
    CU_ASSERT_EQUAL(ir_uses_of(&u, g->n_vals + 1000), 0);
    ir_uses_free(&u);
    free(dead);
    compile_free(&c);
}

static void test_weight_index_finds_what_the_scan_finds(void) {
    Compilation c;
    CU_ASSERT_FATAL(compile_unfused(&c) == 0);
    Graph *g = &c.graph;
    IrWeightIndex x;
    CU_ASSERT_FATAL(ir_weight_index_init(&x, g) == 0);
    int weights = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const char *name = g->vals[v].d.name;
        int want = ir_find_weight(g, name);
        CU_ASSERT_EQUAL(ir_weight_index_find(&x, g, name), want);
        weights += g->vals[v].d.kind == TTC_TENSOR_WEIGHT;
    }
    CU_ASSERT(weights > 10);
    CU_ASSERT_EQUAL(ir_weight_index_find(&x, g, "no.such.weight"), -1);
    /* Growth past the first table (64 slots, half full at most), and first-of-name wins. */
    TtcShape s = ir_shape(1, ir_dim(4));
    char name[64];
    int first_dup = ir_add_weight(g, "dup.weight", s, 0);
    CU_ASSERT(ir_weight_index_add(&x, g, first_dup) == 0);
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "grown.%d.weight", i);
        CU_ASSERT(ir_weight_index_add(&x, g, ir_add_weight(g, name, s, 0)) == 0);
    }
    int second_dup = ir_add_weight(g, "dup.weight", s, 0);
    CU_ASSERT(ir_weight_index_add(&x, g, second_dup) == 0);
    CU_ASSERT_EQUAL(ir_weight_index_find(&x, g, "dup.weight"), first_dup);
    CU_ASSERT_EQUAL(ir_find_weight(g, "dup.weight"), first_dup);
    for (int i = 0; i < 500; i += 37) {
        snprintf(name, sizeof name, "grown.%d.weight", i);
        CU_ASSERT_EQUAL(ir_weight_index_find(&x, g, name), ir_find_weight(g, name));
        CU_ASSERT(ir_weight_index_find(&x, g, name) >= 0);
    }
    ir_weight_index_free(&x);
    compile_free(&c);
}

static CU_TestInfo tests[] = {
    {"use counts follow deaths and rewired inputs", test_uses_follow_rewrites},
    {"the weight index finds what the scan finds", test_weight_index_finds_what_the_scan_finds},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"ir-edit", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
