/* test_kernels_ref.c: every reference kernel (runtime/kernels_ref.c) on small cases whose answers
 * are worked out by hand in the comments, plus the argument checks they share with the fast
 * kernels. These kernels are the golden everything else is compared with. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "unit.h"

static TtcError err;

static RtTensor ten(void *data, int rank, const int64_t *dims) {
    RtTensor t = {.data = data, .rank = rank};
    for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
    return t;
}

/* Runs the reference kernel of `kind` on inputs in[0..n_in) into out. */
static TtcStatus run(TtcOpKind kind, TtcAttrs attrs, int n_in, const RtTensor *in, RtTensor out) {
    static TtcOpDesc op;
    memset(&op, 0, sizeof op);
    op.kind = kind;
    op.attrs = attrs;
    snprintf(op.path, sizeof op.path, "layer_0.test.%s", ttc_op_name(kind));
    RtOpArgs a = {.op = &op, .n_in = n_in, .out = out, .err = &err};
    for (int i = 0; i < n_in; i++) a.in[i] = in[i];
    ttc_error_clear(&err);
    return rt_ref_kernels[kind](&a);
}

#define NO_ATTRS ((TtcAttrs){0})

/* Every value within tol of the expected one. */
static void expect_near(const float *got, const float *want, int n, double tol) {
    for (int i = 0; i < n; i++) {
        if (fabs((double)got[i] - want[i]) <= tol) continue;
        char msg[128];
        snprintf(msg, sizeof msg, "element %d: got %.9g, want %.9g", i, got[i], want[i]);
        CU_FAIL(msg);
        fprintf(stderr, "  %s\n", msg);
        return;
    }
    CU_PASS("close");
}

static void test_table_complete(void) {
    for (int k = 0; k < TTC_OP_COUNT; k++) CU_ASSERT_PTR_NOT_NULL(rt_ref_kernels[k]);
}

/* ---- gathers ---- */

static void test_embedding(void) {
    float table[4 * 2] = {0, 1, 10, 11, 20, 21, 30, 31}; /* row v is [10v, 10v+1] */
    int32_t ids[2 * 2] = {3, 0, 1, 1};
    float out[2 * 2 * 2];
    RtTensor in[2] = {ten(ids, 2, (int64_t[]){2, 2}), ten(table, 2, (int64_t[]){4, 2})};
    CU_ASSERT_EQUAL(run(TTC_OP_EMBEDDING, NO_ATTRS, 2, in, ten(out, 3, (int64_t[]){2, 2, 2})), TTC_OK);
    expect_near(out, (float[]){30, 31, 0, 1, 10, 11, 10, 11}, 8, 0);
}

static void test_embedding_id_out_of_range(void) {
    float table[4 * 2] = {0};
    float out[1 * 2 * 2];
    int32_t ids[2] = {0, 5}; /* 5 is not in [0, 4) */
    RtTensor in[2] = {ten(ids, 2, (int64_t[]){1, 2}), ten(table, 2, (int64_t[]){4, 2})};
    CU_ASSERT_EQUAL(run(TTC_OP_EMBEDDING, NO_ATTRS, 2, in, ten(out, 3, (int64_t[]){1, 2, 2})), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "op 'layer_0.test.embedding': token id 5 at [0,1] is outside the vocabulary [0, 4)");
    CU_ASSERT_NOT_EQUAL(err.hint[0], 0);
    ids[1] = -1;
    CU_ASSERT_EQUAL(run(TTC_OP_EMBEDDING, NO_ATTRS, 2, in, ten(out, 3, (int64_t[]){1, 2, 2})), TTC_E_USER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "token id -1 at [0,1]"));
}

