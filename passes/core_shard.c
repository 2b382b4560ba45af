/* core_shard.c: the `core-shard` pass: where each activation lives on its chip's core grid
 * (DEVICE.md §2): DRAM interleaved, L1 interleaved, or L1 height / width / block sharded over a
 * grid of cores. The choice is recorded in IrValue.place; `device-memory` and `cost` read it.
 *
 * Greedy policy, per entry point, activations in program order (the order the device allocator
 * places L1 tensors in, see device_memory.c):
 *   - pinned by the overlays: `memory: dram` keeps the value in DRAM; `sharding: height|width|
 *     block` puts it in L1 with that sharding; `memory: l1` puts it in L1 (the policy picks the
 *     sharding). A pinned value is placed even when it does not fit: `device-memory` then says
 *     which module to change, as it does for any L1 configuration.
 *   - otherwise the first candidate that fits L1 wins: the sharding of the op's first L1-sharded
 *     input (no reshard), then the shardings by smallest per-core share, then L1 interleaved, then
 *     DRAM interleaved (always possible). Graph outputs stay in DRAM, where the host reads them.
 *   - "fits" is the device's own test: each L1 tensor takes the lowest free offset below the
 *     resident region (weights and caches configured `memory: l1`) that clears every L1 tensor
 *     live with it, and at every op of its lifetime circular buffers + resident + its top must
 *     stay within the usable L1. Later tensors never move earlier ones, so what fit stays fit.
 * Reshards: an op pinned to a sharding needs its activation inputs in it, and an elementwise or
 * row-wise op with a sharded output needs its same-shaped inputs sharded alike (its cores read
 * only their own shard). An input sharded otherwise gets a RESHARD op (numerically the identity;
 * it costs NoC traffic) just before the consumer. Interleaved inputs need none: a reader kernel
 * fetches their pages wherever they are.
 * After inserting the reshards the pass checks each entry with the device-memory model itself
 * and moves the policy's largest L1 tensor at any overflowing op to DRAM until none overflows
 * (the policy's model counts a reshard's output as live at its consumer only, which is close but
 * not exact). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_layout.h"
#include "live_index.h"
#include "pass.h"

typedef struct Placed {
    int v; /* value, or -1 for a reshard's output not yet in the graph */
    int first, last;
    int64_t bytes, offset;
} Placed;

/* A reshard to insert before op `consumer`: value `src` moved to `to`; or, when `reuse` >= 0, the
 * consumer reads the output of reshard `reuse` (the same move made earlier for another reader). */
typedef struct Reshard {
    int consumer, src, input_mask, reuse, placed, keep_last;
    IrPlacement to;
} Reshard;

typedef struct Policy {
    Graph *g;
    const HwDevice *dev;
    int verbose;
    int first_op, last_op;
    DevValue *vals;
    int64_t resident, *cb; /* per op (global index): circular buffers, the largest of it and a reshard before it */
    Placed *placed;
    int n_placed;
    LiveIndex live; /* placed[j].last at slot j (slots from n_placed on are stale: never searched) */
    int *mem_pin, *shard_pin; /* per op: -1 or TtcMemory; 0 or HwSharding height/width/block */
    Reshard *rs;
    int n_rs, cap_rs, rs_entry; /* rs[rs_entry..] belong to the entry being planned */
    int counts[4]; /* dram, l1 interleaved, l1 sharded, reshards */
} Policy;

static int is_shard(int s) { return s == HW_SHARD_HEIGHT || s == HW_SHARD_WIDTH || s == HW_SHARD_BLOCK; }

/* Ops whose cores each work on their own rows (or elements) of same-shaped tensors: a sharded
 * output needs the inputs sharded alike. */
