/* test_matmul_emul.c: the emulated LINEAR (runtime/matmul_emul.c), its wiring through the fast
 * kernel and weight_prep.c, against a slow scalar model written from DEVICE.md §4:
 *
 *   dest = 0
 *   for each 32-deep k chunk, in k order:
 *       for each phase p of the fidelity:
 *           P = sum over k in the chunk, in k order, in fp32, of B_bits(x, p) * A_bits(w, p)
 *           dest = dest + P, then rounded to bf16 when the destination is bf16
 *   out = dest + bias
 *
 * With a bf16 destination the fast kernel must equal this model bit for bit: it sums each phase
 * of each chunk separately, in the same order, and every product is exact. With an fp32
 * destination it may merge phases into one term (matmul_emul.h), which regroups the same exact
 * products: the two differ by fp32 reassociation only, bounded below. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "matmul_emul.h"
#include "numerics.h"
#include "ttc_runtime.h"
#include "unit.h"
#include "weight_prep.h"

static uint32_t bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static uint64_t rng = 777;
static float uniform_pm1(void) { /* (-1, 1), full fp32 mantissas */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((int32_t)(rng >> 32)) * 0x1p-31f;
}

static float bf16_dest(float v, RtDestRounding r) {
    uint32_t u = bits(v);
    u = r == RT_DEST_TRUNCATE ? ttc_bf16_trunc_bits32(u) : ttc_bf16_rne_bits32(u);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The scalar model of one output; *abs_sum gets sum |B_p A_p| over every k and phase. */
static float model_out(const float *x, const float *w, const float *bias, int64_t i, int64_t j, int64_t k,
                       const RtMatmulMode *mode, double *abs_sum) {
    float dest = 0.0f;
    double a = 0;
    for (int64_t c = 0; c < k; c += 32) {
        for (int p = 0; p < ttc_fidelity_phases(mode->fidelity); p++) {
            float partial = 0.0f;
            for (int64_t kk = c; kk < k && kk < c + 32; kk++) {
                float prod = ttc_fidelity_b(x[i * k + kk], p) * ttc_fidelity_a(w[j * k + kk], p);
                partial += prod;
                a += fabs((double)prod);
            }
            dest += partial;
            if (!mode->fp32_acc) dest = bf16_dest(dest, mode->dest_round);
        }
    }
    *abs_sum = a;
    return bias ? dest + bias[j] : dest;
}

/* out[m, n] through the fast path; returns 0 on success. */
static int fast(const float *x, const float *w, const float *bias, int64_t m, int64_t n, int64_t k,
                const RtMatmulMode *mode, float *out) {
    RtMatmulWeights *pw = rt_matmul_prepare(w, n, k, rt_matmul_parts_needed(mode->fidelity, mode->fp32_acc));
    if (!pw) return 1;
    TtcStatus st = rt_matmul_emul(x, m, pw, bias, mode, out);
    free(pw);
    return st != TTC_OK;
}

/* ---- hand-worked bf16 destinations ---- */

/* One output (M = N = 1) of K inputs, all zero except the (k, x, w) triples given. */
static float one_output(int64_t k, const int64_t *at, const float *xv, const float *wv, int n, TtcFidelity f,
                        int fp32_acc, RtDestRounding r) {
    float *x = calloc((size_t)k, sizeof *x), *w = calloc((size_t)k, sizeof *w), out = NAN;
    for (int i = 0; i < n; i++) {
        x[at[i]] = xv[i];
        w[at[i]] = wv[i];
    }
    RtMatmulMode mode = {.fidelity = f, .fp32_acc = fp32_acc, .dest_round = r};
    CU_ASSERT_EQUAL(fast(x, w, NULL, 1, 1, k, &mode, &out), 0);
    free(x);
    free(w);
    return out;
}

static void test_dest_rounding_modes(void) {
    /* chunk 0 adds 1 * 1 = 1; chunk 1 adds 3*2^-9 * 1 (3*2^-9 = 1.1b * 2^-8: B0 keeps it whole).
     * In [1, 2) a bf16 ulp is 2^-7 = 4 * 2^-9, so 1 + 3*2^-9 is 0.75 ulp above 1:
     *   nearest even -> 1 + 2^-7 = 1.0078125;   truncation -> 1.0;   fp32 -> 1.005859375 */
    int64_t at[2] = {0, 32};
    float xv[2] = {1.0f, 3 * 0x1p-9f}, wv[2] = {1.0f, 1.0f};
    CU_ASSERT_EQUAL(one_output(64, at, xv, wv, 2, TTC_FIDELITY_LOFI, 0, RT_DEST_NEAREST_EVEN), 1.0078125f);
    CU_ASSERT_EQUAL(one_output(64, at, xv, wv, 2, TTC_FIDELITY_LOFI, 0, RT_DEST_TRUNCATE), 1.0f);
    CU_ASSERT_EQUAL(one_output(64, at, xv, wv, 2, TTC_FIDELITY_LOFI, 1, RT_DEST_NEAREST_EVEN), 1.005859375f);
}

static void test_dest_rounds_per_chunk(void) {
    /* 1, then 2^-9 four times. In four different chunks each addition is a quarter ulp and is
     * rounded away: the bf16 destination stays 1.0 (fp32 reaches 1 + 2^-7). In one chunk the
     * four sum to 2^-7 in the fp32 partial first, and 1 + 2^-7 is a bf16. */
    int64_t apart[5] = {0, 32, 64, 96, 128}, together[5] = {0, 32, 33, 34, 35};
    float xv[5] = {1.0f, 0x1p-9f, 0x1p-9f, 0x1p-9f, 0x1p-9f}, wv[5] = {1, 1, 1, 1, 1};
    CU_ASSERT_EQUAL(one_output(160, apart, xv, wv, 5, TTC_FIDELITY_LOFI, 0, RT_DEST_NEAREST_EVEN), 1.0f);
    CU_ASSERT_EQUAL(one_output(160, apart, xv, wv, 5, TTC_FIDELITY_LOFI, 1, RT_DEST_NEAREST_EVEN), 1.0078125f);
    CU_ASSERT_EQUAL(one_output(160, together, xv, wv, 5, TTC_FIDELITY_LOFI, 0, RT_DEST_NEAREST_EVEN), 1.0078125f);
    /* a K that is not a multiple of 32 ends in a short chunk: K = 40, the 2^-9 at k = 39 */
    int64_t tail[2] = {0, 39};
    CU_ASSERT_EQUAL(one_output(40, tail, xv, wv, 2, TTC_FIDELITY_LOFI, 0, RT_DEST_NEAREST_EVEN), 1.0f);
    CU_ASSERT_EQUAL(one_output(40, tail, xv, wv, 2, TTC_FIDELITY_LOFI, 1, RT_DEST_NEAREST_EVEN), 1.0f + 0x1p-9f);
}

static void test_dest_rounds_per_phase(void) {
    /* chunk 0: x = w = 1 -> dest 1. chunk 1: x = 1, w = 2^-8 + 2^-13 = 2^-8 (1 + 2^-5): A0 keeps
     * 2^-8 (bits 22..19 of 1.00001b are 0), A1 = 2^-13. HiFi2, bf16 destination:
     *   phase 0 adds 2^-8: 1 + 2^-8 is exactly half a bf16 ulp -> tie to even -> 1.0
     *   phase 1 adds 2^-13: far below half an ulp                               -> 1.0
     * Rounding the merged chunk sum 2^-8 + 2^-13 once would have given 1 + 2^-7 (just above
     * the tie), which is why bf16 destinations keep phases apart. fp32: 1 + 2^-8 + 2^-13. */
    int64_t at[2] = {0, 32};
    float xv[2] = {1.0f, 1.0f}, wv[2] = {1.0f, 0x1p-8f + 0x1p-13f};
    CU_ASSERT_EQUAL(one_output(64, at, xv, wv, 2, TTC_FIDELITY_HIFI2, 0, RT_DEST_NEAREST_EVEN), 1.0f);
    CU_ASSERT_EQUAL(one_output(64, at, xv, wv, 2, TTC_FIDELITY_HIFI2, 1, RT_DEST_NEAREST_EVEN), 1.0f + 0x1p-8f + 0x1p-13f);
    /* LoFi never sees A1: fp32 destination 1 + 2^-8 */
    CU_ASSERT_EQUAL(one_output(64, at, xv, wv, 2, TTC_FIDELITY_LOFI, 1, RT_DEST_NEAREST_EVEN), 1.0f + 0x1p-8f);
}

static void test_bias_after_accumulation(void) {
    /* dest rounds to 1.0 in bf16 (as in test_dest_rounding_modes, truncation); the bias 2^-9
     * is added afterwards in fp32, not folded into the bf16 destination: 1 + 2^-9 */
    float x[64] = {0}, w[64] = {0}, bias = 0x1p-9f, out;
    x[0] = w[0] = 1.0f;
    x[32] = 3 * 0x1p-9f;
    w[32] = 1.0f;
    RtMatmulMode mode = {.fidelity = TTC_FIDELITY_LOFI, .fp32_acc = 0, .dest_round = RT_DEST_TRUNCATE};
    CU_ASSERT_EQUAL(fast(x, w, &bias, 1, 1, 64, &mode, &out), 0);
    CU_ASSERT_EQUAL(out, 1.0f + 0x1p-9f);
}

/* ---- the fast kernel against the model on random data ---- */

typedef struct Shape {
    int64_t m, k, n;
} Shape;

/* Awkward sizes: K not a multiple of 32 and above the kernel's 256-deep cache block, N not a
 * multiple of its 32-wide panels, M not a multiple of its 8-row tiles, and the degenerate ones. */
static const Shape shapes[] = {{13, 300, 45}, {8, 64, 64}, {1, 1, 1}, {17, 33, 32}, {2, 520, 70}, {9, 31, 3}};

/* fp32 destination: both sums add the same exact products; each product passes through at
 * most h = 32 + 4 * chunks additions in either, so |fast - model| <= 2 gamma_h sum|products|
 * (gamma_h = h u / (1 - h u), u = 2^-24), plus one rounding each of the bias addition. */
static double fp32_bound(int64_t k, double abs_sum, double out, double bias) {
    double h = 32 + 4 * (double)((k + 31) / 32), u = 0x1p-24;
    return 2 * (h * u / (1 - h * u)) * abs_sum + 2 * u * (fabs(out) + fabs(bias));
}

static int compare_with_model(const Shape *s, const RtMatmulMode *mode, int bf16_inputs, int with_bias) {
    int64_t m = s->m, k = s->k, n = s->n;
    float *x = malloc((size_t)(m * k + 1) * sizeof *x), *w = malloc((size_t)(n * k + 1) * sizeof *w);
    float *bias = malloc((size_t)n * sizeof *bias), *out = malloc((size_t)(m * n) * sizeof *out);
    for (int64_t i = 0; i < m * k; i++) x[i] = uniform_pm1();
    for (int64_t i = 0; i < n * k; i++) w[i] = uniform_pm1();
    for (int64_t i = 0; i < n; i++) bias[i] = uniform_pm1();
    if (bf16_inputs) {
        ttc_bf16_round_buffer(x, m * k);
        ttc_bf16_round_buffer(w, n * k);
    }
    int bad = fast(x, w, with_bias ? bias : NULL, m, n, k, mode, out) ? 1000000 : 0;
    for (int64_t i = 0; i < m && !bad; i++)
        for (int64_t j = 0; j < n; j++) {
            double abs_sum;
            float want = model_out(x, w, with_bias ? bias : NULL, i, j, k, mode, &abs_sum);
            float got = out[i * n + j];
            if (!mode->fp32_acc)
                bad += bits(got) != bits(want);
            else
                bad += fabs((double)got - want) > fp32_bound(k, abs_sum, want, with_bias ? bias[j] : 0);
        }
    free(x);
    free(w);
    free(bias);
    free(out);
    return bad;
}

static void test_random_against_model(void) {
    int bad = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int f = 0; f < 4; f++)
            for (int acc = 0; acc < 2; acc++)
                for (int r = 0; r < 2; r++) {
                    RtMatmulMode mode = {.fidelity = (TtcFidelity)f, .fp32_acc = acc, .dest_round = (RtDestRounding)r};
                    int b = compare_with_model(&shapes[s], &mode, r, (int)(s + f) % 2);
                    if (b) printf("\n  shape %zu fidelity %d fp32_acc %d round %d: %d outputs off", s, f, acc, r, b);
                    bad += b;
                }
    CU_ASSERT_EQUAL(bad, 0);
}