static void test_pos_embedding(void) {
    float table[3 * 2] = {0, 1, 10, 11, 20, 21};
    float out[2 * 2 * 2];
    RtTensor in[1] = {ten(table, 2, (int64_t[]){3, 2})};
    /* B=2, S=2: each sequence gets rows 0 and 1 */
    CU_ASSERT_EQUAL(run(TTC_OP_POS_EMBEDDING, NO_ATTRS, 1, in, ten(out, 3, (int64_t[]){2, 2, 2})), TTC_OK);
    expect_near(out, (float[]){0, 1, 10, 11, 0, 1, 10, 11}, 8, 0);
    /* S=4 > 3 rows: the user's sequence is too long */
    float big[1 * 4 * 2];
    CU_ASSERT_EQUAL(run(TTC_OP_POS_EMBEDDING, NO_ATTRS, 1, in, ten(big, 3, (int64_t[]){1, 4, 2})), TTC_E_USER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "position table"));
}

static void test_first_token(void) {
    float x[2 * 3 * 2] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    float out[2 * 2];
    RtTensor in[1] = {ten(x, 3, (int64_t[]){2, 3, 2})};
    CU_ASSERT_EQUAL(run(TTC_OP_FIRST_TOKEN, NO_ATTRS, 1, in, ten(out, 2, (int64_t[]){2, 2})), TTC_OK);
    expect_near(out, (float[]){1, 2, 7, 8}, 4, 0); /* x[0,0,:] and x[1,0,:] */
}

/* ---- elementwise ---- */

static void test_add_mul(void) {
    float a[3] = {1, -2, 0.5f}, b[3] = {4, 3, -8}, out[3];
    RtTensor in[2] = {ten(a, 1, (int64_t[]){3}), ten(b, 1, (int64_t[]){3})};
    CU_ASSERT_EQUAL(run(TTC_OP_ADD, NO_ATTRS, 2, in, ten(out, 1, (int64_t[]){3})), TTC_OK);
    expect_near(out, (float[]){5, 1, -7.5f}, 3, 0);
    CU_ASSERT_EQUAL(run(TTC_OP_MUL, NO_ATTRS, 2, in, ten(out, 1, (int64_t[]){3})), TTC_OK);
    expect_near(out, (float[]){4, -6, -4}, 3, 0);
    /* in place: out is input 0 */
    CU_ASSERT_EQUAL(run(TTC_OP_ADD, NO_ATTRS, 2, in, ten(a, 1, (int64_t[]){3})), TTC_OK);
    expect_near(a, (float[]){5, 1, -7.5f}, 3, 0);
}

static void test_activations(void) {
    /* gelu(x) = x Phi(x) with the normal CDF from tables: Phi(1) = 0.8413447461,
     * Phi(2) = 0.9772498681, Phi(-3) = 0.0013498980 */
    float x[5] = {1, -1, 0, 2, -3}, out[5];
    RtTensor in[1] = {ten(x, 1, (int64_t[]){5})};
    RtTensor o = ten(out, 1, (int64_t[]){5});
    CU_ASSERT_EQUAL(run(TTC_OP_GELU, NO_ATTRS, 1, in, o), TTC_OK);
    expect_near(out, (float[]){0.8413447f, -0.1586553f, 0, 1.9544997f, -0.0040496941f}, 5, 1e-7);
    /* gelu_tanh(1) = 0.5 (1 + tanh(sqrt(2/pi) (1 + 0.044715))) = 0.5 (1 + tanh(0.8335552))
     * = 0.5 (1 + 0.6823840) = 0.8411920 */
    CU_ASSERT_EQUAL(run(TTC_OP_GELU_TANH, NO_ATTRS, 1, in, o), TTC_OK);
    expect_near(out, (float[]){0.8411920f, -0.1588080f, 0, 1.9545977f, -0.0036373921f}, 5, 1e-7);
    /* silu(x) = x / (1 + e^-x): silu(1) = 1 / 1.3678794 = 0.7310586, silu(-1) = -1 / (1 + e) */
    CU_ASSERT_EQUAL(run(TTC_OP_SILU, NO_ATTRS, 1, in, o), TTC_OK);
    expect_near(out, (float[]){0.7310586f, -0.2689414f, 0, 1.7615942f, -0.1422776f}, 5, 1e-7);
    CU_ASSERT_EQUAL(run(TTC_OP_TANH, NO_ATTRS, 1, in, o), TTC_OK);
    expect_near(out, (float[]){0.7615942f, -0.7615942f, 0, 0.9640276f, -0.9950548f}, 5, 1e-7);
    float r[4] = {-1, 0, 2.5f, NAN}, ro[4];
    RtTensor rin[1] = {ten(r, 1, (int64_t[]){4})};
    CU_ASSERT_EQUAL(run(TTC_OP_RELU, NO_ATTRS, 1, rin, ten(ro, 1, (int64_t[]){4})), TTC_OK);
    expect_near(ro, (float[]){0, 0, 2.5f}, 3, 0);
    CU_ASSERT_TRUE(isnan(ro[3])); /* NaN is not hidden, as in PyTorch */
}

