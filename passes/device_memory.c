/* device_memory.c: the `device-memory` pass. For each entry point (mode) it plans the emulated
 * device's memories at the plan's upper-bound shapes and reports what does not fit, per module,
 * with the change that would make it fit (DESIGN.md §7).
 *
 * L1, per core (DEVICE.md §2): each op runs as one program whose static circular buffers grow up
 * from the unreserved base, while L1 tensors are allocated from the top; the op fits when the two
 * regions do not overlap, i.e. CB(op) + the extent of the L1 tensors live at the op <= l1_bytes.
 * L1 tensors are weights and the KV cache of modules configured `memory: l1` (resident for the
 * whole entry point, stacked at the top) and L1 activations (live from their producer to their
 * last reader, placed below in program order, first fit). Per-core bytes follow the placement
 * (dev_layout.c): once `core-shard` has run, the one it chose for each activation, whose greedy
 * policy keeps this plan within the usable L1 unless the overlays pinned more into it.
 *
 * DRAM, per chip: the fullest bank times the banks, summed over DRAM values live at each op;
 * weights and the KV cache always count. On a multi-chip mesh the `shard` pass has split the
 * model: a stacked value counts one chip's slice (dev_tensor), a replicated one counts whole.
 *
 * Both overflows are errors, the one verdict "does not fit" that compile, check, run, generate
 * and profile share: no program with overlapping L1 regions can be built, and a model larger than
 * DRAM cannot be loaded. With --allow-misfit (PassCtx.allow_misfit) they are warnings, for users
 * who want the estimates: the plan then records that it does not fit, and the emulator runs it.
 *
 * Circular-buffer model (per core; "tile" = 32x32 tile of the named value's format, each CB
 * double-buffered so the reader and the compute kernel overlap):
 *   linear, attn_scores, attn_context: blocks of bm x bk (in0) and bk x bn (in1) tiles, an
 *     output block bm x bn, and a partials block bm x bn (fp32 with fp32_dest_acc) when k spans
 *     more than one block; bm, bn <= 4, bk <= 2; bias: one row of bn tiles.
 *   softmax, layernorm, rmsnorm: rows streamed in chunks of up to 8 tiles (in, out, mask or
 *     gamma/beta) plus 2 fp32 tiles of row statistics (max and sum, or mean and variance).
 *   everything else: 2 tiles per input and 2 for the output (rope: cos, sin and a rotated
 *     scratch too; embedding: the gathered rows and 32 ids).
 * The blocks are bounded, so a program's CBs never depend on the sequence length: default
 * (DRAM) configurations always fit, and only L1 tensors can crowd them out. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_layout.h"
#include "dev_problems.h"
#include "live_index.h"
#include "pass.h"

#define MM_BM 4 /* matmul block, tiles */
#define MM_BN 4
#define MM_BK 2
#define ROW_CHUNK 8 /* row-wise ops stream rows in chunks of this many tiles */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int64_t tb_of(const Graph *g, int v) { return dev_tile_bytes(g->vals[v].d.dtype); }
static int64_t last_dim_tiles(const Graph *g, int v) {
    const TtcShape *s = &g->vals[v].d.shape;
    return ceil_div(s->d[s->rank - 1].size, 32);
}
static int64_t second_last_tiles(const Graph *g, int v) {
    const TtcShape *s = &g->vals[v].d.shape;
    return s->rank >= 2 ? ceil_div(s->d[s->rank - 2].size, 32) : 1;
}