/* A weight with no A1 part (bfp4-like: 3 significant bits) skips phases 1 and 3; with a bf16
 * destination that must not change a bit. */
static void test_weights_without_a1(void) {
    enum { M = 5, K = 70, N = 33 };
    static float x[M * K], w[N * K], out[M * N];
    for (int i = 0; i < M * K; i++) x[i] = uniform_pm1();
    for (int i = 0; i < N * K; i++) w[i] = uniform_pm1();
    ttc_bfp_round_columns(w, N, K, TTC_BFP4, TTC_BFP_HOST);
    RtMatmulWeights *pw = rt_matmul_prepare(w, N, K, rt_matmul_parts_needed(TTC_FIDELITY_HIFI4, 0));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    CU_ASSERT_TRUE(pw->a1_zero);
    CU_ASSERT_PTR_NULL(pw->part[RT_WPART_A1]);
    RtMatmulMode mode = {.fidelity = TTC_FIDELITY_HIFI4, .fp32_acc = 0};
    CU_ASSERT_EQUAL(rt_matmul_emul(x, M, pw, NULL, &mode, out), TTC_OK);
    int bad = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double a;
            bad += bits(out[i * N + j]) != bits(model_out(x, w, NULL, i, j, K, &mode, &a));
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(pw);
}

/* Tiny operands whose products are subnormal: IEEE arithmetic keeps them, an instruction that
 * flushes subnormals (VDPBF16PS) would not, so the kernel must keep such rows off that path.
 * w = +-2^-64; rows 0..7 of x are 1 + j/8 (products near 2^-64: the fast path is fine), rows
 * 8..16 are 2^-64 (1 + j/8): products 2^-128 (1 + j/8), subnormal, and sums of them that a bf16
 * destination can still hold (bf16 subnormals reach down to 2^-133). */