/* ---- norms ---- */

static void test_layernorm_2x3(void) {
    /* row 0 = [1,2,3]: mean 2, biased var (1+0+1)/3 = 2/3, std 0.81649658,
     *   normalized [-1.2247449, 0, 1.2247449]
     * row 1 = [0,0,3]: mean 1, deviations [-1,-1,2], var 6/3 = 2, std 1.4142136,
     *   normalized [-0.70710678, -0.70710678, 1.41421356]
     * then * gamma [1, 2, 0.5] + beta [0, 1, -1] */
    float x[6] = {1, 2, 3, 0, 0, 3}, gamma[3] = {1, 2, 0.5f}, beta[3] = {0, 1, -1}, out[6];
    RtTensor in[3] = {ten(x, 2, (int64_t[]){2, 3}), ten(gamma, 1, (int64_t[]){3}), ten(beta, 1, (int64_t[]){3})};
    TtcAttrs at = {.eps = 0};
    CU_ASSERT_EQUAL(run(TTC_OP_LAYERNORM, at, 3, in, ten(out, 2, (int64_t[]){2, 3})), TTC_OK);
    expect_near(out, (float[]){-1.2247449f, 1, -0.38762756f, -0.70710678f, -0.41421356f, -0.29289322f}, 6, 2e-7);
}

static void test_layernorm_eps(void) {
    /* [1,-1]: mean 0, var 1; eps 0.5625 inside the root: sqrt(1.5625) = 1.25 -> [0.8, -0.8] */
    float x[2] = {1, -1}, gamma[2] = {1, 1}, beta[2] = {0, 0}, out[2];
    RtTensor in[3] = {ten(x, 1, (int64_t[]){2}), ten(gamma, 1, (int64_t[]){2}), ten(beta, 1, (int64_t[]){2})};
    TtcAttrs at = {.eps = 0.5625f};
    CU_ASSERT_EQUAL(run(TTC_OP_LAYERNORM, at, 3, in, ten(out, 1, (int64_t[]){2})), TTC_OK);
    expect_near(out, (float[]){0.8f, -0.8f}, 2, 1e-7);
    /* a large common offset must not cost precision: [1e4+1, 1e4-1] normalizes like [1,-1] */
    x[0] = 10001;
    x[1] = 9999;
    CU_ASSERT_EQUAL(run(TTC_OP_LAYERNORM, at, 3, in, ten(out, 1, (int64_t[]){2})), TTC_OK);
    expect_near(out, (float[]){0.8f, -0.8f}, 2, 1e-7);
}

