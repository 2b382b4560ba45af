/* numerics.c: the device's number formats emulated on the host (DEVICE.md §3): bf16,
 * IEEE half (for reading safetensors), and the bfp8_b/bfp4_b block formats.
 *
 * Every conversion works on the IEEE bit patterns with integer arithmetic, so results are exact
 * and independent of the FPU's rounding mode, flush-to-zero flags or the compiler's float
 * optimizations. */
#include "numerics.h"

#include <math.h>
#include <string.h>

/* Values per block of the buffer loops. A constant trip count lets GCC vectorize the inner
 * loop even at -O2 (its "very cheap" cost model refuses loops that need a scalar epilogue). */
#define BLOCK 16

static inline uint32_t f32_bits(float x) { return ttc_f32_bits(x); }
static inline float bits_f32(uint32_t u) { return ttc_bits_f32(u); }

/* The fp32 pattern of the bf16 nearest to `u` (ttc_bf16_rne_bits32 in numerics.h).
 *
 * Adding 0x7FFF plus the lowest kept bit carries into the kept bits exactly when the dropped
 * half is above 0x8000, or equal to it with an odd kept part: round to nearest, ties to even.
 * The carry may ripple into the exponent, which is right (1.11..1 rounds up to 10.0), and turns
 * values at or above max_bf16 + half an ulp into infinity as IEEE rounding does. It cannot
 * wrap for any non-NaN input (the largest, -inf, is 0xFF800000).
 *
 * NaN needs its own path: rounding would carry a NaN into the sign bit or truncate a payload
 * held only in the low bits into infinity. A NaN keeps its sign and top payload bits and gets
 * the quiet bit, so it stays a NaN.
 *
 * Written without branches (both results computed, then selected by a mask) so that buffer
 * loops vectorize. */
static inline uint32_t bf16_round_bits32(uint32_t u) { return ttc_bf16_rne_bits32(u); }

uint16_t ttc_bf16_bits(float x) { return (uint16_t)(bf16_round_bits32(f32_bits(x)) >> 16); }

float ttc_bf16_to_f32(uint16_t b) { return bits_f32((uint32_t)b << 16); }

float ttc_bf16_round(float x) { return bits_f32(bf16_round_bits32(f32_bits(x))); }

/* IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Every half is exactly an fp32. */
float ttc_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24. Both factors and the product are exact in fp32
         * (man < 2^10), so this is exact without normalizing by hand. */
        float mag = (float)man * 0x1p-24f;
        return bits_f32(f32_bits(mag) | sign);
    }
    if (exp == 0x1F) /* inf, or NaN with its payload (quiet bit included) moved to the top */
        return bits_f32(sign | 0x7F800000u | (man << 13));
    /* normal: rebias the exponent from 15 to 127 and widen the mantissa */
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* ---- whole buffers ---- */

/* Rounds x[0..n) to bf16 in place. The block loop is the same in both ISA variants below; only
 * the vector width the compiler picks differs. */
static inline __attribute__((always_inline)) void bf16_round_loop(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        uint32_t u[BLOCK];
        memcpy(u, x + i, sizeof u);
        for (int j = 0; j < BLOCK; j++) u[j] = bf16_round_bits32(u[j]);
        memcpy(x + i, u, sizeof u);
    }
    for (; i < n; i++) x[i] = ttc_bf16_round(x[i]);
}

static void bf16_round_portable(float *x, int64_t n) { bf16_round_loop(x, n); }

#if defined(__x86_64__) && defined(__GNUC__)
/* The same loop compiled for AVX-512: 16 values per instruction instead of the 4 of baseline
 * x86-64 SSE2. Only called after __builtin_cpu_supports says the CPU has it. */
__attribute__((target("avx512f"))) static void bf16_round_avx512(float *x, int64_t n) { bf16_round_loop(x, n); }
#endif

void ttc_bf16_round_buffer(float *x, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) {
        bf16_round_avx512(x, n);
        return;
    }
#endif
    bf16_round_portable(x, n);
}

