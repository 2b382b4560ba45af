/* test_bfp.c: bfp8_b / bfp4_b packing (runtime/numerics.c) against answers worked out by hand
 * from DEVICE.md §3.
 *
 * How to read the arithmetic below. A value with raw exponent field e and 24-bit mantissa M
 * (implicit 1 included: 1.0 is 0x800000) in a block with shared exponent E is aligned by
 * M >> (E - e); then the low 24 - W bits are rounded off (W = 7 for bfp8: drop 17 bits, the
 * tie is 0x10000; W = 3 for bfp4: drop 21 bits, the tie is 0x100000). Magnitude m is worth
 * m * 2^(E - 127 - (W - 1)): m/64 * 2^(E-127) for bfp8, m/4 * 2^(E-127) for bfp4. */
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

/* Rounds a copy of one block of n values through `fmt` (rows of n) and returns value i. */
static float rounded(const float *block, int n, int i, TtcDType fmt, TtcBfpRounding r) {
    float tmp[TTC_BFP_BLOCK];
    memcpy(tmp, block, (size_t)n * sizeof(float));
    ttc_bfp_round_rows(tmp, 1, n, fmt, r);
    return tmp[i];
}

/* ---- layout ---- */

static void test_sizes(void) {
    CU_ASSERT_EQUAL(ttc_bfp_magnitude_bits(TTC_BFP8), 7);
    CU_ASSERT_EQUAL(ttc_bfp_magnitude_bits(TTC_BFP4), 3);
    CU_ASSERT_EQUAL(ttc_bfp_magnitude_bits(TTC_BF16), 0);
    /* a 32x32 tile is 64 blocks: bfp8 64 exponents + 1024 datum bytes = 1088 = 64 * 17 */
    CU_ASSERT_EQUAL(64 * ttc_bfp_block_bytes(TTC_BFP8), ttc_dtype_tile_bytes(TTC_BFP8));
    /* bfp4 64 + 512 = 576 = 64 * 9 */
    CU_ASSERT_EQUAL(64 * ttc_bfp_block_bytes(TTC_BFP4), ttc_dtype_tile_bytes(TTC_BFP4));
}

static void test_pack_bytes_bfp8(void) {
    /* E = 127 (1.0 has the largest exponent field).
     *   1.0:   M = 0x800000, shift 0, >> 17 = 64            datum 0x40
     *   0.5:   e = 126, 0x800000 >> 1 = 0x400000, >> 17 = 32 datum 0x20
     *   -0.25: e = 125, >> 2 = 0x200000 -> 16, sign          datum 0x80 | 0x10 = 0x90
     *   0.75:  1.5 * 2^-1, M = 0xC00000 >> 1 = 0x600000 -> 48 datum 0x30
     * the other 12 datums of the block are padding: 0 */
    float x[4] = {1.0f, 0.5f, -0.25f, 0.75f};
    uint8_t got[17], want[17] = {0x7F, 0x40, 0x20, 0x90, 0x30};
    ttc_bfp_pack_block(x, 4, 1, TTC_BFP8, TTC_BFP_HOST, got);
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof want), 0);
    float back[4];
    ttc_bfp_unpack_block(got, TTC_BFP8, back, 4, 1);
    CU_ASSERT_EQUAL(memcmp(back, x, sizeof x), 0); /* all four are exact in bfp8 */
}

static void test_pack_bytes_bfp4(void) {
    /* E = 127; W = 3 keeps M >> 21.
     *   1.0 -> 4 (100b) datum 0x4;  -0.5 -> 2, sign -> 0x8 | 2 = 0xA
     *   0.25 -> 1 datum 0x1;        1.75 = M 0xE00000 -> 7 datum 0x7
     * two datums per byte, the even one in the low nibble: 0xA4, 0x71 */
    float x[4] = {1.0f, -0.5f, 0.25f, 1.75f};
    uint8_t got[9], want[9] = {0x7F, 0xA4, 0x71};
    ttc_bfp_pack_block(x, 4, 1, TTC_BFP4, TTC_BFP_HOST, got);
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof want), 0);
    float back[4];
    ttc_bfp_unpack_block(got, TTC_BFP4, back, 4, 1);
    CU_ASSERT_EQUAL(memcmp(back, x, sizeof x), 0);
}

