/* test_nonfinite_formats.c: NaN and infinity through the device's number formats and the
 * emulated matrix unit (runtime/numerics.c, matmul_emul.c), and the logits check of generation
 * (runtime/sampler.c). The fp32 reference of a matmul, a plain double sum, decides which outputs
 * must be non-finite; a format must keep a NaN a NaN and an infinity an infinity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "matmul_emul.h"
#include "numerics.h"
#include "sampler.h"
#include "unit.h"

static uint32_t bits(float x) { return ttc_f32_bits(x); }
static float from_bits(uint32_t u) { return ttc_bits_f32(u); }

/* ---- bf16, tf32, fidelity parts ---- */

static void test_bf16_rounding(void) {
    /* NaNs whose rounding bias would carry: into the sign (0x7FFFFFFF + 0x8000), into infinity
     * (payload only in the low half), or from a negative NaN */
    static const uint32_t nans[] = {0x7FFFFFFFu, 0x7F800001u, 0x7F808000u, 0xFFFFFFFFu, 0xFF800001u, 0x7FC00000u};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        float r = ttc_bf16_round(from_bits(nans[i]));
        CU_ASSERT(isnan(r));
        CU_ASSERT_EQUAL(bits(r) >> 31, nans[i] >> 31); /* the sign is kept */
        CU_ASSERT(bits(r) & 0x00400000u);               /* quiet */
        float buf[17];
        for (int j = 0; j < 17; j++) buf[j] = from_bits(nans[i]);
        ttc_bf16_round_buffer(buf, 17); /* the vector loop and its scalar tail */
        for (int j = 0; j < 17; j++) CU_ASSERT(isnan(buf[j]) && bits(buf[j]) >> 31 == nans[i] >> 31);
    }
    CU_ASSERT_EQUAL(ttc_bf16_round(INFINITY), INFINITY);
    CU_ASSERT_EQUAL(ttc_bf16_round(-INFINITY), -INFINITY);
    CU_ASSERT_EQUAL(ttc_bf16_round(3.4e38f), INFINITY); /* IEEE overflow of a finite value */
    CU_ASSERT(isnan(ttc_tf32_cut(from_bits(0x7F800001u))));
    CU_ASSERT_EQUAL(ttc_tf32_cut(-INFINITY), -INFINITY);
    for (int p = 0; p < 4; p++) {
        if ((p & 1) == 0) { /* high parts keep NaN */
            CU_ASSERT(isnan(ttc_fidelity_a(NAN, p)));
        }
        CU_ASSERT_EQUAL(ttc_fidelity_a(INFINITY, 0), INFINITY);
        CU_ASSERT_EQUAL(ttc_fidelity_b(-INFINITY, 0), -INFINITY);
        CU_ASSERT_EQUAL(ttc_fidelity_a(INFINITY, 1), 0.0f); /* low parts of inf are 0, not inf - inf */
        CU_ASSERT_EQUAL(ttc_fidelity_b(NAN, 2), 0.0f);
    }
}

/* ---- bfp8_b / bfp4_b ---- */

/* A block of 16 with the given specials at 3 and 11: packed and unpacked, and through the
 * buffer loops (rows and columns), NaN stays NaN, inf stays inf with its sign; the finite values
 * flush to 0 (DEVICE.md §3: the shared exponent is the largest, 255). */
static void check_bfp_block(TtcDType fmt, TtcBfpRounding r, float s3, float s11) {
    float x[16], back[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1) * (i & 1 ? -0.37f : 0.52f);
    x[3] = s3;
    x[11] = s11;
    uint8_t packed[1 + 16];
    ttc_bfp_pack_block(x, 16, 1, fmt, r, packed);
    ttc_bfp_unpack_block(packed, fmt, back, 16, 1);
    CU_ASSERT_EQUAL(packed[0], 255);
    float rows[16], cols[16 * 2];
    memcpy(rows, x, sizeof rows);
    if (r == TTC_BFP_HOST) ttc_round_to_dtype(rows, 16, 16, fmt);
    else ttc_bfp_round_rows(rows, 1, 16, fmt, r);
    for (int i = 0; i < 16; i++) { /* a column block: 16 rows of 2 columns, column 1 is x */
        cols[i * 2] = 1.0f;
        cols[i * 2 + 1] = x[i];
    }
    if (r == TTC_BFP_HOST) ttc_bfp_round_columns(cols, 16, 2, fmt, r);
    for (int i = 0; i < 16; i++) {
        const float got[3] = {back[i], rows[i], r == TTC_BFP_HOST ? cols[i * 2 + 1] : back[i]};
        for (int g = 0; g < 3; g++) {
            if (isnan(x[i])) {
                CU_ASSERT(isnan(got[g]));
            } else if (isinf(x[i])) {
                CU_ASSERT_EQUAL(got[g], x[i]);
            } else {
                CU_ASSERT_EQUAL(got[g], 0.0f);
            }
        }
        if (r == TTC_BFP_HOST) { /* the other column's block is untouched */
            CU_ASSERT_EQUAL(cols[i * 2], 1.0f);
        }
    }
}

