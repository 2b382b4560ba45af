/* numerics.c: the device's number formats emulated on the host (DEVICE.md §3).
 *
 * Every conversion works on the IEEE bit patterns with integer arithmetic, so results are exact
 * and independent of the FPU's rounding mode, flush-to-zero flags or the compiler's float
 * optimizations. */
#include "numerics.h"

#include <string.h>

/* Values per block of the buffer loops. A constant trip count lets GCC vectorize the inner
 * loop even at -O2 (its "very cheap" cost model refuses loops that need a scalar epilogue). */
#define BLOCK 16

static inline uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The fp32 pattern of the bf16 nearest to `u`, ties to even, low 16 bits cleared.
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
static inline uint32_t bf16_round_bits32(uint32_t u) {
    uint32_t nearest = u + 0x7FFFu + ((u >> 16) & 1u);
    uint32_t quiet_nan = u | 0x00400000u;
    uint32_t is_nan = (u & 0x7FFFFFFFu) > 0x7F800000u ? 0xFFFFFFFFu : 0u;
    return ((nearest & ~is_nan) | (quiet_nan & is_nan)) & 0xFFFF0000u;
}

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

void ttc_round_to_dtype(float *x, int64_t n, int64_t row_len, TtcDType dtype) {
    (void)row_len; /* only the block formats will need it, to find face rows */
    switch (dtype) {
    case TTC_F32:
    case TTC_I32:
        return;
    case TTC_BF16:
        ttc_bf16_round_buffer(x, n);
        return;
    case TTC_BFP8:
    case TTC_BFP4:
        /* TODO(overlay/device issue): exact bfp8_b/bfp4_b packing (shared exponent per 16-value
         * face row, 7 or 3 magnitude bits, DEVICE.md §3) is not implemented yet. Until it is,
         * these formats are only rounded to bf16, which is MORE precise than the device: results
         * for bfp weights are optimistic. */
        ttc_bf16_round_buffer(x, n);
        return;
    case TTC_DTYPE_COUNT:
        break;
    }
}