/* ---- rounding ---- */

static void test_bfp8_ties(void) {
    /* Single values (E = their own exponent, 127):
     * 1 + 2^-7 = 0x3F810000: M = 0x810000, kept 0x40 (even), rest 0x10000 = tie -> stays 64: 1.0 */
    float a = 1.0f + 0x1p-7f;
    CU_ASSERT_EQUAL(rounded(&a, 1, 0, TTC_BFP8, TTC_BFP_HOST), 1.0f);
    /* 1 + 3*2^-7: M = 0x830000, kept 0x41 (odd), tie -> 66: 66/64 = 1 + 2^-5 */
    float b = 1.0f + 3 * 0x1p-7f;
    CU_ASSERT_EQUAL(rounded(&b, 1, 0, TTC_BFP8, TTC_BFP_HOST), 1.0f + 0x1p-5f);
    /* just above the first tie (0x3F810001): rest 0x10001 > tie -> 65 = 1 + 2^-6 */
    float c = f32(0x3F810001u);
    CU_ASSERT_EQUAL(rounded(&c, 1, 0, TTC_BFP8, TTC_BFP_HOST), 1.0f + 0x1p-6f);
    /* negative: the magnitude rounds the same way, -(1 + 3*2^-7) -> -(1 + 2^-5) */
    float d = -b;
    CU_ASSERT_EQUAL(rounded(&d, 1, 0, TTC_BFP8, TTC_BFP_HOST), -(1.0f + 0x1p-5f));
}

static void test_bfp8_ties_after_shift(void) {
    /* Block {2.0, x}: E = 128, x (e = 127) is shifted right by 1 first; a magnitude m is worth
     * m/32. x = 1 + 2^-6 = 0x3F820000: 0x820000 >> 1 = 0x410000 -> kept 0x20 (even), rest
     * 0x10000 tie -> 32: 1.0 */
    float blk[2] = {2.0f, 1.0f + 0x1p-6f};
    CU_ASSERT_EQUAL(rounded(blk, 2, 1, TTC_BFP8, TTC_BFP_HOST), 1.0f);
    /* x = 1 + 3*2^-6 = 0x3F860000: >> 1 = 0x430000 -> kept 33 (odd), tie -> 34: 34/32 = 1.0625 */
    blk[1] = 1.0f + 3 * 0x1p-6f;
    CU_ASSERT_EQUAL(rounded(blk, 2, 1, TTC_BFP8, TTC_BFP_HOST), 1.0625f);
    /* x = 0x3F820001 (1 + 2^-6 + 2^-23) lies just ABOVE the tie between 1.0 and 1.03125, but the
     * alignment shift drops its last bit before rounding looks: 0x820001 >> 1 = 0x410000, a
     * tie, to even: 1.0 (correct rounding of the real value would give 1.03125). */
    blk[1] = f32(0x3F820001u);
    CU_ASSERT_EQUAL(rounded(blk, 2, 1, TTC_BFP8, TTC_BFP_HOST), 1.0f);
}

static void test_bfp4_ties(void) {
    /* W = 3, E = 127, m/4. 1.125 = 1.001b: M = 0x900000, kept 4 (even), rest 0x100000 = tie -> 4: 1.0 */
    float a = 1.125f;
    CU_ASSERT_EQUAL(rounded(&a, 1, 0, TTC_BFP4, TTC_BFP_HOST), 1.0f);
    /* 1.375 = 1.011b: M = 0xB00000, kept 5 (odd), tie -> 6: 1.5 */
    float b = 1.375f;
    CU_ASSERT_EQUAL(rounded(&b, 1, 0, TTC_BFP4, TTC_BFP_HOST), 1.5f);
    /* 1.2 = 0x3F99999A: M = 0x99999A, kept 4, rest 0x19999A > tie -> 5: 1.25 */
    float c = 1.2f;
    CU_ASSERT_EQUAL(rounded(&c, 1, 0, TTC_BFP4, TTC_BFP_HOST), 1.25f);
}

