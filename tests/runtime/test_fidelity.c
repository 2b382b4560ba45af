/* test_fidelity.c: the math-fidelity operand parts (runtime/numerics.h) and the products they
 * make (runtime/matmul_emul.c), against DEVICE.md §4 worked by hand:
 *
 *   A_bits(x, p) = (p & 1) == 0 ? x & 0xFFF80000 : x - (x & 0xFFF83FFF)     A = in1 = weights
 *   B_bits(x, p) = (p & 2) == 0 ? x & 0xFFFE0000 : x - (x & 0xFFFE1FFF)     B = in0 = activations
 *   out = sum over the fidelity's phases p of B_bits(in0, p) * A_bits(in1, p)
 *
 * Mantissa bit j of an fp32 number 1.f * 2^e is worth 2^(e - 23 + j): for 1.f, bit 22 is 2^-1,
 * bit 18 is 2^-5, bit 13 is 2^-10. 0xFFF80000 keeps mantissa bits 22..19, 0xFFF83FFF clears
 * 18..14, 0xFFFE0000 keeps 22..17 and 0xFFFE1FFF clears 16..13. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matmul_emul.h"
#include "numerics.h"
#include "unit.h"

static float f32(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static uint32_t bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* x = 1 + 2^-1 + 2^-5 + 2^-7 + 2^-9 + 2^-10 + 2^-11 + 2^-23: mantissa bits 22, 18, 16, 14, 13,
 * 12 and 0 set: 0x3F800000 | 0x400000 | 0x40000 | 0x10000 | 0x4000 | 0x2000 | 0x1000 | 1. */
#define X_BITS 0x3FC57001u

static void test_parts_of_x(void) {
    float x = f32(X_BITS);
    /* A phase 0 keeps bits 22..19: 1 + 2^-1 = 1.5 */
    CU_ASSERT_EQUAL(ttc_fidelity_a(x, 0), 1.5f);
    /* A phase 1 is bits 18..14: 2^-5 + 2^-7 + 2^-9 = 21/512 */
    CU_ASSERT_EQUAL(ttc_fidelity_a(x, 1), 21.0f / 512);
    /* phases 2 and 3 reuse A's phase 0 and 1 parts */
    CU_ASSERT_EQUAL(ttc_fidelity_a(x, 2), 1.5f);
    CU_ASSERT_EQUAL(ttc_fidelity_a(x, 3), 21.0f / 512);
    /* B phase 0 keeps bits 22..17: 1 + 2^-1 + 2^-5 = 49/32 */
    CU_ASSERT_EQUAL(ttc_fidelity_b(x, 0), 49.0f / 32);
    CU_ASSERT_EQUAL(ttc_fidelity_b(x, 1), 49.0f / 32);
    /* B phase 2 is bits 16..13: 2^-7 + 2^-9 + 2^-10 = 11/1024 */
    CU_ASSERT_EQUAL(ttc_fidelity_b(x, 2), 11.0f / 1024);
    CU_ASSERT_EQUAL(ttc_fidelity_b(x, 3), 11.0f / 1024);
    /* bits 12 (2^-11) and 0 (2^-23) reach no phase: HiFi4 sees x - 2^-11 - 2^-23 (B) and
     * x - 2^-10 - 2^-11 - 2^-23 (A, which stops at bit 14) */
    CU_ASSERT_EQUAL(bits(ttc_fid_high(x, TTC_FID_B_FULL)), 0x3FC56000u);
    CU_ASSERT_EQUAL(bits(ttc_fid_high(x, TTC_FID_A_FULL)), 0x3FC54000u);
    /* the sign goes with every part; the exponent only scales them */
    CU_ASSERT_EQUAL(ttc_fidelity_a(-x, 1), -21.0f / 512);
    CU_ASSERT_EQUAL(ttc_fidelity_b(-x, 2), -11.0f / 1024);
    float y = x * 0x1p-20f; /* same mantissa, exponent - 20 */
    CU_ASSERT_EQUAL(ttc_fidelity_a(y, 1), 21.0f / 512 * 0x1p-20f);
    CU_ASSERT_EQUAL(ttc_fidelity_b(y, 0), 49.0f / 32 * 0x1p-20f);
}