static void test_rmsnorm(void) {
    /* row 0 = [3,4,0,0]: mean square 25/4, rms 2.5 -> [1.2, 1.6, 0, 0] * gamma [1,2,3,4]
     * row 1 = [1,1,1,1] with eps 0.5625: sqrt(1 + 0.5625) = 1.25 -> 0.8 * gamma */
    float x[8] = {3, 4, 0, 0, 1, 1, 1, 1}, gamma[4] = {1, 2, 3, 4}, out[8];
    RtTensor in[2] = {ten(x, 2, (int64_t[]){2, 4}), ten(gamma, 1, (int64_t[]){4})};
    CU_ASSERT_EQUAL(run(TTC_OP_RMSNORM, (TtcAttrs){.eps = 0}, 2, in, ten(out, 2, (int64_t[]){2, 4})), TTC_OK);
    expect_near(out, (float[]){1.2f, 3.2f, 0, 0}, 4, 1e-7);
    CU_ASSERT_EQUAL(run(TTC_OP_RMSNORM, (TtcAttrs){.eps = 0.5625f}, 2, in, ten(out, 2, (int64_t[]){2, 4})), TTC_OK);
    expect_near(out + 4, (float[]){0.8f, 1.6f, 2.4f, 3.2f}, 4, 1e-7);
}

/* ---- matrix products ---- */

static void test_linear(void) {
    /* x [[1,2,3],[4,5,6]], w [[1,0,-1],[2,1,0]] (stored [N,K]):
     * x w^T = [[1-3, 2+2], [4-6, 8+5]] = [[-2, 4], [-2, 13]]; + bias [0.5, -1] */
    float x[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, -1, 2, 1, 0}, bias[2] = {0.5f, -1}, out[4];
    RtTensor in[3] = {ten(x, 3, (int64_t[]){1, 2, 3}), ten(w, 2, (int64_t[]){2, 3}), ten(bias, 1, (int64_t[]){2})};
    RtTensor o = ten(out, 3, (int64_t[]){1, 2, 2});
    CU_ASSERT_EQUAL(run(TTC_OP_LINEAR, NO_ATTRS, 2, in, o), TTC_OK);
    expect_near(out, (float[]){-2, 4, -2, 13}, 4, 0);
    CU_ASSERT_EQUAL(run(TTC_OP_LINEAR, NO_ATTRS, 3, in, o), TTC_OK);
    expect_near(out, (float[]){-1.5f, 3, -1.5f, 12}, 4, 0);
}

static void test_attn_scores(void) {
    /* one head, D=2, S=T=2: q [[1,0],[0,1]], k [[1,2],[3,4]], scale 0.5:
     * q k^T = [[1,3],[2,4]] -> [[0.5,1.5],[1,2]] */
    float q[4] = {1, 0, 0, 1}, k[4] = {1, 2, 3, 4}, out[4];
    RtTensor in[2] = {ten(q, 3, (int64_t[]){1, 2, 2}), ten(k, 3, (int64_t[]){1, 2, 2})};
    TtcAttrs at = {.heads = 1, .kv_heads = 1, .head_dim = 2, .scale = 0.5f};
    CU_ASSERT_EQUAL(run(TTC_OP_ATTN_SCORES, at, 2, in, ten(out, 4, (int64_t[]){1, 1, 2, 2})), TTC_OK);
    expect_near(out, (float[]){0.5f, 1.5f, 1, 2}, 4, 0);
}

/* GQA: 4 query heads share 2 kv heads, so heads 0,1 read kv head 0 and heads 2,3 kv head 1. */
static void test_gqa_mapping(void) {
    /* D=1, S=1, T=2. q = [1,2,3,4] (one value per head); k tokens: [10,100], [20,200].
     * scores[h][j] = 0.5 q_h k[j][h/2]: h0 [5,10], h1 [10,20], h2 [150,300], h3 [200,400] */
    float q[4] = {1, 2, 3, 4}, k[4] = {10, 100, 20, 200}, scores[8];
    TtcAttrs at = {.heads = 4, .kv_heads = 2, .head_dim = 1, .scale = 0.5f};
    RtTensor in[2] = {ten(q, 3, (int64_t[]){1, 1, 4}), ten(k, 3, (int64_t[]){1, 2, 2})};
    CU_ASSERT_EQUAL(run(TTC_OP_ATTN_SCORES, at, 2, in, ten(scores, 4, (int64_t[]){1, 4, 1, 2})), TTC_OK);
    expect_near(scores, (float[]){5, 10, 10, 20, 150, 300, 200, 400}, 8, 0);
    /* context: probs h0 [1,0], h1 [0,1], h2 [.5,.5], h3 [.25,.75]; v tokens [7,70], [9,90]:
     * h0 = 7, h1 = 9, h2 = .5*70 + .5*90 = 80, h3 = .25*70 + .75*90 = 85 */
    float p[8] = {1, 0, 0, 1, 0.5f, 0.5f, 0.25f, 0.75f}, v[4] = {7, 70, 9, 90}, ctx[4];
    RtTensor cin[2] = {ten(p, 4, (int64_t[]){1, 4, 1, 2}), ten(v, 3, (int64_t[]){1, 2, 2})};
    CU_ASSERT_EQUAL(run(TTC_OP_ATTN_CONTEXT, at, 2, cin, ten(ctx, 3, (int64_t[]){1, 1, 4})), TTC_OK);
    expect_near(ctx, (float[]){7, 9, 80, 85}, 4, 0);
}

