/* memory_plan.c: the `memory-plan` pass. Places every input and activation of each entry point
 * in one host arena (entry points never run at the same time, so they share it).
 *
 * Each value gets a usage record (first use, last use, size); two values may share bytes only
 * when their lifetimes do not intersect. Placement is greedy, largest first, at the lowest offset
 * that clears every conflicting value already placed: simple, deterministic, and close to the
 * lower bound (the largest sum of sizes live at one op) for transformer graphs, whose lifetimes
 * are short chains. Graph inputs live from before an entry's first op; its outputs to after its
 * last. Weights, the KV cache and views of it live outside the arena. */
#include <stdio.h>
#include <stdlib.h>

#include "live_index.h"
#include "pass.h"

#define ARENA_ALIGN 64

typedef struct Rec {
    int value;
    int first, last;
    int64_t bytes, offset;
    int by_first; /* its slot in the records ordered by first use (the LiveIndex's slots) */
} Rec;

/* The records ordered by first use, and which of them are placed (their last use), so that the
 * records whose lifetimes meet a new one are found without looking at every placed record. */
typedef struct Placed {
    Rec **by_first;
    LiveIndex live;
    int n;
} Placed;

static int by_size_desc(const void *a, const void *b) {
    const Rec *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->value - y->value;
}

static int by_first_use(const void *a, const void *b) {
    const Rec *const *x = a, *const *y = b;
    if ((*x)->first != (*y)->first) return (*x)->first < (*y)->first ? -1 : 1;
    return (*x)->value - (*y)->value;
}

static int by_offset(const void *a, const void *b) {
    const Rec *const *x = a, *const *y = b;
    if ((*x)->offset != (*y)->offset) return (*x)->offset < (*y)->offset ? -1 : 1;
    return 0;
}

static int64_t align_up(int64_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

static int in_arena(const IrValue *v) {
    return (v->d.kind == TTC_TENSOR_INPUT || v->d.kind == TTC_TENSOR_ACT) && v->d.alias < 0;
}

static void compute_lifetimes(Graph *g) {
    for (int v = 0; v < g->n_vals; v++) {
        IrValue *val = &g->vals[v];
        int first_op = val->d.entry >= 0 ? g->entries[val->d.entry].first_op : 0;
        val->first_use = val->d.kind == TTC_TENSOR_INPUT ? first_op - 1 : val->producer;
        val->last_use = val->first_use;
        val->host_bytes = align_up(ttc_shape_max_elems(&val->d.shape) * 4);
    }
    for (int k = 0; k < g->n_ops; k++)
        for (int i = 0; i < g->ops[k].d.n_in; i++) {
            IrValue *val = &g->vals[g->ops[k].d.in[i]];
            if (val->last_use < k) val->last_use = k;
        }
    for (int v = 0; v < g->n_vals; v++) {
        IrValue *val = &g->vals[v];
        if (val->d.role >= TTC_ROLE_HIDDEN && val->d.entry >= 0)
            val->last_use = g->entries[val->d.entry].first_op + g->entries[val->d.entry].n_ops;
    }
}

/* Lowest offset for `r` that overlaps none of the placed records it conflicts with. Which
 * conflicting records are visited first does not matter: they are sorted by offset, and records
 * at one offset move `at` to the largest of their ends whatever their order. */
static int64_t lowest_fit(Rec *r, const Placed *placed, Rec **scratch) {
    int lo = 0, hi = placed->n; /* records first used at or before r's last use: slots [0, lo) */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (placed->by_first[mid]->first <= r->last)
            lo = mid + 1;
        else
            hi = mid;
    }
    int m = 0;
    for (int s = live_index_next(&placed->live, 0, lo, r->first); s >= 0;
         s = live_index_next(&placed->live, s + 1, lo, r->first))
        scratch[m++] = placed->by_first[s];
    qsort(scratch, (size_t)m, sizeof *scratch, by_offset);
    int64_t at = 0;
    for (int i = 0; i < m; i++) {
        if (scratch[i]->offset >= at + r->bytes) break; /* the gap before it is big enough */
        int64_t end = scratch[i]->offset + scratch[i]->bytes;
        if (end > at) at = end;
    }
    return at;
}

static void print_records(const Graph *g, int entry, int n) {
    fprintf(stderr, "memory plan (%s): %d records, arena %lld bytes\n", g->entries[entry].name, n,
            (long long)g->entries[entry].arena_bytes);
    fprintf(stderr, "  %-6s %-44s %6s %6s %12s %12s\n", "value", "name", "first", "last", "bytes", "offset");
    for (int v = 0; v < g->n_vals; v++) {
        const IrValue *val = &g->vals[v];
        if (!in_arena(val) || val->d.entry != entry) continue;
        fprintf(stderr, "  %%%-5d %-44s %6d %6d %12lld %12lld\n", v, val->d.name, val->first_use, val->last_use,
                (long long)val->host_bytes, (long long)val->d.offset);
    }
}

/* Plans one entry point; returns its arena size, or -1 when out of memory. */
static int64_t plan_entry(Graph *g, int entry, int verbose) {
    int n = 0;
    for (int v = 0; v < g->n_vals; v++) n += in_arena(&g->vals[v]) && g->vals[v].d.entry == entry;
    Rec *recs = calloc((size_t)n + 1, sizeof *recs);
    Placed placed = {calloc((size_t)n + 1, sizeof *placed.by_first), {NULL, 0}, n};
    Rec **scratch = calloc((size_t)n + 1, sizeof *scratch);
    int64_t arena = -1;
    if (!recs || !placed.by_first || !scratch || live_index_init(&placed.live, n) != 0) goto done;
    n = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const IrValue *val = &g->vals[v];
        if (in_arena(val) && val->d.entry == entry)
            recs[n++] = (Rec){v, val->first_use, val->last_use, val->host_bytes, 0, 0};
    }
    qsort(recs, (size_t)n, sizeof *recs, by_size_desc);
    for (int i = 0; i < n; i++) placed.by_first[i] = &recs[i];
    qsort(placed.by_first, (size_t)n, sizeof *placed.by_first, by_first_use);
    for (int i = 0; i < n; i++) placed.by_first[i]->by_first = i;
    arena = ARENA_ALIGN;
    for (int i = 0; i < n; i++) {
        recs[i].offset = lowest_fit(&recs[i], &placed, scratch);
        live_index_set(&placed.live, recs[i].by_first, recs[i].last);
        g->vals[recs[i].value].d.offset = recs[i].offset;
        if (recs[i].offset + recs[i].bytes > arena) arena = recs[i].offset + recs[i].bytes;
    }
    g->entries[entry].arena_bytes = arena;
    if (verbose) print_records(g, entry, n);
done:
    free(recs);
    free(placed.by_first);
    live_index_free(&placed.live);
    free(scratch);
    return arena;
}

int pass_memory_plan(Graph *g, PassCtx *cx) {
    compute_lifetimes(g);
    g->arena_bytes = 0;
    for (int e = 0; e < g->n_entries; e++) {
        int64_t a = plan_entry(g, e, cx->verbose);
        if (a < 0) {
            DiagLoc none = {0};
            diag_error(cx->diags, none, "out of memory");
            return -1;
        }
        if (a > g->arena_bytes) g->arena_bytes = a;
    }
    return 0;
}