static void test_parts_of_formats(void) {
    /* A bf16 value keeps mantissa bits 22..16: all inside A's phases 0+1 (22..14), so HiFi2
     * already sees a bf16 weight whole; B phase 0 (22..17) loses bit 16, so a bf16 activation
     * needs phase 2. 1 + 2^-7 (bit 16): A0 = 1, A1 = 2^-7; B0 = 1, B2 = 2^-7. */
    float v = 1.0f + 0x1p-7f;
    CU_ASSERT_EQUAL(ttc_fidelity_a(v, 0), 1.0f);
    CU_ASSERT_EQUAL(ttc_fidelity_a(v, 1), 0x1p-7f);
    CU_ASSERT_EQUAL(ttc_fidelity_b(v, 0), 1.0f);
    CU_ASSERT_EQUAL(ttc_fidelity_b(v, 2), 0x1p-7f);
    /* a bfp4 value has 3 significant bits: 1.75 = 1.11b lies in A's phase 0 entirely */
    CU_ASSERT_EQUAL(ttc_fidelity_a(1.75f, 0), 1.75f);
    CU_ASSERT_EQUAL(ttc_fidelity_a(1.75f, 1), 0.0f);
    /* a bfp8 value has up to 7: 127/64 = 1.111111b: A0 = 1.1111b = 31/16, A1 = 2^-5 + 2^-6 */
    CU_ASSERT_EQUAL(ttc_fidelity_a(127.0f / 64, 0), 31.0f / 16);
    CU_ASSERT_EQUAL(ttc_fidelity_a(127.0f / 64, 1), 3.0f / 64);
}

static void test_parts_of_special_values(void) {
    CU_ASSERT_EQUAL(bits(ttc_fidelity_a(0.0f, 0)), 0u);
    CU_ASSERT_EQUAL(bits(ttc_fidelity_a(0.0f, 1)), 0u);
    CU_ASSERT_EQUAL(bits(ttc_fidelity_b(-0.0f, 0)), 0x80000000u);
    /* an infinity lives in its high part; the low part is 0 (inf - inf would be NaN) */
    CU_ASSERT_TRUE(isinf(ttc_fidelity_a(INFINITY, 0)));
    CU_ASSERT_EQUAL(ttc_fidelity_a(INFINITY, 1), 0.0f);
    CU_ASSERT_EQUAL(ttc_fidelity_b(-INFINITY, 0), -INFINITY);
    CU_ASSERT_EQUAL(ttc_fidelity_b(-INFINITY, 2), 0.0f);
    /* a NaN whose payload is only in the cleared bits would become inf under the mask */
    CU_ASSERT_TRUE(isnan(ttc_fidelity_a(f32(0x7F800001u), 0)));
    CU_ASSERT_TRUE(isnan(ttc_fidelity_b(f32(0x7F800001u), 0)));
    /* a subnormal is masked like any pattern: 0x00457001 keeps 0x00400000 (A) */
    CU_ASSERT_EQUAL(bits(ttc_fidelity_a(f32(0x00457001u), 0)), 0x00400000u);
    CU_ASSERT_EQUAL(bits(ttc_fidelity_a(f32(0x00457001u), 1)), 0x00054000u); /* bits 18..14: 0x40000+0x10000+0x4000 */
}

static uint64_t rng = 12345;
static uint32_t next_u32(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 32);
}

/* For every finite pattern: the high and low parts of an operand add up exactly to its full
 * mask, and the tf32 cut before the masks changes nothing (truncation commutes with them). */