static int rowwise(int kind) {
    switch (kind) {
    case TTC_OP_ADD:
    case TTC_OP_MUL:
    case TTC_OP_GELU:
    case TTC_OP_GELU_TANH:
    case TTC_OP_SILU:
    case TTC_OP_RELU:
    case TTC_OP_TANH:
    case TTC_OP_SOFTMAX:
    case TTC_OP_LAYERNORM:
    case TTC_OP_RMSNORM:
    case TTC_OP_ADD_LAYERNORM:
    case TTC_OP_ROPE:
    case TTC_OP_EPILOGUE: return 1;
    default: return 0;
    }
}

static IrPlacement placement(const Policy *P, const DevTensor *t, int memory, int sharding, int pinned) {
    IrPlacement p = {1, (int8_t)memory, 0, (int8_t)pinned, 0, 0};
    if (memory == TTC_MEM_L1 && is_shard(sharding)) {
        int gy, gx;
        dev_shard_grid(t, P->dev, sharding, &gy, &gx);
        p.sharding = (int8_t)sharding;
        p.grid_y = (int16_t)gy;
        p.grid_x = (int16_t)gx;
    }
    return p;
}

static int same_place(const IrPlacement *a, const IrPlacement *b) {
    return a->memory == b->memory && a->sharding == b->sharding && a->grid_y == b->grid_y && a->grid_x == b->grid_x;
}

static int64_t per_core(const Policy *P, const DevTensor *t, const IrPlacement *p) {
    if (p->memory != TTC_MEM_L1) return 0;
    DevTensor u = *t;
    u.memory = TTC_MEM_L1;
    u.sharding = p->sharding;
    u.grid_y = p->grid_y;
    u.grid_x = p->grid_x;
    return dev_l1_per_core(&u, P->dev);
}

/* Places `bytes` per core live over ops [first, last] at the lowest offset clear of every placed
 * tensor live with it (first fit, as device_memory.c's allocator), and returns whether the L1 at
 * each of those ops still holds circular buffers (cb_at_first for op `first`) + resident + it. */
static int push_fits(Policy *P, int v, int first, int last, int64_t bytes, int64_t cb_at_first) {
    int64_t at = 0;
    for (int moved = 1; moved;) { /* raise `at` past every overlapping tensor it collides with */
        moved = 0;
        /* only tensors still live at `first` can overlap: the same visits, in the same order, as
         * a scan of every placed tensor, minus those that end before `first` */
        for (int j = live_index_next(&P->live, 0, P->n_placed, first); j >= 0;
             j = live_index_next(&P->live, j + 1, P->n_placed, first)) {
            const Placed *q = &P->placed[j];
            if (q->first > last || first > q->last || q->offset >= at + bytes || q->offset + q->bytes <= at) continue;
            at = q->offset + q->bytes;
            moved = 1;
        }
    }
    live_index_set(&P->live, P->n_placed, last);
    P->placed[P->n_placed++] = (Placed){v, first, last, bytes, at};
    int64_t usable = P->dev->l1_bytes;
    for (int k = first; k <= last && k <= P->last_op; k++) {
        int64_t cb = k == first ? cb_at_first : P->cb[k];
        if (cb + P->resident + at + bytes > usable) return 0;
    }
    return 1;
}

/* What op k needs input value `in` to be (memory L1, sharded), given the op's output placement;
 * set 0 when any placement will do. */
static IrPlacement required(const Policy *P, int k, int in, const IrPlacement *out) {
    IrPlacement none = {0};
    const IrValue *v = &P->g->vals[in];
    const DevTensor *t = &P->vals[in].t;
    if (v->d.kind != TTC_TENSOR_ACT || v->d.alias >= 0) return none;
    if (P->shard_pin[k] && P->mem_pin[k] != TTC_MEM_DRAM) return placement(P, t, TTC_MEM_L1, P->shard_pin[k], 1);
    const IrOp *op = &P->g->ops[k];
    if (rowwise(op->d.kind) && out->memory == TTC_MEM_L1 && is_shard(out->sharding) &&
        ir_shape_equal(&v->d.shape, &P->g->vals[op->d.out].d.shape))
        return placement(P, t, TTC_MEM_L1, out->sharding, 0);
    return none;
}