/* ---- bfp8_b / bfp4_b ----
 *
 * Non-finite values. DEVICE.md §3 step 2 takes the shared exponent as the largest raw exponent
 * field, and NaN and infinity have the largest there is, 255: a block holding one gets E = 255,
 * and (steps 3-4) its finite values are shifted right by 255 minus their own exponent, which
 * flushes every ordinary value to 0. That is what the document says and what we do: the block's
 * finite neighbours are lost, as on the device, but not silently, because the non-finite value
 * itself survives and reaches the op's output. DEVICE.md is silent on how NaN and infinity are
 * told apart under E = 255, so we choose what keeps them visible and decodes exactly:
 *   - an infinity has mantissa 1.000..., so it rounds to magnitude 2^(W-1), whose value
 *     2^(W-1) * 2^(255-127-(W-1)) = 2^128 is +-inf in fp32 (no special case needed);
 *   - a NaN gets the largest magnitude, 2^W - 1, and under E = 255 any magnitude above 2^(W-1)
 *     decodes to a quiet NaN with the datum's sign (rounding its payload could otherwise land
 *     on 2^(W-1) and turn the NaN into an infinity).
 * A finite value just below 2^128 that rounds up to 2^(W-1) decodes as infinity: IEEE overflow,
 * as rounding it to bf16 does. */

int ttc_bfp_magnitude_bits(TtcDType fmt) { return fmt == TTC_BFP8 ? 7 : fmt == TTC_BFP4 ? 3 : 0; }

int ttc_bfp_block_bytes(TtcDType fmt) {
    return fmt == TTC_BFP8 ? 1 + TTC_BFP_BLOCK : fmt == TTC_BFP4 ? 1 + TTC_BFP_BLOCK / 2 : 0;
}

static inline uint32_t raw_exp(uint32_t u) { return (u >> 23) & 0xFFu; }

uint8_t ttc_bfp_shared_exp(const float *x, int n, int64_t stride) {
    uint32_t e = 0;
    for (int i = 0; i < n; i++) {
        uint32_t ei = raw_exp(f32_bits(x[i * stride]));
        if (ei > e) e = ei;
    }
    return (uint8_t)e;
}

/* The W-bit magnitude of the fp32 pattern u under shared exponent e (DEVICE.md §3 steps 3-4).
 *
 * The 24-bit mantissa (implicit 1 restored) is first aligned to e by a plain right shift: bits
 * shifted out are gone before rounding looks at the rest, as in tt-metal's host packer (so a
 * value just above a tie can round as the tie). The aligned mantissa then loses its low 24 - W
 * bits by rounding; a carry out of the top (1.1111111b rounding up) is clamped to 2^W - 1
 * rather than raising the exponent, which the other 15 values already depend on. */
static inline uint32_t bfp_magnitude(uint32_t u, uint32_t e, int w, TtcBfpRounding r) {
    uint32_t own = raw_exp(u);
    if (own == 0) return 0; /* zeros and denormals */
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (1u << w) - 1u; /* NaN (see "Non-finite values") */
    uint32_t man = 0x00800000u | (u & 0x007FFFFFu);
    uint32_t diff = e > own ? e - own : 0;
    man = diff >= 24 ? 0 : man >> diff; /* man < 2^24: a shift by 24 or more leaves nothing */
    int drop = 24 - w;
    uint32_t kept = man >> drop;
    uint32_t rest = man & ((1u << drop) - 1u), half = 1u << (drop - 1);
    if (r == TTC_BFP_HOST)
        kept += rest > half || (rest == half && (kept & 1u));
    else
        kept += rest >= half; /* ties away from zero: the magnitude rounds up */
    uint32_t max = (1u << w) - 1u;
    return kept > max ? max : kept;
}

uint8_t ttc_bfp_datum(float x, uint8_t e, TtcDType fmt, TtcBfpRounding r) {
    int w = ttc_bfp_magnitude_bits(fmt);
    if (w == 0) return 0;
    uint32_t u = f32_bits(x), mag;
    if (r == TTC_BFP_PACKER && fmt == TTC_BFP4)
        mag = bfp_magnitude(u, e, 7, r) >> 4; /* the bfp8 value, truncated to 3 bits */
    else
        mag = bfp_magnitude(u, e, w, r);
    return (uint8_t)(mag ? (u >> 31) << w | mag : 0); /* no sign on a zero magnitude */
}