static void test_clamp_without_exponent_bump(void) {
    /* 0x3FFFFFFF (just below 2): M = 0xFFFFFF, kept 127, rest 0x1FFFF > tie -> 128, which does
     * not fit 7 bits: clamped to 127 (127/64 = 1.984375), and the exponent byte stays 127
     * (bumping it to 128 would make 2.0 but change the scale of the whole block). */
    float x[2] = {f32(0x3FFFFFFFu), 0.5f};
    uint8_t p[17];
    ttc_bfp_pack_block(x, 2, 1, TTC_BFP8, TTC_BFP_HOST, p);
    CU_ASSERT_EQUAL(p[0], 0x7F);
    CU_ASSERT_EQUAL(p[1], 0x7F);
    CU_ASSERT_EQUAL(p[2], 0x20); /* 0.5 still 32/64: the block's scale did not move */
    CU_ASSERT_EQUAL(rounded(x, 2, 0, TTC_BFP8, TTC_BFP_HOST), 1.984375f);
    /* 1.99609375 = 0x3FFF8000: M = 0xFF8000, kept 127, rest 0x18000 > tie -> 128 -> 127 */
    float y = 1.99609375f;
    CU_ASSERT_EQUAL(rounded(&y, 1, 0, TTC_BFP8, TTC_BFP_HOST), 1.984375f);
    /* bfp4: 1.9 = 0x3FF33333: M = 0xF33333, kept 7, rest 0x133333 > tie -> 8 -> clamp 7: 7/4 */
    float z = 1.9f;
    CU_ASSERT_EQUAL(rounded(&z, 1, 0, TTC_BFP4, TTC_BFP_HOST), 1.75f);
    uint8_t q[9];
    ttc_bfp_pack_block(&z, 1, 1, TTC_BFP4, TTC_BFP_HOST, q);
    CU_ASSERT_EQUAL(q[0], 0x7F);
    CU_ASSERT_EQUAL(q[1], 0x07);
    /* negative: the clamp is on the magnitude, -0x3FFFFFFF -> datum 0x80 | 127 = 0xFF */
    float n = -f32(0x3FFFFFFFu);
    CU_ASSERT_EQUAL(ttc_bfp_datum(n, 127, TTC_BFP8, TTC_BFP_HOST), 0xFF);
}

