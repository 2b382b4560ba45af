/* test_numerics.c: runtime/numerics.c against answers worked out by hand from the bit patterns.
 *
 * bf16 keeps the top 16 bits of an fp32 pattern. Below, "kept" is the top half, "dropped" the
 * low half; round to nearest even adds one to kept when dropped > 0x8000, or when dropped ==
 * 0x8000 and kept is odd. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static uint16_t bf16_of(uint32_t u) { return ttc_bf16_bits(f32(u)); }

/* ---- bf16: rounding of finite values ---- */

static void test_bf16_exact_values(void) {
    CU_ASSERT_EQUAL(bf16_of(0x3F800000u), 0x3F80); /* 1.0: dropped half is 0 */
    CU_ASSERT_EQUAL(bf16_of(0xC2F70000u), 0xC2F7); /* -123.5 = -1.9296875 * 2^6, fits in 8 bits */
    CU_ASSERT_EQUAL(bf16_of(0x00000000u), 0x0000); /* +0 */
    CU_ASSERT_EQUAL(bf16_of(0x80000000u), 0x8000); /* -0 keeps its sign */
}

static void test_bf16_ties_to_even(void) {
    /* kept 0x3F80 (even), dropped exactly 0x8000: the tie goes down to the even 0x3F80 */
    CU_ASSERT_EQUAL(bf16_of(0x3F808000u), 0x3F80);
    /* kept 0x3F81 (odd), dropped 0x8000: the tie goes up to the even 0x3F82 */
    CU_ASSERT_EQUAL(bf16_of(0x3F818000u), 0x3F82);
    /* same two cases with the sign set: magnitude rounds the same way */
    CU_ASSERT_EQUAL(bf16_of(0xBF808000u), 0xBF80);
    CU_ASSERT_EQUAL(bf16_of(0xBF818000u), 0xBF82);
    /* kept 0x3FFF (odd, mantissa all ones), tie: rounds up, the carry ripples into the exponent:
     * 0x4000 is 2.0 (1.1111111b * 2^0 + half an ulp = 2.0 exactly) */
    CU_ASSERT_EQUAL(bf16_of(0x3FFF8000u), 0x4000);
}

static void test_bf16_near_half(void) {
    /* dropped 0x7FFF: just below half, truncates even though kept is odd */
    CU_ASSERT_EQUAL(bf16_of(0x3F807FFFu), 0x3F80);
    CU_ASSERT_EQUAL(bf16_of(0x3F817FFFu), 0x3F81);
    /* dropped 0x8001: just above half, rounds up even though kept is even */
    CU_ASSERT_EQUAL(bf16_of(0x3F808001u), 0x3F81);
    /* dropped 0xFFFF: rounds up */
    CU_ASSERT_EQUAL(bf16_of(0x3F80FFFFu), 0x3F81);
}

static void test_bf16_overflow_to_inf(void) {
    /* 0x7F7F is the largest finite bf16 (about 3.3895e38). fp32's max 0x7F7FFFFF is above it by
     * more than half a bf16 ulp (dropped 0xFFFF): rounds to +inf (0x7F80), as IEEE prescribes. */
    CU_ASSERT_EQUAL(bf16_of(0x7F7FFFFFu), 0x7F80);
    CU_ASSERT_EQUAL(bf16_of(0xFF7FFFFFu), 0xFF80);
    /* exactly half an ulp above max bf16 with odd kept 0x7F7F: tie to even = up = inf */
    CU_ASSERT_EQUAL(bf16_of(0x7F7F8000u), 0x7F80);
    /* just below that half: stays the largest finite */
    CU_ASSERT_EQUAL(bf16_of(0x7F7F7FFFu), 0x7F7F);
    /* infinities stay infinities (kept 0x7F80 is even, dropped 0) */
    CU_ASSERT_EQUAL(bf16_of(0x7F800000u), 0x7F80);
    CU_ASSERT_EQUAL(bf16_of(0xFF800000u), 0xFF80);
}

