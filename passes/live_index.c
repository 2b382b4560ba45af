/* live_index.c: a max tree over slots (see live_index.h). */
#include "live_index.h"

#include <stdlib.h>

int live_index_init(LiveIndex *x, int n) {
    int cap = 1;
    while (cap < n) cap *= 2;
    x->max = malloc(2 * (size_t)cap * sizeof *x->max);
    x->cap = x->max ? cap : 0;
    if (!x->max) return -1;
    for (int i = 0; i < 2 * cap; i++) x->max[i] = LIVE_INDEX_EMPTY;
    return 0;
}

void live_index_free(LiveIndex *x) {
    free(x->max);
    x->max = NULL;
    x->cap = 0;
}

void live_index_set(LiveIndex *x, int slot, int last) {
    int i = x->cap + slot;
    x->max[i] = last;
    for (i /= 2; i >= 1; i /= 2) {
        int m = x->max[2 * i] > x->max[2 * i + 1] ? x->max[2 * i] : x->max[2 * i + 1];
        if (x->max[i] == m) break; /* nothing above changes either */
        x->max[i] = m;
    }
}

int live_index_next(const LiveIndex *x, int from_slot, int end_slot, int time) {
    if (from_slot < 0) from_slot = 0;
    if (end_slot > x->cap) end_slot = x->cap;
    if (from_slot >= end_slot) return -1;
    int i = x->cap + from_slot;
    if (x->max[i] < time) {
        /* climb until a right sibling holds a match, then descend to its leftmost match */
        for (;;) {
            if (i == 1) return -1;
            if (i % 2 == 0 && x->max[i + 1] >= time) {
                i++;
                break;
            }
            i /= 2;
        }
        while (i < x->cap) i = x->max[2 * i] >= time ? 2 * i : 2 * i + 1;
    }
    int slot = i - x->cap;
    return slot < end_slot ? slot : -1;
}