static int add_reshard(Policy *P, int k, int src, int mask, IrPlacement to, int reuse) {
    if (P->n_rs == P->cap_rs) {
        int cap = P->cap_rs ? 2 * P->cap_rs : 16;
        Reshard *r = realloc(P->rs, (size_t)cap * sizeof *r);
        if (!r) return -1;
        P->rs = r;
        P->cap_rs = cap;
    }
    P->rs[P->n_rs++] = (Reshard){k, src, mask, reuse, P->n_placed, 0, to};
    return 0;
}

/* Tries output placement `out` for op k: the reshards it implies, then the output, each placed
 * first fit. Keeps them and returns 1 when everything fits (or `force`), else undoes them. */
static int try_output(Policy *P, int k, IrPlacement out, int force) {
    const IrOp *op = &P->g->ops[k];
    int mark = P->n_placed, rs_mark = P->n_rs, ok = 1;
    int64_t cb = P->cb[k];
    for (int i = 0; i < op->d.n_in; i++) {
        int in = op->d.in[i], seen = 0;
        for (int j = 0; j < i; j++) seen |= op->d.in[j] == in;
        const IrPlacement *have = &P->g->vals[in].place;
        if (seen || !have->set || have->memory != TTC_MEM_L1 || !is_shard(have->sharding)) continue;
        IrPlacement want = required(P, k, in, &out);
        if (!want.set || same_place(have, &want)) continue;
        int mask = 0;
        for (int j = i; j < op->d.n_in; j++) mask |= (op->d.in[j] == in) << j;
        /* the reshard's program: two tiles in, two out, double-buffered */
        int reuse = -1;
        for (int r = P->rs_entry; r < P->n_rs && reuse < 0; r++)
            if (P->rs[r].reuse < 0 && P->rs[r].src == in && same_place(&P->rs[r].to, &want)) reuse = r;
        if (add_reshard(P, k, in, mask, want, reuse) != 0) return -1;
        if (reuse >= 0) { /* one move serves every reader: its output now lives until this one */
            P->rs[P->n_rs - 1].keep_last = P->placed[P->rs[reuse].placed].last;
            P->placed[P->rs[reuse].placed].last = k;
            live_index_set(&P->live, P->rs[reuse].placed, k);
            continue;
        }
        int64_t rs_cb = 4 * dev_tile_bytes(P->g->vals[in].d.dtype);
        if (rs_cb > cb) cb = rs_cb;
        ok &= push_fits(P, -1, k, k, per_core(P, &P->vals[in].t, &want), cb);
    }
    int v = op->d.out;
    if (out.memory == TTC_MEM_L1) ok &= push_fits(P, v, P->vals[v].first, P->vals[v].last,
                                                  per_core(P, &P->vals[v].t, &out), cb);
    if (ok || force) {
        P->cb[k] = cb;
        P->g->vals[v].place = out;
        return 1;
    }
    for (int r = rs_mark; r < P->n_rs; r++) /* undo lifetimes extended for reused reshards */
        if (P->rs[r].reuse >= 0) {
            int j = P->rs[P->rs[r].reuse].placed;
            P->placed[j].last = P->rs[r].keep_last;
            live_index_set(&P->live, j, P->placed[j].last);
        }
    P->n_placed = mark;
    P->n_rs = rs_mark;
    return 0;
}

