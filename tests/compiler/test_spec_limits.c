/* test_spec_limits.c: the table of size limits (compiler/spec_limits.h) and the products a compile
 * checks at its batch and sequence bounds: real models pass, absurd ones fail with the figure,
 * the layer and what to lower, and no product overflows on the way. */
#include <stdio.h>
#include <string.h>

#include "spec.h"
#include "spec_limits.h"
#include "unit.h"

static Diags D;
static Spec S;

static void reset(void) {
    diag_free(&D);
    spec_free(&S);
}

static int load(const char *text) {
    reset();
    return spec_load_string(&S, text, "t.yaml", &D);
}

static int has_error(const char *phrase) {
    for (int i = 0; i < D.n; i++)
        if (D.v[i].severity == DIAG_ERROR && strstr(D.v[i].msg, phrase)) return 1;
    fprintf(stderr, "\nmissing error '%s' in:\n", phrase);
    diag_print(&D, stderr);
    return 0;
}

/* A Llama-shaped decoder with every dim given, `layers` copies of its block. */
static const char *decoder(long long vocab, long long seq, long long hidden, long long heads, long long head_dim,
                           long long ffn, long long layers) {
    static char t[2048];
    snprintf(t, sizeof t,
             "spec_version: 1\nmodel: {name: d, type: decoder, vocab_size: %lld, max_sequence_length: %lld}\n"
             "layers:\n"
             "  - {id: embedding, type: embedding, params: {hidden_dim: %lld, position: none}}\n"
             "  - id: layer_{i}\n    repeat: %lld\n    type: transformer\n"
             "    params: {hidden_dim: %lld, num_heads: %lld, head_dim: %lld, ffn_dim: %lld, ffn_type: gated,\n"
             "             activation: silu, norm_type: rmsnorm, residual_pattern: pre_norm,\n"
             "             attention: {causal: true, bias: false, rope: {theta: 10000.0}}}\n"
             "  - {id: final_norm, type: norm, params: {norm_type: rmsnorm}}\n"
             "  - {id: lm_head, type: linear, params: {input_dim: %lld, output_dim: %lld}}\n",
             vocab, seq, hidden, layers, hidden, heads, head_dim, ffn, hidden, vocab);
    return t;
}

static void test_table(void) {
    /* Every row has a key, a positive maximum and a reason; the maxima leave room for the largest
     * public configurations. */
    for (int i = 0; i < SPEC_LIMIT_COUNT; i++) {
        CU_ASSERT_PTR_NOT_NULL(spec_limits[i].key);
        CU_ASSERT(spec_limits[i].max > 0);
        CU_ASSERT(spec_limits[i].why && strlen(spec_limits[i].why) > 10);
    }
    CU_ASSERT(spec_limit_max(SPEC_LIMIT_HIDDEN) >= 16384 * 4);
    CU_ASSERT(spec_limit_max(SPEC_LIMIT_VOCAB) >= 262144 * 4);
    CU_ASSERT(spec_limit_max(SPEC_LIMIT_REPEAT) >= 128 * 4);
    CU_ASSERT(spec_limit_max(SPEC_LIMIT_SEQ) >= 10000000);
    CU_ASSERT_EQUAL(ttc_mul_sat(INT64_MAX / 2, 3), INT64_MAX);
    CU_ASSERT_EQUAL(ttc_mul_sat((int64_t)1 << 31, (int64_t)1 << 31), (int64_t)1 << 62);
    CU_ASSERT(strstr(spec_limit_hint(SPEC_LIMIT_VOCAB), "ttc accepts vocab_size up to 4194304") != NULL);
}

static void test_real_models_pass(void) {
    /* Llama 3.1 405B's shape, at a 128K context: compiles (nothing is allocated at compile). */
    CU_ASSERT_EQUAL_FATAL(load(decoder(128256, 131072, 16384, 128, 128, 53248, 126)), 0);
    CU_ASSERT_EQUAL(spec_check_sizes(&S, 1, 4096, 131072, &D), 0);
    CU_ASSERT_EQUAL(D.n_errors, 0);
    /* The largest everything the table allows loads, and its products are computed without
     * overflow: they fail the product rows with a figure, not a wrapped number. */
    CU_ASSERT_EQUAL_FATAL(load(decoder(1 << 22, 1 << 24, 1 << 17, 4096, 4096, 1 << 20, 4096)), 0);
    CU_ASSERT_EQUAL(spec_check_sizes(&S, 1 << 16, 1 << 24, 1 << 24, &D), -1);
    CU_ASSERT(has_error("parameters; ttc accepts at most 4398046511104"));
    CU_ASSERT(has_error("has over 2^63 multiply-adds of one op"));
}

static void test_absurd_sizes_fail(void) {
    /* a vocabulary of 2^40 */
    CU_ASSERT_EQUAL(load(decoder(1LL << 40, 64, 32, 4, 8, 48, 2)), -1);
    CU_ASSERT(has_error("model: vocab_size must be at most 4194304, got 1099511627776"));
    CU_ASSERT(D.n > 0 && D.v[0].hint && strstr(D.v[0].hint, "262,144"));
    /* 10^9 hidden units */
    CU_ASSERT_EQUAL(load(decoder(96, 64, 1000000000, 4, 8, 48, 2)), -1);
    CU_ASSERT(has_error("hidden_dim must be at most 131072, got 1000000000"));
    /* layers repeated 10^7 times */
    CU_ASSERT_EQUAL(load(decoder(96, 64, 32, 4, 8, 48, 10000000)), -1);
    CU_ASSERT(has_error("repeat must be at most 16384, got 10000000"));
    /* within each row but not in product: 4096 layers of a 405B-wide block */
    CU_ASSERT_EQUAL_FATAL(load(decoder(128256, 131072, 16384, 128, 128, 53248, 4096)), 0);
    CU_ASSERT_EQUAL(spec_check_sizes(&S, 1, 16, 16, &D), -1);
    /* 4096 x (4 x 16384^2 + 3 x 16384 x 53248) + 2 x 128256 x 16384 + 2 x 16384 (final norm) */
    CU_ASSERT(has_error("the model has 15122487607296 parameters"));
    CU_ASSERT(D.v[0].hint && strstr(D.v[0].hint, "hidden_dim, ffn_dim, vocab_size and repeat"));
    /* a sane model at absurd bounds: the attention scores name the layer, the bounds and the fix */
    CU_ASSERT_EQUAL_FATAL(load(decoder(96, 1 << 24, 32, 4, 8, 48, 2)), 0);
    CU_ASSERT_EQUAL(spec_check_sizes(&S, 1 << 16, 1 << 24, 1 << 24, &D), -1);
    CU_ASSERT(has_error("layer 'layer_0': the attention scores [batch, heads, seq, context] at batch 65536, seq "
                        "16777216, context 16777216 has over 2^63 elements of one tensor"));
    CU_ASSERT(D.v[0].hint && strstr(D.v[0].hint, "--batch, --seq or --max-seq"));
    CU_ASSERT_EQUAL(D.v[0].loc.line, 5); /* the layer's entry in t.yaml */
    reset();
}

static CU_TestInfo limit_tests[] = {
    {"one table of limits", test_table},
    {"real models pass, products do not overflow", test_real_models_pass},
    {"absurd sizes fail with the figure and a hint", test_absurd_sizes_fail},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"spec_limits", NULL, NULL, NULL, NULL, limit_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
