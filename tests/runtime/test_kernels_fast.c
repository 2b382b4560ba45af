/* test_kernels_fast.c: every fast kernel (runtime/kernels_fast.c, kernels_vec.c) equals its
 * reference kernel on seeded random inputs of awkward sizes (odd dims, S != T, GQA, batch 2),
 * under every instruction-set variant this CPU can run, and fails the same way on bad input.
 *
 * Errors are measured relative to the magnitude of the reference output, max|fast - ref| /
 * max|ref|: the thresholds below sit a few times above what fp32 arithmetic gives for each op
 * (float accumulation over K for the matrix products, a few ulp for exp-based ops). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "kernels_vec.h"
#include "unit.h"

/* ---- helpers ---- */

static uint64_t rng = 1;

static void seed(uint64_t s) { rng = s * 2654435761u + 1; }

static double uniform(void) { /* [0, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) * 0x1p-53;
}

static float *rand_buf(int64_t n, double lo, double hi) {
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)(lo + (hi - lo) * uniform());
    return p;
}

static RtTensor ten(void *data, int rank, const int64_t *dims) {
    RtTensor t = {.data = data, .rank = rank};
    for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
    return t;
}

typedef struct Call {
    TtcOpDesc op;
    int n_in;
    RtTensor in[TTC_MAX_OP_INPUTS];
    RtTensor out; /* dims; data is filled per run */
} Call;

static Call call(TtcOpKind kind, TtcAttrs attrs, int n_in, const RtTensor *in, int out_rank, const int64_t *out_dims) {
    Call c = {.n_in = n_in};
    c.op.kind = kind;
    c.op.attrs = attrs;
    snprintf(c.op.path, sizeof c.op.path, "layer_1.test.%s", ttc_op_name(kind));
    for (int i = 0; i < n_in; i++) c.in[i] = in[i];
    c.out = ten(NULL, out_rank, out_dims);
    return c;
}

static TtcStatus run(const RtKernel *table, Call *c, float *out, TtcError *err) {
    RtOpArgs a = {.op = &c->op, .n_in = c->n_in, .out = c->out, .err = err};
    for (int i = 0; i < c->n_in; i++) a.in[i] = c->in[i];
    a.out.data = out;
    ttc_error_clear(err);
    return table[c->op.kind](&a);
}

/* How an error is scaled: by the tensor's magnitude, max|f - r| / max|r| (matrix products,
 * norms, probabilities), or value by value, max |f - r| / max(1, |r|) (activations, whose
 * inputs span many magnitudes). NaN counts as infinitely wrong. */
typedef enum { BY_TENSOR, BY_VALUE } Metric;

static double scaled_err(const float *f, const float *r, int64_t n, Metric m) {
    if (m == BY_VALUE) {
        double worst = 0;
        for (int64_t i = 0; i < n; i++) worst = fmax(worst, unit_max_abs(f + i, r + i, 1) / fmax(1.0, fabs(r[i])));
        return worst;
    }
    double mag = 0;
    for (int64_t i = 0; i < n; i++) mag = fmax(mag, fabs((double)r[i]));
    return unit_max_abs(f, r, n) / (mag > 0 ? mag : 1);
}

/* Runs ref once and fast under every ISA the CPU has; checks the scaled error is within tol
 * and that all ISA variants agree bit for bit. Returns the worst error seen. */
static double check_fast_by(Call *c, double tol, Metric metric) {
    int64_t n = rt_tensor_elems(&c->out);
    float *ref = malloc((size_t)(n ? n : 1) * sizeof *ref);
    float *fast = malloc((size_t)(n ? n : 1) * sizeof *fast);
    float *first = malloc((size_t)(n ? n : 1) * sizeof *first);
    TtcError err;
    CU_ASSERT_EQUAL_FATAL(run(rt_ref_kernels, c, ref, &err), TTC_OK);
    double worst = 0;
    RtIsa best = rt_vec_limit_isa(RT_ISA_AVX512);
    for (int isa = RT_ISA_BASE; isa <= (int)best; isa++) {
        rt_vec_limit_isa((RtIsa)isa);
        memset(fast, 0xFF, (size_t)n * sizeof *fast); /* NaN garbage: every element must be written */
        if (run(rt_fast_kernels, c, fast, &err) != TTC_OK) {
            CU_FAIL("fast kernel failed");
            fprintf(stderr, "  %s: %s\n", c->op.path, err.msg);
            break;
        }
        double e = scaled_err(fast, ref, n, metric);
        worst = fmax(worst, e);
        if (e > tol) {
            CU_FAIL("fast kernel differs from the reference");
            fprintf(stderr, "  %s (isa %d): scaled error %.3g > %.3g\n", c->op.path, isa, e, tol);
        }
        if (isa == RT_ISA_BASE)
            memcpy(first, fast, (size_t)n * sizeof *fast);
        else
            CU_ASSERT_EQUAL(memcmp(first, fast, (size_t)n * sizeof *fast), 0); /* ISA variants are bit-identical */
    }
    rt_vec_limit_isa(RT_ISA_AVX512);
    if (getenv("TTC_TEST_VERBOSE")) /* to see how far below its threshold each case sits */
        fprintf(stderr, "  %-32s %zu values: error %.3g (threshold %.3g)\n", c->op.path, (size_t)n, worst, tol);
    free(ref);
    free(fast);
    free(first);
    return worst;
}

