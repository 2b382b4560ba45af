/* kernels_decoder.h: kernels of the ops decoders add (RoPE, KV-cache update), fast and
 * reference, named like the rest so the ops.def tables in kernels_fast.c / kernels_ref.c find them. */
#ifndef TTC_KERNELS_DECODER_H
#define TTC_KERNELS_DECODER_H

#include "kernels.h"

TtcStatus fast_ROPE(const RtOpArgs *a);
TtcStatus ref_ROPE(const RtOpArgs *a);
TtcStatus fast_KV_UPDATE(const RtOpArgs *a);
TtcStatus ref_KV_UPDATE(const RtOpArgs *a);

/* RoPE inverse frequencies for head_dim D (D/2 values), as Hugging Face computes them in float32,
 * with Llama-3 frequency scaling when attrs->rope_scaling is 1. */
void rt_rope_inv_freq(const TtcAttrs *at, float *inv_freq);

/* Rotate-half RoPE of `heads` heads of attrs->head_dim (even) that start at column `col` of each
 * of `rows` rows of `width` floats; row r is token r % seq of its sequence, at position
 * past + r % seq. out has x's layout and may be x (in place). The fast form computes in float
 * with a cos/sin table (fast_ROPE's arithmetic), the reference form in double (ref_ROPE's).
 * TTC_E_INTERNAL when out of memory (or, for the reference, head_dim > 8192). */
TtcStatus rt_rope_rotate(const TtcAttrs *at, int64_t heads, const float *x, float *out, int64_t rows, int64_t seq,
                         int64_t width, int64_t col, int64_t past);
TtcStatus rt_rope_rotate_ref(const TtcAttrs *at, int64_t heads, const float *x, float *out, int64_t rows,
                             int64_t seq, int64_t width, int64_t col, int64_t past);

#endif
