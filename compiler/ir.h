/* ir.h: the Graph IR. A graph is a list of ops in execution order over SSA tensor values.
 *
 * Values and ops wrap the plan's descriptors (TtcTensorDesc / TtcOpDesc) so that emitting a plan
 * is a copy, and add what only the compiler needs (producer, lifetimes, module type). Every op
 * carries its module path (`layer_3.attention.q`): overlays bind by it, dumps and profiles
 * report by it. */
#ifndef TTC_IR_H
#define TTC_IR_H

#include <stdio.h>
#include "../runtime/plan.h"
#include "../runtime/ttc_types.h"

/* Where an activation lives on its chip's core grid (the `core-shard` pass, DEVICE.md §2): DRAM
 * interleaved, L1 interleaved, or L1 sharded (height, width, block: HwSharding) over a grid of
 * grid_y x grid_x cores. Later passes (device-memory, cost) and dumps read it; when the pass did
 * not run (set 0) values follow their producer's `memory` and `sharding` configuration. */
typedef struct IrPlacement {
    int8_t set;
    int8_t memory;   /* TtcMemory */
    int8_t sharding; /* HwSharding: HW_SHARD_HEIGHT / WIDTH / BLOCK shard; anything else interleaves */
    int8_t pinned;   /* chosen by the overlays (memory or sharding given), not by the policy */
    int16_t grid_y, grid_x; /* cores the shards span (0 for interleaved: every core or bank) */
} IrPlacement;

typedef struct IrValue {
    TtcTensorDesc d;
    int producer;       /* op index, -1 for inputs and weights */
    int first_use;      /* memory plan: first op that touches it (producer or reader) */
    int last_use;       /* memory plan: last op that reads it (n_ops when a graph output) */
    int64_t host_bytes; /* bytes in the host arena at the upper-bound shape */
    IrPlacement place;  /* core-shard: where an activation lives on its chip (place.set 0: not chosen) */
} IrValue;

typedef struct IrOp {
    TtcOpDesc d;
    char module_type[16]; /* embedding | attention | ffn | norm | pooler | lm_head */
    int entry;            /* the entry point (index into Graph.entries) the op belongs to */
} IrOp;

typedef struct Graph {
    char model_name[TTC_NAME_MAX];
    int model_type;      /* TtcModelType */
    char device[64];
    int64_t vocab_size;
    int64_t eos_token_id; /* -1 when none */
    int64_t max_batch, max_seq, max_ctx;
    int mesh_rows, mesh_cols; /* the device mesh (1x1: one chip); the `shard` pass splits over it */
    int64_t arena_bytes; /* set by memory-plan: the largest entry's arena */

    /* Entry points, each a contiguous range of ops (see runtime/plan.h). Lowering builds entry 0
     * (prefill); `specialize` adds decode for decoders. Builders add to `cur_entry`. */
    TtcEntry entries[TTC_MAX_ENTRIES];
    int n_entries;
    int cur_entry;

    IrValue *vals;
    int n_vals, cap_vals;
    IrOp *ops;
    int n_ops, cap_ops;
} Graph;

void ir_init(Graph *g);
void ir_free(Graph *g);

/* Builders. Names are copied (truncated names are a bug: asserted). Return the value index. */
int ir_add_input(Graph *g, const char *name, TtcRole role, TtcDType dtype, TtcShape shape);
int ir_add_weight(Graph *g, const char *name, TtcShape shape, TtcWeightInit init);
/* State kept across calls and shared by entry points (a KV cache). */
int ir_add_state(Graph *g, const char *name, TtcShape shape);
/* Appends an op; its output value (named after the path) gets its shape from shape-infer. */
int ir_add_op(Graph *g, TtcOpKind kind, const char *path, const char *module_type, const int *in, int n_in,
              TtcAttrs attrs);
void ir_mark_output(Graph *g, int value, TtcRole role);
/* Opens entry point `name` (mode HwMode) at the current end of the op list; ops added from now
 * on belong to it. Closes the previous one. */