static double check_fast(Call *c, double tol) { return check_fast_by(c, tol, BY_TENSOR); }

static void test_tables_complete(void) {
    for (int k = 0; k < TTC_OP_COUNT; k++) {
        CU_ASSERT_PTR_NOT_NULL(rt_fast_kernels[k]);
        CU_ASSERT_PTR_NOT_NULL(rt_ref_kernels[k]);
    }
}

/* ---- matrix products ---- */

static void test_linear(void) {
    seed(1);
    /* x [2,7,37]: M = 14 rows, K = 37; w [29,37] */
    float *x = rand_buf(2 * 7 * 37, -1, 1), *w = rand_buf(29 * 37, -0.3, 0.3), *b = rand_buf(29, -1, 1);
    RtTensor in[3] = {ten(x, 3, (int64_t[]){2, 7, 37}), ten(w, 2, (int64_t[]){29, 37}), ten(b, 1, (int64_t[]){29})};
    Call c = call(TTC_OP_LINEAR, (TtcAttrs){0}, 3, in, 3, (int64_t[]){2, 7, 29});
    check_fast(&c, 1e-6);
    c.n_in = 2; /* no bias */
    check_fast(&c, 1e-6);
    /* one row (decode) */
    in[0] = ten(x, 2, (int64_t[]){1, 37});
    c = call(TTC_OP_LINEAR, (TtcAttrs){0}, 3, in, 2, (int64_t[]){1, 29});
    check_fast(&c, 1e-6);
    free(x);
    free(w);
    free(b);
}

/* bert-base's FFN up-projection: K = 768 sums per output */
static void test_linear_wide(void) {
    seed(2);
    float *x = rand_buf(9 * 768, -2, 2), *w = rand_buf(3072 * 768, -0.05, 0.05), *b = rand_buf(3072, -0.1, 0.1);
    RtTensor in[3] = {ten(x, 2, (int64_t[]){9, 768}), ten(w, 2, (int64_t[]){3072, 768}), ten(b, 1, (int64_t[]){3072})};
    Call c = call(TTC_OP_LINEAR, (TtcAttrs){0}, 3, in, 2, (int64_t[]){9, 3072});
    check_fast(&c, 5e-6);
    free(x);
    free(w);
    free(b);
}

/* Attention with B=2, S=5 queries over T=9 positions, 8 query heads on 2 kv heads, D=12. */
static void attention_case(int64_t b, int64_t s, int64_t t, int hq, int hkv, int d) {
    TtcAttrs at = {.heads = hq, .kv_heads = hkv, .head_dim = d, .scale = 1.0f / sqrtf((float)d)};
    float *q = rand_buf(b * s * hq * d, -2, 2), *k = rand_buf(b * t * hkv * d, -2, 2);
    float *v = rand_buf(b * t * hkv * d, -2, 2), *p = rand_buf(b * hq * s * t, 0, 1);
    RtTensor sin[2] = {ten(q, 3, (int64_t[]){b, s, hq * d}), ten(k, 3, (int64_t[]){b, t, hkv * d})};
    Call c = call(TTC_OP_ATTN_SCORES, at, 2, sin, 4, (int64_t[]){b, hq, s, t});
    check_fast(&c, 1e-6);
    RtTensor cin[2] = {ten(p, 4, (int64_t[]){b, hq, s, t}), ten(v, 3, (int64_t[]){b, t, hkv * d})};
    c = call(TTC_OP_ATTN_CONTEXT, at, 2, cin, 3, (int64_t[]){b, s, hq * d});
    check_fast(&c, 1e-6);
    free(q);
    free(k);
    free(v);
    free(p);
}

