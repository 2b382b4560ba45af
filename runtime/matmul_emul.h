/* matmul_emul.h: the emulated device's matrix unit for LINEAR (internal to the runtime).
 *
 * out = x w^T + bias as the device computes it (DEVICE.md §4): operands cut by the math
 * fidelity's masks (which subsume the tf32 cut of fp32 operands), the phase products summed per
 * 32-deep k chunk into an fp32 or bf16 destination, the bias added after accumulation. The
 * executor then rounds the output to the op's activation format.
 *
 * Weights are split into their fidelity parts once, at load (rt_matmul_prepare), and packed
 * for the kernel; activations are split once per call. The phase sum then runs as ordinary
 * float matrix products over the parts, chunk by chunk:
 *
 *   fp32 destination: phases merged into fewer terms (the same exact products, summed in
 *   another order: fp32 reassociation only, see matmul_emul.c)
 *     LoFi  B0 A0          HiFi2  B0 (A0+A1)          HiFi3  B0 (A0+A1) + B2 A0
 *     HiFi4 (B0+B2)(A0+A1)
 *   bf16 destination: each phase p (B part p&2, A part p&1) is added to the destination
 *     separately and the destination is rounded to bf16 after each addition, per 32-k chunk.
 *
 * Results do not depend on the instruction set or the number of threads: every variant sums
 * each chunk in k order from +0, threads split output columns, never k, and the AVX512-BF16
 * dot-product path runs only where it gives the same bits (matmul_emul.c). */
#ifndef TTC_MATMUL_EMUL_H
#define TTC_MATMUL_EMUL_H

#include "kernels_vec.h"
#include "ttc_types.h"

/* Rounding of a bf16 destination after each accumulation step (the device's is not public). */
typedef enum { RT_DEST_NEAREST_EVEN = 0, RT_DEST_TRUNCATE = 1 } RtDestRounding;

/* The weight parts a kernel can use (see RtMatmulWeights for how they are packed). */
typedef enum {
    RT_WPART_A0,   /* A_bits(w, 0): w & 0xFFF80000 */
    RT_WPART_A1,   /* A_bits(w, 1): w - (w & 0xFFF83FFF) */
    RT_WPART_AFULL, /* A0 + A1 = w & 0xFFFFC000 */
    RT_WPART_COUNT
} RtWeightPart;

/* Output features per packed panel: the kernel's register tile width. */
#define RT_MATMUL_PANEL 32

/* What weight_prep.c stores in m->prep[t] for a LINEAR weight: one allocation, released by
 * free(). Each part is packed per panel of 32 output features (zero padding past n), in one of
 * two layouts chosen by its values (see matmul_emul.c): bf16 pairs when every value is a bf16
 * number, else fp32. Read single values with rt_matmul_weight_value. */
typedef struct RtMatmulWeights {
    int64_t n, k;   /* logical weight [n, k], Hugging Face [out_features, in_features] */
    int64_t panels; /* ceil(n / 32) */
    int a1_zero;    /* every A1 part is zero (e.g. bfp4 weights): phases 1 and 3 add nothing */
    int pair_k_high; /* bf16 pairs hold input feature 2i in their high half, 2i+1 in the low */
    const void *part[RT_WPART_COUNT]; /* NULL when not prepared; AFULL may alias A0 */
    uint8_t part_bf16[RT_WPART_COUNT]; /* layout of each part: 1 bf16 pairs, 0 fp32 */
    int32_t part_low_exp[RT_WPART_COUNT]; /* see matmul_emul.c: PartStats */
    uint8_t part_normal[RT_WPART_COUNT];  /* no subnormal value in the part */
} RtMatmulWeights;

typedef struct RtMatmulMode {
    TtcFidelity fidelity;
    int fp32_acc;               /* 1: fp32 destination; 0: bf16 destination */
    RtDestRounding dest_round;  /* bf16 destination only */
} RtMatmulMode;

/* Bit set (1 << RtWeightPart) of the weight parts a mode reads. */
unsigned rt_matmul_parts_needed(TtcFidelity fidelity, int fp32_acc);
/* Splits and packs w[n, k] (already in its device format). NULL when out of memory. */
RtMatmulWeights *rt_matmul_prepare(const float *w, int64_t n, int64_t k, unsigned parts);
/* out[m, n] = emulated x[m, k] w^T (+ bias[n] when bias is non-NULL). TTC_E_INTERNAL when out
 * of memory or when `w` lacks a part the mode needs. */
TtcStatus rt_matmul_emul(const float *x, int64_t m, const RtMatmulWeights *w, const float *bias,
                         const RtMatmulMode *mode, float *out);

/* Part p of weight element [j][kk] as packed (for tests and dumps). */
float rt_matmul_weight_value(const RtMatmulWeights *w, RtWeightPart p, int64_t j, int64_t kk);

/* Process-wide switches. Not thread-safe: set them while no kernel runs. */
RtDestRounding rt_matmul_dest_rounding(void);
void rt_matmul_set_dest_rounding(RtDestRounding r);
/* Caps the instruction set of the kernel (tests run every variant); returns the one in use. */
RtIsa rt_matmul_limit_isa(RtIsa limit);
/* Threads per call: 0 (default) means one per online CPU, or $TTC_THREADS when set. */
void rt_matmul_set_threads(int n);
/* The most threads a call will use (small products use fewer). */
int rt_matmul_threads(void);

#endif
