/* kernels_vec.c: vectorizable fp32 loops for the fast kernels (see kernels_vec.h).
 *
 * How these loops are written, and why:
 * - Work goes in blocks of BLOCK values with a constant-count inner loop, then a scalar tail.
 *   GCC vectorizes such inner loops even at -O2, whose cost model rejects loops that would need
 *   a run-time trip count check, an epilogue or alias checks.
 * - A block is computed into a local array and copied out, so the output may be the input
 *   (exact in-place use) without `restrict` promises we could not keep.
 * - Sums and maxima keep one accumulator per lane (acc[j]) and combine them at the end: a single
 *   running sum is a loop-carried dependence the compiler may not reorder without -ffast-math.
 * - No branches on data: both sides are computed and one is selected through an integer mask
 *   (sel), because with -ftrapping-math (the default) GCC will not if-convert a conditional
 *   that guards a floating-point operation, and that blocks vectorization.
 * - exp and erfc are our own branch-free polynomials: libm's scalar erff/expf calls cost more
 *   than all the arithmetic of a bert-base FFN activation put together. */
#include "kernels_vec.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define BLOCK 16

/* Marks the loops and the element functions they use. Each public function is compiled once per
 * instruction set from the same inlined loop (the variants at the end of this file), so every
 * piece of it must inline into the variant. */
#define LOOP __attribute__((always_inline))

