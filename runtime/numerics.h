/* numerics.h: the device's data formats and matrix-unit operand cuts, emulated exactly on the
 * host (DEVICE.md §3-4). Emulated values are held as fp32 numbers that the format can represent
 * exactly; every conversion works on IEEE bit patterns with integer arithmetic. */
#ifndef TTC_NUMERICS_H
#define TTC_NUMERICS_H

#include <stdint.h>
#include <string.h>

#include "ttc_types.h"

/* ---- bit patterns ---- */

static inline uint32_t ttc_f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float ttc_bits_f32(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- bf16 ---- */

/* The fp32 pattern of the bf16 nearest to `u`, ties to even, low 16 bits cleared; a NaN stays a
 * (quiet) NaN with its sign. Branch-free so that buffer loops vectorize (see numerics.c). */
static inline uint32_t ttc_bf16_rne_bits32(uint32_t u) {
    uint32_t nearest = u + 0x7FFFu + ((u >> 16) & 1u);
    uint32_t quiet_nan = u | 0x00400000u;
    uint32_t is_nan = (u & 0x7FFFFFFFu) > 0x7F800000u ? 0xFFFFFFFFu : 0u;
    return ((nearest & ~is_nan) | (quiet_nan & is_nan)) & 0xFFFF0000u;
}

/* The same by truncation (round toward zero); a NaN whose payload sits only in the low half
 * gets the quiet bit instead of turning into an infinity. */
static inline uint32_t ttc_bf16_trunc_bits32(uint32_t u) {
    uint32_t is_nan = (u & 0x7FFFFFFFu) > 0x7F800000u ? 0x00400000u : 0u;
    return (u | is_nan) & 0xFFFF0000u;
}

/* fp32 -> bf16 bits, round to nearest, ties to even (NaN stays NaN). */
uint16_t ttc_bf16_bits(float x);
float ttc_bf16_to_f32(uint16_t b);
/* fp32 -> nearest bf16 value, as fp32. */
float ttc_bf16_round(float x);
/* IEEE half -> fp32 (exact), for safetensors F16. */
float ttc_f16_to_f32(uint16_t h);
/* Rounds n fp32 values in place to the nearest bf16 (as ttc_bf16_round on each), vectorized. */
void ttc_bf16_round_buffer(float *x, int64_t n);

/* ---- bfp8_b / bfp4_b (DEVICE.md §3) ----
 *
 * A block is up to 16 values (one tile face row) sharing one 8-bit exponent E, the largest raw
 * exponent field among them (zeros and denormals count 0). A datum is sign<<W | m with W = 7
 * (bfp8) or 3 (bfp4) magnitude bits; its value is ±m * 2^(E - 127 - (W - 1)). A block shorter
 * than 16 is the zero-padded block of a tile edge: padding zeros change neither E nor the
 * values present. */
#define TTC_BFP_BLOCK 16

typedef enum {
    /* What the host packer does to weights (tt-metal's convert_u32_to_bfp): the 24-bit
     * mantissa is aligned to E by a plain right shift (bits shifted out are lost), then rounded
     * to W bits to nearest, ties to even, clamped to 2^W - 1. */
    TTC_BFP_HOST = 0,
    /* The device's packer (bfp outputs of ops): same alignment, ties away from zero, and bfp4
     * as the bfp8 magnitude truncated to its top 3 bits. */
    TTC_BFP_PACKER = 1,
} TtcBfpRounding;

/* Magnitude bits W of a block format: 7 (bfp8), 3 (bfp4), 0 for any other format. */
int ttc_bfp_magnitude_bits(TtcDType fmt);
/* Bytes of one packed block: the exponent byte, then the 16 datums (bfp8: one per byte; bfp4:
 * two per byte, datum 2i in the low nibble of byte i, as tt-metal packs them). 0 if not bfp. */
int ttc_bfp_block_bytes(TtcDType fmt);
/* The shared exponent of x[0], x[stride], ..., x[(n-1)*stride]. */
uint8_t ttc_bfp_shared_exp(const float *x, int n, int64_t stride);
/* One value's datum under shared exponent `e` (normally the block's: then the magnitude never
 * needs more than the clamp; an `e` below the value's own exponent saturates). */
uint8_t ttc_bfp_datum(float x, uint8_t e, TtcDType fmt, TtcBfpRounding r);
/* The exact value of a datum (as fp32: every bfp value is an fp32 number). */
float ttc_bfp_datum_value(uint8_t datum, uint8_t e, TtcDType fmt);
/* Packs n <= 16 strided values into ttc_bfp_block_bytes(fmt) bytes (missing datums are 0). */
void ttc_bfp_pack_block(const float *x, int n, int64_t stride, TtcDType fmt, TtcBfpRounding r, uint8_t *out);
/* Unpacks the first n values of a packed block, exactly. */
void ttc_bfp_unpack_block(const uint8_t *in, TtcDType fmt, float *x, int n, int64_t stride);
/* Rounds in place through the format, blocks of 16 consecutive values of each row (a row's
 * last block may be partial). This is how a row-major tensor sits in tiles: activations,
 * embedding tables [V,H], norm parameters. */
void ttc_bfp_round_rows(float *x, int64_t rows, int64_t row_len, TtcDType fmt, TtcBfpRounding r);
/* Rounds a [rows, cols] matrix in place with blocks running down the columns: 16 consecutive
 * rows at the same column (rows 16b..16b+15; the last band may be partial). A LINEAR weight
 * stored Hugging Face style [N,K] is the matmul's in1 operand [K,N] on the device, whose face
 * rows are 16 consecutive output features n at one k. */
void ttc_bfp_round_columns(float *x, int64_t rows, int64_t cols, TtcDType fmt, TtcBfpRounding r);

/* ---- any format ---- */

/* Rounds n values in place to what `dtype` can hold (fp32/int32: no-op). Row-major data whose
 * last dim is `row_len`; block formats use row blocking (ttc_bfp_round_rows, host rounding). */
void ttc_round_to_dtype(float *x, int64_t n, int64_t row_len, TtcDType dtype);
/* Rounds a LINEAR weight stored [n_out, k] to `dtype` as the device holds the matmul operand:
 * bf16 elementwise, bfp with column blocking (ttc_bfp_round_columns, host rounding). */
void ttc_round_matmul_weight(float *w, int64_t n_out, int64_t k, TtcDType dtype);

/* ---- the matrix unit's operands (DEVICE.md §4) ---- */

/* fp32 fed to the matrix unit is cut to tf32 (1 sign, 8 exponent, 10 mantissa bits). The cut
 * truncates (clears the low 13 bits): DEVICE.md calls it a cut, the unpacker drops bits rather
 * than rounding, and truncation is the only choice that commutes with the fidelity masks below,
 * which also only ever clear bits: every phase part of tf32_cut(x) equals that of x, so the
 * masks alone already give the operands of an fp32 matmul. Non-finite values pass unchanged
 * (a NaN keeps its sign and gets the quiet bit if its payload sat only in the cut bits). */
static inline float ttc_tf32_cut(float x) {
    uint32_t u = ttc_f32_bits(x);
    uint32_t is_nan = (u & 0x7FFFFFFFu) > 0x7F800000u ? 0x00400000u : 0u;
    return ttc_bits_f32((u | is_nan) & 0xFFFFE000u);
}

/* Fidelity masks on the fp32 pattern. Operand A is in1 (the weights), B is in0 (activations):
 *   A phase 0 (p & 1 == 0): x & 0xFFF80000   sign, exponent, top 4 mantissa bits (1+4)
 *   A phase 1:              x - (x & 0xFFF83FFF)   mantissa bits 18..14 (5 bits)
 *   B phase 0 (p & 2 == 0): x & 0xFFFE0000   sign, exponent, top 6 mantissa bits (1+6)
 *   B phase 2:              x - (x & 0xFFFE1FFF)   mantissa bits 16..13 (4 bits)
 * The subtraction is a float subtraction of two numbers with the same sign and exponent, so it
 * is exact: a low part is the value the cleared bits carried. The high and low parts of one
 * operand add up exactly to x & 0xFFFFC000 (A) and x & 0xFFFFE000 (B). */
#define TTC_FID_A_HI 0xFFF80000u
#define TTC_FID_A_LO_CLEAR 0xFFF83FFFu
#define TTC_FID_A_FULL 0xFFFFC000u
#define TTC_FID_B_HI 0xFFFE0000u
#define TTC_FID_B_LO_CLEAR 0xFFFE1FFFu
#define TTC_FID_B_FULL 0xFFFFE000u

/* All ones when u is an infinity or NaN. Such an operand keeps its whole value in its high part
 * and has a zero low part (inf - inf would make a NaN out of an infinity, and masking a NaN can
 * turn it into an infinity): the public record says nothing about them, this keeps inf and NaN
 * propagating as they do in an fp32 product. */
static inline uint32_t ttc_nonfinite_mask(uint32_t u) { return (u & 0x7F800000u) == 0x7F800000u ? 0xFFFFFFFFu : 0u; }

/* The part of x that `keep` selects (a high part, or a full A/B mask). */
static inline float ttc_fid_high(float x, uint32_t keep) {
    uint32_t u = ttc_f32_bits(x);
    uint32_t nf = ttc_nonfinite_mask(u);
    return ttc_bits_f32((u & keep & ~nf) | (u & nf));
}

/* x minus the part `clear` keeps: the value of the bits it clears. */
static inline float ttc_fid_low(float x, uint32_t clear) {
    uint32_t u = ttc_f32_bits(x);
    uint32_t nf = ttc_nonfinite_mask(u);
    float low = x - ttc_bits_f32(u & clear);
    return ttc_bits_f32(ttc_f32_bits(low) & ~nf);
}

/* A_bits(x, p) and B_bits(x, p) of DEVICE.md §4. */
static inline float ttc_fidelity_a(float x, int phase) {
    return (phase & 1) == 0 ? ttc_fid_high(x, TTC_FID_A_HI) : ttc_fid_low(x, TTC_FID_A_LO_CLEAR);
}
static inline float ttc_fidelity_b(float x, int phase) {
    return (phase & 2) == 0 ? ttc_fid_high(x, TTC_FID_B_HI) : ttc_fid_low(x, TTC_FID_B_LO_CLEAR);
}
/* Phases a fidelity runs: LoFi 1 (phase 0), HiFi2 2, HiFi3 3, HiFi4 4. */
static inline int ttc_fidelity_phases(TtcFidelity f) { return (int)f + 1; }

#endif