static void test_bfp_blocks(void) {
    static const TtcDType fmts[2] = {TTC_BFP8, TTC_BFP4};
    static const TtcBfpRounding modes[2] = {TTC_BFP_HOST, TTC_BFP_PACKER};
    for (int f = 0; f < 2; f++)
        for (int m = 0; m < 2; m++) {
            check_bfp_block(fmts[f], modes[m], NAN, 1.0f);
            check_bfp_block(fmts[f], modes[m], from_bits(0x7F800001u), -NAN); /* payload only in the low bits */
            check_bfp_block(fmts[f], modes[m], INFINITY, -INFINITY);
            check_bfp_block(fmts[f], modes[m], NAN, INFINITY);
        }
    /* a finite block is untouched by the non-finite rules: the largest magnitude is no NaN */
    uint8_t d = ttc_bfp_datum(1.0f, 127, TTC_BFP8, TTC_BFP_HOST);
    CU_ASSERT_EQUAL(ttc_bfp_datum_value(d, 127, TTC_BFP8), 1.0f);
    CU_ASSERT_EQUAL(ttc_bfp_datum_value(0x7F, 254, TTC_BFP8), 127.0f / 64.0f * 0x1p127f);
}

/* ---- the emulated matrix unit ---- */

static float *rand_buf(int64_t n, uint64_t *rng) {
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((double)(*rng >> 11) * 0x1p-53 * 2 - 1);
    }
    return p;
}

/* out = x w^T + bias in double: the reference's arithmetic */
static void ref_linear(const float *x, const float *w, const float *bias, int m, int n, int k, float *out) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = bias ? bias[j] : 0.0;
            for (int kk = 0; kk < k; kk++) acc += (double)x[i * k + kk] * w[j * k + kk];
            out[i * n + j] = (float)acc;
        }
}

/* One special value in x, w or the bias, for every weight format, fidelity and destination:
 * the outputs holding a non-finite value are exactly the reference's, and NaN stays NaN. */
static void test_matmul_emul(void) {
    enum { M = 9, N = 40, K = 70 };
    uint64_t rng = 3;
    float *x = rand_buf(M * K, &rng), *w0 = rand_buf(N * K, &rng), *bias = rand_buf(N, &rng);
    float *w = malloc(N * K * sizeof *w), ref[M * N], got[M * N];
    static const TtcDType fmts[4] = {TTC_F32, TTC_BF16, TTC_BFP8, TTC_BFP4};
    static const float specials[3] = {NAN, INFINITY, -INFINITY};
    int cases = 0, bad = 0;
    for (int f = 0; f < 4; f++)
        for (int fid = TTC_FIDELITY_LOFI; fid <= TTC_FIDELITY_HIFI4; fid++)
            for (int acc = 0; acc < 3; acc++) /* bf16 destination nearest-even, fp32, bf16 truncating */
                for (int where = 0; where < 3; where++)
                    for (int s = 0; s < 3; s++) {
                        memcpy(w, w0, N * K * sizeof *w);
                        float *target = where == 0 ? x : where == 1 ? w : bias;
                        int64_t at = where == 0 ? 4 * K + 33 : where == 1 ? 17 * K + 40 : 21;
                        float keep = target[at];
                        target[at] = specials[s];
                        ref_linear(x, w, bias, M, N, K, ref);
                        ttc_round_matmul_weight(w, N, K, fmts[f]);
                        RtMatmulMode mode = {.fidelity = (TtcFidelity)fid, .fp32_acc = acc == 1,
                                             .dest_round = acc == 2 ? RT_DEST_TRUNCATE : RT_DEST_NEAREST_EVEN};
                        unsigned parts = rt_matmul_parts_needed(mode.fidelity, mode.fp32_acc);
                        RtMatmulWeights *pw = rt_matmul_prepare(w, N, K, parts);
                        CU_ASSERT_FATAL(pw != NULL);
                        CU_ASSERT_EQUAL_FATAL(rt_matmul_emul(x, M, pw, bias, &mode, got), TTC_OK);
                        free(pw);
                        int nonfinite = 0;
                        for (int i = 0; i < M * N; i++) {
                            nonfinite += !isfinite(ref[i]);
                            if (!isfinite(ref[i]) != !isfinite(got[i]) || (isnan(ref[i]) && !isnan(got[i]))) {
                                if (bad++ < 5)
                                    fprintf(stderr, "  fmt %d fidelity %d destination %d, special %d in input %d: "
                                            "out %d is %g, the reference's %g\n", f, fid, acc, s, where, i,
                                            (double)got[i], (double)ref[i]);
                            }
                        }
                        CU_ASSERT(nonfinite > 0);
                        target[at] = keep;
                        cases++;
                    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(cases, 4 * 4 * 3 * 3 * 3);
    free(x);
    free(w0);
    free(w);
    free(bias);
}

/* ---- logits ---- */

static void test_logits_check(void) {
    float l[5] = {0.5f, 2.0f, -1.0f, 3.0f, 0.0f};
    CU_ASSERT_EQUAL(ttc_first_nonfinite(l, 5), -1);
    l[3] = NAN;
    CU_ASSERT_EQUAL(ttc_first_nonfinite(l, 5), 3);
    l[1] = INFINITY;
    CU_ASSERT_EQUAL(ttc_first_nonfinite(l, 5), 1);
    l[0] = -INFINITY;
    CU_ASSERT_EQUAL(ttc_first_nonfinite(l, 5), 0);
}

static CU_TestInfo tests[] = {
    {"bf16, tf32 and fidelity parts of NaN and inf", test_bf16_rounding},
    {"bfp8_b/bfp4_b blocks holding NaN or inf", test_bfp_blocks},
    {"emulated matmul, every format, fidelity and destination", test_matmul_emul},
    {"non-finite logits are found", test_logits_check},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "non-finite values through the formats", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
