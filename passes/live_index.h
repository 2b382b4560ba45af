/* live_index.h: which placed tensors are still live at a time, without a scan of all of them.
 *
 * The first-fit allocators (memory-plan's host arena, core-shard's and device-memory's L1) each
 * ask, per tensor, "which placed tensors does its lifetime intersect?". Scanning every placed
 * tensor made them quadratic in the layers. A LiveIndex holds one int per slot (a placed
 * tensor's last use, LIVE_INDEX_EMPTY when the slot holds none) in a max tree, and finds the next
 * slot whose last use is at or after a time in O(log n): the allocators order slots so that
 * the other half of the test (first use <= the new tensor's last) is a prefix of the slots. */
#ifndef TTC_LIVE_INDEX_H
#define TTC_LIVE_INDEX_H

#include <limits.h>

#define LIVE_INDEX_EMPTY INT_MIN

typedef struct LiveIndex {
    int *max; /* 2 * cap: node i covers its children 2i and 2i+1; leaves at cap + slot */
    int cap;
} LiveIndex;

/* Room for n slots, all empty. 0, or -1 when out of memory. */
int live_index_init(LiveIndex *x, int n);
void live_index_free(LiveIndex *x);
void live_index_set(LiveIndex *x, int slot, int last);
/* The lowest slot in [from_slot, end_slot) whose value is >= time, or -1. */
int live_index_next(const LiveIndex *x, int from_slot, int end_slot, int time);

#endif