static inline LOOP uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline LOOP float bits_f32(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* mask ? a : b for a mask of all ones or all zeros, without a branch. mask_if builds the mask
 * arithmetically: even a ternary with constant arms lets GCC thread jumps through the code that
 * follows, which brings the control flow back. */
static inline LOOP float sel(uint32_t mask, float a, float b) {
    return bits_f32((f32_bits(a) & mask) | (f32_bits(b) & ~mask));
}
static inline LOOP uint32_t mask_if(int c) { return 0u - (uint32_t)c; }

/* e^x = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2, |r| <= ln(2)/2.
 *
 * - n comes from the classic magic-number rounding: adding 1.5 * 2^23 leaves round(x/ln2) in
 *   the low mantissa bits of k, so no float-to-int conversion is needed (those are undefined
 *   for NaN and out-of-range values).
 * - ln 2 is split in two (Cody and Waite): ln2_hi has 15 significant bits, so n * ln2_hi is
 *   exact for |n| < 2^9 and r keeps its low bits.
 * - e^r is Taylor to degree 7: the first dropped term is below 1e-8 relative on |r| <= 0.347.
 * - 2^n is applied as two factors 2^n1 * 2^n2, each a normal float for n in [-150, 128], so
 *   results near FLT_MAX and down into the subnormals come out right.
 * Inputs are clamped to [-104, ln(FLT_MAX)]: below -104 the result rounds to 0 anyway; above
 * ln(FLT_MAX) it is +inf, selected at the end. NaN passes through the clamps (every comparison
 * with NaN is false) and stays NaN. */
static inline LOOP float exp1(float x) {
    const float hi = 88.72283172607422f; /* largest float whose e^x is finite */
    float xc = sel(mask_if(x < -104.0f), -104.0f, x);
    xc = sel(mask_if(xc > hi), hi, xc);
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    float k = xc * 1.44269504088896341f + magic;
    float n = k - magic;
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f; /* hi + lo = ln 2 */
    float r = xc - n * ln2_hi;
    r = r - n * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    /* n + 256 as a positive integer (n >= -150), split into n1 = floor(n/2) and n2 = n - n1,
     * then written as exponent fields n1 + 127 and n2 + 127. */
    uint32_t nb = f32_bits(k) - f32_bits(magic) + 256u;
    uint32_t half = nb >> 1;
    float s1 = bits_f32((half - 1u) << 23);
    float s2 = bits_f32((nb - half - 1u) << 23);
    float y = p * s1 * s2;
    return sel(mask_if(x > hi), INFINITY, y);
}

/* erfc(z) for z >= 0, as t e^(-z^2 + P(t)) with t = 1 / (1 + z/2): the Chebyshev fit published
 * in Numerical Recipes (§6.2, erfcc), fractional error below 1.2e-7 for every z >= 0. One
 * formula for the whole range means no branches; it tends to 0 (not NaN) as z grows. */
static inline LOOP float erfc_pos(float z) {
    float t = 1.0f / (1.0f + 0.5f * z);
    /* P(t) = c0 + c1 t + ... + c9 t^9 by Estrin's scheme (pairs, then t^2, t^4, t^8) instead of
     * Horner's: the chain of dependent operations is half as long, and this loop is bound by
     * latency, not by arithmetic (GELU got 30% faster). */
    float t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
    float c01 = -1.26551223f + 1.00002368f * t, c23 = 0.37409196f + 0.09678418f * t;
    float c45 = -0.18628806f + 0.27886807f * t, c67 = -1.13520398f + 1.48851587f * t;
    float c89 = -0.82215223f + 0.17087277f * t;
    float p = (c01 + c23 * t2) + (c45 + c67 * t2) * t4 + c89 * t8;
    return t * exp1(p - z * z);
}

/* x Phi(x) with Phi(x) = erfc(-x/sqrt 2) / 2. Taking erfc of |x| keeps full relative accuracy
 * in the negative tail, where 1 + erf(x/sqrt 2) would cancel. */
static inline LOOP float gelu1(float x) {
    float tail = 0.5f * erfc_pos(fabsf(x) * 0.70710678118654752f); /* Phi(-|x|) */
    return x * sel(mask_if(x >= 0.0f), 1.0f - tail, tail);
}

/* 0.5 x (1 + tanh(u)) = x sigmoid(2u) = x / (1 + e^(-2u)): one exp, no cancellation. */
static inline LOOP float gelu_tanh1(float x) {
    float u = 0.7978845608028654f * (x + 0.044715f * x * x * x); /* sqrt(2/pi) */
    return x / (1.0f + exp1(-2.0f * u));
}

static inline LOOP float silu1(float x) { return x / (1.0f + exp1(-x)); }

/* x < 0 ? 0 : x, so NaN stays NaN (as in PyTorch) */
static inline LOOP float relu1(float x) { return sel(mask_if(x < 0.0f), 0.0f, x); }

/* ---- elementwise maps ---- */

static inline LOOP void add_loop(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = a[i + j] + b[i + j];
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = a[i] + b[i];
}

static inline LOOP void mul_loop(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = a[i + j] * b[i + j];
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = a[i] * b[i];
}

static inline LOOP void exp_loop(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = exp1(x[i + j]);
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = exp1(x[i]);
}

static inline LOOP void gelu_loop(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = gelu1(x[i + j]);
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = gelu1(x[i]);
}

static inline LOOP void gelu_tanh_loop(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = gelu_tanh1(x[i + j]);
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = gelu_tanh1(x[i]);
}

static inline LOOP void silu_loop(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = silu1(x[i + j]);
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = silu1(x[i]);
}

static inline LOOP void relu_loop(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = relu1(x[i + j]);
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = relu1(x[i]);
}

/* ---- reductions ---- */

static inline LOOP double sum(const float *x, int64_t n) {
    double acc[BLOCK] = {0};
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        for (int j = 0; j < BLOCK; j++) acc[j] += x[i + j];
    double s = 0.0;
    for (; i < n; i++) s += x[i];
    for (int j = 0; j < BLOCK; j++) s += acc[j];
    return s;
}

/* sum of (x - c)^2, in double */
static inline LOOP double sum_sq_dev(const float *x, int64_t n, double c) {
    double acc[BLOCK] = {0};
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        for (int j = 0; j < BLOCK; j++) {
            double dv = x[i + j] - c;
            acc[j] += dv * dv;
        }
    double s = 0.0;
    for (; i < n; i++) s += (x[i] - c) * (x[i] - c);
    for (int j = 0; j < BLOCK; j++) s += acc[j];
    return s;
}

/* y = (x - mean) * scale * gamma (+ beta when given), the common tail of both norms. The double
 * mean is subtracted as two floats, hi then lo: rounding it to one float first would shift every
 * deviation by up to half an ulp of the mean, which is large next to the deviations when a row
 * has a large common offset. */
static inline LOOP void normalize_row(float *y, const float *x, const float *gamma, const float *beta, int64_t h,
                                      double mean, float scale) {
    float hi = (float)mean, lo = (float)(mean - hi);
    int64_t i = 0;
    for (; i + BLOCK <= h; i += BLOCK) {
        float t[BLOCK];
        if (beta)
            for (int j = 0; j < BLOCK; j++) t[j] = ((x[i + j] - hi) - lo) * scale * gamma[i + j] + beta[i + j];
        else
            for (int j = 0; j < BLOCK; j++) t[j] = ((x[i + j] - hi) - lo) * scale * gamma[i + j];
        memcpy(y + i, t, sizeof t);
    }
    for (; i < h; i++) y[i] = ((x[i] - hi) - lo) * scale * gamma[i] + (beta ? beta[i] : 0.0f);
}

/* Two passes over a row that sits in L1: the mean, then the squared deviations from it, both in
 * double, so no cancellation whatever the row's offset. */
static inline LOOP void layernorm_loop(float *y, const float *x, const float *gamma, const float *beta, int64_t h,
                                      float eps) {
    if (h <= 0) return;
    double mean = sum(x, h) / (double)h;
    double var = sum_sq_dev(x, h, mean) / (double)h;
    normalize_row(y, x, gamma, beta, h, mean, (float)(1.0 / sqrt(var + eps)));
}

static inline LOOP void rmsnorm_loop(float *y, const float *x, const float *gamma, int64_t h, float eps) {
    if (h <= 0) return;
    double mean_sq = sum_sq_dev(x, h, 0.0) / (double)h;
    normalize_row(y, x, gamma, NULL, h, 0.0, (float)(1.0 / sqrt(mean_sq + eps)));
}

/* ---- softmax ---- */

/* The row maximum, NaN when the row holds a NaN: `x > m ? x : m` (like fmaxf) alone drops a
 * NaN, and a row holding one must come out NaN, as its exact softmax does. The plain maximum
 * keeps its vector max instruction; the NaN test is one compare and an or per value beside it,
 * and decides only at the end. */
static inline LOOP float max_of(const float *x, int64_t n) {
    float acc[BLOCK];
    uint32_t has_nan[BLOCK];
    for (int j = 0; j < BLOCK; j++) {
        acc[j] = -INFINITY;
        has_nan[j] = 0;
    }
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        for (int j = 0; j < BLOCK; j++) {
            acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
            has_nan[j] |= mask_if(x[i + j] != x[i + j]);
        }
    float m = -INFINITY;
    uint32_t any_nan = 0;
    for (; i < n; i++) {
        m = x[i] > m ? x[i] : m;
        any_nan |= mask_if(x[i] != x[i]);
    }
    for (int j = 0; j < BLOCK; j++) {
        m = acc[j] > m ? acc[j] : m;
        any_nan |= has_nan[j];
    }
    return sel(any_nan, NAN, m);
}

/* y = keep ? x : -FLT_MAX (the score of a hidden key, see rt_vec_softmax_row) */
static inline LOOP void apply_keep(float *y, const float *x, const int32_t *keep, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) t[j] = sel(mask_if(keep[i + j] != 0), x[i + j], -FLT_MAX);
        memcpy(y + i, t, sizeof t);
    }
    for (; i < n; i++) y[i] = keep[i] ? x[i] : -FLT_MAX;
}