int ir_begin_entry(Graph *g, const char *name, int mode, int64_t max_seq);
/* Closes the open entry point (sets its op count). */
void ir_end_entry(Graph *g);
/* The entry point an op index belongs to. */
int ir_entry_of_op(const Graph *g, int op);

/* Shape helpers. */
TtcShape ir_shape(int rank, ...); /* ir_shape(3, ir_sym(TTC_SYM_BATCH, 2), ir_dim(768), ...) */
TtcDim ir_dim(int64_t size);
TtcDim ir_sym(TtcSym sym, int64_t bound);
int ir_shape_equal(const TtcShape *a, const TtcShape *b);

/* ---- ir_edit.c: rewriting a graph in place (passes that replace ops, such as `fuse`) ---- */

/* Appends an activation of entry point `entry` with no producer yet (the caller makes an op
 * output it). Returns its index, or -1 when the name does not fit (ir.c). */
int ir_add_act(Graph *g, const char *name, int entry);
/* The weight named `name`, or -1. */
int ir_find_weight(const Graph *g, const char *name);
/* Input slots of ops not marked dead (dead may be NULL) that read value v. */
int ir_count_uses(const Graph *g, int v, const unsigned char *dead);
/* Use counts kept up to date while a pass rewrites, so that "is this value read once?" costs
 * O(1) instead of a scan of every op (a scan per rewrite made `fuse` quadratic in the layers).
 * n[v] counts the input slots of live ops reading value v; values added after ir_uses_init
 * start at 0 (the array grows on demand). */
typedef struct IrUses {
    int *n;
    int cap;
} IrUses;
/* Counts every op not marked dead (dead may be NULL). 0, or -1 when out of memory. */
int ir_uses_init(IrUses *u, const Graph *g, const unsigned char *dead);
/* Adds (sign +1) or takes away (sign -1) the input slots of `op`: call with -1 before changing
 * an op's inputs or marking it dead, with +1 after giving it its new inputs. 0, or -1 when out
 * of memory (only growing for a value added after init can fail). */
int ir_uses_count_op(IrUses *u, const IrOp *op, int sign);
int ir_uses_of(const IrUses *u, int v);
void ir_uses_free(IrUses *u);

/* Weights by name: a hash index so that passes that look weights up by name (fused weights
 * shared by entry points) do not scan every value per look-up. Finds the same value as
 * ir_find_weight (the first weight of that name). */
typedef struct IrWeightIndex {
    int *slot; /* value index + 1, 0 empty; open addressing, a power of two long */
    int cap, n;
} IrWeightIndex;
/* Indexes every weight of g. 0, or -1 when out of memory. */
int ir_weight_index_init(IrWeightIndex *x, const Graph *g);
int ir_weight_index_find(const IrWeightIndex *x, const Graph *g, const char *name);
/* Adds weight v (added to g after init); a name indexed already keeps its first value. 0 or -1. */
int ir_weight_index_add(IrWeightIndex *x, const Graph *g, int v);
void ir_weight_index_free(IrWeightIndex *x);
/* Removes the ops marked dead[k] != 0, then the values left over: activations that no remaining
 * op outputs, and weights that no remaining op reads (inputs and state stay: they are the entry
 * points' interface and the cache). Renumbers ops and values (inputs, outputs, producers, cache
 * aliases, entry ranges) keeping their order. 0, or -1 when out of memory (graph unchanged). */
int ir_remove_ops(Graph *g, const unsigned char *dead);

/* Deterministic text form (ttc dump-graph --after PASS without -o .dot); mode -1 dumps every
 * entry point, else only those of that mode. */
void ir_dump_text(const Graph *g, int mode, FILE *out);
/* A placement as a compact tag: "dram", "l1", "l1:height[8x8]", "l1:width[1x24]", "l1:block[4x2]"
 * (grid rows x columns). The text dump shows it after each op's type, with "!" when the overlays
 * pinned it. */
char *ir_placement_str(const IrPlacement *p, char *buf, size_t cap);

#endif
