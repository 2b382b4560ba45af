/* kernels_fused.h: kernels of the ops the `fuse` pass makes (passes/fuse.c), fast and reference,
 * named like the rest so the ops.def tables in kernels_fast.c / kernels_ref.c find them:
 *   ATTENTION      scores, masked softmax and context in one op; the fast kernel is tiled with an
 *                  online softmax and never holds more than a block of scores;
 *   ADD_LAYERNORM  layernorm(a + b) (a post-norm residual);
 *   EPILOGUE       what a LINEAR applies to its own result before it is written (attrs.epilogue:
 *                  an activation, or RoPE on the q and k columns of a fused qkv projection).
 *
 * EPILOGUE runs in place (input 0 is the output) and is called by the executor with the LINEAR's
 * own op description, so its kernels check what they read themselves rather than through the
 * op-arity check every other kernel shares. */
#ifndef TTC_KERNELS_FUSED_H
#define TTC_KERNELS_FUSED_H

#include "kernels.h"

TtcStatus fast_ATTENTION(const RtOpArgs *a);
TtcStatus ref_ATTENTION(const RtOpArgs *a);
TtcStatus fast_ADD_LAYERNORM(const RtOpArgs *a);
TtcStatus ref_ADD_LAYERNORM(const RtOpArgs *a);
TtcStatus fast_EPILOGUE(const RtOpArgs *a);
TtcStatus ref_EPILOGUE(const RtOpArgs *a);

/* Query and key block sizes of the fast attention kernel: the most scores it holds per head. */
enum { RT_ATTN_BLOCK_Q = 64, RT_ATTN_BLOCK_K = 256 };

#endif