/* Per-core CB bytes of one op (see the model above). */
int64_t dev_cb_bytes(const Graph *g, const IrOp *op) {
    const TtcOpDesc *d = &op->d;
    int64_t out = tb_of(g, d->out), acc = d->cfg.fp32_acc ? 4096 : out;
    int64_t mt, kt, nt, bias = 0;
    switch (d->kind) {
    case TTC_OP_LINEAR: {
        const TtcShape *x = &g->vals[d->in[0]].d.shape;
        int64_t rows = 1;
        for (int i = 0; i < x->rank - 1; i++) rows *= x->d[i].size;
        mt = ceil_div(rows, 32);
        kt = last_dim_tiles(g, d->in[0]);
        nt = last_dim_tiles(g, d->out);
        if (d->n_in == 3) bias = 2 * min64(nt, MM_BN) * tb_of(g, d->in[2]);
        break;
    }
    case TTC_OP_ATTN_SCORES: /* per head: [S, D] x [D, T] */
        mt = second_last_tiles(g, d->out);
        kt = ceil_div(d->attrs.head_dim, 32);
        nt = last_dim_tiles(g, d->out);
        break;
    case TTC_OP_ATTN_CONTEXT: /* per head: [S, T] x [T, D] */
        mt = second_last_tiles(g, d->in[0]);
        kt = last_dim_tiles(g, d->in[0]);
        nt = ceil_div(d->attrs.head_dim, 32);
        break;
    case TTC_OP_ATTENTION: {
        /* flash: per core a block of bm query tiles against blocks of bn key tiles, head_dim dt
         * tiles wide: q, k, v (and mask) blocks streamed double-buffered, one fp32 block of scores
         * and one of probabilities, an fp32 context accumulator, the output block, and 2 fp32
         * tiles of running max and sum. Bounded whatever S and T are: no S x T tensor exists. */
        int64_t bm = min64(second_last_tiles(g, d->out), MM_BM), bn = min64(second_last_tiles(g, d->in[1]), 2 * MM_BN);
        int64_t dt = ceil_div(d->attrs.head_dim, 32);
        int64_t n = 2 * bm * dt * tb_of(g, d->in[0]) + 2 * bn * dt * (tb_of(g, d->in[1]) + tb_of(g, d->in[2])) +
                    2 * bm * bn * 4096 + bm * dt * 4096 + 2 * bm * dt * out + 2 * 4096;
        if (d->n_in == 4) n += 2 * bn * tb_of(g, d->in[3]);
        return n;
    }
    case TTC_OP_ADD_LAYERNORM:
    case TTC_OP_SOFTMAX:
    case TTC_OP_LAYERNORM:
    case TTC_OP_RMSNORM: {
        int64_t w = min64(last_dim_tiles(g, d->in[0]), ROW_CHUNK), n = 2 * w * tb_of(g, d->in[0]) + 2 * w * out;
        for (int i = 1; i < d->n_in; i++) n += (d->kind == TTC_OP_SOFTMAX ? 2 : 1) * w * tb_of(g, d->in[i]);
        return n + 2 * 4096;
    }
    case TTC_OP_ROPE: return 2 * tb_of(g, d->in[0]) + 3 * 2 * out + 2 * out;
    case TTC_OP_EMBEDDING: return 2 * tb_of(g, d->in[1]) + 2 * out + 32 * 4;
    default: {
        int64_t n = 2 * out;
        for (int i = 0; i < d->n_in; i++) n += 2 * tb_of(g, d->in[i]);
        return n;
    }
    }
    int64_t bm = min64(mt, MM_BM), bn = min64(nt, MM_BN), bk = min64(kt, MM_BK);
    int64_t n = 2 * bm * bk * tb_of(g, d->in[0]) + 2 * bk * bn * tb_of(g, d->in[1]) + 2 * bm * bn * out + bias;
    if (kt > bk) n += bm * bn * acc;
    return n;
}

/* ---- one entry point's plan ---- */

typedef struct EntryPlan {
    const Graph *g;
    const HwDevice *dev;
    int entry, first_op, n_slots; /* slot s is "during op first_op - 1 + s"; slot 0: before op 0 */
    DevValue *vals;
    int64_t *l1_core;      /* per value: per-core L1 bytes (0 when not in L1) */
    int64_t *offset;       /* per transient L1 value: offset below the resident region */
    int64_t resident;      /* per core: L1 weights and KV cache */
    int64_t *cb, *extent;  /* per slot: CB bytes, transient L1 extent */
    int64_t *dram;         /* per slot: DRAM bytes per chip */
} EntryPlan;

typedef struct Rec {
    int v;
    int first, last;
    int64_t bytes, offset;
} Rec;

static int by_first_use(const void *a, const void *b) {
    const Rec *x = a, *y = b;
    if (x->first != y->first) return x->first - y->first;
    return x->v - y->v;
}

static int by_offset(const void *a, const void *b) {
    const Rec *const *x = a, *const *y = b;
    return ((*x)->offset > (*y)->offset) - ((*x)->offset < (*y)->offset);
}

/* Transient L1 values, per core, as the device's allocator places them: in program order, each at
 * the lowest offset (from the top, below the resident region) that clears every value still
 * live, addresses fixed for the value's lifetime. Unlike the host arena's largest-first rule this
 * can fragment, as the device does. */
static int place_transient(EntryPlan *P) {
    const Graph *g = P->g;
    int n = 0;
    for (int v = 0; v < g->n_vals; v++) n += P->l1_core[v] > 0 && !P->vals[v].persistent;
    Rec *recs = calloc((size_t)n + 1, sizeof *recs);
    Rec **placed = calloc((size_t)n + 1, sizeof *placed), **scratch = calloc((size_t)n + 1, sizeof *scratch);
    LiveIndex live = {NULL, 0}; /* placed[j]'s last use at slot j: who is still live */
    if (!recs || !placed || !scratch || live_index_init(&live, n) != 0) {
        free(recs);
        free(placed);
        free(scratch);
        return -1;
    }
    n = 0;
    for (int v = 0; v < g->n_vals; v++)
        if (P->l1_core[v] > 0 && !P->vals[v].persistent)
            recs[n++] = (Rec){v, P->vals[v].first, P->vals[v].last, P->l1_core[v], 0};
    qsort(recs, (size_t)n, sizeof *recs, by_first_use);
    for (int i = 0; i < n; i++) {
        Rec *r = &recs[i];
        /* placed in first-use order: every placed value starts no later than r; the ones that
         * meet r are those still live at its first use (their order does not matter: sorted) */
        int m = 0;
        for (int j = live_index_next(&live, 0, i, r->first); j >= 0; j = live_index_next(&live, j + 1, i, r->first))
            if (placed[j]->first <= r->last) scratch[m++] = placed[j];
        qsort(scratch, (size_t)m, sizeof *scratch, by_offset);
        int64_t at = 0;
        for (int j = 0; j < m && scratch[j]->offset < at + r->bytes; j++)
            if (scratch[j]->offset + scratch[j]->bytes > at) at = scratch[j]->offset + scratch[j]->bytes;
        r->offset = at;
        placed[i] = r;
        live_index_set(&live, i, r->last);
        P->offset[r->v] = at;
        for (int k = r->first; k <= r->last; k++) {
            int s = k - (P->first_op - 1);
            if (P->extent[s] < at + r->bytes) P->extent[s] = at + r->bytes;
        }
    }
    free(recs);
    free(placed);
    free(scratch);
    live_index_free(&live);
    return 0;
}