static void test_bf16_nan(void) {
    /* the default quiet NaN: top payload bit is in the kept half already */
    CU_ASSERT_EQUAL(bf16_of(0x7FC00000u), 0x7FC0);
    /* a signaling NaN whose payload is only in the dropped half: truncation would give 0x7F80,
     * infinity; rounding would too. It must come out a (quiet) NaN with its sign. */
    CU_ASSERT_EQUAL(bf16_of(0x7F800001u), 0x7FC0);
    CU_ASSERT_EQUAL(bf16_of(0xFF800001u), 0xFFC0);
    /* all-ones payload: adding the rounding constant would carry into the sign bit */
    CU_ASSERT_EQUAL(bf16_of(0x7FFFFFFFu), 0x7FFF);
    CU_ASSERT_EQUAL(bf16_of(0xFFFFFFFFu), 0xFFFF);
    /* upper payload bits survive: 0x7FA12345 -> kept 0x7FA1, quiet bit 0x0040 set -> 0x7FE1 */
    CU_ASSERT_EQUAL(bf16_of(0x7FA12345u), 0x7FE1);
    CU_ASSERT_TRUE(isnan(ttc_bf16_round(f32(0x7F800001u))));
}

static void test_bf16_subnormals(void) {
    /* the smallest subnormal 2^-149: dropped 0x0001, far below half: rounds to +0 */
    CU_ASSERT_EQUAL(bf16_of(0x00000001u), 0x0000);
    /* kept 0x0000 (even), dropped 0x8000: tie stays at 0 */
    CU_ASSERT_EQUAL(bf16_of(0x00008000u), 0x0000);
    /* kept 0x0000, dropped 0x8001: up to the smallest bf16 subnormal 0x0001 */
    CU_ASSERT_EQUAL(bf16_of(0x00008001u), 0x0001);
    /* kept 0x0001 (odd), tie: up to 0x0002 */
    CU_ASSERT_EQUAL(bf16_of(0x00018000u), 0x0002);
    /* the largest fp32 subnormal 0x007FFFFF: kept 0x007F is odd, dropped 0xFFFF: rounds up and
     * carries into the exponent: 0x0080, the smallest normal bf16 (2^-126) */
    CU_ASSERT_EQUAL(bf16_of(0x007FFFFFu), 0x0080);
    /* negative subnormal rounding to -0 keeps the sign */
    CU_ASSERT_EQUAL(bf16_of(0x80000001u), 0x8000);
}

static void test_bf16_widen_and_round(void) {
    CU_ASSERT_EQUAL(ttc_bf16_to_f32(0x3F80), 1.0f);
    /* 0xC2F7: sign 1, exponent 0x85 = 133 -> 2^6, mantissa 0x77 = 119/128: -(1 + 119/128) * 64 */
    CU_ASSERT_EQUAL(ttc_bf16_to_f32(0xC2F7), -123.5f);
    CU_ASSERT_EQUAL(bits(ttc_bf16_to_f32(0x8000)), 0x80000000u);
    CU_ASSERT_TRUE(isinf(ttc_bf16_to_f32(0x7F80)));
    /* 1 + 2^-8 is a tie between 1 and 1 + 2^-7: goes to even 1.0 */
    CU_ASSERT_EQUAL(ttc_bf16_round(1.0f + 0x1p-8f), 1.0f);
    /* 1 + 3 * 2^-8 is a tie between 1 + 2^-7 (odd) and 1 + 2^-6 (even) */
    CU_ASSERT_EQUAL(ttc_bf16_round(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);
    /* pi = 0x40490FDB: kept 0x4049, dropped 0x0FDB < half: 3.140625 */
    CU_ASSERT_EQUAL(ttc_bf16_round(3.14159265f), 3.140625f);
    /* widening is exact: every bf16 pattern round-trips */
    for (uint32_t b = 0; b < 0x10000u; b++) {
        float w = ttc_bf16_to_f32((uint16_t)b);
        if (isnan(w)) continue; /* a NaN comes back quiet, checked above */
        if (ttc_bf16_bits(w) != b) {
            CU_FAIL("bf16 pattern does not round-trip");
            break;
        }
    }
}

/* ---- bf16: whole buffers ---- */

static uint32_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 32);
}