/* 2^(e - 127 - (w - 1)), the value of magnitude 1. The smallest, 2^-133, is a subnormal fp32
 * number but exact, and so is every product m * scale with m < 2^w: bfp values are fp32
 * values, and the multiplication below never rounds (it overflows to inf only for e = 255). */
static inline float bfp_scale(uint32_t e, int w) { return ldexpf(1.0f, (int)e - 127 - (w - 1)); }

float ttc_bfp_datum_value(uint8_t datum, uint8_t e, TtcDType fmt) {
    int w = ttc_bfp_magnitude_bits(fmt);
    if (w == 0) return 0.0f;
    uint32_t mag = datum & ((1u << w) - 1u);
    if (e == 0xFFu && mag > (1u << (w - 1))) /* a NaN (see "Non-finite values") */
        return ttc_bits_f32(0x7FC00000u | (uint32_t)((datum >> w) & 1u) << 31);
    float v = (float)mag * bfp_scale(e, w);
    return (datum >> w) & 1u ? -v : v;
}

void ttc_bfp_pack_block(const float *x, int n, int64_t stride, TtcDType fmt, TtcBfpRounding r, uint8_t *out) {
    int bytes = ttc_bfp_block_bytes(fmt);
    if (bytes == 0) return;
    if (n > TTC_BFP_BLOCK) n = TTC_BFP_BLOCK;
    memset(out, 0, (size_t)bytes);
    uint8_t e = ttc_bfp_shared_exp(x, n, stride);
    out[0] = e;
    for (int i = 0; i < n; i++) {
        uint8_t d = ttc_bfp_datum(x[i * stride], e, fmt, r);
        if (fmt == TTC_BFP8)
            out[1 + i] = d;
        else
            out[1 + i / 2] |= (uint8_t)(d << (4 * (i & 1)));
    }
}

void ttc_bfp_unpack_block(const uint8_t *in, TtcDType fmt, float *x, int n, int64_t stride) {
    if (ttc_bfp_block_bytes(fmt) == 0) return;
    if (n > TTC_BFP_BLOCK) n = TTC_BFP_BLOCK;
    for (int i = 0; i < n; i++) {
        uint8_t d = fmt == TTC_BFP8 ? in[1 + i] : (uint8_t)((in[1 + i / 2] >> (4 * (i & 1))) & 0xFu);
        x[i * stride] = ttc_bfp_datum_value(d, in[0], fmt);
    }
}

/* ---- whole buffers through bfp ----
 *
 * The buffer loops round each value in place knowing its block's shared exponent e, which is
 * never below the value's own (e is the block's largest). That lets bfp_block_value do what
 * bfp_magnitude does without a branch, so that the loops below vectorize (the per-lane variable
 * shifts need AVX2, hence the ISA variants at the end). */

/* How a format and rounding mode round: W magnitude bits, ties away or to even, and a final
 * right shift (the packer's bfp4 is its bfp8 magnitude cut to 3 bits). */
typedef struct BfpRule {
    int w, away, post;
} BfpRule;

static BfpRule bfp_rule(TtcDType fmt, TtcBfpRounding r) {
    if (r == TTC_BFP_PACKER) return (BfpRule){7, 1, fmt == TTC_BFP4 ? 4 : 0};
    return (BfpRule){ttc_bfp_magnitude_bits(fmt), 0, 0};
}

/* The rounded value of pattern u under shared exponent e >= its own; `scale` is the value of
 * magnitude 1 (bfp_scale of the format's final width). */
