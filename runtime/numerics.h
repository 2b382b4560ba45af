/* numerics.h: the device's data formats, emulated exactly on the host (DEVICE.md §3).
 * Emulated values are held as fp32 numbers that the format can represent exactly. */
#ifndef TTC_NUMERICS_H
#define TTC_NUMERICS_H

#include <stdint.h>
#include "ttc_types.h"

/* fp32 -> bf16 bits, round to nearest, ties to even (NaN stays NaN). */
uint16_t ttc_bf16_bits(float x);
float ttc_bf16_to_f32(uint16_t b);
/* fp32 -> nearest bf16 value, as fp32. */
float ttc_bf16_round(float x);
/* IEEE half -> fp32 (exact), for safetensors F16. */
float ttc_f16_to_f32(uint16_t h);
/* Rounds n fp32 values in place to the nearest bf16 (as ttc_bf16_round on each), vectorized. */
void ttc_bf16_round_buffer(float *x, int64_t n);
/* Rounds n values in place to what `dtype` can hold (fp32/int32: no-op). Row-major data whose
 * last dim is `row_len`; block formats (bfp8/bfp4) need it to find face rows. */
void ttc_round_to_dtype(float *x, int64_t n, int64_t row_len, TtcDType dtype);

#endif