/* y = e^(x - shift), returns the sum of y in double */
static inline LOOP double exp_shifted(float *y, const float *x, int64_t n, float shift) {
    double acc[BLOCK] = {0};
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float t[BLOCK];
        for (int j = 0; j < BLOCK; j++) {
            t[j] = exp1(x[i + j] - shift);
            acc[j] += t[j];
        }
        memcpy(y + i, t, sizeof t);
    }
    double s = 0.0;
    for (; i < n; i++) {
        y[i] = exp1(x[i] - shift);
        s += y[i];
    }
    for (int j = 0; j < BLOCK; j++) s += acc[j];
    return s;
}

static inline LOOP void scale_by(float *y, int64_t n, float c) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK)
        for (int j = 0; j < BLOCK; j++) y[i + j] *= c;
    for (; i < n; i++) y[i] *= c;
}

/* Whether keys [lo, hi) hold a visible one and every visible score is -inf: the softmax is then
 * 0 / 0, NaN (the reference's rule), not the uniform row of "nothing visible". Only asked on
 * the rare path where the row's maximum is -FLT_MAX. */
static inline LOOP int all_neg_inf(const float *x, int64_t lo, int64_t hi, const int32_t *keep) {
    int any = 0;
    for (int64_t j = lo; j < hi; j++)
        if (!keep || keep[j]) {
            if (x[j] != -INFINITY) return 0;
            any = 1;
        }
    return any;
}

/* Hidden keys inside [lo, hi) take the score -FLT_MAX: e^(-FLT_MAX - max) is 0 for any real max,
 * and when every key is hidden the max itself is -FLT_MAX and the row turns uniform, which is
 * what Hugging Face's additive finfo.min mask gives (score + finfo.min rounds to finfo.min for
 * any |score| < 1e31). Keys outside [lo, hi) get 0 without computing an exponential. */