/* The vectorized buffer path must equal the scalar one on every kind of pattern, at lengths that
 * leave every possible tail after the 16-value blocks. */
static void test_bf16_buffer_matches_scalar(void) {
    enum { N = 1000 };
    static float buf[N], want[N];
    uint64_t seed = 42;
    for (int i = 0; i < N; i++) {
        uint32_t u = lcg(&seed);
        switch (i % 5) {
        case 0: u &= 0x807FFFFFu; break;                  /* subnormals */
        case 1: u = (u & 0x807FFFFFu) | 0x7F800000u; break; /* inf and NaNs */
        case 2: u = (u & 0xFFFF0000u) | 0x8000u; break;   /* ties */
        default: break;                                   /* anything */
        }
        buf[i] = f32(u);
    }
    for (int n = 0; n <= 40; n++) {
        float tmp[40];
        memcpy(tmp, buf, (size_t)n * sizeof(float));
        ttc_round_to_dtype(tmp, n, n, TTC_BF16);
        for (int i = 0; i < n; i++) CU_ASSERT_EQUAL(bits(tmp[i]), (uint32_t)ttc_bf16_bits(buf[i]) << 16);
    }
    for (int i = 0; i < N; i++) want[i] = f32((uint32_t)ttc_bf16_bits(buf[i]) << 16);
    ttc_bf16_round_buffer(buf, N);
    CU_ASSERT_EQUAL(memcmp(buf, want, sizeof buf), 0);
}

static void test_round_to_dtype(void) {
    float x[3] = {1.0f + 0x1p-10f, -3.14159265f, 0x1.000002p0f};
    float y[3];
    memcpy(y, x, sizeof x);
    ttc_round_to_dtype(y, 3, 3, TTC_F32); /* fp32 and int32 are left alone */
    CU_ASSERT_EQUAL(memcmp(x, y, sizeof x), 0);
    ttc_round_to_dtype(y, 3, 3, TTC_I32);
    CU_ASSERT_EQUAL(memcmp(x, y, sizeof x), 0);
    ttc_round_to_dtype(y, 3, 3, TTC_BF16);
    CU_ASSERT_EQUAL(y[0], 1.0f);
    CU_ASSERT_EQUAL(y[1], -3.140625f);
    CU_ASSERT_EQUAL(y[2], 1.0f);
    /* bfp8, one block of 3 (row_len 3). The largest exponent field is -3.14159265's, 128
     * (0xC0490FDB), so E = 128 and a magnitude m is worth m * 2^(128-133) = m/32.
     *   1 + 2^-10 = 0x3F802000: exponent 127, mantissa 0x802000 >> 1 = 0x401000, keep the top
     *     7 of 24 bits: 0x401000 >> 17 = 32, rest 0x1000 < half (0x10000): 32/32 = 1.0
     *   -3.14159265: mantissa 0xC90FDB >> 17 = 100, rest 0x10FDB > half: 101 -> -101/32
     *   0x1.000002p0 = 0x3F800001: 0x800001 >> 1 = 0x400000 -> 32, rest 0: 1.0 */
    memcpy(y, x, sizeof x);
    ttc_round_to_dtype(y, 3, 3, TTC_BFP8);
    CU_ASSERT_EQUAL(y[0], 1.0f);
    CU_ASSERT_EQUAL(y[1], -3.15625f);
    CU_ASSERT_EQUAL(y[2], 1.0f);
    /* bfp4, same block: 3 magnitude bits, m worth m * 2^(128-127-2) = m/2.
     *   -3.14159265: 0xC90FDB >> 21 = 6 (110b), rest 0x090FDB < half (0x100000): -6/2 = -3
     *   1 + 2^-10: 0x401000 >> 21 = 2, rest 0x1000: 2/2 = 1; likewise 0x3F800001 */
    memcpy(y, x, sizeof x);
    ttc_round_to_dtype(y, 3, 3, TTC_BFP4);
    CU_ASSERT_EQUAL(y[0], 1.0f);
    CU_ASSERT_EQUAL(y[1], -3.0f);
    CU_ASSERT_EQUAL(y[2], 1.0f);
}

