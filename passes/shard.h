/* shard.h: what the `shard` pass shares with the passes after it (shape-infer, device-memory,
 * cost) about per-chip values.
 *
 * A value split over the chips of a mesh is stacked: its descriptor has shard_chips = N and
 *   weights:                    [N, ...one chip's slice...] (runtime/weights.c builds them);
 *   activations, state, dim 0:  [N, ...one chip's tensor...] (shard_dim 0);
 *   activations, dim 1:         [d0, N*d1, ...], chip c's [d0, d1, ...] being the c-th contiguous
 *                               block (shard_dim 1: attention scores, whose rank 4 leaves no room
 *                               for a leading chip dim).
 * shard_parts counts the distinct slices (fewer than N when KV heads are replicated). */
#ifndef TTC_SHARD_H
#define TTC_SHARD_H

#include "ir.h"

/* One chip's shape of a value (the shape itself when it is not stacked). */
TtcShape shape_chip_slice(const TtcTensorDesc *d);

#endif