static void test_subnormal_products(void) {
    enum { M = 17, K = 64, N = 32 };
    static float x[M * K], w[N * K], out[M * N];
    for (int i = 0; i < M * K; i++) x[i] = (i < 8 * K ? 1.0f : 0x1p-64f) * (1.0f + (float)(i % 8) / 8);
    for (int i = 0; i < N * K; i++) w[i] = (i % 3 ? 0x1p-64f : -0x1p-64f);
    for (int acc = 0; acc < 2; acc++) {
        RtMatmulMode mode = {.fidelity = TTC_FIDELITY_HIFI2, .fp32_acc = acc};
        CU_ASSERT_EQUAL(fast(x, w, NULL, M, N, K, &mode, out), 0);
        int bad = 0, nonzero = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double a;
                float want = model_out(x, w, NULL, i, j, K, &mode, &a);
                /* bf16 destination: same order, same bits. fp32: the model's bound */
                bad += acc ? fabs((double)out[i * N + j] - want) > fp32_bound(K, a, want, 0)
                           : bits(out[i * N + j]) != bits(want);
                nonzero += i >= 8 && out[i * N + j] != 0.0f;
            }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT(nonzero > 0); /* the tiny rows' sums are subnormal, not flushed */
    }
}

/* Every instruction-set variant and thread count gives the same bits. The sizes are large
 * enough (7 panels, ~2e7 multiply-adds) for the kernel to really use 2 and 3 threads. */