/* ---- bf16 by truncation (the bf16 destination's other rounding mode) ---- */

static void test_bf16_truncate(void) {
    /* the low half is dropped whatever it holds: 0x3F80FFFF (just below 1 + 2^-7) -> 1.0 */
    CU_ASSERT_EQUAL(ttc_bf16_trunc_bits32(0x3F80FFFFu), 0x3F800000u);
    CU_ASSERT_EQUAL(ttc_bf16_trunc_bits32(0xBF81FFFFu), 0xBF810000u); /* toward zero for negatives */
    CU_ASSERT_EQUAL(ttc_bf16_trunc_bits32(0x7F7FFFFFu), 0x7F7F0000u); /* max fp32 -> max bf16, not inf */
    CU_ASSERT_EQUAL(ttc_bf16_trunc_bits32(0x7F800000u), 0x7F800000u); /* inf */
    /* a NaN with its payload only in the low half would become inf: it gets the quiet bit */
    CU_ASSERT_EQUAL(ttc_bf16_trunc_bits32(0x7F800001u), 0x7FC00000u);
    CU_ASSERT_EQUAL(ttc_bf16_trunc_bits32(0xFF800001u), 0xFFC00000u);
    /* the nearest-even helper is what ttc_bf16_bits uses */
    CU_ASSERT_EQUAL(ttc_bf16_rne_bits32(0x3F818000u), 0x3F820000u);
}

/* ---- tf32 ---- */

static void test_tf32_cut(void) {
    /* tf32 keeps sign, exponent and the top 10 mantissa bits (22..13): the cut clears 12..0.
     * 0x3FC57FFF = 1.bits; after the cut 0x3FC56000: bit 13 (0x2000) kept, bits 12..0 gone. */
    CU_ASSERT_EQUAL(bits(ttc_tf32_cut(f32(0x3FC57FFFu))), 0x3FC56000u);
    /* truncation, not rounding: 0x3F801FFF (bits 12..0 all set, above half an ulp) -> 1.0 */
    CU_ASSERT_EQUAL(bits(ttc_tf32_cut(f32(0x3F801FFFu))), 0x3F800000u);
    CU_ASSERT_EQUAL(bits(ttc_tf32_cut(f32(0xBF801FFFu))), 0xBF800000u);
    CU_ASSERT_EQUAL(bits(ttc_tf32_cut(f32(0x3F802000u))), 0x3F802000u); /* 1 + 2^-10 is tf32 */
    CU_ASSERT_EQUAL(bits(ttc_tf32_cut(f32(0x7F800000u))), 0x7F800000u); /* inf */
    CU_ASSERT_TRUE(isnan(ttc_tf32_cut(f32(0x7F800001u))));               /* NaN stays NaN */
    CU_ASSERT_EQUAL(bits(ttc_tf32_cut(f32(0x00001FFFu))), 0x00000000u); /* tiny subnormal -> +0 */
    CU_ASSERT_EQUAL(bits(ttc_tf32_cut(f32(0x80001FFFu))), 0x80000000u); /* keeps its sign */
}