static void test_part_identities(void) {
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t u = next_u32();
        if ((u & 0x7F800000u) == 0x7F800000u) continue;
        float x = f32(u), t = ttc_tf32_cut(x);
        /* compared as values: a tiny negative x whose high part is -0 sums to +0 */
        bad += ttc_fidelity_a(x, 0) + ttc_fidelity_a(x, 1) != f32(u & TTC_FID_A_FULL);
        bad += ttc_fidelity_b(x, 0) + ttc_fidelity_b(x, 2) != f32(u & TTC_FID_B_FULL);
        for (int p = 0; p < 4; p++) {
            bad += bits(ttc_fidelity_a(t, p)) != bits(ttc_fidelity_a(x, p));
            bad += bits(ttc_fidelity_b(t, p)) != bits(ttc_fidelity_b(x, p));
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- products ---- */

/* One emulated product out = x w (M = N = K = 1) under a mode. */
static float product(float x, float w, TtcFidelity f, int fp32_acc, RtDestRounding r) {
    RtMatmulWeights *pw = rt_matmul_prepare(&w, 1, 1, rt_matmul_parts_needed(f, fp32_acc));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    RtMatmulMode mode = {.fidelity = f, .fp32_acc = fp32_acc, .dest_round = r};
    float out = NAN;
    CU_ASSERT_EQUAL(rt_matmul_emul(&x, 1, pw, NULL, &mode, &out), TTC_OK);
    free(pw);
    return out;
}

static void test_product_1x1x1(void) {
    /* x = w = X_BITS: A0 = 3/2, A1 = 21/512, B0 = 49/32, B2 = 11/1024, and the phase products
     *   p0 = B0 A0 = 147/64           p1 = B0 A1 = 1029/16384
     *   p2 = B2 A0 = 33/2048          p3 = B2 A1 = 231/524288
     * fp32 destination (every partial sum below has at most 21 significant bits: exact)
     *   LoFi  p0                = 147/64             = 2.296875
     *   HiFi2 p0 + p1           = 38661/16384        = 2.35968017578125
     *   HiFi3 p0 + p1 + p2      = 38925/16384        = 2.37579345703125
     *   HiFi4 p0 + p1 + p2 + p3 = 1245831/524288 */
    float x = f32(X_BITS);
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_LOFI, 1, RT_DEST_NEAREST_EVEN), 147.0f / 64);
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_HIFI2, 1, RT_DEST_NEAREST_EVEN), 38661.0f / 16384);
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_HIFI3, 1, RT_DEST_NEAREST_EVEN), 38925.0f / 16384);
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_HIFI4, 1, RT_DEST_NEAREST_EVEN), 1245831.0f / 524288);
    /* bf16 destination: rounded after each phase. In [2, 4) a bf16 ulp is 2^-6 = 1/64.
     *   p0 = 147/64 is a bf16 (147 < 256)                                   -> 2.296875
     *   + p1 = 2.35968017578125 = 151.02 ulps -> 151/64                     -> 2.359375
     *   + p2 = 2.359375 + 0.01611328125 = 2.37548828125 = 152.03 ulps       -> 2.375
     *   + p3 = 2.375 + 0.00044 -> 152.03 ulps                               -> 2.375 */
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_LOFI, 0, RT_DEST_NEAREST_EVEN), 2.296875f);
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_HIFI2, 0, RT_DEST_NEAREST_EVEN), 2.359375f);
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_HIFI3, 0, RT_DEST_NEAREST_EVEN), 2.375f);
    CU_ASSERT_EQUAL(product(x, x, TTC_FIDELITY_HIFI4, 0, RT_DEST_NEAREST_EVEN), 2.375f);
    /* the operand order matters: B = in0 = x, A = in1 = w. x = 1 + 2^-7 (bf16), w = 1:
     * B0 = 1, B2 = 2^-7, A0 = 1, A1 = 0: LoFi and HiFi2 see x as 1; HiFi3 adds B2 A0 = 2^-7.
     * Swapped (x = 1, w = 1 + 2^-7) HiFi2 already sees A1 = 2^-7. */
    CU_ASSERT_EQUAL(product(1.0f + 0x1p-7f, 1.0f, TTC_FIDELITY_HIFI2, 1, RT_DEST_NEAREST_EVEN), 1.0f);
    CU_ASSERT_EQUAL(product(1.0f + 0x1p-7f, 1.0f, TTC_FIDELITY_HIFI3, 1, RT_DEST_NEAREST_EVEN), 1.0f + 0x1p-7f);
    CU_ASSERT_EQUAL(product(1.0f, 1.0f + 0x1p-7f, TTC_FIDELITY_LOFI, 1, RT_DEST_NEAREST_EVEN), 1.0f);
    CU_ASSERT_EQUAL(product(1.0f, 1.0f + 0x1p-7f, TTC_FIDELITY_HIFI2, 1, RT_DEST_NEAREST_EVEN), 1.0f + 0x1p-7f);
}

/* The slow model straight from DEVICE.md: each output is the sum over phases and k of
 * B_bits(x[i][k], p) * A_bits(w[j][k], p), each product exact in double, summed in double. */
static double model(const float *x, const float *w, int i, int j, int k, TtcFidelity f, double *abs_sum) {
    double s = 0, a = 0;
    for (int p = 0; p < ttc_fidelity_phases(f); p++)
        for (int kk = 0; kk < k; kk++) {
            double t = (double)ttc_fidelity_b(x[i * k + kk], p) * (double)ttc_fidelity_a(w[j * k + kk], p);
            s += t;
            a += fabs(t);
        }
    *abs_sum = a;
    return s;
}