static int place_op(Policy *P, int k) {
    Graph *g = P->g;
    const IrOp *op = &g->ops[k];
    int v = op->d.out;
    const DevTensor *t = &P->vals[v].t;
    if (g->vals[v].d.alias >= 0) { /* a view of the cache: where the cache is, no bytes of its own */
        g->vals[v].place = placement(P, t, P->vals[g->vals[v].d.alias].t.memory, 0, 1);
        return 0;
    }
    int mem = P->mem_pin[k], pin = P->shard_pin[k], rc;
    if (mem == TTC_MEM_DRAM || (mem < 0 && !pin && g->vals[v].d.role >= TTC_ROLE_HIDDEN))
        return try_output(P, k, placement(P, t, TTC_MEM_DRAM, 0, mem >= 0), 1) < 0 ? -1 : 0;
    if (pin) return try_output(P, k, placement(P, t, TTC_MEM_L1, pin, 1), 1) < 0 ? -1 : 0;
    /* candidates: the first sharded input's sharding, the shardings by per-core share, interleaved */
    int cand[5], n = 0;
    for (int i = 0; i < op->d.n_in && !n; i++) {
        const IrPlacement *p = &g->vals[op->d.in[i]].place;
        if (p->set && p->memory == TTC_MEM_L1 && is_shard(p->sharding)) cand[n++] = p->sharding;
    }
    int kinds[3] = {HW_SHARD_HEIGHT, HW_SHARD_WIDTH, HW_SHARD_BLOCK};
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++) {
            IrPlacement pa = placement(P, t, TTC_MEM_L1, kinds[a], 0), pb = placement(P, t, TTC_MEM_L1, kinds[b], 0);
            if (per_core(P, t, &pb) < per_core(P, t, &pa)) {
                int x = kinds[a];
                kinds[a] = kinds[b];
                kinds[b] = x;
            }
        }
    for (int a = 0; a < 3; a++)
        if (!n || kinds[a] != cand[0]) cand[n++] = kinds[a];
    cand[n++] = HW_SHARD_AUTO; /* L1 interleaved */
    for (int i = 0; i < n; i++)
        if ((rc = try_output(P, k, placement(P, t, TTC_MEM_L1, cand[i], mem >= 0), 0)) != 0) return rc < 0 ? -1 : 0;
    /* nothing fits: DRAM, unless the overlays asked for L1 (device-memory then reports it) */
    IrPlacement last = placement(P, t, mem == TTC_MEM_L1 ? TTC_MEM_L1 : TTC_MEM_DRAM, 0, mem >= 0);
    return try_output(P, k, last, 1) < 0 ? -1 : 0;
}

static int plan_entry(Policy *P, int e, const int *sharding) {
    Graph *g = P->g;
    const TtcEntry *en = &g->entries[e];
    P->first_op = en->first_op;
    P->last_op = en->first_op + en->n_ops - 1;
    for (int k = P->first_op; k <= P->last_op; k++) g->vals[g->ops[k].d.out].place.set = 0;
    dev_place_entry(g, e, sharding, P->vals);
    P->resident = 0;
    for (int v = 0; v < g->n_vals; v++)
        if (P->vals[v].used && P->vals[v].persistent && P->vals[v].t.memory == TTC_MEM_L1)
            P->resident += dev_l1_per_core(&P->vals[v].t, P->dev);
    for (int k = P->first_op; k <= P->last_op; k++) P->cb[k] = dev_cb_bytes(g, &g->ops[k]);
    P->n_placed = 0;
    P->rs_entry = P->n_rs;
    for (int k = P->first_op; k <= P->last_op; k++)
        if (place_op(P, k) != 0) return -1;
    return 0;
}