/* ---- softmax: scores ln 1, ln 2, ln 3 make e^score = 1, 2, 3, so every answer is a ratio of
 * small integers ---- */

#define L1 0.0f
#define L2 0.693147181f /* ln 2 */
#define L3 1.098612289f /* ln 3 */

static TtcStatus softmax(TtcAttrs at, int64_t b, int64_t s, float *x, int32_t *mask, float *out) {
    RtTensor in[2] = {ten(x, 4, (int64_t[]){b, 1, s, 3}), ten(mask, 2, (int64_t[]){b, 3})};
    at.has_mask = mask != NULL;
    return run(TTC_OP_SOFTMAX, at, mask ? 2 : 1, in, ten(out, 4, (int64_t[]){b, 1, s, 3}));
}

static void test_softmax_plain_and_stable(void) {
    float x[3] = {L1, L2, L3}, out[3];
    CU_ASSERT_EQUAL(softmax(NO_ATTRS, 1, 1, x, NULL, out), TTC_OK);
    expect_near(out, (float[]){1 / 6.0f, 2 / 6.0f, 3 / 6.0f}, 3, 1e-7);
    /* huge scores: e^1000 overflows, the row max is subtracted first: [1/(1+e), e/(1+e), 0+] */
    float big[3] = {1000, 1001, -1000};
    CU_ASSERT_EQUAL(softmax(NO_ATTRS, 1, 1, big, NULL, out), TTC_OK);
    expect_near(out, (float[]){0.26894142f, 0.73105858f, 0}, 3, 1e-7);
}

static void test_softmax_causal(void) {
    /* S=2 queries over T=3 keys: one past token, so query 0 sits at position 1 and query 1 at 2.
     * query 0 sees keys 0,1: [1,2]/3; query 1 sees all: [1,2,3]/6 */
    float x[6] = {L1, L2, L3, L1, L2, L3}, out[6];
    CU_ASSERT_EQUAL(softmax((TtcAttrs){.causal = 1}, 1, 2, x, NULL, out), TTC_OK);
    expect_near(out, (float[]){1 / 3.0f, 2 / 3.0f, 0, 1 / 6.0f, 2 / 6.0f, 3 / 6.0f}, 6, 1e-7);
}

static void test_softmax_window(void) {
    /* window 2: a query sees itself and the one before. query 0 (pos 1): keys 0,1 -> [1,2]/3;
     * query 1 (pos 2): keys 1,2 -> [0, 2, 3]/5 */
    float x[6] = {L1, L2, L3, L1, L2, L3}, out[6];
    CU_ASSERT_EQUAL(softmax((TtcAttrs){.causal = 1, .window = 2}, 1, 2, x, NULL, out), TTC_OK);
    expect_near(out, (float[]){1 / 3.0f, 2 / 3.0f, 0, 0, 2 / 5.0f, 3 / 5.0f}, 6, 1e-7);
    /* window 1: only itself */
    CU_ASSERT_EQUAL(softmax((TtcAttrs){.causal = 1, .window = 1}, 1, 2, x, NULL, out), TTC_OK);
    expect_near(out, (float[]){0, 1, 0, 0, 0, 1}, 6, 0);
}

