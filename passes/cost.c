/* cost.c: the `cost` pass: the analytic cost model of DEVICE.md §6, per op, per chip.
 *
 *   compute = tile_products * 16 * fidelity_phases / cores_used
 *   noc     = bytes received per core / noc_bytes_per_cycle
 *   dram    = DRAM bytes moved / (dram_gbps / clock_ghz)
 *   cycles  = max(compute, noc, dram) + the fixed DRAM latency (when the op moves DRAM bytes)
 *
 * Every figure is taken at the plan's upper-bound shapes (--batch, --seq, --max-seq): the model
 * answers "how long does the largest step this plan allows take". A decode step therefore reads
 * the whole KV cache up to --max-seq, which is what the last token of a full context costs.
 *
 * Matmuls (linear; attn_scores and attn_context as batches of per-head matmuls):
 *   tile_products = batch * row_tiles * k_tiles * n_tiles, where an activation with fewer than 32
 *     rows counts max(rows, 8) / 32 of a row tile: the matrix unit works in 8-row passes, so a
 *     1-token decode step still pays for 8 rows (DEVICE.md §1);
 *   cores_used = min(cores, output tiles); phases = 1, 2, 3, 4 for LoFi..HiFi4;
 *   each core computes a block of output tiles and receives the activation rows and weight
 *     columns of its block: the squarest block that holds its share, or whole matmuls when it has
 *     several (attention heads).
 * Other ops run on the vector unit: output tiles * cycles per tile (table below) / cores_used,
 * and each core receives its share of every input (all of a norm's gamma and beta).
 * DRAM bytes: every input that lives in DRAM is read once and a DRAM output written once, except
 * that a gather reads only the rows it looks up and a cache update writes only the new rows.
 *
 * Per chip under tensor parallelism: a stacked value (passes/shard.h) counts one chip's slice, so a
 * column-parallel matmul costs 1/N of the unsharded one, and every chip runs the same program.
 * Collectives move data over Ethernet (DEVICE.md §6: ccl_time = bytes per link / eth_gbps +
 * per-packet overhead, 1500-byte packets carrying 1450 payload bytes and 50 of overhead). The
 * algorithm is a unidirectional ring through the mesh's N chips (a 2x4 or 4x8 mesh has one: a
 * snake through its rows), each chip sending to the next over one link:
 *   all_reduce:  reduce-scatter then all-gather, 2(N-1) steps of M/N bytes (M: one chip's tensor);
 *   all_gather:  N-1 steps, each forwarding one chip's slice (M_chip bytes).
 * Steps are charged per packet (each step's message is cut into packets on its own); link latency
 * and the local reduction are not modelled (they are small next to the bytes, except for decode's
 * tiny tensors: see the closing note). The Ethernet time is stored in the op's NoC cycles
 * (the plan's cost record has three figures) and its bound is TTC_BOUND_ETHERNET.
 *
 * Placement on the core grid (the `core-shard` pass, IrValue.place): L1-resident operands move no
 * DRAM bytes; a vector op whose input is sharded exactly like its output reads it from its own
 * core's L1 (no NoC bytes); a reshard moves the tensor between cores: each core receives its new
 * shard (or its share of the pages, for an interleaved destination) over the NoC, plus DRAM bytes
 * when either side lives there.
 *
 * Check against DEVICE.md §1 (tests/passes/test_cost.c): a 2048^3 bf16 HiFi4 matmul from L1 on
 * the 8x8 grid is 64^3 tile products * 16 * 4 / 64 cores = 262144 cycles, 65.5 TFLOPS at 1 GHz,
 * the published 74 TFLOPS scaled from the 72 cores it counts to the 64 of the compute grid;
 * the measured 47 TFLOPS is 72% of it, inside the 50-80% real kernels reach. */
#include "cost.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_layout.h"
#include "pass.h"
#include "shard.h"

/* Vector-unit cycles per 32x32 output tile: estimates from the instruction counts of the device's
 * vector kernels (a 32-lane unit needs 32 passes per tile, times the instructions per element).
 * Simple arithmetic is a few instructions; erf/tanh/sigmoid-based activations and exp are
 * polynomial evaluations; softmax adds the row max and sum reductions; norms their statistics.
 * These ops are almost always bound by DRAM or the NoC, so the estimates rarely decide a bound. */
