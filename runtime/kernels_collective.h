/* kernels_collective.h: kernels of the data-movement ops the `shard` pass inserts: the
 * collectives between the chips of a mesh (all_reduce, all_gather) and the within-chip reshard.
 * Fast and reference kernels are the same code (pure data movement and one ordered sum, nothing
 * to make faster), named like the rest so the ops.def tables in kernels_fast.c / kernels_ref.c
 * find them.
 *
 * The emulated mesh keeps every chip's tensor in one host buffer, stacked along dim 0: a per-chip
 * value of n elements per chip is [chips, ...], chip c's slice at c * rt_stride0(). A collective
 * therefore sees every chip's slice at once, and its result is the one replicated copy that every
 * chip would hold. */
#ifndef TTC_KERNELS_COLLECTIVE_H
#define TTC_KERNELS_COLLECTIVE_H

#include "kernels.h"

/* partial[N, ...], bias[F]? -> [...]: sum over chips 0, 1, ..., N-1 in that order (the result
 * does not depend on timing, unlike a ring whose start varies), then + bias once. */
TtcStatus fast_ALL_REDUCE(const RtOpArgs *a);
TtcStatus ref_ALL_REDUCE(const RtOpArgs *a);
/* x[N, ..., F] -> [..., N*F]: chip c's features land in columns c*F .. c*F+F-1. */
TtcStatus fast_ALL_GATHER(const RtOpArgs *a);
TtcStatus ref_ALL_GATHER(const RtOpArgs *a);
/* x -> x: a change of core-grid sharding inside one chip; numerically the identity. */
TtcStatus fast_RESHARD(const RtOpArgs *a);
TtcStatus ref_RESHARD(const RtOpArgs *a);

#endif