static void test_attention_gqa(void) {
    seed(3);
    attention_case(2, 5, 9, 8, 2, 12); /* GQA 8/2, S != T */
    attention_case(1, 17, 17, 3, 3, 7); /* plain multi-head, odd sizes */
    attention_case(2, 1, 13, 4, 1, 16); /* decode step, multi-query */
}

/* ---- softmax ---- */

static void softmax_case(TtcAttrs at, int64_t b, int64_t h, int64_t s, int64_t t, const int32_t *mask) {
    float *x = rand_buf(b * h * s * t, -30, 30);
    RtTensor in[2] = {ten(x, 4, (int64_t[]){b, h, s, t}), ten((void *)mask, 2, (int64_t[]){b, t})};
    at.has_mask = mask != NULL;
    Call c = call(TTC_OP_SOFTMAX, at, mask ? 2 : 1, in, 4, (int64_t[]){b, h, s, t});
    check_fast(&c, 3e-7);
    free(x);
}

static void test_softmax(void) {
    seed(4);
    enum { B = 2, T = 37 };
    int32_t mask[B * T];
    for (int j = 0; j < T; j++) {
        mask[j] = j < 30;                     /* b0: right padding */
        mask[T + j] = j >= 3 && uniform() < 0.7; /* b1: left padding and holes */
    }
    int32_t none[B * T] = {0}; /* every key padding: uniform rows */
    for (int causal = 0; causal <= 1; causal++) {
        for (int window = 0; window <= 5; window += 5) {
            TtcAttrs at = {.causal = causal, .window = window};
            softmax_case(at, B, 3, 5, T, NULL);
            softmax_case(at, B, 3, 5, T, mask);
            softmax_case(at, B, 3, T, T, mask); /* prefill: S == T */
            softmax_case(at, B, 2, 1, T, mask); /* decode: S == 1 */
            softmax_case(at, B, 2, 4, T, none);
        }
    }
    softmax_case((TtcAttrs){0}, 1, 1, 3, 1, NULL); /* T == 1: probability 1 */
}

/* ---- norms ---- */

static void norm_case(TtcOpKind kind, int64_t rows, int64_t h, double offset) {
    float *x = rand_buf(rows * h, offset - 3, offset + 3), *g = rand_buf(h, 0.5, 1.5), *b = rand_buf(h, -1, 1);
    RtTensor in[3] = {ten(x, 2, (int64_t[]){rows, h}), ten(g, 1, (int64_t[]){h}), ten(b, 1, (int64_t[]){h})};
    Call c = call(kind, (TtcAttrs){.eps = 1e-5f}, kind == TTC_OP_LAYERNORM ? 3 : 2, in, 2, (int64_t[]){rows, h});
    check_fast(&c, 4e-7); /* tight enough to catch the mean's rounding error at offset 100 */
    free(x);
    free(g);
    free(b);
}

static void test_norms(void) {
    seed(5);
    norm_case(TTC_OP_LAYERNORM, 14, 37, 0);
    norm_case(TTC_OP_LAYERNORM, 3, 768, 100); /* large mean: no cancellation allowed */
    norm_case(TTC_OP_LAYERNORM, 5, 7, 0);     /* shorter than one block */
    norm_case(TTC_OP_RMSNORM, 14, 37, 0);
    norm_case(TTC_OP_RMSNORM, 3, 2048, 1);
}

/* ---- elementwise ---- */

/* n values spread over [-12, 12] (where the activations bend) plus special values at the end */
static float *activation_input(int64_t n) {
    float *x = rand_buf(n, -12, 12);
    const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e20f, -1e20f, 88.0f, -88.0f, 1e-3f, -1e-3f};
    for (size_t i = 0; i < sizeof special / sizeof *special && (int64_t)i < n; i++) x[n - 1 - (int64_t)i] = special[i];
    return x;
}