/* Inserts the reshards, each just before its consumer, renumbering ops and entry ranges. */
static int insert_reshards(Policy *P) {
    Graph *g = P->g;
    if (!P->n_rs) return 0;
    int n_ops = g->n_ops + P->n_rs;
    IrOp *ops = calloc((size_t)n_ops, sizeof *ops);
    int *new_index = calloc((size_t)g->n_ops + 1, sizeof *new_index);
    int *rs_val = calloc((size_t)P->n_rs, sizeof *rs_val); /* the value each reshard makes */
    if (!ops || !new_index || !rs_val) {
        free(ops);
        free(new_index);
        free(rs_val);
        return -1;
    }
    int at = 0, r = 0;
    for (int k = 0; k < g->n_ops; k++) {
        IrOp op = g->ops[k];
        for (; r < P->n_rs && P->rs[r].consumer == k; r++) {
            const Reshard *rs = &P->rs[r];
            if (rs->reuse >= 0) {
                rs_val[r] = rs_val[rs->reuse];
                for (int i = 0; i < op.d.n_in; i++)
                    if (rs->input_mask >> i & 1) op.d.in[i] = rs_val[r];
                continue;
            }
            /* named after its consumer, so that it reports under the consumer's module */
            char name[TTC_NAME_MAX], suffix[24];
            int sn = snprintf(suffix, sizeof suffix, ".reshard%d", r);
            size_t pn = strlen(op.d.path);
            if (pn + (size_t)sn >= sizeof name) pn = sizeof name - 1 - (size_t)sn;
            memcpy(name, op.d.path, pn);
            memcpy(name + pn, suffix, (size_t)sn + 1);
            int v = ir_add_act(g, name, op.entry);
            if (v < 0) {
                free(ops);
                free(new_index);
                free(rs_val);
                return -1;
            }
            rs_val[r] = v;
            IrValue *nv = &g->vals[v], *src = &g->vals[rs->src];
            char keep[TTC_NAME_MAX];
            memcpy(keep, nv->d.name, sizeof keep);
            nv->d = src->d; /* same shape, format and per-chip stacking: only the place differs */
            memcpy(nv->d.name, keep, sizeof keep);
            nv->d.role = TTC_ROLE_NONE;
            nv->d.offset = 0;
            nv->d.alias = -1;
            nv->place = rs->to;
            IrOp *ro = &ops[at++];
            memset(ro, 0, sizeof *ro);
            ro->d.kind = TTC_OP_RESHARD;
            memcpy(ro->d.path, name, sizeof name);
            memcpy(ro->module_type, op.module_type, sizeof ro->module_type);
            ro->d.n_in = 1;
            ro->d.in[0] = rs->src;
            ro->d.out = v;
            ro->d.cfg = op.d.cfg;
            ro->d.cfg.act_dtype = (uint8_t)src->d.dtype;
            ro->entry = op.entry;
            for (int i = 0; i < op.d.n_in; i++)
                if (rs->input_mask >> i & 1) op.d.in[i] = v;
        }
        new_index[k] = at;
        ops[at++] = op;
    }
    new_index[g->n_ops] = at;
    for (int e = 0; e < g->n_entries; e++) {
        TtcEntry *en = &g->entries[e];
        int end = en->first_op + en->n_ops; /* the new range starts at the first reshard of its first op */
        int first = en->first_op == 0 ? 0 : new_index[en->first_op - 1] + 1;
        int last = end == 0 ? 0 : new_index[end - 1] + 1;
        en->first_op = first;
        en->n_ops = last - first;
    }
    free(g->ops);
    g->ops = ops;
    g->n_ops = g->cap_ops = at;
    free(new_index);
    free(rs_val);
    for (int k = 0; k < g->n_ops; k++) g->vals[g->ops[k].d.out].producer = k;
    return 0;
}

/* The safety net (see the header comment): 0, or -1 out of memory. */
static int settle(Policy *P, const int *sharding) {
    Graph *g = P->g;
    for (int e = 0; e < g->n_entries; e++) {
        for (;;) {
            int k = dev_l1_overflow_op(g, P->dev, e, sharding);
            if (k == -2) return -1;
            if (k < 0) break;
            dev_place_entry(g, e, sharding, P->vals);
            int worst = -1;
            int64_t worst_bytes = 0;
            for (int v = 0; v < g->n_vals; v++) {
                const IrPlacement *p = &g->vals[v].place;
                const DevValue *dv = &P->vals[v];
                if (!p->set || p->pinned || p->memory != TTC_MEM_L1 || !dv->used || dv->first > k || dv->last < k)
                    continue;
                int64_t b = dev_l1_per_core(&dv->t, P->dev);
                if (b > worst_bytes) {
                    worst_bytes = b;
                    worst = v;
                }
            }
            if (worst < 0) break; /* only pinned tensors left: device-memory reports it */
            g->vals[worst].place = placement(P, &P->vals[worst].t, TTC_MEM_DRAM, 0, 0);
        }
    }
    return 0;
}