static void test_softmax_padding_mask(void) {
    float x[6] = {L1, L2, L3, L1, L2, L3}, out[6];
    /* key 1 is padding: [1, 0, 3] / 4 */
    int32_t m1[3] = {1, 0, 1};
    CU_ASSERT_EQUAL(softmax(NO_ATTRS, 1, 1, x, m1, out), TTC_OK);
    expect_near(out, (float[]){0.25f, 0, 0.75f}, 3, 1e-7);
    /* every key is padding: every score becomes finfo.min, so the row is uniform, not NaN */
    int32_t m0[3] = {0, 0, 0};
    CU_ASSERT_EQUAL(softmax(NO_ATTRS, 1, 1, x, m0, out), TTC_OK);
    expect_near(out, (float[]){1 / 3.0f, 1 / 3.0f, 1 / 3.0f}, 3, 1e-7);
    /* batch 2, one mask row each: b0 [1,1,0] -> [1,2,0]/3; b1 [0,1,1] -> [0,2,3]/5 */
    int32_t m2[6] = {1, 1, 0, 0, 1, 1};
    CU_ASSERT_EQUAL(softmax(NO_ATTRS, 2, 1, x, m2, out), TTC_OK);
    expect_near(out, (float[]){1 / 3.0f, 2 / 3.0f, 0, 0, 2 / 5.0f, 3 / 5.0f}, 6, 1e-7);
}

static void test_softmax_causal_and_padding(void) {
    /* mask [0,0,1] with causal, S=2: query 0 (pos 1) may see keys 0,1 but both are padding, so
     * all its scores are finfo.min: uniform over all 3 keys, as Hugging Face computes it.
     * query 1 (pos 2) sees only key 2: [0,0,1] */
    float x[6] = {L1, L2, L3, L1, L2, L3}, out[6];
    int32_t m[3] = {0, 0, 1};
    CU_ASSERT_EQUAL(softmax((TtcAttrs){.causal = 1}, 1, 2, x, m, out), TTC_OK);
    expect_near(out, (float[]){1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 0, 0, 1}, 6, 1e-7);
}

/* ---- argument checks (shared with the fast kernels) ---- */

static void test_bad_dims_are_internal_errors(void) {
    float x[6] = {0}, w[6] = {0}, out[8] = {0};
    /* weight [2,3] but x has 2 features */
    RtTensor in[2] = {ten(x, 2, (int64_t[]){3, 2}), ten(w, 2, (int64_t[]){2, 3})};
    CU_ASSERT_EQUAL(run(TTC_OP_LINEAR, NO_ATTRS, 2, in, ten(out, 2, (int64_t[]){3, 2})), TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "op 'layer_0.test.linear' (linear)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "[3,2]"));
    /* output dims that disagree with the inputs */
    in[0] = ten(x, 2, (int64_t[]){2, 3});
    CU_ASSERT_EQUAL(run(TTC_OP_LINEAR, NO_ATTRS, 2, in, ten(out, 2, (int64_t[]){2, 4})), TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "output is [2,4], inputs imply [2,2]"));
    /* too few inputs for the op */
    CU_ASSERT_EQUAL(run(TTC_OP_ADD, NO_ATTRS, 1, in, ten(out, 1, (int64_t[]){6})), TTC_E_INTERNAL);
    /* mask promised but not given */
    RtTensor s[1] = {ten(x, 4, (int64_t[]){1, 1, 2, 3})};
    CU_ASSERT_EQUAL(run(TTC_OP_SOFTMAX, (TtcAttrs){.has_mask = 1}, 1, s, ten(out, 4, (int64_t[]){1, 1, 2, 3})),
                    TTC_E_INTERNAL);
    /* causal with more queries than context positions */
    RtTensor s2[1] = {ten(x, 4, (int64_t[]){1, 1, 3, 2})};
    CU_ASSERT_EQUAL(run(TTC_OP_SOFTMAX, (TtcAttrs){.causal = 1}, 1, s2, ten(out, 4, (int64_t[]){1, 1, 3, 2})),
                    TTC_E_INTERNAL);
    /* GQA heads that do not divide */
    RtTensor a[2] = {ten(x, 3, (int64_t[]){1, 1, 3}), ten(w, 3, (int64_t[]){1, 1, 2})};
    TtcAttrs bad = {.heads = 3, .kv_heads = 2, .head_dim = 1, .scale = 1};
    CU_ASSERT_EQUAL(run(TTC_OP_ATTN_SCORES, bad, 2, a, ten(out, 4, (int64_t[]){1, 3, 1, 1})), TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "kv_heads 2"));
    /* norm parameter of the wrong length */
    RtTensor n[3] = {ten(x, 2, (int64_t[]){2, 3}), ten(w, 1, (int64_t[]){2}), ten(w, 1, (int64_t[]){3})};
    CU_ASSERT_EQUAL(run(TTC_OP_LAYERNORM, (TtcAttrs){.eps = 1e-5f}, 3, n, ten(out, 2, (int64_t[]){2, 3})),
                    TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gamma"));
    /* missing data */
    RtTensor e[1] = {ten(NULL, 1, (int64_t[]){3})};
    CU_ASSERT_EQUAL(run(TTC_OP_RELU, NO_ATTRS, 1, e, ten(out, 1, (int64_t[]){3})), TTC_E_INTERNAL);
}

