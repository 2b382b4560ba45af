/* memory_plan.c: the `memory-plan` pass. Places every input and activation in one host arena.
 *
 * Each value gets a usage record (first use, last use, size); two values may share bytes only
 * when their lifetimes do not intersect. Placement is greedy, largest first, at the lowest offset
 * that clears every conflicting value already placed: simple, deterministic, and close to the
 * lower bound (the largest sum of sizes live at one op) for transformer graphs, whose lifetimes
 * are short chains. Graph inputs live from before the first op; graph outputs to after the last. */
#include <stdio.h>
#include <stdlib.h>

#include "pass.h"

#define ARENA_ALIGN 64

typedef struct Rec {
    int value;
    int first, last;
    int64_t bytes, offset;
} Rec;

static int by_size_desc(const void *a, const void *b) {
    const Rec *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->value - y->value;
}

static int by_offset(const void *a, const void *b) {
    const Rec *const *x = a, *const *y = b;
    if ((*x)->offset != (*y)->offset) return (*x)->offset < (*y)->offset ? -1 : 1;
    return 0;
}

static int64_t align_up(int64_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

static void compute_lifetimes(Graph *g) {
    for (int v = 0; v < g->n_vals; v++) {
        IrValue *val = &g->vals[v];
        val->first_use = val->d.kind == TTC_TENSOR_INPUT ? -1 : val->producer;
        val->last_use = val->first_use;
        val->host_bytes = align_up(ttc_shape_max_elems(&val->d.shape) * 4);
    }
    for (int k = 0; k < g->n_ops; k++)
        for (int i = 0; i < g->ops[k].d.n_in; i++) {
            IrValue *val = &g->vals[g->ops[k].d.in[i]];
            if (val->last_use < k) val->last_use = k;
        }
    for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].d.role >= TTC_ROLE_HIDDEN) g->vals[v].last_use = g->n_ops;
}

/* Lowest offset for `r` that overlaps none of the `n` placed records it conflicts with. */
static int64_t lowest_fit(Rec *r, Rec **placed, int n, Rec **scratch) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (placed[i]->first <= r->last && r->first <= placed[i]->last) scratch[m++] = placed[i];
    qsort(scratch, (size_t)m, sizeof *scratch, by_offset);
    int64_t at = 0;
    for (int i = 0; i < m; i++) {
        if (scratch[i]->offset >= at + r->bytes) break; /* the gap before it is big enough */
        int64_t end = scratch[i]->offset + scratch[i]->bytes;
        if (end > at) at = end;
    }
    return at;
}

int pass_memory_plan(Graph *g, PassCtx *cx) {
    compute_lifetimes(g);
    int n = 0;
    for (int v = 0; v < g->n_vals; v++) n += g->vals[v].d.kind != TTC_TENSOR_WEIGHT;
    Rec *recs = calloc((size_t)n + 1, sizeof *recs);
    Rec **placed = calloc((size_t)n + 1, sizeof *placed);
    Rec **scratch = calloc((size_t)n + 1, sizeof *scratch);
    if (!recs || !placed || !scratch) {
        free(recs);
        free(placed);
        free(scratch);
        DiagLoc none = {0};
        diag_error(cx->diags, none, "out of memory");
        return -1;
    }
    n = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const IrValue *val = &g->vals[v];
        if (val->d.kind == TTC_TENSOR_WEIGHT) continue;
        recs[n++] = (Rec){v, val->first_use, val->last_use, val->host_bytes, 0};
    }
    qsort(recs, (size_t)n, sizeof *recs, by_size_desc);
    int64_t arena = 0;
    for (int i = 0; i < n; i++) {
        recs[i].offset = lowest_fit(&recs[i], placed, i, scratch);
        placed[i] = &recs[i];
        g->vals[recs[i].value].d.offset = recs[i].offset;
        if (recs[i].offset + recs[i].bytes > arena) arena = recs[i].offset + recs[i].bytes;
    }
    g->arena_bytes = arena > 0 ? arena : ARENA_ALIGN;
    if (cx->verbose) {
        fprintf(stderr, "memory plan (%s): %d records, arena %lld bytes\n", g->mode == 1 ? "decode" : "prefill", n,
                (long long)g->arena_bytes);
        fprintf(stderr, "  %-6s %-44s %6s %6s %12s %12s\n", "value", "name", "first", "last", "bytes", "offset");
        for (int v = 0; v < g->n_vals; v++) {
            const IrValue *val = &g->vals[v];
            if (val->d.kind == TTC_TENSOR_WEIGHT) continue;
            fprintf(stderr, "  %%%-5d %-44s %6d %6d %12lld %12lld\n", v, val->d.name, val->first_use, val->last_use,
                    (long long)val->host_bytes, (long long)val->d.offset);
        }
    }
    free(recs);
    free(placed);
    free(scratch);
    return 0;
}