static void log_choices(const Policy *P) {
    const Graph *g = P->g;
    int n[3] = {0}, kinds[3] = {0}, reshards = 0;
    for (int k = 0; k < g->n_ops; k++) {
        const IrValue *v = &g->vals[g->ops[k].d.out];
        char tag[48];
        if (!v->place.set || v->d.alias >= 0) continue; /* views of the cache have no bytes */
        int c = v->place.memory != TTC_MEM_L1 ? 0 : is_shard(v->place.sharding) ? 2 : 1;
        n[c]++;
        if (c == 2) kinds[v->place.sharding - HW_SHARD_HEIGHT]++;
        reshards += g->ops[k].d.kind == TTC_OP_RESHARD;
        fprintf(stderr, "  %%%-5d %-48s %-18s %s\n", g->ops[k].d.out, g->ops[k].d.path,
                ir_placement_str(&v->place, tag, sizeof tag),
                g->ops[k].d.kind == TTC_OP_RESHARD ? "reshard" : v->place.pinned ? "pinned by the overlays" : "");
    }
    fprintf(stderr, "core-shard: %d activations in L1 sharded (height %d, width %d, block %d), %d L1 interleaved, "
            "%d DRAM; %d reshards\n", n[2], kinds[0], kinds[1], kinds[2], n[1], n[0], reshards);
}

int pass_core_shard(Graph *g, PassCtx *cx) {
    if (!cx->hw) return 0; /* no device: nothing to place on */
    Policy P;
    memset(&P, 0, sizeof P);
    P.g = g;
    P.dev = &cx->hw->device;
    size_t nv = (size_t)g->n_vals + 1, no = (size_t)g->n_ops + 1;
    int *sharding = dev_resolve_sharding(g, cx->hw);
    P.vals = calloc(nv, sizeof *P.vals);
    /* per entry, each op places at most its output and a reshard per input */
    P.placed = calloc(no * (TTC_MAX_OP_INPUTS + 1), sizeof *P.placed);
    P.cb = calloc(no, sizeof *P.cb);
    P.mem_pin = calloc(no, sizeof *P.mem_pin);
    P.shard_pin = calloc(no, sizeof *P.shard_pin);
    int rc = sharding && P.vals && P.placed && P.cb && P.mem_pin && P.shard_pin &&
                     live_index_init(&P.live, (int)(no * (TTC_MAX_OP_INPUTS + 1))) == 0
                 ? 0
                 : -1;
    for (int k = 0; rc == 0 && k < g->n_ops; k++) {
        HwResolved r;
        hw_resolve(cx->hw, g->ops[k].d.path, g->ops[k].module_type, g->entries[g->ops[k].entry].mode, &r);
        P.mem_pin[k] = dev_field_pinned(&r, HW_F_memory) ? r.v[HW_F_memory] : -1;
        P.shard_pin[k] = is_shard(r.v[HW_F_sharding]) ? r.v[HW_F_sharding] : 0;
    }
    for (int e = 0; rc == 0 && e < g->n_entries; e++) rc = plan_entry(&P, e, sharding);
    if (rc == 0) rc = insert_reshards(&P);
    if (rc == 0) {
        /* the value array may have grown */
        free(P.vals);
        P.vals = calloc((size_t)g->n_vals + 1, sizeof *P.vals);
        rc = P.vals ? 0 : -1;
        if (rc == 0) {
            free(sharding);
            sharding = dev_resolve_sharding(g, cx->hw);
            rc = sharding ? settle(&P, sharding) : -1;
        }
    }
    if (rc == 0 && cx->verbose) log_choices(&P);
    free(sharding);
    free(P.vals);
    free(P.placed);
    live_index_free(&P.live);
    free(P.cb);
    free(P.mem_pin);
    free(P.shard_pin);
    free(P.rs);
    if (rc != 0) {
        DiagLoc none = {0};
        diag_error(cx->diags, none, "out of memory");
    }
    return rc;
}