static void entry_plan_free(EntryPlan *P) {
    free(P->vals);
    free(P->l1_core);
    free(P->offset);
    free(P->cb);
    free(P->extent);
    free(P->dram);
}

static int entry_plan_build(EntryPlan *P, const Graph *g, const HwDevice *dev, int entry, const int *sharding) {
    memset(P, 0, sizeof *P);
    P->g = g;
    P->dev = dev;
    P->entry = entry;
    P->first_op = g->entries[entry].first_op;
    P->n_slots = g->entries[entry].n_ops + 1;
    size_t nv = (size_t)g->n_vals + 1, ns = (size_t)P->n_slots + 1;
    P->vals = calloc(nv, sizeof *P->vals);
    P->l1_core = calloc(nv, sizeof *P->l1_core);
    P->offset = calloc(nv, sizeof *P->offset);
    P->cb = calloc(ns, sizeof *P->cb);
    P->extent = calloc(ns, sizeof *P->extent);
    int64_t *dram_delta = calloc(ns + 1, sizeof *dram_delta);
    P->dram = calloc(ns, sizeof *P->dram);
    if (!P->vals || !P->l1_core || !P->offset || !P->cb || !P->extent || !dram_delta || !P->dram) {
        free(dram_delta);
        return -1;
    }
    dev_place_entry(g, entry, sharding, P->vals);
    for (int v = 0; v < g->n_vals; v++) {
        const DevValue *dv = &P->vals[v];
        if (!dv->used || dv->view) continue;
        if (dv->t.memory == TTC_MEM_L1) {
            P->l1_core[v] = dev_l1_per_core(&dv->t, dev);
            if (dv->persistent) P->resident += P->l1_core[v];
        } else {
            int64_t b = dev_dram_per_chip(&dv->t, dev);
            dram_delta[dv->first - (P->first_op - 1)] += b;
            dram_delta[dv->last - (P->first_op - 1) + 1] -= b;
        }
    }
    int64_t run = 0;
    for (int s = 0; s < P->n_slots; s++) P->dram[s] = run += dram_delta[s];
    free(dram_delta);
    for (int s = 1; s < P->n_slots; s++) P->cb[s] = dev_cb_bytes(g, &g->ops[P->first_op - 1 + s]);
    return place_transient(P);
}

/* L1 need per core at slot s, with or without the resident region. */
static int64_t l1_need(const EntryPlan *P, int s, int with_resident) {
    return P->cb[s] + P->extent[s] + (with_resident ? P->resident : 0);
}

int dev_l1_overflow_op(const Graph *g, const HwDevice *dev, int entry, const int *sharding) {
    EntryPlan P;
    int rc = entry_plan_build(&P, g, dev, entry, sharding) == 0 ? -1 : -2;
    for (int s = 1; rc == -1 && s < P.n_slots; s++)
        if (l1_need(&P, s, 1) > dev->l1_bytes) rc = P.first_op - 1 + s;
    entry_plan_free(&P);
    return rc;
}

/* ---- L1 ---- */

/* Bytes per core that each module's L1 values hold at slot s, largest first. */
typedef struct ModBytes {
    char module[TTC_NAME_MAX];
    int64_t bytes;
    int own;          /* the module of the op running at s */
    int weights, cache; /* what the bytes are (resident values) */
    const char *type;   /* module type of the owning op */
} ModBytes;

static int by_bytes_desc(const void *a, const void *b) {
    const ModBytes *x = a, *y = b;
    return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

static int live_l1_by_module(const EntryPlan *P, int s, int with_resident, const char *own, ModBytes *out) {
    const Graph *g = P->g;
    int n = 0, k = P->first_op - 1 + s;
    for (int v = 0; v < g->n_vals; v++) {
        const DevValue *dv = &P->vals[v];
        if (!P->l1_core[v] || (dv->persistent && !with_resident) || dv->first > k || dv->last < k) continue;
        char m[TTC_NAME_MAX];
        dev_module_of(&g->ops[dv->owner_op], m, sizeof m);
        int i = 0;
        while (i < n && strcmp(out[i].module, m) != 0) i++;
        if (i == n) {
            snprintf(out[n].module, sizeof out[n].module, "%s", m);
            out[n].bytes = 0;
            out[n].own = strcmp(m, own) == 0;
            n++;
        }
        out[i].bytes += P->l1_core[v];
    }
    qsort(out, (size_t)n, sizeof *out, by_bytes_desc);
    return n;
}

/* Per-core bytes of module `own`'s transient L1 values live at s under `sharding` (-1: as placed). */
static int64_t own_bytes_sharded(const EntryPlan *P, int s, const char *own, int sharding) {
    const Graph *g = P->g;
    int k = P->first_op - 1 + s;
    int64_t n = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const DevValue *dv = &P->vals[v];
        if (!P->l1_core[v] || dv->persistent || dv->first > k || dv->last < k) continue;
        char m[TTC_NAME_MAX];
        dev_module_of(&g->ops[dv->owner_op], m, sizeof m);
        if (strcmp(m, own) != 0) continue;
        DevTensor t = dv->t;
        t.sharding = sharding;
        n += sharding < 0 ? P->l1_core[v] : dev_l1_per_core(&t, P->dev);
    }
    return n;
}