/* A small matmul (M = 3, K = 7, N = 5) under each fidelity with an fp32 destination equals the
 * model up to the fp32 rounding of its sums: at most 7 chunk additions + 4 terms deep, so
 * |fast - model| <= 12 * 2^-24 * sum |products| (a double sum of 28 terms is exact enough). A
 * wrong mask moves results by ~2^-6 relative, thousands of times that. */
static void test_small_matmul(void) {
    enum { M = 3, K = 7, N = 5 };
    float x[M * K], w[N * K], out[M * N];
    for (int i = 0; i < M * K; i++) x[i] = (float)((int32_t)next_u32()) * 0x1p-31f;
    for (int i = 0; i < N * K; i++) w[i] = (float)((int32_t)next_u32()) * 0x1p-31f;
    for (int f = TTC_FIDELITY_LOFI; f <= TTC_FIDELITY_HIFI4; f++) {
        RtMatmulWeights *pw = rt_matmul_prepare(w, N, K, rt_matmul_parts_needed((TtcFidelity)f, 1));
        CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
        RtMatmulMode mode = {.fidelity = (TtcFidelity)f, .fp32_acc = 1};
        CU_ASSERT_EQUAL(rt_matmul_emul(x, M, pw, NULL, &mode, out), TTC_OK);
        int bad = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double abs_sum, want = model(x, w, i, j, K, (TtcFidelity)f, &abs_sum);
                bad += fabs(out[i * N + j] - want) > 12 * 0x1p-24 * abs_sum;
            }
        CU_ASSERT_EQUAL(bad, 0);
        free(pw);
    }
}

/* Each extra phase brings the product closer to the fp32 one: errors against the plain double
 * product shrink LoFi > HiFi2 > HiFi4 on random data, and HiFi4 is within tf32-like precision. */
static void test_fidelity_ordering(void) {
    enum { M = 16, K = 64, N = 16 };
    static float x[M * K], w[N * K], out[M * N];
    for (int i = 0; i < M * K; i++) x[i] = (float)((int32_t)next_u32()) * 0x1p-31f;
    for (int i = 0; i < N * K; i++) w[i] = (float)((int32_t)next_u32()) * 0x1p-31f;
    double err[4];
    for (int f = 0; f < 4; f++) {
        RtMatmulWeights *pw = rt_matmul_prepare(w, N, K, rt_matmul_parts_needed((TtcFidelity)f, 1));
        CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
        RtMatmulMode mode = {.fidelity = (TtcFidelity)f, .fp32_acc = 1};
        CU_ASSERT_EQUAL(rt_matmul_emul(x, M, pw, NULL, &mode, out), TTC_OK);
        free(pw);
        double e = 0, scale = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double exact = 0;
                for (int kk = 0; kk < K; kk++) exact += (double)x[i * K + kk] * w[j * K + kk];
                e = fmax(e, fabs(out[i * N + j] - exact));
                scale = fmax(scale, fabs(exact));
            }
        err[f] = e / scale;
    }
    CU_ASSERT(err[0] > err[1]);
    CU_ASSERT(err[1] > err[3]);
    CU_ASSERT(err[2] > err[3]);
    /* LoFi keeps 5 bits of A: relative errors of a few percent of an operand, ~1e-2 of the output */
    CU_ASSERT(err[0] > 1e-3);
    /* HiFi4: A keeps 10 significant bits, B 11: well under 1e-2, well above fp32's 1e-7 */
    CU_ASSERT(err[3] < 1e-2 && err[3] > 1e-6);
}

static CU_TestInfo part_tests[] = {
    {"parts of a hand-picked pattern", test_parts_of_x},
    {"parts of bf16 and bfp values", test_parts_of_formats},
    {"zeros, infinities, NaN, subnormals", test_parts_of_special_values},
    {"parts add up; tf32 cut commutes", test_part_identities},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo product_tests[] = {
    {"1x1x1 under every fidelity", test_product_1x1x1},
    {"small matmul against the DEVICE.md model", test_small_matmul},
    {"more phases, smaller error", test_fidelity_ordering},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "fidelity parts", .pTests = part_tests},
    {.pName = "fidelity products", .pTests = product_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
