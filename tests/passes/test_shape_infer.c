/* test_shape_infer.c: shape rules, one per op, and their errors. */
#include <stdio.h>
#include <string.h>

#include "pass.h"
#include "unit.h"

static TtcAttrs no_attrs(void) {
    TtcAttrs a;
    memset(&a, 0, sizeof a);
    return a;
}

static void test_every_op_has_a_rule(void) {
    for (int k = 0; k < TTC_OP_COUNT; k++) {
        if (!shape_infer_has_rule((TtcOpKind)k)) printf("\n  no shape rule for %s", ttc_op_name((TtcOpKind)k));
        CU_ASSERT(shape_infer_has_rule((TtcOpKind)k));
    }
}

typedef struct G {
    Graph g;
    Diags d;
    PassCtx cx;
    TtcDim B, S;
} G;

static void g_init(G *t) {
    memset(t, 0, sizeof *t);
    ir_init(&t->g);
    t->g.max_batch = 2;
    t->g.max_seq = 8;
    t->cx.diags = &t->d;
    t->B = ir_sym(TTC_SYM_BATCH, 2);
    t->S = ir_sym(TTC_SYM_SEQ, 8);
}

static void g_free(G *t) {
    diag_free(&t->d);
    ir_free(&t->g);
}

static int g_op(G *t, TtcOpKind k, TtcAttrs a, int n, int i0, int i1, int i2) {
    int in[3] = {i0, i1, i2};
    int op = ir_add_op(&t->g, k, "m.op", "ffn", in, n, a); /* may move t->g.ops */
    return t->g.ops[op].d.out;
}

static void test_attention_shapes_gqa(void) {
    G t;
    g_init(&t);
    /* 8 query heads, 2 kv heads, head_dim 4: q [B,S,32], k/v [B,S,8] */
    int q = ir_add_input(&t.g, "q", TTC_ROLE_NONE, TTC_F32, ir_shape(3, t.B, t.S, ir_dim(32)));
    int kv = ir_add_input(&t.g, "kv", TTC_ROLE_NONE, TTC_F32, ir_shape(3, t.B, t.S, ir_dim(8)));
    TtcAttrs a = no_attrs();
    a.heads = 8;
    a.kv_heads = 2;
    a.head_dim = 4;
    a.scale = 0.5f;
    int s = g_op(&t, TTC_OP_ATTN_SCORES, a, 2, q, kv, 0);
    int p = g_op(&t, TTC_OP_SOFTMAX, no_attrs(), 1, s, 0, 0);
    int c = g_op(&t, TTC_OP_ATTN_CONTEXT, a, 2, p, kv, 0);
    CU_ASSERT_FATAL(pass_shape_infer(&t.g, &t.cx) == 0);
    char buf[96];
    CU_ASSERT_STRING_EQUAL(ttc_shape_str(&t.g.vals[s].d.shape, buf, sizeof buf), "[B,8,S,S]");
    CU_ASSERT_STRING_EQUAL(ttc_shape_str(&t.g.vals[p].d.shape, buf, sizeof buf), "[B,8,S,S]");
    CU_ASSERT_STRING_EQUAL(ttc_shape_str(&t.g.vals[c].d.shape, buf, sizeof buf), "[B,S,32]");
    g_free(&t);
}

static void test_linear_and_pooler_shapes(void) {
    G t;
    g_init(&t);
    int x = ir_add_input(&t.g, "x", TTC_ROLE_NONE, TTC_F32, ir_shape(3, t.B, t.S, ir_dim(12)));
    int w = ir_add_weight(&t.g, "w", ir_shape(2, ir_dim(20), ir_dim(12)), TTC_INIT_NORMAL);
    int b = ir_add_weight(&t.g, "b", ir_shape(1, ir_dim(20)), TTC_INIT_NORMAL);
    int y = g_op(&t, TTC_OP_LINEAR, no_attrs(), 3, x, w, b);
    int f = g_op(&t, TTC_OP_FIRST_TOKEN, no_attrs(), 1, y, 0, 0);
    CU_ASSERT_FATAL(pass_shape_infer(&t.g, &t.cx) == 0);
    char buf[96];
    CU_ASSERT_STRING_EQUAL(ttc_shape_str(&t.g.vals[y].d.shape, buf, sizeof buf), "[B,S,20]");
    CU_ASSERT_STRING_EQUAL(ttc_shape_str(&t.g.vals[f].d.shape, buf, sizeof buf), "[B,20]");
    g_free(&t);
}

static void test_errors_name_the_op_and_rule(void) {
    G t;
    g_init(&t);
    int x = ir_add_input(&t.g, "x", TTC_ROLE_NONE, TTC_F32, ir_shape(3, t.B, t.S, ir_dim(12)));
    int w = ir_add_weight(&t.g, "w", ir_shape(2, ir_dim(20), ir_dim(10)), TTC_INIT_NORMAL);
    int y = ir_add_input(&t.g, "y", TTC_ROLE_NONE, TTC_F32, ir_shape(3, t.B, t.S, ir_dim(13)));
    g_op(&t, TTC_OP_LINEAR, no_attrs(), 2, x, w, 0);
    g_op(&t, TTC_OP_ADD, no_attrs(), 2, x, y, 0);
    CU_ASSERT(pass_shape_infer(&t.g, &t.cx) != 0);
    CU_ASSERT_EQUAL_FATAL(t.d.n_errors, 2); /* both reported, not just the first */
    CU_ASSERT_STRING_EQUAL(t.d.v[0].msg, "op 'm.op' (linear): input has 12 features, weight expects 10");
    CU_ASSERT_STRING_EQUAL(t.d.v[1].msg, "op 'm.op' (add): operands differ in shape: [B,S,12] vs [B,S,13]");
    g_free(&t);
}

static void test_embedding_needs_int_ids(void) {
    G t;
    g_init(&t);
    int ids = ir_add_input(&t.g, "ids", TTC_ROLE_NONE, TTC_F32, ir_shape(2, t.B, t.S));
    int table = ir_add_weight(&t.g, "t", ir_shape(2, ir_dim(50), ir_dim(6)), TTC_INIT_NORMAL);
    g_op(&t, TTC_OP_EMBEDDING, no_attrs(), 2, ids, table, 0);
    CU_ASSERT(pass_shape_infer(&t.g, &t.cx) != 0);
    CU_ASSERT_PTR_NOT_NULL(t.d.n ? strstr(t.d.v[0].msg, "input 0 must be int32") : NULL);
    g_free(&t);
}

static CU_TestInfo tests[] = {
    {"every op in ops.def has a shape rule", test_every_op_has_a_rule},
    {"attention shapes with grouped kv heads", test_attention_shapes_gqa},
    {"linear and first_token shapes", test_linear_and_pooler_shapes},
    {"errors name the op and the broken rule, all reported", test_errors_name_the_op_and_rule},
    {"embedding ids must be int32", test_embedding_needs_int_ids},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"shape-infer", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