static inline LOOP void softmax_loop(float *y, const float *x, int64_t t, int64_t lo, int64_t hi, const int32_t *keep) {
    if (lo < 0) lo = 0;
    if (hi > t) hi = t;
    int64_t n = hi - lo;
    const float *src = x + lo;
    if (keep && n > 0) {
        apply_keep(y + lo, x + lo, keep + lo, n);
        src = y + lo;
    }
    float m = n > 0 ? max_of(src, n) : -FLT_MAX;
    if (m == -FLT_MAX) { /* nothing visible, or only -FLT_MAX and -inf scores: see all_neg_inf */
        float u = all_neg_inf(x, lo, hi, keep) ? NAN : 1.0f / (float)t;
        for (int64_t j = 0; j < t; j++) y[j] = u;
        return;
    }
    double s = exp_shifted(y + lo, src, n, m);
    float inv = (float)(1.0 / s);
    scale_by(y + lo, n, inv);
    /* A NaN row (a NaN or +inf score, or every score -inf) is NaN everywhere, as in the
     * reference, where the keys outside [lo, hi) get e^(-FLT_MAX - max) / NaN. */
    if (inv != inv) {
        for (int64_t j = 0; j < lo; j++) y[j] = inv;
        for (int64_t j = hi; j < t; j++) y[j] = inv;
        return;
    }
    if (lo > 0) memset(y, 0, (size_t)lo * sizeof *y);
    if (hi < t) memset(y + hi, 0, (size_t)(t - hi) * sizeof *y);
}

/* ---- one variant per instruction set ----
 *
 * The same loop compiled for baseline x86-64 (SSE2, 4 lanes), AVX2 (8) and AVX-512 (16); the
 * CPU is asked at run time which it may use. All variants do the same IEEE operations in the
 * same order per value (no FMA contraction in ISO C mode, fixed accumulator lanes), so their
 * results are bit-identical: only the speed differs. */
static RtIsa isa_limit = RT_ISA_AVX512;

#if defined(__x86_64__) && defined(__GNUC__)
static int use_isa(RtIsa isa) {
    if (isa > isa_limit) return 0;
    return isa == RT_ISA_AVX512 ? __builtin_cpu_supports("avx512f") : __builtin_cpu_supports("avx2");
}

#define VARIANTS(name, loop, params, args)                                                     \
    __attribute__((target("avx512f"))) static void loop##_avx512 params { loop args; }      \
    __attribute__((target("avx2"))) static void loop##_avx2 params { loop args; }           \
    void name params {                                                                     \
        if (use_isa(RT_ISA_AVX512))                                                          \
            loop##_avx512 args;                                                              \
        else if (use_isa(RT_ISA_AVX2))                                                       \
            loop##_avx2 args;                                                                \
        else                                                                                 \
            loop args;                                                                       \
    }
#else
static int use_isa(RtIsa isa) { return isa == RT_ISA_BASE; }
#define VARIANTS(name, loop, params, args) \
    void name params { loop args; }
#endif

RtIsa rt_vec_isa(void) {
    if (use_isa(RT_ISA_AVX512)) return RT_ISA_AVX512;
    return use_isa(RT_ISA_AVX2) ? RT_ISA_AVX2 : RT_ISA_BASE;
}

RtIsa rt_vec_limit_isa(RtIsa limit) {
    isa_limit = limit;
    return rt_vec_isa();
}

VARIANTS(rt_vec_add, add_loop, (float *y, const float *a, const float *b, int64_t n), (y, a, b, n))
VARIANTS(rt_vec_mul, mul_loop, (float *y, const float *a, const float *b, int64_t n), (y, a, b, n))
VARIANTS(rt_vec_exp, exp_loop, (float *y, const float *x, int64_t n), (y, x, n))
VARIANTS(rt_vec_gelu, gelu_loop, (float *y, const float *x, int64_t n), (y, x, n))
VARIANTS(rt_vec_gelu_tanh, gelu_tanh_loop, (float *y, const float *x, int64_t n), (y, x, n))
VARIANTS(rt_vec_silu, silu_loop, (float *y, const float *x, int64_t n), (y, x, n))
VARIANTS(rt_vec_relu, relu_loop, (float *y, const float *x, int64_t n), (y, x, n))
VARIANTS(rt_vec_layernorm_row, layernorm_loop,
         (float *y, const float *x, const float *gamma, const float *beta, int64_t h, float eps),
         (y, x, gamma, beta, h, eps))
VARIANTS(rt_vec_rmsnorm_row, rmsnorm_loop, (float *y, const float *x, const float *gamma, int64_t h, float eps),
         (y, x, gamma, h, eps))
VARIANTS(rt_vec_softmax_row, softmax_loop,
         (float *y, const float *x, int64_t t, int64_t lo, int64_t hi, const int32_t *keep),
         (y, x, t, lo, hi, keep))
