/* kernels_vec.h: the fp32 loops behind the fast kernels that are not matrix products
 * (internal to the runtime).
 *
 * Contiguous arrays only. The output may be the same buffer as an input (exact in-place use)
 * but may not partly overlap one. Accuracy against a double-precision evaluation: exp within
 * 3 ulp, gelu/silu/gelu_tanh within ~1e-6 of max(1, |x|), norms and softmax sums in double. */
#ifndef TTC_KERNELS_VEC_H
#define TTC_KERNELS_VEC_H

#include <stdint.h>

/* Instruction sets the loops are compiled for; the best one the CPU supports is used. */
typedef enum { RT_ISA_BASE, RT_ISA_AVX2, RT_ISA_AVX512 } RtIsa;
RtIsa rt_vec_isa(void);
/* Caps the instruction set (for tests, which check every variant); returns the one now in use.
 * Not thread-safe: call it while no kernel runs. */
RtIsa rt_vec_limit_isa(RtIsa limit);

void rt_vec_add(float *y, const float *a, const float *b, int64_t n);
void rt_vec_mul(float *y, const float *a, const float *b, int64_t n);

/* e^x; +inf above ln(FLT_MAX), 0 below ln of the smallest subnormal, NaN stays NaN. */
void rt_vec_exp(float *y, const float *x, int64_t n);
void rt_vec_gelu(float *y, const float *x, int64_t n);      /* x Phi(x), erf form */
void rt_vec_gelu_tanh(float *y, const float *x, int64_t n); /* tanh approximation */
void rt_vec_silu(float *y, const float *x, int64_t n);
void rt_vec_relu(float *y, const float *x, int64_t n);

/* One row of h values: (x - mean) / sqrt(var + eps) * gamma + beta. */
void rt_vec_layernorm_row(float *y, const float *x, const float *gamma, const float *beta, int64_t h, float eps);
/* One row: x / sqrt(mean(x^2) + eps) * gamma. */
void rt_vec_rmsnorm_row(float *y, const float *x, const float *gamma, int64_t h, float eps);

/* Softmax of one row of t scores where only keys j in [lo, hi) with keep[j] != 0 (keep may be
 * NULL: all kept) are visible; hidden keys get 0. A row with no visible key becomes uniform 1/t,
 * as Hugging Face's additive finfo.min mask makes it. */
void rt_vec_softmax_row(float *y, const float *x, int64_t t, int64_t lo, int64_t hi, const int32_t *keep);

#endif