/* ---- fixes for a KV cache that does not fit ---- */

/* The cache's context (Tmax of a state [B, Tmax, F]) and format; 0 when the graph has none. */
static int64_t cache_context(const Graph *g, int *dtype) {
    for (int v = 0; v < g->n_vals; v++) {
        const TtcShape *s = &g->vals[v].d.shape;
        if (g->vals[v].d.kind != TTC_TENSOR_STATE || s->rank < 2) continue;
        *dtype = g->vals[v].d.dtype;
        return s->d[s->rank - 2].size;
    }
    return 0;
}

/* The longest context, in steps of 32 tokens, whose cache fits in `room` bytes, given a cache of
 * `cache` bytes at context `ctx` (caches grow linearly with the context: an estimate that ttc
 * check verifies by recompiling); 0 when there is no room. */
static int64_t context_that_fits(int64_t ctx, int64_t cache, double room) {
    return room > 0 && cache > 0 ? (int64_t)((double)ctx * room / (double)cache) / 32 * 32 : 0;
}

/* The next larger mesh of the same family, or NULL. */
static const char *larger_mesh(const HwDevice *dev) {
    static const char *const wormhole[] = {"wormhole_n150", "wormhole_n300", "wormhole_t3k", "wormhole_galaxy"};
    for (int i = 0; i < 3; i++)
        if (strcmp(dev->name, wormhole[i]) == 0) return wormhole[i + 1];
    return NULL;
}

/* Fixes for a cache of `cache` bytes (of a total `need`) against `capacity`: a narrower cache
 * format, the largest --max-seq whose cache fits (context_that_fits), and a larger mesh. `module` is what the
 * kv_cache.dtype --set names: the module itself, or "attention" for all of them. */
static void kv_fixes(const EntryPlan *P, DevProblem *p, const char *module, int64_t cache, int64_t need,
                     int64_t capacity, int mesh) {
    int dtype = TTC_F32;
    int64_t ctx = cache_context(P->g, &dtype);
    if (!p || ctx <= 0 || cache <= 0) return;
    static const struct { int dtype; const char *name, *note; } narrower[] = {
        {TTC_BFP8, "bfp8", "the KV cache in bfp8_b: 1088 bytes per tile, one exponent per 16 values"},
        {TTC_BF16, "bf16", "the KV cache in bf16: 2048 bytes per tile"},
    };
    for (int i = 0; i < 2; i++) {
        if (dtype >= narrower[i].dtype) continue;
        AdviceChange *f = dev_problem_fix(p);
        advice_change_set(f, "%s.kv_cache.dtype=%s", module, narrower[i].name);
        snprintf(f->note, sizeof f->note, "%s", narrower[i].note);
    }
    int64_t m = context_that_fits(ctx, cache, (double)(capacity - (need - cache)));
    if (m >= 32 && m < ctx) {
        AdviceChange *f = dev_problem_fix(p);
        f->max_seq = m;
        snprintf(f->note, sizeof f->note, "a shorter context: a KV cache of fewer than %lld tokens", (long long)ctx);
    }
    const char *bigger = mesh ? larger_mesh(P->dev) : NULL;
    if (bigger) snprintf(dev_problem_fix(p)->device, sizeof p->fixes[0].device, "%s", bigger);
}