static void test_variants_agree(void) {
    enum { M = 93, K = 520, N = 200 };
    static float x[M * K], w[N * K], out[M * N], first[M * N];
    for (int i = 0; i < M * K; i++) x[i] = uniform_pm1();
    for (int i = 0; i < N * K; i++) w[i] = uniform_pm1();
    RtMatmulWeights *pw = rt_matmul_prepare(w, N, K, rt_matmul_parts_needed(TTC_FIDELITY_HIFI3, 0) |
                                                         rt_matmul_parts_needed(TTC_FIDELITY_HIFI3, 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    for (int acc = 0; acc < 2; acc++) {
        RtMatmulMode mode = {.fidelity = TTC_FIDELITY_HIFI3, .fp32_acc = acc};
        int have = 0, bad = 0;
        for (int isa = RT_ISA_BASE; isa <= RT_ISA_AVX512; isa++) {
            if (rt_matmul_limit_isa((RtIsa)isa) != (RtIsa)isa) continue; /* CPU lacks it */
            for (int threads = 1; threads <= 3; threads++) {
                rt_matmul_set_threads(threads);
                CU_ASSERT_EQUAL(rt_matmul_emul(x, M, pw, NULL, &mode, out), TTC_OK);
                if (!have) memcpy(first, out, sizeof out);
                have = 1;
                bad += memcmp(first, out, sizeof out) != 0;
            }
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
    rt_matmul_limit_isa(RT_ISA_AVX512);
    rt_matmul_set_threads(0);
    free(pw);
}

/* ---- wiring: the fast LINEAR kernel and weight preparation ---- */

/* The fast kernel takes the emulated path exactly when its weight was prepared. */
static void test_fast_kernel_routes(void) {
    enum { M = 6, K = 40, N = 36 };
    static float x[M * K], w[N * K], bias[N], out[M * N], want[M * N];
    for (int i = 0; i < M * K; i++) x[i] = uniform_pm1();
    for (int i = 0; i < N * K; i++) w[i] = uniform_pm1();
    for (int i = 0; i < N; i++) bias[i] = uniform_pm1();
    TtcOpDesc op = {.kind = TTC_OP_LINEAR, .path = "layer_0.ffn.up", .n_in = 3};
    op.cfg.fidelity = TTC_FIDELITY_LOFI;
    op.cfg.fp32_acc = 0;
    TtcError err = {0};
    RtOpArgs a = {.op = &op, .n_in = 3, .err = &err};
    a.in[0] = (RtTensor){.data = x, .rank = 2, .dims = {M, K}};
    a.in[1] = (RtTensor){.data = w, .rank = 2, .dims = {N, K}};
    a.in[2] = (RtTensor){.data = bias, .rank = 1, .dims = {N}};
    a.out = (RtTensor){.data = out, .rank = 2, .dims = {M, N}};
    RtMatmulWeights *pw = rt_matmul_prepare(w, N, K, rt_matmul_parts_needed(TTC_FIDELITY_LOFI, 0));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    a.prep[1] = pw;
    CU_ASSERT_EQUAL(rt_fast_kernels[TTC_OP_LINEAR](&a), TTC_OK);
    RtMatmulMode mode = {.fidelity = TTC_FIDELITY_LOFI, .fp32_acc = 0, .dest_round = rt_matmul_dest_rounding()};
    CU_ASSERT_EQUAL(rt_matmul_emul(x, M, pw, bias, &mode, want), TTC_OK);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof out), 0);
    /* LoFi on random fp32 data is far from the plain product, which the unprepared path gives */
    a.prep[1] = NULL;
    CU_ASSERT_EQUAL(rt_fast_kernels[TTC_OP_LINEAR](&a), TTC_OK);
    CU_ASSERT(unit_max_abs(out, want, M * N) > 1e-3);
    /* a prepared weight of other dims is a ttc bug, reported rather than read out of bounds */
    RtMatmulWeights *other = rt_matmul_prepare(w, N - 1, K, rt_matmul_parts_needed(TTC_FIDELITY_LOFI, 0));
    a.prep[1] = other;
    CU_ASSERT_EQUAL(rt_fast_kernels[TTC_OP_LINEAR](&a), TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "layer_0.ffn.up"));
    free(other);
    free(pw);
}

/* A model of one LINEAR (x[2,K] -> y[2,N], weight w[N,K]) and one embedding table [V,H],
 * with the given formats and config, its weights set to `vals`. */
static void tiny_model(TtcModel *m, int32_t x_dtype, int32_t w_dtype, TtcOpConfig cfg, const float *wvals,
                       const float *tvals) {
    enum { K = 32, N = 18, V = 2, H = 20 };
    memset(m, 0, sizeof *m);
    TtcPlan *p = &m->plan;
    p->n_tensors = 4;
    p->tensors = calloc(4, sizeof *p->tensors);
    p->n_ops = 1;
    p->ops = calloc(1, sizeof *p->ops);
    TtcTensorDesc *t = p->tensors;
    t[0] = (TtcTensorDesc){.name = "x", .kind = TTC_TENSOR_ACT, .dtype = x_dtype, .shape = {2, {{0, 2}, {0, K}}}};
    t[1] = (TtcTensorDesc){.name = "w", .kind = TTC_TENSOR_WEIGHT, .dtype = w_dtype, .shape = {2, {{0, N}, {0, K}}}};
    t[2] = (TtcTensorDesc){.name = "y", .kind = TTC_TENSOR_ACT, .dtype = cfg.act_dtype, .shape = {2, {{0, 2}, {0, N}}}};
    t[3] = (TtcTensorDesc){.name = "table", .kind = TTC_TENSOR_WEIGHT, .dtype = w_dtype, .shape = {2, {{0, V}, {0, H}}}};
    p->ops[0] = (TtcOpDesc){.kind = TTC_OP_LINEAR, .path = "layer_0.ffn.up", .n_in = 2, .in = {0, 1}, .out = 2, .cfg = cfg};
    m->weights = calloc(5, sizeof *m->weights);
    m->weights[1] = malloc(N * K * sizeof(float));
    memcpy(m->weights[1], wvals, N * K * sizeof(float));
    m->weights[3] = malloc(V * H * sizeof(float));
    memcpy(m->weights[3], tvals, V * H * sizeof(float));
}

static void test_weight_prep(void) {
    enum { K = 32, N = 18 };
    /* w: column 0 holds 1 + 2^-6 in row 0 and 4 in row 16 (the second band of 16 rows), row 17
     * holds 1 + 2^-6 too; row 0, column 1 holds 4. Column blocking keeps w[0][0] exact (its band
     * {1+2^-6, 0, ...} has E = 127) and rounds w[17][0] to 1.0 (band {4, 1+2^-6}); row blocking
     * would round w[0][0] to 1.0 (row 0 {1+2^-6, 4, ...}) instead. See test_bfp.c. */
    static float wv[N * K], tv[40];
    wv[0] = 1.0f + 0x1p-6f;
    wv[1] = 4.0f;
    wv[16 * K] = 4.0f;
    wv[17 * K] = 1.0f + 0x1p-6f;
    /* the table [2,20] is row-major: its rows block along H. Row 0 = {4, 1+2^-6, 0...}: the
     * second value rounds to 1.0 */
    tv[0] = 4.0f;
    tv[1] = 1.0f + 0x1p-6f;
    TtcModel m;
    TtcError err = {0};
    TtcOpConfig lofi = {.act_dtype = TTC_BF16, .weight_dtype = TTC_BFP8, .fidelity = TTC_FIDELITY_LOFI, .fp32_acc = 0};
    tiny_model(&m, TTC_BF16, TTC_BFP8, lofi, wv, tv);
    CU_ASSERT_EQUAL_FATAL(rt_prepare_weights(&m, &err), TTC_OK);
    CU_ASSERT_EQUAL(m.weights[1][0], 1.0f + 0x1p-6f);
    CU_ASSERT_EQUAL(m.weights[1][17 * K], 1.0f);
    CU_ASSERT_EQUAL(m.weights[3][1], 1.0f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m.prep);
    const RtMatmulWeights *pw = m.prep[1];
    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    CU_ASSERT_EQUAL(pw->n, N);
    CU_ASSERT_EQUAL(pw->k, K);
    CU_ASSERT_PTR_NOT_NULL(pw->part[RT_WPART_A0]);
    /* the prepared part is A0 of the rounded weight: 1 + 2^-6 keeps only its top 1+4 bits, 1.0 */
    CU_ASSERT_EQUAL(rt_matmul_weight_value(pw, RT_WPART_A0, 0, 0), 1.0f);
    CU_ASSERT_EQUAL(rt_matmul_weight_value(pw, RT_WPART_A0, 16, 0), 4.0f);
    CU_ASSERT_EQUAL(rt_matmul_weight_value(pw, RT_WPART_A0, 0, 1), 4.0f);
    CU_ASSERT_EQUAL(rt_matmul_weight_value(pw, RT_WPART_A0, 17, 0), 1.0f);
    CU_ASSERT_EQUAL(rt_matmul_weight_value(pw, RT_WPART_A0, 18, 0), 0.0f); /* padding past N */
    CU_ASSERT_TRUE(pw->part_bf16[RT_WPART_A0]); /* A0 values are bf16 numbers: packed in pairs */
    CU_ASSERT_PTR_NULL(m.prep[3]);                             /* the table is no matmul operand */
    ttc_model_close(&m);

    /* bf16 weights, HiFi4, fp32 destination, bf16 input: the product is a plain GEMM, but the
     * weight is still prepared, as the one operand the kernel reads, packed in bf16 pairs: half
     * the bytes of fp32 (host memory for large models, and what decode streams) */
    TtcOpConfig plain = {.act_dtype = TTC_BF16, .weight_dtype = TTC_BF16, .fidelity = TTC_FIDELITY_HIFI4, .fp32_acc = 1};
    tiny_model(&m, TTC_BF16, TTC_BF16, plain, wv, tv);
    CU_ASSERT_EQUAL_FATAL(rt_prepare_weights(&m, &err), TTC_OK);
    CU_ASSERT_FATAL(m.prep && m.prep[1]);
    pw = m.prep[1];
    CU_ASSERT_PTR_NOT_NULL(pw->part[RT_WPART_AFULL]);
    CU_ASSERT_TRUE(pw->part_bf16[RT_WPART_AFULL]);
    ttc_model_close(&m);
    /* the same op fed fp32 activations: the tf32 cut of the input matters */
    tiny_model(&m, TTC_F32, TTC_BF16, plain, wv, tv);
    CU_ASSERT_EQUAL_FATAL(rt_prepare_weights(&m, &err), TTC_OK);
    CU_ASSERT(m.prep && m.prep[1]);
    ttc_model_close(&m);
    /* fp32 weights at HiFi4 with fp32 everything (reference.yaml): not a no-op either */
    TtcOpConfig ref = {.act_dtype = TTC_F32, .weight_dtype = TTC_F32, .fidelity = TTC_FIDELITY_HIFI4, .fp32_acc = 1};
    tiny_model(&m, TTC_F32, TTC_F32, ref, wv, tv);
    CU_ASSERT_EQUAL_FATAL(rt_prepare_weights(&m, &err), TTC_OK);
    CU_ASSERT(m.prep && m.prep[1] && m.prep[1] != NULL);
    CU_ASSERT_EQUAL(m.weights[1][0], 1.0f + 0x1p-6f); /* fp32: values untouched */
    ttc_model_close(&m);
}

static CU_TestInfo dest_tests[] = {
    {"bf16 destination: nearest-even, truncation, fp32", test_dest_rounding_modes},
    {"bf16 destination rounds per 32-k chunk", test_dest_rounds_per_chunk},
    {"bf16 destination rounds per phase", test_dest_rounds_per_phase},
    {"bias after accumulation", test_bias_after_accumulation},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo model_tests[] = {
    {"random shapes, every mode, against the model", test_random_against_model},
    {"weights without A1 skip phases exactly", test_weights_without_a1},
    {"subnormal products stay exact", test_subnormal_products},
    {"ISA variants and threads agree bitwise", test_variants_agree},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo wiring_tests[] = {
    {"fast LINEAR routes on prepared weights", test_fast_kernel_routes},
    {"weight preparation per config", test_weight_prep},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "destination accumulation", .pTests = dest_tests},
    {.pName = "fast kernel vs model", .pTests = model_tests},
    {.pName = "wiring", .pTests = wiring_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