int cost_vector_cycles_per_tile(TtcOpKind k) {
    switch (k) {
    case TTC_OP_ADD:
    case TTC_OP_MUL:
    case TTC_OP_RELU: return 32;
    case TTC_OP_ROPE: return 96;
    case TTC_OP_RMSNORM: return 128;
    case TTC_OP_LAYERNORM: return 192;
    case TTC_OP_GELU:
    case TTC_OP_GELU_TANH:
    case TTC_OP_SILU:
    case TTC_OP_TANH: return 256;
    case TTC_OP_SOFTMAX: return 384;
    case TTC_OP_ADD_LAYERNORM: return 32 + 192; /* one pass: the add on the way into the norm */
    default: return 0; /* embedding, pos_embedding, first_token, kv_update: data movement */
    }
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

typedef struct Matmul {
    int64_t batch, m, k, n;
    int64_t tb_a, tb_b; /* tile bytes of the activation and the weight operand */
} Matmul;

/* Dim i (from the end when negative) of one chip's slice of value v. */
static int64_t dim(const Graph *g, int v, int i) {
    TtcShape s = shape_chip_slice(&g->vals[v].d);
    return s.d[i < 0 ? s.rank + i : i].size;
}

static int64_t chip_elems(const Graph *g, int v) {
    TtcShape s = shape_chip_slice(&g->vals[v].d);
    return ttc_shape_max_elems(&s);
}

#define ETH_PACKET_PAYLOAD 1450.0
#define ETH_PACKET_OVERHEAD 50.0

/* Seconds to send `bytes` over one Ethernet link as one message. */
static double eth_seconds(double bytes, const HwDevice *dev) {
    double packets = ceil(bytes / ETH_PACKET_PAYLOAD);
    return (bytes + packets * ETH_PACKET_OVERHEAD) / (dev->eth_gbps * 1e9);
}

/* Ethernet cycles of a collective (ring over its chips, see the header comment); 0 for others. */
static double collective_cycles(const Graph *g, const IrOp *op, const DevValue *vals, const HwDevice *dev) {
    int n = op->d.attrs.chips;
    if (n < 2 || dev->eth_gbps <= 0) return 0;
    double m = (double)vals[op->d.in[0]].t.bytes; /* one chip's slice, in its device format */
    double s;
    if (op->d.kind == TTC_OP_ALL_REDUCE)
        s = 2.0 * (n - 1) * eth_seconds(m / n, dev);
    else if (op->d.kind == TTC_OP_ALL_GATHER)
        s = (double)(n - 1) * eth_seconds(m, dev);
    else
        return 0;
    (void)g;
    return s * dev->clock_ghz * 1e9;
}

/* Whether a vector op's core already holds its part of operand `in` in L1: the operand is sharded
 * over the same cores in the same way as the output the core computes. */
static int local_operand(const DevTensor *in, const DevTensor *out) {
    int sharded = in->sharding == HW_SHARD_HEIGHT || in->sharding == HW_SHARD_WIDTH || in->sharding == HW_SHARD_BLOCK;
    return sharded && in->memory == TTC_MEM_L1 && out->memory == TTC_MEM_L1 && in->sharding == out->sharding &&
           in->grid_y == out->grid_y && in->grid_x == out->grid_x && in->rows == out->rows && in->cols == out->cols;
}

/* The matmul geometry of op, or 0 when it does not use the matrix unit. */
static int matmul_of(const Graph *g, const IrOp *op, Matmul *mm) {
    const TtcOpDesc *d = &op->d;
    mm->tb_a = dev_tile_bytes(g->vals[d->in[0]].d.dtype);
    mm->tb_b = d->n_in > 1 ? dev_tile_bytes(g->vals[d->in[1]].d.dtype) : 0;
    switch (d->kind) {
    case TTC_OP_LINEAR:
        mm->batch = 1;
        mm->m = chip_elems(g, d->in[0]) / dim(g, d->in[0], -1);
        mm->k = dim(g, d->in[0], -1);
        mm->n = dim(g, d->out, -1);
        return 1;
    case TTC_OP_ATTN_SCORES: /* q [B,S,Hq*D] x k [B,T,Hkv*D] per head */
        mm->batch = dim(g, d->in[0], 0) * d->attrs.heads;
        mm->m = dim(g, d->in[0], 1);
        mm->k = d->attrs.head_dim;
        mm->n = dim(g, d->in[1], 1);
        return 1;
    case TTC_OP_ATTENTION: /* fused: q k^T per head ([S,D] x [D,T]); cost_one adds p v and the softmax */
        mm->batch = d->attrs.heads;
        for (int i = 0; i < shape_chip_slice(&g->vals[d->in[0]].d).rank - 2; i++) mm->batch *= dim(g, d->in[0], i);
        mm->m = dim(g, d->in[0], -2);
        mm->k = d->attrs.head_dim;
        mm->n = dim(g, d->in[1], -2);
        return 1;
    case TTC_OP_ATTN_CONTEXT: /* probs [B,Hq,S,T] x v [B,T,Hkv*D] per head */
        mm->batch = dim(g, d->in[0], 0) * d->attrs.heads;
        mm->m = dim(g, d->in[0], 2);
        mm->k = dim(g, d->in[0], 3);
        mm->n = d->attrs.head_dim;
        return 1;
    default: return 0;
    }
}

/* Bytes a core receives for its block of output tiles (see the header comment). */
static double matmul_noc_bytes(const Matmul *mm, int64_t mt, int64_t kt, int64_t nt, int64_t cores_used) {
    int64_t units = mm->batch * mt * nt, per_core = ceil_div(units, cores_used);
    if (per_core >= mt * nt) {
        int64_t whole = ceil_div(per_core, mt * nt);
        return (double)whole * (double)(mt * kt * mm->tb_a + kt * nt * mm->tb_b);
    }
    int64_t r = (int64_t)ceil(sqrt((double)per_core));
    if (r > mt) r = mt;
    int64_t c = ceil_div(per_core, r);
    if (c > nt) {
        c = nt;
        r = ceil_div(per_core, nt);
    }
    return (double)(r * kt * mm->tb_a + kt * c * mm->tb_b);
}

/* DRAM bytes an op moves (reads of DRAM inputs, the write of a DRAM output): the tensors' own
 * bytes, not the bank padding that counts against capacity. */
static double dram_bytes(const Graph *g, const IrOp *op, const DevValue *vals) {
    const TtcOpDesc *d = &op->d;
    double n = 0;
    for (int i = 0; i < d->n_in; i++) {
        const DevValue *v = &vals[d->in[i]];
        if (v->t.memory != TTC_MEM_DRAM) continue;
        int again = 0; /* a tensor read through several inputs (fused qkv into attention) is read once */
        for (int j = 0; j < i; j++) again |= d->in[j] == d->in[i];
        if (again) continue;
        if (d->kind == TTC_OP_KV_UPDATE && i == 1) continue; /* the cache is written, not read */
        if ((d->kind == TTC_OP_EMBEDDING && i == 1) || (d->kind == TTC_OP_POS_EMBEDDING && i == 0)) {
            /* a gather reads one row page per looked-up token */
            const DevValue *o = &vals[d->out];
            n += (double)o->t.rows * (double)v->t.page_bytes;
            continue;
        }
        n += (double)v->t.bytes;
    }
    const DevValue *o = &vals[d->out];
    if (d->kind == TTC_OP_KV_UPDATE) {
        /* new rows land in the cache, in the cache's format and memory */
        const DevValue *cache = &vals[d->in[1]];
        if (cache->t.memory == TTC_MEM_DRAM) {
            TtcTensorDesc rows = g->vals[d->in[0]].d;
            rows.dtype = g->vals[d->in[1]].d.dtype;
            DevTensor t = dev_tensor(&rows, cache->t.layout, TTC_MEM_DRAM, HW_SHARD_AUTO);
            n += (double)t.bytes;
        }
    } else if (o->t.memory == TTC_MEM_DRAM && !o->view) {
        n += (double)o->t.bytes;
    }
    return n;
}

static void cost_one(const Graph *g, int k, const DevValue *vals, const HwDevice *dev, TtcOpCost *c) {
    const IrOp *op = &g->ops[k];
    int64_t cores = dev_cores(dev);
    double compute, noc;
    int64_t cores_used;
    Matmul mm;
    if (matmul_of(g, op, &mm)) {
        int64_t mt = ceil_div(mm.m, 32), kt = ceil_div(mm.k, 32), nt = ceil_div(mm.n, 32);
        double rows = mm.m >= 32 ? (double)mt : (double)(mm.m > 8 ? mm.m : 8) / 32.0;
        double products = (double)mm.batch * rows * (double)kt * (double)nt;
        int64_t units = mm.batch * mt * nt;
        cores_used = units < cores ? units : cores;
        compute = products * 16.0 * (op->d.cfg.fidelity + 1) / (double)cores_used;
        noc = matmul_noc_bytes(&mm, mt, kt, nt, cores_used);
        if (op->d.kind == TTC_OP_ATTENTION) {
            /* p v has the tile products of q k^T ([S,T] x [T,D]) and streams v blocks the size of
             * k's; the softmax runs on the vector unit over score tiles that stay in the core's
             * circular buffers: no score tensor is written or read anywhere. */
            compute = 2.0 * compute + (double)units * cost_vector_cycles_per_tile(TTC_OP_SOFTMAX) / (double)cores_used;
            noc *= 2.0;
        }
    } else {
        const DevValue *o = &vals[op->d.out];
        int64_t tiles = o->t.layout == TTC_LAYOUT_TILE ? o->t.pages : o->t.row_tiles * o->t.col_tiles;
        if (tiles < 1) tiles = 1;
        cores_used = tiles < cores ? tiles : cores;
        compute = (double)tiles * cost_vector_cycles_per_tile((TtcOpKind)op->d.kind) / (double)cores_used;
        noc = 0;
        for (int i = 0; i < op->d.n_in; i++) {
            const DevValue *v = &vals[op->d.in[i]];
            if (op->d.kind == TTC_OP_KV_UPDATE && i == 1) continue;
            if (op->d.kind == TTC_OP_RESHARD) {
                /* each core receives what it holds afterwards */
                double share = o->t.memory == TTC_MEM_L1 ? (double)dev_l1_per_core(&o->t, dev)
                                                          : (double)v->t.bytes / (double)cores;
                noc += share;
                cores_used = cores;
                continue;
            }
            if (local_operand(&v->t, &o->t)) continue;
            double b = (op->d.kind == TTC_OP_EMBEDDING && i == 1) ? (double)o->t.rows * (double)v->t.page_bytes
                                                                   : (double)v->t.bytes;
            /* parameter vectors go whole to every core; everything else is split */
            noc += shape_chip_slice(&g->vals[op->d.in[i]].d).rank == 1 ? b : b / (double)cores_used;
        }
    }
    double eth = collective_cycles(g, op, vals, dev);
    if (eth > 0) {
        noc = eth * dev->noc_bytes_per_cycle; /* stored as NoC cycles (see the header comment) */
        compute = 0;
    }
    double dram = dram_bytes(g, op, vals);
    double dram_per_cycle = dev->dram_gbps / dev->clock_ghz;
    c->compute_cycles = (int64_t)ceil(compute);
    c->noc_cycles = (int64_t)ceil(noc / dev->noc_bytes_per_cycle);
    c->dram_cycles = dram_per_cycle > 0 ? (int64_t)ceil(dram / dram_per_cycle) : 0;
    c->cores = (int32_t)cores_used;
    c->bound = TTC_BOUND_COMPUTE;
    int64_t most = c->compute_cycles;
    if (c->noc_cycles > most) {
        most = c->noc_cycles;
        c->bound = TTC_BOUND_NOC;
    }
    if (c->dram_cycles > most) {
        most = c->dram_cycles;
        c->bound = TTC_BOUND_DRAM;
    }
    if (eth > 0 && c->bound == TTC_BOUND_NOC) c->bound = TTC_BOUND_ETHERNET;
    c->cycles = most + (dram > 0 ? dev->dram_latency_cycles : 0);
}

int cost_graph(const Graph *g, const HwConfig *hw, TtcOpCost *costs) {
    int *sharding = dev_resolve_sharding(g, hw);
    DevValue *vals = calloc((size_t)g->n_vals + 1, sizeof *vals);
    if (!sharding || !vals) {
        free(sharding);
        free(vals);
        return -1;
    }
    for (int e = 0; e < g->n_entries; e++) {
        dev_place_entry(g, e, sharding, vals);
        for (int k = g->entries[e].first_op; k < g->entries[e].first_op + g->entries[e].n_ops; k++)
            cost_one(g, k, vals, &hw->device, &costs[k]);
    }
    free(sharding);
    free(vals);
    return 0;
}

int cost_attach_plan(const Graph *g, const HwConfig *hw, TtcPlan *p) {
    if (p->n_ops != g->n_ops) return -1;
    int timed = 0;
    for (int e = 0; e < g->n_entries; e++) timed |= g->entries[e].clock_khz > 0;
    if (!timed) return 0; /* the cost pass was disabled: per-op figures without totals would be odd */
    TtcOpCost *c = calloc((size_t)g->n_ops + 1, sizeof *c);
    if (!c || cost_graph(g, hw, c) != 0) {
        free(c);
        return -1;
    }
    free(p->op_costs);
    p->op_costs = c;
    return 0;
}

static void print_entry(const Graph *g, int e, const TtcOpCost *costs, const HwDevice *dev) {
    const TtcEntry *en = &g->entries[e];
    fprintf(stderr, "cost (%s) on %s: %lld cycles, %.3f ms per step, %s-bound; slowest ops:\n", en->name, dev->name,
            (long long)en->device_cycles, (double)en->device_cycles / dev->clock_ghz / 1e6,
            ttc_bound_name(en->device_bound));
    int shown[5] = {-1, -1, -1, -1, -1};
    for (int i = 0; i < 5; i++) {
        for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
            int taken = 0;
            for (int j = 0; j < i; j++) taken |= shown[j] == k;
            if (!taken && (shown[i] < 0 || costs[k].cycles > costs[shown[i]].cycles)) shown[i] = k;
        }
        if (shown[i] < 0) break;
        const TtcOpCost *c = &costs[shown[i]];
        fprintf(stderr, "  %-40s %12lld cycles  %-7s (compute %lld, NoC %lld, DRAM %lld) on %d cores\n",
                g->ops[shown[i]].d.path, (long long)c->cycles, ttc_bound_name(c->bound), (long long)c->compute_cycles,
                (long long)c->noc_cycles, (long long)c->dram_cycles, (int)c->cores);
    }
}

int pass_cost(Graph *g, PassCtx *cx) {
    if (!cx->hw) return 0; /* no device, nothing to time */
    TtcOpCost *costs = calloc((size_t)g->n_ops + 1, sizeof *costs);
    if (!costs || cost_graph(g, cx->hw, costs) != 0) {
        free(costs);
        DiagLoc none = {0};
        diag_error(cx->diags, none, "out of memory");
        return -1;
    }
    const HwDevice *dev = &cx->hw->device;
    for (int e = 0; e < g->n_entries; e++) {
        TtcEntry *en = &g->entries[e];
        int64_t total = 0, by_bound[TTC_BOUND_COUNT] = {0};
        for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
            total += costs[k].cycles;
            by_bound[costs[k].bound] += costs[k].cycles;
        }
        en->device_cycles = total;
        en->clock_khz = (int64_t)llround(dev->clock_ghz * 1e6);
        en->device_bound = TTC_BOUND_COMPUTE;
        for (int b = 1; b < TTC_BOUND_COUNT; b++)
            if (by_bound[b] > by_bound[en->device_bound]) en->device_bound = b;
        if (cx->verbose) print_entry(g, e, costs, dev);
    }
    free(costs);
    return 0;
}
