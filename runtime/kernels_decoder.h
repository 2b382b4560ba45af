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

#endif