/* The message and suggestion for module `own` whose op at slot s needs `need` bytes per core. */
static void l1_problem(const EntryPlan *P, int s, int with_resident, const char *own, DevProblems *ps) {
    const Graph *g = P->g;
    const HwDevice *dev = P->dev;
    int64_t usable = dev->l1_bytes, need = l1_need(P, s, with_resident);
    char a[32], b[32], c[32], t[32], text[768] = "", hint[1024] = "";
    const IrOp *op = &g->ops[P->first_op - 1 + s];
    dev_bytes_pair_str(need, usable, a, b, sizeof a);
    ttc_str_append(text, sizeof text, "L1 needs %s per core, %s has %s usable (at '%s': circular buffers %s, L1 "
                   "tensors %s)", a, dev->name, b, op->d.path, dev_bytes_str(P->cb[s], c, sizeof c),
                   dev_bytes_str(need - P->cb[s], t, sizeof t));
    ModBytes *mods = calloc((size_t)g->n_vals + 1, sizeof *mods);
    int n = mods ? live_l1_by_module(P, s, with_resident, own, mods) : 0;
    int64_t left = need;
    AdviceChange to_dram = {0}, narrow = {0}, shard = {0};
    for (int i = 0; i < n && left > usable; i++) {
        left -= mods[i].bytes;
        advice_change_set(&to_dram, "%s.memory=dram", mods[i].module);
        char f[32];
        if (mods[i].own)
            ttc_str_append(hint, sizeof hint, "%sset memory: dram for it (--set %s.memory=dram, frees %s)",
                hint[0] ? "; and " : "", mods[i].module, dev_bytes_str(mods[i].bytes, f, sizeof f));
        else
            ttc_str_append(hint, sizeof hint, "%sset memory: dram for module '%s' (--set %s.memory=dram, frees %s)",
                hint[0] ? "; and " : "", mods[i].module, mods[i].module, dev_bytes_str(mods[i].bytes, f, sizeof f));
    }
    if (P->cb[s] > usable) {
        ttc_str_append(hint, sizeof hint, "%sits circular buffers alone need %s: use narrower formats "
                       "(activation_dtype: bf16, weight_dtype: bfp8)", hint[0] ? "; " : "",
                       dev_bytes_str(P->cb[s], c, sizeof c));
        advice_change_set(&narrow, "%s.activation_dtype=bf16", own);
        advice_change_set(&narrow, "%s.weight_dtype=bfp8", own);
    }
    /* Sharding changes how the module's own tensors spread over the cores: offer the best one
     * when it alone would make the op fit. */
    int64_t cur = own_bytes_sharded(P, s, own, -1), best = cur;
    static const int modes[3] = {HW_SHARD_HEIGHT, HW_SHARD_WIDTH, HW_SHARD_BLOCK};
    int best_mode = -1;
    for (int i = 0; i < 3 && cur > 0; i++) {
        int64_t alt = own_bytes_sharded(P, s, own, modes[i]);
        if (alt < best) {
            best = alt;
            best_mode = modes[i];
        }
    }
    if (best_mode >= 0 && need - cur + best <= usable) {
        ttc_str_append(hint, sizeof hint, ", or shard it over the cores (sharding: %s)",
                       hw_value_name(HW_F_sharding, best_mode));
        advice_change_set(&shard, "%s.sharding=%s", own, hw_value_name(HW_F_sharding, best_mode));
        snprintf(shard.note, sizeof shard.note, "its L1 tensors split over the cores");
    }
    snprintf(to_dram.note, sizeof to_dram.note, "memory: dram, tensors streamed through circular buffers");
    snprintf(narrow.note, sizeof narrow.note, "narrower tiles for its circular buffers");
    free(mods);
    DevProblem *p = dev_problem_add(ps, P->entry, 0, own, text, hint);
    const AdviceChange *fixes[] = {&shard, &to_dram, &narrow};
    for (int i = 0; p && i < 3; i++)
        if (fixes[i]->n_sets) *dev_problem_fix(p) = *fixes[i];
    /* A KV cache resident in L1 crowds the op out: a smaller cache is the other way. */
    int64_t cache = 0;
    for (int v = 0; v < g->n_vals; v++)
        if (P->l1_core[v] && P->vals[v].persistent && g->vals[v].d.kind == TTC_TENSOR_STATE) cache += P->l1_core[v];
    if (with_resident && cache > 0) kv_fixes(P, p, "attention", cache, need, usable, 0);
}

/* Weights and caches configured `memory: l1` that cannot all be resident: per module when one
 * module's alone do not fit, then once for the rest when together they do not. */
static void resident_problems(const EntryPlan *P, DevProblems *ps) {
    const Graph *g = P->g;
    const HwDevice *dev = P->dev;
    int64_t usable = dev->l1_bytes;
    ModBytes *mods = calloc((size_t)g->n_vals + 1, sizeof *mods);
    if (!mods) {
        ps->oom = 1;
        return;
    }
    int n = 0;
    for (int v = 0; v < g->n_vals; v++) {
        if (!P->l1_core[v] || !P->vals[v].persistent) continue;
        char m[TTC_NAME_MAX];
        dev_module_of(&g->ops[P->vals[v].owner_op], m, sizeof m);
        int i = 0;
        while (i < n && strcmp(mods[i].module, m) != 0) i++;
        if (i == n) {
            snprintf(mods[n].module, sizeof mods[0].module, "%s", m);
            mods[n++].type = g->ops[P->vals[v].owner_op].module_type;
        }
        mods[i].bytes += P->l1_core[v];
        mods[i].cache |= g->vals[v].d.kind == TTC_TENSOR_STATE;
        mods[i].weights |= g->vals[v].d.kind == TTC_TENSOR_WEIGHT;
    }
    int64_t rest = 0, by_type[6] = {0};
    int rest_n = 0;
    char a[32], b[32], text[512], hint[768] = "";
    for (int i = 0; i < n; i++) {
        if (mods[i].bytes <= usable) {
            rest += mods[i].bytes;
            rest_n++;
            for (int t = 0; t < 6; t++) by_type[t] += strcmp(mods[i].type, hw_module_types[t]) == 0 ? mods[i].bytes : 0;
            continue;
        }
        const char *what = mods[i].weights && mods[i].cache ? "weights and KV cache"
                           : mods[i].cache                  ? "KV cache"
                                                            : "weights";
        dev_bytes_pair_str(mods[i].bytes, usable, a, b, sizeof a);
        snprintf(text, sizeof text, "%s need %s per core in L1 (interleaved over %d cores), %s has %s usable", what, a,
                 dev_cores(dev), dev->name, b);
        snprintf(hint, sizeof hint, "set memory: dram for it (--set %s.memory=dram): the %s then stay%s in DRAM and "
                 "stream through circular buffers", mods[i].module, what, mods[i].cache && !mods[i].weights ? "s" : "");
        DevProblem *p = dev_problem_add(ps, P->entry, 0, mods[i].module, text, hint);
        AdviceChange *f = p ? dev_problem_fix(p) : NULL;
        if (f) advice_change_set(f, "%s.memory=dram", mods[i].module);
        if (f) snprintf(f->note, sizeof f->note, "the %s then stay%s in DRAM and stream through circular buffers", what,
                        mods[i].cache && !mods[i].weights ? "s" : "");
        if (p && mods[i].cache) kv_fixes(P, p, mods[i].module, mods[i].bytes, mods[i].bytes, usable, 0);
        hint[0] = 0;
    }
    if (rest > usable) {
        dev_bytes_pair_str(rest, usable, a, b, sizeof a);
        snprintf(text, sizeof text, "the L1-resident weights and KV caches of %d modules need %s per core together, "
                 "%s has %s usable", rest_n, a, dev->name, b);
        /* The module types holding the most, until what is left fits. */
        AdviceChange types = {0};
        for (int left = 1; left && rest > usable;) {
            int t = 0;
            for (int u = 1; u < 6; u++)
                if (by_type[u] > by_type[t]) t = u;
            left = by_type[t] > 0;
            if (!left) break;
            ttc_str_append(hint, sizeof hint, "%sset memory: dram for %s (--set %s.memory=dram, frees %s)",
                hint[0] ? "; and " : "", hw_module_types[t], hw_module_types[t],
                dev_bytes_str(by_type[t], a, sizeof a));
            advice_change_set(&types, "%s.memory=dram", hw_module_types[t]);
            rest -= by_type[t];
            by_type[t] = 0;
        }
        DevProblem *p = dev_problem_add(ps, P->entry, 0, "", text, hint);
        snprintf(types.note, sizeof types.note, "memory: dram for the module types holding the most");
        if (p && types.n_sets) *dev_problem_fix(p) = types;
    }
    free(mods);
}