static inline __attribute__((always_inline)) float bfp_block_value(uint32_t u, uint32_t e, float scale, BfpRule rule) {
    uint32_t own = raw_exp(u);
    uint32_t diff = e - own;
    uint32_t man = (0x00800000u | (u & 0x007FFFFFu)) >> (diff < 31u ? diff : 31u);
    man = own ? man : 0u; /* zeros and denormals */
    int drop = 24 - rule.w;
    uint32_t kept = man >> drop, rest = man & ((1u << drop) - 1u), half = 1u << (drop - 1);
    uint32_t up = rule.away ? (uint32_t)(rest >= half) : (uint32_t)(rest > half) | ((uint32_t)(rest == half) & kept);
    kept += up & 1u;
    uint32_t max = (1u << rule.w) - 1u;
    kept = (kept > max ? max : kept) >> rule.post;
    uint32_t v = f32_bits((float)(int32_t)kept * scale);
    v |= kept ? u & 0x80000000u : 0u; /* no sign on a zero magnitude */
    /* A NaN stays a quiet NaN with its sign (its magnitude would give inf; see "Non-finite
     * values"); an infinity already comes out as one. A select, so the loops still vectorize. */
    uint32_t is_nan = 0u - (uint32_t)((u & 0x7FFFFFFFu) > 0x7F800000u);
    return bits_f32((v & ~is_nan) | ((u | 0x00400000u) & is_nan));
}

/* Blocks of 16 along each row; the value loop has a constant trip count for whole blocks. */
static inline __attribute__((always_inline)) void bfp_rows_loop(float *x, int64_t rows, int64_t row_len, BfpRule rule) {
    for (int64_t row = 0; row < rows; row++) {
        float *p = x + row * row_len;
        for (int64_t b = 0; b < row_len; b += TTC_BFP_BLOCK) {
            int n = row_len - b < TTC_BFP_BLOCK ? (int)(row_len - b) : TTC_BFP_BLOCK;
            uint32_t e = ttc_bfp_shared_exp(p + b, n, 1);
            float scale = bfp_scale(e, rule.w - rule.post);
            uint32_t u[TTC_BFP_BLOCK];
            memcpy(u, p + b, (size_t)n * sizeof(float));
            if (n == TTC_BFP_BLOCK)
                for (int i = 0; i < TTC_BFP_BLOCK; i++) p[b + i] = bfp_block_value(u[i], e, scale, rule);
            else
                for (int i = 0; i < n; i++) p[b + i] = bfp_block_value(u[i], e, scale, rule);
        }
    }
}

/* Columns are walked in strips of COL_STRIP so the shared exponents of one band of 16 rows fit
 * on the stack; both passes (exponents, then values) read the rows contiguously. */
#define COL_STRIP 512

static inline __attribute__((always_inline)) void bfp_columns_loop(float *x, int64_t rows, int64_t cols, BfpRule rule) {
    uint32_t e[COL_STRIP];
    float scale[COL_STRIP];
    for (int64_t r0 = 0; r0 < rows; r0 += TTC_BFP_BLOCK) {
        int64_t band = rows - r0 < TTC_BFP_BLOCK ? rows - r0 : TTC_BFP_BLOCK;
        for (int64_t c0 = 0; c0 < cols; c0 += COL_STRIP) {
            int64_t width = cols - c0 < COL_STRIP ? cols - c0 : COL_STRIP;
            /* the strip rounded up to whole 16-column groups (constant-count inner loops that
             * vectorize at -O2); the padding columns of u are zeros and are not stored back */
            int64_t groups = (width + TTC_BFP_BLOCK - 1) / TTC_BFP_BLOCK;
            uint32_t u[COL_STRIP];
            float v[COL_STRIP];
            memset(e, 0, sizeof e);
            for (int64_t i = 0; i < band; i++) {
                memset(u + width, 0, (size_t)(groups * TTC_BFP_BLOCK - width) * sizeof(float));
                memcpy(u, x + (r0 + i) * cols + c0, (size_t)width * sizeof(float));
                for (int64_t g = 0; g < groups; g++)
                    for (int j = 0; j < TTC_BFP_BLOCK; j++) {
                        uint32_t ej = raw_exp(u[g * TTC_BFP_BLOCK + j]), *ep = &e[g * TTC_BFP_BLOCK + j];
                        *ep = ej > *ep ? ej : *ep;
                    }
            }
            for (int64_t j = 0; j < width; j++) scale[j] = bfp_scale(e[j], rule.w - rule.post);
            for (int64_t i = 0; i < band; i++) {
                float *p = x + (r0 + i) * cols + c0;
                memset(u + width, 0, (size_t)(groups * TTC_BFP_BLOCK - width) * sizeof(float));
                memcpy(u, p, (size_t)width * sizeof(float));
                for (int64_t g = 0; g < groups; g++)
                    for (int j = 0; j < TTC_BFP_BLOCK; j++) {
                        int64_t c = g * TTC_BFP_BLOCK + j;
                        v[c] = bfp_block_value(u[c], e[c], scale[c], rule);
                    }
                memcpy(p, v, (size_t)width * sizeof(float));
            }
        }
    }
}