static void test_round_matmul_weight_bf16(void) {
    /* bf16 has no blocks: a [2,2] weight rounds elementwise, as ttc_bf16_round */
    float w[4] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -3.14159265f, 2.0f};
    ttc_round_matmul_weight(w, 2, 2, TTC_BF16);
    CU_ASSERT_EQUAL(w[0], 1.0f);
    CU_ASSERT_EQUAL(w[1], 1.0f + 0x1p-6f);
    CU_ASSERT_EQUAL(w[2], -3.140625f);
    CU_ASSERT_EQUAL(w[3], 2.0f);
    float v = 1.0f + 0x1p-10f;
    ttc_round_matmul_weight(&v, 1, 1, TTC_F32); /* fp32: untouched */
    CU_ASSERT_EQUAL(v, 1.0f + 0x1p-10f);
}

/* ---- IEEE half ---- */

static void test_f16_known_values(void) {
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0x3C00), 1.0f);      /* exponent 15 = bias: 2^0 */
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0xC000), -2.0f);     /* sign, exponent 16 */
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0x7BFF), 65504.0f);  /* max: (2 - 2^-10) * 2^15 */
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0x3555), 0.333251953125f); /* (1 + 341/1024) * 2^-2 */
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0x0400), 0x1p-14f);  /* smallest normal */
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0x0001), 0x1p-24f);  /* smallest subnormal: 1 * 2^-24 */
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0x03FF), 1023 * 0x1p-24f); /* largest subnormal */
    CU_ASSERT_EQUAL(ttc_f16_to_f32(0x8001), -0x1p-24f);
    CU_ASSERT_EQUAL(bits(ttc_f16_to_f32(0x0000)), 0x00000000u);
    CU_ASSERT_EQUAL(bits(ttc_f16_to_f32(0x8000)), 0x80000000u); /* -0 */
    CU_ASSERT_EQUAL(bits(ttc_f16_to_f32(0x7C00)), 0x7F800000u); /* +inf */
    CU_ASSERT_EQUAL(bits(ttc_f16_to_f32(0xFC00)), 0xFF800000u); /* -inf */
    CU_ASSERT_EQUAL(bits(ttc_f16_to_f32(0x7E00)), 0x7FC00000u); /* quiet NaN, payload moved up */
    CU_ASSERT_TRUE(isnan(ttc_f16_to_f32(0x7C01)));              /* signaling NaN stays a NaN */
    CU_ASSERT_TRUE(isnan(ttc_f16_to_f32(0xFFFF)));
}

/* Every one of the 65536 halves against the definition: (-1)^s * m * 2^(e-25) with the implicit
 * bit for normal numbers, computed in double by a different route (ldexp). */
static void test_f16_exhaustive(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        int s = (int)(h >> 15), e = (int)((h >> 10) & 0x1F), m = (int)(h & 0x3FF);
        float got = ttc_f16_to_f32((uint16_t)h);
        if (e == 31) {
            bad += m ? !isnan(got) : !(isinf(got) && (signbit(got) != 0) == s);
            continue;
        }
        double want = e == 0 ? ldexp(m, -24) : ldexp(m + 1024, e - 25);
        if (s) want = -want;
        bad += (double)got != want || (signbit(got) != 0) != s;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static CU_TestInfo bf16_tests[] = {
    {"exact values", test_bf16_exact_values},
    {"ties to even", test_bf16_ties_to_even},
    {"just below and above half", test_bf16_near_half},
    {"overflow rounds to inf", test_bf16_overflow_to_inf},
    {"NaN stays NaN", test_bf16_nan},
    {"subnormals", test_bf16_subnormals},
    {"widen and round", test_bf16_widen_and_round},
    {"buffer equals scalar", test_bf16_buffer_matches_scalar},
    {"round_to_dtype", test_round_to_dtype},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo cut_tests[] = {
    {"bf16 truncation", test_bf16_truncate},
    {"tf32 cut truncates", test_tf32_cut},
    {"matmul weight to bf16", test_round_matmul_weight_bf16},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo f16_tests[] = {
    {"known values", test_f16_known_values},
    {"all 65536 halves", test_f16_exhaustive},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "bf16", .pTests = bf16_tests},
    {.pName = "truncation and tf32", .pTests = cut_tests},
    {.pName = "f16", .pTests = f16_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