static void find_l1_problems(const EntryPlan *P, DevProblems *ps) {
    const Graph *g = P->g;
    int64_t usable = P->dev->l1_bytes;
    /* Once the resident region alone overflows, every op would; judge the ops without it so
     * that each further problem is its own, not an echo of the first. */
    int with_resident = P->resident <= usable;
    if (!with_resident) resident_problems(P, ps);
    int n = P->n_slots;
    char (*mod)[TTC_NAME_MAX] = calloc((size_t)n, sizeof *mod);
    int *worst = calloc((size_t)n, sizeof *worst), n_mod = 0;
    if (!mod || !worst) {
        free(mod);
        free(worst);
        ps->oom = 1;
        return;
    }
    for (int s = 1; s < n; s++) {
        if (l1_need(P, s, with_resident) <= usable) continue;
        char m[TTC_NAME_MAX];
        dev_module_of(&g->ops[P->first_op - 1 + s], m, sizeof m);
        int i = 0;
        while (i < n_mod && strcmp(mod[i], m) != 0) i++;
        if (i == n_mod) {
            snprintf(mod[n_mod], TTC_NAME_MAX, "%s", m);
            worst[n_mod++] = s;
        } else if (l1_need(P, s, with_resident) > l1_need(P, worst[i], with_resident)) {
            worst[i] = s;
        }
    }
    for (int i = 0; i < n_mod; i++) l1_problem(P, worst[i], with_resident, mod[i], ps);
    free(mod);
    free(worst);
}

/* ---- DRAM ---- */

/* DRAM bytes of the entry's DRAM weights if matmul weights were `dtype`: of the ffn only, or
 * of every module; *now gets what they take today. */
static int64_t weights_as(const EntryPlan *P, int dtype, int ffn_only, int64_t *now) {
    const Graph *g = P->g;
    int64_t alt = 0;
    *now = 0;
    for (int k = P->first_op; k < P->first_op + P->n_slots - 1; k++) {
        const IrOp *op = &g->ops[k];
        if (op->d.kind != TTC_OP_LINEAR || (ffn_only && strcmp(op->module_type, "ffn") != 0)) continue;
        const DevValue *w = &P->vals[op->d.in[1]];
        if (w->t.memory != TTC_MEM_DRAM || w->owner_op != k) continue;
        TtcTensorDesc d = g->vals[op->d.in[1]].d;
        int cur = d.dtype;
        d.dtype = cur < dtype ? dtype : cur; /* dtypes run wide to narrow: never suggest a wider one */
        DevTensor t = dev_tensor(&d, w->t.layout, TTC_MEM_DRAM, HW_SHARD_AUTO);
        *now += dev_dram_per_chip(&w->t, P->dev);
        alt += dev_dram_per_chip(&t, P->dev);
    }
    return alt;
}

/* When no single change is enough (a large model with a long context): bfp8 weights and cache
 * together, with the longest context they leave room for. */