static void test_overlap_is_refused(void) {
    float buf[16] = {0}, w[4] = {0};
    /* a matrix product cannot write over its input */
    RtTensor in[2] = {ten(buf, 2, (int64_t[]){2, 2}), ten(w, 2, (int64_t[]){2, 2})};
    CU_ASSERT_EQUAL(run(TTC_OP_LINEAR, NO_ATTRS, 2, in, ten(buf + 2, 2, (int64_t[]){2, 2})), TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "overlaps input 0"));
    /* elementwise ops may run exactly in place, but not shifted */
    RtTensor x[1] = {ten(buf, 1, (int64_t[]){8})};
    CU_ASSERT_EQUAL(run(TTC_OP_GELU, NO_ATTRS, 1, x, ten(buf, 1, (int64_t[]){8})), TTC_OK);
    CU_ASSERT_EQUAL(run(TTC_OP_GELU, NO_ATTRS, 1, x, ten(buf + 1, 1, (int64_t[]){8})), TTC_E_INTERNAL);
}

static CU_TestInfo gather_tests[] = {
    {"table has every op", test_table_complete},
    {"embedding", test_embedding},
    {"embedding id out of range", test_embedding_id_out_of_range},
    {"pos_embedding", test_pos_embedding},
    {"first_token", test_first_token},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo math_tests[] = {
    {"add and mul", test_add_mul},
    {"activations at known points", test_activations},
    {"layernorm 2x3 by hand", test_layernorm_2x3},
    {"layernorm eps and offset", test_layernorm_eps},
    {"rmsnorm", test_rmsnorm},
    {"linear", test_linear},
    {"attn_scores", test_attn_scores},
    {"GQA head mapping", test_gqa_mapping},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo softmax_tests[] = {
    {"plain and stable", test_softmax_plain_and_stable},
    {"causal", test_softmax_causal},
    {"sliding window", test_softmax_window},
    {"padding mask", test_softmax_padding_mask},
    {"causal and padding", test_softmax_causal_and_padding},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo check_tests[] = {
    {"bad dims are internal errors", test_bad_dims_are_internal_errors},
    {"overlapping output is refused", test_overlap_is_refused},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "ref gathers", .pTests = gather_tests},
    {.pName = "ref math", .pTests = math_tests},
    {.pName = "ref softmax", .pTests = softmax_tests},
    {.pName = "argument checks", .pTests = check_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