static void bfp_rows_portable(float *x, int64_t rows, int64_t row_len, BfpRule rule) {
    bfp_rows_loop(x, rows, row_len, rule);
}
static void bfp_columns_portable(float *x, int64_t rows, int64_t cols, BfpRule rule) {
    bfp_columns_loop(x, rows, cols, rule);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same loops for AVX-512 (16 lanes, per-lane shifts); used after __builtin_cpu_supports. */
__attribute__((target("avx512f"))) static void bfp_rows_avx512(float *x, int64_t rows, int64_t row_len, BfpRule rule) {
    bfp_rows_loop(x, rows, row_len, rule);
}
__attribute__((target("avx512f"))) static void bfp_columns_avx512(float *x, int64_t rows, int64_t cols, BfpRule rule) {
    bfp_columns_loop(x, rows, cols, rule);
}
#define HAVE_AVX512_VARIANT 1
#endif

void ttc_bfp_round_rows(float *x, int64_t rows, int64_t row_len, TtcDType fmt, TtcBfpRounding r) {
    if (ttc_bfp_magnitude_bits(fmt) == 0 || rows <= 0 || row_len <= 0) return;
#ifdef HAVE_AVX512_VARIANT
    if (__builtin_cpu_supports("avx512f")) {
        bfp_rows_avx512(x, rows, row_len, bfp_rule(fmt, r));
        return;
    }
#endif
    bfp_rows_portable(x, rows, row_len, bfp_rule(fmt, r));
}

void ttc_bfp_round_columns(float *x, int64_t rows, int64_t cols, TtcDType fmt, TtcBfpRounding r) {
    if (ttc_bfp_magnitude_bits(fmt) == 0 || rows <= 0 || cols <= 0) return;
#ifdef HAVE_AVX512_VARIANT
    if (__builtin_cpu_supports("avx512f")) {
        bfp_columns_avx512(x, rows, cols, bfp_rule(fmt, r));
        return;
    }
#endif
    bfp_columns_portable(x, rows, cols, bfp_rule(fmt, r));
}

/* ---- any format ---- */

void ttc_round_to_dtype(float *x, int64_t n, int64_t row_len, TtcDType dtype) {
    switch (dtype) {
    case TTC_F32:
    case TTC_I32:
        return;
    case TTC_BF16:
        ttc_bf16_round_buffer(x, n);
        return;
    case TTC_BFP8:
    case TTC_BFP4: {
        if (row_len <= 0 || row_len > n) row_len = n;
        if (row_len == 0) return;
        int64_t rows = n / row_len, tail = n - rows * row_len;
        ttc_bfp_round_rows(x, rows, row_len, dtype, TTC_BFP_HOST);
        if (tail) ttc_bfp_round_rows(x + rows * row_len, 1, tail, dtype, TTC_BFP_HOST); /* a partial row */
        return;
    }
    case TTC_DTYPE_COUNT:
        break;
    }
}

void ttc_round_matmul_weight(float *w, int64_t n_out, int64_t k, TtcDType dtype) {
    if (dtype == TTC_BFP8 || dtype == TTC_BFP4)
        ttc_bfp_round_columns(w, n_out, k, dtype, TTC_BFP_HOST);
    else
        ttc_round_to_dtype(w, n_out * k, k, dtype);
}