static void test_activations(void) {
    seed(6);
    const int64_t n = 1013; /* 63 blocks of 16 and a tail of 5 */
    float *x = activation_input(n);
    static const TtcOpKind kinds[] = {TTC_OP_GELU, TTC_OP_GELU_TANH, TTC_OP_SILU, TTC_OP_RELU, TTC_OP_TANH};
    static const double tols[] = {2e-7, 2e-7, 2e-7, 0, 2e-7};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        RtTensor in[1] = {ten(x, 2, (int64_t[]){1, n})};
        Call c = call(kinds[i], (TtcAttrs){0}, 1, in, 2, (int64_t[]){1, n});
        check_fast_by(&c, tols[i], BY_VALUE);
    }
    free(x);
}

/* Pointwise accuracy where the values are small: the scaled error above is dominated by the
 * largest outputs, so here each value is held to max(1, |x|) instead. */
static void test_gelu_pointwise(void) {
    enum { N = 24001 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++) x[i] = -12.0f + 24.0f * (float)i / (N - 1);
    rt_vec_gelu(y, x, N);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double want = 0.5 * x[i] * erfc(-x[i] / sqrt(2.0));
        worst = fmax(worst, fabs(y[i] - want) / fmax(1.0, fabs(x[i])));
    }
    CU_ASSERT(worst < 3e-7);
    rt_vec_silu(y, x, N);
    worst = 0;
    for (int i = 0; i < N; i++) {
        double want = x[i] / (1 + exp(-(double)x[i]));
        worst = fmax(worst, fabs(y[i] - want) / fmax(1.0, fabs(x[i])));
    }
    CU_ASSERT(worst < 3e-7);
    free(x);
    free(y);
}

static void test_exp(void) {
    enum { N = 100003 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++) x[i] = -87.0f + 175.7f * (float)i / (N - 1); /* normal results */
    rt_vec_exp(y, x, N);
    double worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(y[i] - exp((double)x[i])) / exp((double)x[i]));
    CU_ASSERT(worst < 3 * 0x1p-24); /* 3 ulp */
    float sp[8] = {0.0f, -INFINITY, INFINITY, NAN, 88.72283172607422f, 88.72284f, -103.0f, -200.0f};
    rt_vec_exp(y, sp, 8);
    CU_ASSERT_EQUAL(y[0], 1.0f);
    CU_ASSERT_EQUAL(y[1], 0.0f);
    CU_ASSERT_TRUE(isinf(y[2]) && y[2] > 0);
    CU_ASSERT_TRUE(isnan(y[3]));
    CU_ASSERT_TRUE(isfinite(y[4]) && y[4] > 3.4e38f); /* the largest finite result */
    CU_ASSERT_TRUE(isinf(y[5]));
    CU_ASSERT_TRUE(fabs(y[6] - exp(-103.0)) <= 0x1p-149); /* subnormal, within one step */
    CU_ASSERT_EQUAL(y[7], 0.0f);
    free(x);
    free(y);
}

static void test_add_mul_in_place(void) {
    seed(7);
    int64_t dims[3] = {2, 7, 19}, n = 2 * 7 * 19;
    float *a = rand_buf(n, -5, 5), *b = rand_buf(n, -5, 5);
    RtTensor in[2] = {ten(a, 3, dims), ten(b, 3, dims)};
    Call c = call(TTC_OP_ADD, (TtcAttrs){0}, 2, in, 3, dims);
    check_fast(&c, 0);
    c = call(TTC_OP_MUL, (TtcAttrs){0}, 2, in, 3, dims);
    check_fast(&c, 0);
    /* in place (out is input 0): the residual adds of the executor may do this */
    float *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++) want[i] = a[i] + b[i];
    TtcError err;
    c = call(TTC_OP_ADD, (TtcAttrs){0}, 2, in, 3, dims);
    CU_ASSERT_EQUAL(run(rt_fast_kernels, &c, a, &err), TTC_OK);
    CU_ASSERT_EQUAL(memcmp(a, want, (size_t)n * sizeof *a), 0);
    /* gelu in place equals gelu out of place */
    float *g = malloc((size_t)n * sizeof *g);
    rt_vec_gelu(g, b, n);
    rt_vec_gelu(b, b, n);
    CU_ASSERT_EQUAL(memcmp(g, b, (size_t)n * sizeof *g), 0);
    free(a);
    free(b);
    free(want);
    free(g);
}

/* ---- gathers ---- */