static void combined_fix(const EntryPlan *P, DevProblem *p, int64_t need, int64_t cache) {
    int dtype = TTC_F32;
    int64_t ctx = cache_context(P->g, &dtype), now, alt = weights_as(P, TTC_BFP8, 0, &now);
    int64_t cache_new = dtype < TTC_BFP8 ? cache / dev_tile_bytes(dtype) * dev_tile_bytes(TTC_BFP8) : cache;
    int64_t rest = need - cache - now + alt; /* all but the cache, with bfp8 weights */
    if (alt >= now && cache_new >= cache) return;
    AdviceChange *f = dev_problem_fix(p);
    if (alt < now) advice_change_set(f, "defaults.weight_dtype=bfp8");
    if (cache_new < cache) advice_change_set(f, "attention.kv_cache.dtype=bfp8");
    if (rest + cache_new > P->dev->dram_bytes && cache_new > 0 && rest < P->dev->dram_bytes) {
        int64_t m = context_that_fits(ctx, cache_new, (double)(P->dev->dram_bytes - rest));
        if (m >= 32 && m < ctx) f->max_seq = m;
    }
    snprintf(f->note, sizeof f->note, "bfp8 weights and KV cache%s", f->max_seq ? ", and a shorter context" : "");
}

static void find_dram_problem(const EntryPlan *P, int64_t need, DevProblems *ps) {
    const Graph *g = P->g;
    const HwDevice *dev = P->dev;
    int s_peak = 0;
    for (int s = 0; s < P->n_slots; s++)
        if (P->dram[s] > P->dram[s_peak]) s_peak = s;
    int64_t weights = 0, cache = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const DevValue *dv = &P->vals[v];
        if (!dv->used || !dv->persistent || dv->t.memory != TTC_MEM_DRAM) continue;
        int64_t b = dev_dram_per_chip(&dv->t, dev);
        if (g->vals[v].d.kind == TTC_TENSOR_STATE) cache += b;
        else weights += b;
    }
    char a[32], b[32], w[32], c[32], x[32], text[512], hint[768] = "";
    dev_bytes_pair_str(need, dev->dram_bytes, a, b, sizeof a);
    snprintf(text, sizeof text,
             "DRAM needs %s per chip, %s has %s (weights %s, KV cache %s, activations %s at the peak)", a, dev->name, b,
             dev_bytes_str(weights, w, sizeof w), dev_bytes_str(cache, c, sizeof c),
             dev_bytes_str(P->dram[s_peak] - weights - cache, x, sizeof x));
    static const struct { int dtype, ffn_only; const char *what, *note;
    } alts[] = {
        {TTC_BFP8, 1,
         "weight_dtype: bfp8 for the ffn (--set ffn.weight_dtype=bfp8, as specs/hw/performance.yaml does)",
         "bfp8 ffn weights, as specs/hw/performance.yaml has them"},
        {TTC_BFP8, 0, "weight_dtype: bfp8 for every matmul (--set defaults.weight_dtype=bfp8)",
         "bfp8 weights for every matmul"},
        {TTC_BFP4, 0, "weight_dtype: bfp4 for every matmul (--set defaults.weight_dtype=bfp4; check accuracy)",
         "bfp4 weights for every matmul: check accuracy with ttc run --check"},
    };
    AdviceChange weight_fixes[3];
    int n_weight_fixes = 0;
    for (size_t i = 0; i < sizeof alts / sizeof alts[0]; i++) {
        int64_t now, alt = weights_as(P, alts[i].dtype, alts[i].ffn_only, &now);
        if (alt >= now) continue;
        AdviceChange *f = &weight_fixes[n_weight_fixes++];
        memset(f, 0, sizeof *f);
        advice_change_set(f, "%s.weight_dtype=%s", alts[i].ffn_only ? "ffn" : "defaults",
                          alts[i].dtype == TTC_BFP8 ? "bfp8" : "bfp4");
        snprintf(f->note, sizeof f->note, "%s", alts[i].note);
        if (!hint[0] && need - now + alt <= dev->dram_bytes)
            snprintf(hint, sizeof hint, "set %s: DRAM would need %s", alts[i].what,
                     dev_bytes_str(need - now + alt, a, sizeof a));
    }
    /* A cache that is most of the need is shrunk, not moved to a bigger system. */
    int kv_first = cache > weights;
    if (!hint[0] && cache > 0) {
        int dtype = TTC_F32;
        int64_t ctx = cache_context(g, &dtype);
        int64_t m = context_that_fits(ctx, cache, (double)(dev->dram_bytes - (need - cache)));
        if (m >= 32 && m < ctx)
            snprintf(hint, sizeof hint, "shrink the KV cache of %s tokens: a shorter context (--max-seq %lld), or "
                     "kv_cache.dtype: bfp8 (--set attention.kv_cache.dtype=bfp8)", dev_bytes_str(cache, c, sizeof c),
                     (long long)m);
        else if (dtype < TTC_BFP8)
            snprintf(hint, sizeof hint, "shrink the KV cache (%s): kv_cache.dtype: bfp8 (--set "
                     "attention.kv_cache.dtype=bfp8)", dev_bytes_str(cache, c, sizeof c));
    }
    if (!hint[0]) snprintf(hint, sizeof hint, "the model needs a system with more DRAM per chip, or its weights split "
                           "over several chips");
    if (dev->chips > 1)
        ttc_str_append(hint, sizeof hint, "; these are per-chip figures after tensor parallelism over the %d chips "
                       "of %s: modules set to sharding: replicate hold a whole copy on every chip", dev->chips,
                       dev->name);
    DevProblem *p = dev_problem_add(ps, P->entry, 1, "", text, hint);
    if (kv_first) kv_fixes(P, p, "attention", cache, need, dev->dram_bytes, 0);
    for (int i = 0; p && i < n_weight_fixes; i++) *dev_problem_fix(p) = weight_fixes[i];
    if (!kv_first) kv_fixes(P, p, "attention", cache, need, dev->dram_bytes, 0);
    if (p && cache > 0) combined_fix(P, p, need, cache);
    /* The next two larger meshes: ttc check shows the smallest that fits. */
    const HwDevice *from = dev;
    HwDevice next;
    for (int i = 0; p && i < 2 && larger_mesh(from); i++) {
        AdviceChange *f = dev_problem_fix(p);
        snprintf(f->device, sizeof f->device, "%s", larger_mesh(from));
        snprintf(f->note, sizeof f->note, "tensor parallel over more chips");
        snprintf(next.name, sizeof next.name, "%s", f->device);
        from = &next;
    }
}