static void test_zero_and_denormal_blocks(void) {
    /* all zeros (either sign): E = 0, every datum 0, every value +0 */
    float z[16] = {0.0f, -0.0f};
    uint8_t p[17];
    ttc_bfp_pack_block(z, 16, 1, TTC_BFP8, TTC_BFP_HOST, p);
    uint8_t zeros[17] = {0};
    CU_ASSERT_EQUAL(memcmp(p, zeros, sizeof zeros), 0);
    /* denormals count as exponent 0 and become 0: the block of {2^-149, -max subnormal, 0} is
     * all zero bytes too, and the values come back +0 (no sign on a zero magnitude) */
    float d[3] = {f32(0x00000001u), f32(0x807FFFFFu), 0.0f};
    ttc_bfp_pack_block(d, 3, 1, TTC_BFP8, TTC_BFP_HOST, p);
    CU_ASSERT_EQUAL(memcmp(p, zeros, sizeof zeros), 0);
    ttc_bfp_round_rows(d, 1, 3, TTC_BFP4, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(bits(d[0]), 0u);
    CU_ASSERT_EQUAL(bits(d[1]), 0u);
    /* a denormal next to a normal value: E = 127 from 1.0, the denormal still becomes 0 */
    float m[2] = {1.0f, f32(0x807FFFFFu)};
    ttc_bfp_round_rows(m, 1, 2, TTC_BFP8, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(m[0], 1.0f);
    CU_ASSERT_EQUAL(bits(m[1]), 0u);
}

static void test_sign_of_zero_magnitude(void) {
    /* {1.0, -2^-10}: E = 127; -2^-10 has e = 117: 0x800000 >> 10 = 0x2000, kept 0, rest below
     * the tie: magnitude 0, so the datum is 0x00, not 0x80, and the value is +0 */
    float x[2] = {1.0f, -0x1p-10f};
    uint8_t p[17];
    ttc_bfp_pack_block(x, 2, 1, TTC_BFP8, TTC_BFP_HOST, p);
    CU_ASSERT_EQUAL(p[2], 0x00);
    ttc_bfp_round_rows(x, 1, 2, TTC_BFP8, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(bits(x[1]), 0u);
    /* -2^-7 under E = 127: 0x800000 >> 7 = 0x10000: kept 0 (even), rest = tie -> 0: datum 0x00.
     * The packer rounds ties away from zero: magnitude 1, datum 0x81, value -1/64 */
    CU_ASSERT_EQUAL(ttc_bfp_datum(-0x1p-7f, 127, TTC_BFP8, TTC_BFP_HOST), 0x00);
    CU_ASSERT_EQUAL(ttc_bfp_datum(-0x1p-7f, 127, TTC_BFP8, TTC_BFP_PACKER), 0x81);
    CU_ASSERT_EQUAL(ttc_bfp_datum_value(0x81, 127, TTC_BFP8), -0x1p-6f);
    CU_ASSERT_EQUAL(bits(ttc_bfp_datum_value(0x00, 127, TTC_BFP8)), 0u);
}

static void test_mixed_exponents(void) {
    /* {1024, 1, 3, 16, 24, 8, 0.001}: E = 137 (1024 = 2^10); m is worth m * 2^(137-133) = 16.
     *   1024: 64 * 16                                                      -> 1024
     *   1:    e = 127, 0x800000 >> 10 = 0x2000 -> 0 (far below the tie)     -> 0
     *   3:    e = 128, 0xC00000 >> 9 = 0x6000 -> 0                          -> 0
     *   16:   e = 131, 0x800000 >> 6 = 0x20000 -> kept 1, rest 0            -> 16
     *   24:   e = 131, 0xC00000 >> 6 = 0x30000 -> kept 1 (odd), tie -> 2    -> 32
     *   8:    e = 130, 0x800000 >> 7 = 0x10000 -> kept 0 (even), tie -> 0   -> 0
     *   0.001: shifted far past every kept bit                             -> 0 */
    float x[7] = {1024.0f, 1.0f, 3.0f, 16.0f, 24.0f, 8.0f, 0.001f};
    float want[7] = {1024.0f, 0.0f, 0.0f, 16.0f, 32.0f, 0.0f, 0.0f};
    ttc_bfp_round_rows(x, 1, 7, TTC_BFP8, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(memcmp(x, want, sizeof want), 0);
    /* the same block in bfp4 (m * 2^(137-129) = 256): 16 and 24 shift to 0x20000 and 0x30000,
     * far below the 0x100000 tie: 0; only 1024 = 4 * 256 survives */
    float y[7] = {1024.0f, 1.0f, 3.0f, 16.0f, 24.0f, 8.0f, 0.001f};
    ttc_bfp_round_rows(y, 1, 7, TTC_BFP4, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(y[0], 1024.0f);
    for (int i = 1; i < 7; i++) CU_ASSERT_EQUAL(y[i], 0.0f);
}

static void test_partial_blocks(void) {
    /* A row of 20: blocks are [0,16) and [16,20); the short one is a tile edge whose padding
     * zeros change nothing. 1 + 2^-6 = 65/64 is exact in a block with E = 127 (x[0]); in the
     * second block 4.0 sets E = 129 and 1 + 2^-6 (0x820000 >> 2 = 0x208000, kept 16, rest
     * 0x8000 < tie) becomes 16 * 2^-4 = 1.0. One 20-value block would have rounded x[0] too. */
    float x[20] = {0};
    x[0] = 1.0f + 0x1p-6f;
    x[16] = 4.0f;
    x[17] = 1.0f + 0x1p-6f;
    ttc_round_to_dtype(x, 20, 20, TTC_BFP8);
    CU_ASSERT_EQUAL(x[0], 1.0f + 0x1p-6f);
    CU_ASSERT_EQUAL(x[16], 4.0f);
    CU_ASSERT_EQUAL(x[17], 1.0f);
    /* two rows of 5: each row starts its own block. Row 0 {4, 1 + 2^-6, 0, 0, 0} rounds its
     * second value to 1.0; row 1 {1 + 2^-6, ...} has E = 127 and keeps it. */
    float r[10] = {4.0f, 1.0f + 0x1p-6f, 0, 0, 0, 1.0f + 0x1p-6f, 0, 0, 0, 0};
    ttc_round_to_dtype(r, 10, 5, TTC_BFP8);
    CU_ASSERT_EQUAL(r[1], 1.0f);
    CU_ASSERT_EQUAL(r[5], 1.0f + 0x1p-6f);
}

/* ---- LINEAR weights: blocks down the columns of [N,K] ---- */

static void test_column_blocking(void) {
    /* w [N=3, K=2] = [[4, 1+2^-6], [1+2^-6, 0], [0, 0]].
     * Device blocks (column blocking): column 0 = {4, 1+2^-6, 0}: E = 129, 1+2^-6 -> 1.0 (as in
     * test_partial_blocks); column 1 = {1+2^-6, 0, 0}: E = 127, exact.
     * Row blocking would do the opposite: row 0 {4, 1+2^-6} rounds w[0][1] to 1.0 and row 1
     * {1+2^-6, 0} keeps w[1][0]. */
    const float w0[6] = {4.0f, 1.0f + 0x1p-6f, 1.0f + 0x1p-6f, 0.0f, 0.0f, 0.0f};
    float col[6], row[6];
    memcpy(col, w0, sizeof col);
    memcpy(row, w0, sizeof row);
    ttc_round_matmul_weight(col, 3, 2, TTC_BFP8);
    ttc_round_to_dtype(row, 6, 2, TTC_BFP8);
    const float want_col[6] = {4.0f, 1.0f + 0x1p-6f, 1.0f, 0.0f, 0.0f, 0.0f};
    const float want_row[6] = {4.0f, 1.0f, 1.0f + 0x1p-6f, 0.0f, 0.0f, 0.0f};
    CU_ASSERT_EQUAL(memcmp(col, want_col, sizeof col), 0);
    CU_ASSERT_EQUAL(memcmp(row, want_row, sizeof row), 0);
}

static void test_column_bands(void) {
    /* w [N=18, K=1]: rows 0..15 form one block, rows 16..17 a partial one. w[0] = 1 + 2^-6 with
     * zeros down to row 15 keeps E = 127 (exact); w[16] = 4 sets E = 129 for the second band,
     * where w[17] = 1 + 2^-6 becomes 1.0. A single 18-row block would round w[0] too. */
    float w[18] = {0};
    w[0] = 1.0f + 0x1p-6f;
    w[16] = 4.0f;
    w[17] = 1.0f + 0x1p-6f;
    ttc_bfp_round_columns(w, 18, 1, TTC_BFP8, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(w[0], 1.0f + 0x1p-6f);
    CU_ASSERT_EQUAL(w[16], 4.0f);
    CU_ASSERT_EQUAL(w[17], 1.0f);
    /* the column walker equals packing each strided column block, on a wide random matrix
     * (K = 1100 crosses its 512-column strips) */
    enum { N = 21, K = 1100 };
    static float a[N * K], b[N * K];
    uint64_t s = 7;
    for (int i = 0; i < N * K; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = ldexpf((float)((int32_t)(s >> 32)) * 0x1p-31f, (int)((s >> 20) % 16) - 8);
    }
    memcpy(b, a, sizeof a);
    ttc_bfp_round_columns(a, N, K, TTC_BFP4, TTC_BFP_HOST);
    int bad = 0;
    for (int r0 = 0; r0 < N; r0 += 16)
        for (int k = 0; k < K; k++) {
            int n = N - r0 < 16 ? N - r0 : 16;
            uint8_t p[9];
            float v[16];
            ttc_bfp_pack_block(b + r0 * K + k, n, K, TTC_BFP4, TTC_BFP_HOST, p);
            ttc_bfp_unpack_block(p, TTC_BFP4, v, n, 1);
            for (int i = 0; i < n; i++) bad += bits(v[i]) != bits(a[(r0 + i) * K + k]);
        }
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- the device packer's rounding ---- */

static void test_packer_rounding(void) {
    /* ties away from zero: 1 + 2^-7 (kept 64, tie) -> 65 = 1 + 2^-6, for either sign */
    float a[2] = {1.0f + 0x1p-7f, -(1.0f + 0x1p-7f)};
    ttc_bfp_round_rows(a, 1, 2, TTC_BFP8, TTC_BFP_PACKER);
    CU_ASSERT_EQUAL(a[0], 1.0f + 0x1p-6f);
    CU_ASSERT_EQUAL(a[1], -(1.0f + 0x1p-6f));
    /* bfp4 is the bfp8 magnitude truncated to its top 3 bits.
     * 1.375: bfp8 88 (exact), 88 >> 4 = 5: 5/4 = 1.25   (host bfp4 rounds the tie to 6: 1.5)
     * 1.2:   bfp8 0x99999A >> 17 = 76, rest 0x1999A > tie -> 77; 77 >> 4 = 4: 1.0 (host: 1.25)
     * 1.9:   bfp8 0xF33333 >> 17 = 121, rest 0x13333 > tie -> 122; >> 4 = 7: 1.75 */
    float b[3] = {1.375f, 1.2f, 1.9f};
    float c[3] = {1.375f, 1.2f, 1.9f};
    ttc_bfp_round_rows(b, 3, 1, TTC_BFP4, TTC_BFP_PACKER); /* one value per row: E = its own */
    CU_ASSERT_EQUAL(b[0], 1.25f);
    CU_ASSERT_EQUAL(b[1], 1.0f);
    CU_ASSERT_EQUAL(b[2], 1.75f);
    ttc_bfp_round_rows(c, 3, 1, TTC_BFP4, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(c[0], 1.5f);
    CU_ASSERT_EQUAL(c[1], 1.25f);
    CU_ASSERT_EQUAL(c[2], 1.75f);
    /* the packer's bfp8 clamp: 0x3FFFFFFF rounds up to 128 either way, clamped to 127 */
    CU_ASSERT_EQUAL(ttc_bfp_datum(f32(0x3FFFFFFFu), 127, TTC_BFP8, TTC_BFP_PACKER), 0x7F);
}

/* ---- exactness of packing and unpacking ---- */

/* Every datum, under several exponents: a block {the value of magnitude 2^(W-1) (which sets the
 * block's exponent to E), the value of datum d} packs back to exactly d. Exponents start at 7:
 * below that, small magnitudes are fp32 subnormals, which the packer counts as zero. */
static void test_every_datum_round_trips(void) {
    static const uint8_t exps[] = {7, 100, 127, 128, 200, 254};
    static const TtcDType fmts[] = {TTC_BFP8, TTC_BFP4};
    int bad = 0;
    for (int f = 0; f < 2; f++) {
        int w = ttc_bfp_magnitude_bits(fmts[f]);
        for (size_t e = 0; e < sizeof exps; e++) {
            for (int d = 0; d < (1 << (w + 1)); d++) {
                if (d == 1 << w) continue; /* "negative zero" is never produced */
                float blk[2] = {ttc_bfp_datum_value((uint8_t)(1u << (w - 1)), exps[e], fmts[f]),
                                ttc_bfp_datum_value((uint8_t)d, exps[e], fmts[f])};
                uint8_t p[17];
                ttc_bfp_pack_block(blk, 2, 1, fmts[f], TTC_BFP_HOST, p);
                uint8_t got = fmts[f] == TTC_BFP8 ? p[2] : (uint8_t)(p[1] >> 4);
                bad += p[0] != exps[e] || got != d;
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* Random blocks: rounding through the format is idempotent (a bfp value stays put), packing
 * then unpacking equals rounding in place, and re-packing the unpacked values gives the same
 * bytes whenever the block still holds a value of the top magnitude bit. */
static void test_random_round_trip(void) {
    uint64_t s = 99;
    int bad_idem = 0, bad_unpack = 0;
    for (int iter = 0; iter < 2000; iter++) {
        float x[16];
        for (int i = 0; i < 16; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t u = (uint32_t)(s >> 32);
            /* exponents within +-12 of 127 so blocks mix scales; some exact zeros */
            u = (u & 0x807FFFFFu) | ((uint32_t)(115 + (s >> 20) % 25) << 23);
            x[i] = (s >> 12) % 9 == 0 ? 0.0f : f32(u);
        }
        for (int f = 0; f < 2; f++) {
            TtcDType fmt = f ? TTC_BFP4 : TTC_BFP8;
            float r[16], r2[16], u[16];
            memcpy(r, x, sizeof x);
            ttc_bfp_round_rows(r, 1, 16, fmt, TTC_BFP_HOST);
            memcpy(r2, r, sizeof r);
            ttc_bfp_round_rows(r2, 1, 16, fmt, TTC_BFP_HOST);
            bad_idem += memcmp(r, r2, sizeof r) != 0;
            uint8_t p[17];
            ttc_bfp_pack_block(x, 16, 1, fmt, TTC_BFP_HOST, p);
            ttc_bfp_unpack_block(p, fmt, u, 16, 1);
            bad_unpack += memcmp(u, r, sizeof r) != 0;
        }
    }
    CU_ASSERT_EQUAL(bad_idem, 0);
    CU_ASSERT_EQUAL(bad_unpack, 0);
}

static CU_TestInfo format_tests[] = {
    {"block sizes match the tile sizes", test_sizes},
    {"bfp8 bytes by hand", test_pack_bytes_bfp8},
    {"bfp4 bytes by hand", test_pack_bytes_bfp4},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo rounding_tests[] = {
    {"bfp8 ties both ways", test_bfp8_ties},
    {"bfp8 ties after the alignment shift", test_bfp8_ties_after_shift},
    {"bfp4 ties both ways", test_bfp4_ties},
    {"clamp at 127 and 7 without exponent bump", test_clamp_without_exponent_bump},
    {"zero and denormal blocks", test_zero_and_denormal_blocks},
    {"sign of a zero magnitude", test_sign_of_zero_magnitude},
    {"mixed exponents in a block", test_mixed_exponents},
    {"partial blocks", test_partial_blocks},
    {"hardware packer rounding", test_packer_rounding},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo blocking_tests[] = {
    {"LINEAR weights block down columns", test_column_blocking},
    {"column bands of 16 rows", test_column_bands},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo exact_tests[] = {
    {"every datum packs back to itself", test_every_datum_round_trips},
    {"random blocks round-trip", test_random_round_trip},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "bfp layout", .pTests = format_tests},
    {.pName = "bfp rounding", .pTests = rounding_tests},
    {.pName = "bfp blocking", .pTests = blocking_tests},
    {.pName = "bfp exactness", .pTests = exact_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