static void test_gathers(void) {
    seed(8);
    enum { V = 50, H = 19, B = 2, S = 7, P = 16 };
    float *table = rand_buf(V * H, -1, 1), *pos = rand_buf(P * H, -1, 1), *x = rand_buf(B * S * H, -1, 1);
    int32_t ids[B * S];
    for (int i = 0; i < B * S; i++) ids[i] = (int32_t)(uniform() * V);
    ids[0] = 0;
    ids[1] = V - 1; /* both ends of the vocabulary */
    RtTensor in[2] = {ten(ids, 2, (int64_t[]){B, S}), ten(table, 2, (int64_t[]){V, H})};
    Call c = call(TTC_OP_EMBEDDING, (TtcAttrs){0}, 2, in, 3, (int64_t[]){B, S, H});
    check_fast(&c, 0);
    RtTensor pin[1] = {ten(pos, 2, (int64_t[]){P, H})};
    c = call(TTC_OP_POS_EMBEDDING, (TtcAttrs){0}, 1, pin, 3, (int64_t[]){B, S, H});
    check_fast(&c, 0);
    RtTensor fin[1] = {ten(x, 3, (int64_t[]){B, S, H})};
    c = call(TTC_OP_FIRST_TOKEN, (TtcAttrs){0}, 1, fin, 2, (int64_t[]){B, H});
    check_fast(&c, 0);
    free(table);
    free(pos);
    free(x);
}

/* ---- failures: the fast kernel fails exactly as the reference does ---- */

static void expect_same_failure(Call *c, TtcStatus want) {
    float out[64];
    TtcError ef, er;
    CU_ASSERT_EQUAL(run(rt_fast_kernels, c, out, &ef), want);
    CU_ASSERT_EQUAL(run(rt_ref_kernels, c, out, &er), want);
    CU_ASSERT_STRING_EQUAL(ef.msg, er.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(ef.msg, c->op.path));
}

static void test_errors_match_reference(void) {
    enum { V = 4, H = 2 };
    float table[V * H] = {0};
    int32_t ids[2 * 3] = {0, 1, 2, 3, 4, 0}; /* 4 at [1,1] is out of range */
    RtTensor in[2] = {ten(ids, 2, (int64_t[]){2, 3}), ten(table, 2, (int64_t[]){V, H})};
    Call c = call(TTC_OP_EMBEDDING, (TtcAttrs){0}, 2, in, 3, (int64_t[]){2, 3, H});
    expect_same_failure(&c, TTC_E_USER);
    TtcError err;
    float out[12];
    run(rt_fast_kernels, &c, out, &err);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "op 'layer_1.test.embedding': token id 4 at [1,1] is outside the vocabulary [0, 4)");
    RtTensor pin[1] = {ten(table, 2, (int64_t[]){V, H})};
    c = call(TTC_OP_POS_EMBEDDING, (TtcAttrs){0}, 1, pin, 3, (int64_t[]){1, V + 1, H});
    expect_same_failure(&c, TTC_E_USER);
    /* Every op, given inputs of rank 1 [4] and an output [5], has inconsistent dims. */
    float buf[4] = {0};
    for (int k = 0; k < TTC_OP_COUNT; k++) {
        RtTensor bad[TTC_MAX_OP_INPUTS];
        for (int i = 0; i < TTC_MAX_OP_INPUTS; i++) bad[i] = ten(buf, 1, (int64_t[]){4});
        TtcAttrs at = {.eps = 1e-5f, .heads = 1, .kv_heads = 1, .head_dim = 4, .scale = 1};
        c = call((TtcOpKind)k, at, ttc_op_min_inputs((TtcOpKind)k), bad, 1, (int64_t[]){5});
        expect_same_failure(&c, TTC_E_INTERNAL);
    }
}

static CU_TestInfo product_tests[] = {
    {"tables complete", test_tables_complete},
    {"linear", test_linear},
    {"linear K=768", test_linear_wide},
    {"attention scores and context, GQA", test_attention_gqa},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo vec_tests[] = {
    {"softmax masks", test_softmax},
    {"norms", test_norms},
    {"activations", test_activations},
    {"gelu and silu pointwise", test_gelu_pointwise},
    {"exp", test_exp},
    {"add, mul, in place", test_add_mul_in_place},
    {"gathers", test_gathers},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo error_tests[] = {
    {"errors match the reference", test_errors_match_reference},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "fast products", .pTests = product_tests},
    {.pName = "fast loops", .pTests = vec_tests},
    {.pName = "fast errors", .pTests = error_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