static void print_entry(const EntryPlan *P, int64_t l1_peak, int64_t dram_peak) {
    const Graph *g = P->g;
    int s_peak = 0;
    for (int s = 0; s < P->n_slots; s++)
        if (l1_need(P, s, 1) > l1_need(P, s_peak, 1)) s_peak = s;
    char a[32], b[32], c[32], d[32], e[32];
    fprintf(stderr, "device memory (%s) on %s: L1 peak %s per core at '%s' (circular buffers %s, resident %s, "
            "tensors %s); DRAM peak %s per chip\n", g->entries[P->entry].name, P->dev->name,
            dev_bytes_str(l1_peak, a, sizeof a), s_peak ? g->ops[P->first_op - 1 + s_peak].d.path : "(inputs)",
            dev_bytes_str(P->cb[s_peak], b, sizeof b), dev_bytes_str(P->resident, c, sizeof c),
            dev_bytes_str(P->extent[s_peak], d, sizeof d), dev_bytes_str(dram_peak, e, sizeof e));
    for (int v = 0; v < g->n_vals; v++)
        if (P->l1_core[v])
            fprintf(stderr, "  L1 %%%-5d %-44s ops %5d..%-5d %10lld B/core at -%lld\n", v, g->vals[v].d.name,
                    P->vals[v].first, P->vals[v].last, (long long)P->l1_core[v],
                    (long long)(P->vals[v].persistent ? 0 : P->resident + P->offset[v]));
}

/* Plans every entry point, sets their peaks and collects (unmerged) what does not fit. */
static int collect_problems(Graph *g, const HwConfig *hw, int verbose, DevProblems *ps) {
    const HwDevice *dev = &hw->device;
    int *sharding = dev_resolve_sharding(g, hw);
    int rc = sharding ? 0 : -1;
    int64_t worst_dram = -1;
    EntryPlan worst;
    memset(&worst, 0, sizeof worst);
    for (int e = 0; e < g->n_entries && rc == 0; e++) {
        EntryPlan P;
        if (entry_plan_build(&P, g, dev, e, sharding) != 0) {
            entry_plan_free(&P);
            rc = -1;
            break;
        }
        int64_t l1_peak = 0, dram_peak = 0;
        for (int s = 0; s < P.n_slots; s++) {
            if (l1_need(&P, s, 1) > l1_peak) l1_peak = l1_need(&P, s, 1);
            if (P.dram[s] > dram_peak) dram_peak = P.dram[s];
        }
        g->entries[e].l1_peak_bytes = l1_peak;
        g->entries[e].dram_peak_bytes = dram_peak;
        find_l1_problems(&P, ps);
        if (verbose) print_entry(&P, l1_peak, dram_peak);
        if (dram_peak > worst_dram) {
            entry_plan_free(&worst);
            worst = P;
            worst_dram = dram_peak;
        } else {
            entry_plan_free(&P);
        }
    }
    if (rc == 0 && worst_dram > dev->dram_bytes) find_dram_problem(&worst, worst_dram, ps);
    entry_plan_free(&worst);
    free(sharding);
    return rc != 0 || ps->oom ? -1 : 0;
}

int dev_memory_problems(Graph *g, const HwConfig *hw, int verbose, DevProblems *ps) {
    memset(ps, 0, sizeof *ps);
    if (collect_problems(g, hw, verbose, ps) != 0) return -1;
    dev_problems_merge(g, ps);
    return ps->oom ? -1 : 0;
}

int pass_device_memory(Graph *g, PassCtx *cx) {
    if (!cx->hw) return 0; /* graphs built by tests without a configuration have no device */
    int errors_before = cx->diags->n_errors;
    DevProblems ps = {0};
    if (collect_problems(g, cx->hw, cx->verbose, &ps) != 0) {
        DiagLoc none = {0};
        diag_error(cx->diags, none, "out of memory");
        dev_problems_free(&ps);
        return -1;
    }
    cx->misfit_first = cx->diags->n;
    dev_problems_report(g, &ps, cx->allow_misfit, cx->diags);
    cx->n_misfits = cx->diags->n - cx->misfit_first;
    dev_problems_free(&ps);
    return cx->diags->n_errors > errors_before ? -1 : 0;
}
