/* test_lower.c: what the lowering makes of a BERT spec: ops, module paths, HF weight names. */
#include <stdio.h>
#include <string.h>

#include "lower.h"
#include "unit.h"

typedef struct Lowered {
    Spec spec;
    Graph g;
    Diags d;
} Lowered;

static int lower_tiny(Lowered *l, int64_t seq) {
    char path[512];
    memset(l, 0, sizeof *l);
    snprintf(path, sizeof path, "%s/specs/tiny-bert.yaml", unit_source_dir());
    if (spec_load(&l->spec, path, &l->d) != 0) {
        diag_print(&l->d, stderr);
        return -1;
    }
    ir_init(&l->g);
    LowerOptions o = {.batch = 2, .seq = seq, .max_seq = seq};
    return lower_spec(&l->spec, &o, &l->g, &l->d);
}

static void lowered_free(Lowered *l) {
    ir_free(&l->g);
    spec_free(&l->spec);
    diag_free(&l->d);
}

static int find_op(const Graph *g, const char *path) {
    for (int k = 0; k < g->n_ops; k++)
        if (strcmp(g->ops[k].d.path, path) == 0) return k;
    return -1;
}

static int has_weight(const Graph *g, const char *name) {
    for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].d.kind == TTC_TENSOR_WEIGHT && strcmp(g->vals[v].d.name, name) == 0) return 1;
    return 0;
}

static void test_op_count_and_order(void) {
    Lowered l;
    CU_ASSERT_FATAL(lower_tiny(&l, 16) == 0);
    /* embedding: word, token_type, add, position, add, norm = 6;
     * per layer: q k v scores softmax context out residual norm up act down residual norm = 14;
     * pooler: first_token dense act = 3.  tiny-bert has 2 layers: 6 + 28 + 3 = 37. */
    CU_ASSERT_EQUAL(l.g.n_ops, 37);
    CU_ASSERT(find_op(&l.g, "embedding.word") == 0);
    CU_ASSERT(find_op(&l.g, "layer_0.attention.q") < find_op(&l.g, "layer_0.attention.scores"));
    CU_ASSERT(find_op(&l.g, "layer_1.ffn_norm") < find_op(&l.g, "pooler.dense"));
    CU_ASSERT_EQUAL(l.g.ops[find_op(&l.g, "layer_1.ffn.act")].d.kind, TTC_OP_GELU);
    CU_ASSERT_EQUAL(l.g.ops[find_op(&l.g, "pooler.act")].d.kind, TTC_OP_TANH);
    CU_ASSERT_STRING_EQUAL(l.g.ops[find_op(&l.g, "layer_0.attention_norm")].module_type, "norm");
    lowered_free(&l);
}

static void test_attention_attributes(void) {
    Lowered l;
    CU_ASSERT_FATAL(lower_tiny(&l, 16) == 0);
    const TtcAttrs *a = &l.g.ops[find_op(&l.g, "layer_0.attention.scores")].d.attrs;
    /* tiny-bert: hidden 32, 4 heads -> head_dim 8, scale 1/sqrt(8) */
    CU_ASSERT_EQUAL(a->heads, 4);
    CU_ASSERT_EQUAL(a->kv_heads, 4);
    CU_ASSERT_EQUAL(a->head_dim, 8);
    CU_ASSERT_DOUBLE_EQUAL(a->scale, 0.35355339, 1e-7);
    const IrOp *sm = &l.g.ops[find_op(&l.g, "layer_0.attention.softmax")];
    CU_ASSERT(sm->d.attrs.has_mask && !sm->d.attrs.causal);
    CU_ASSERT_EQUAL(sm->d.n_in, 2);
    lowered_free(&l);
}

static void test_hugging_face_weight_names(void) {
    Lowered l;
    CU_ASSERT_FATAL(lower_tiny(&l, 16) == 0);
    static const char *const names[] = {
        "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
        "encoder.layer.0.attention.self.query.weight",
        "encoder.layer.0.attention.self.key.bias",
        "encoder.layer.1.attention.self.value.weight",
        "encoder.layer.1.attention.output.dense.weight",
        "encoder.layer.1.attention.output.LayerNorm.bias",
        "encoder.layer.0.intermediate.dense.weight",
        "encoder.layer.0.output.dense.bias",
        "encoder.layer.1.output.LayerNorm.weight",
        "pooler.dense.weight",
        "pooler.dense.bias",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!has_weight(&l.g, names[i])) printf("\n  missing weight %s", names[i]);
        CU_ASSERT(has_weight(&l.g, names[i]));
    }
    int n_weights = 0;
    for (int v = 0; v < l.g.n_vals; v++) n_weights += l.g.vals[v].d.kind == TTC_TENSOR_WEIGHT;
    /* 5 embedding tensors + 16 per layer + 2 pooler */
    CU_ASSERT_EQUAL(n_weights, 5 + 2 * 16 + 2);
    lowered_free(&l);
}

static void test_seq_beyond_positions_is_an_error(void) {
    Lowered l;
    CU_ASSERT_EQUAL(lower_tiny(&l, 65), -1);
    CU_ASSERT_EQUAL_FATAL(l.d.n_errors, 1);
    CU_ASSERT_STRING_EQUAL(l.d.v[0].msg, "--seq 65 exceeds the model's max_sequence_length (64)");
    CU_ASSERT_STRING_EQUAL(l.d.v[0].hint, "use --seq 64 or less");
    lowered_free(&l);
}

static CU_TestInfo tests[] = {
    {"tiny BERT: op count and order", test_op_count_and_order},
    {"attention attributes from the spec", test_attention_attributes},
    {"Hugging Face weight names", test_hugging_face_weight_names},
    {"--seq beyond the model's positions", test_seq_beyond_positions_is_an_error},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"lower", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
