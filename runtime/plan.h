/* plan.h: the in-memory form of a plan file (format: runtime/PLAN_FORMAT.md).
 *
 * A plan is what the compiler hands the runtime: tensor descriptors, a flat op list in
 * execution order, and the size of the one activation arena the memory plan laid out. */
#ifndef TTC_PLAN_H
#define TTC_PLAN_H

#include "ttc_types.h"

#define TTC_PLAN_MAGIC "TTCPLAN\0"
#define TTC_PLAN_VERSION 1

typedef enum { TTC_MODEL_ENCODER = 0, TTC_MODEL_DECODER = 1 } TtcModelType;

/* An entry point: a contiguous range of the op list with its own inputs, activations and
 * memory plan. Encoders have one ("prefill": the forward); decoders two, "prefill" (a prompt of
 * up to --seq tokens) and "decode" (one token per sequence), sharing weights and KV cache. */
#define TTC_MAX_ENTRIES 4
typedef struct TtcEntry {
    char name[16];
    int32_t mode;        /* 0 prefill, 1 decode */
    int32_t first_op, n_ops;
    int32_t device_bound; /* TtcBound that holds the most of the device time (see below) */
    int64_t max_seq;     /* bound of the SEQ symbol in this entry */
    int64_t arena_bytes; /* this entry's memory plan; all entries share one arena */
    /* Device estimates, per chip, at the plan's upper-bound shapes (the `device-memory` and
     * `cost` passes; stored in the optional COST chunk; all 0 when a plan has none). */
    int64_t l1_peak_bytes;   /* per core: circular buffers + L1 tensors at the busiest op */
    int64_t dram_peak_bytes; /* per chip: weights, KV cache and DRAM activations at the peak */
    int64_t device_cycles;   /* the entry's ops back to back, in device clock cycles */
    int64_t clock_khz;       /* the device clock those cycles count */
    /* No padding anywhere (four int32 after the 16-byte name), so entries compare with memcmp:
     * a compound literal need not zero padding bytes, and clang does not. */
} TtcEntry;
_Static_assert(sizeof(TtcEntry) == 16 + 4 * 4 + 6 * 8, "TtcEntry must have no padding");

/* What limits an op in the cost model (DEVICE.md §6). Stored by number in plans: fixed. */
/* ETHERNET: a collective between chips, whose link time is stored in the op's noc_cycles (the
 * chip-to-chip links extend the NoC; the record keeps three figures). */
typedef enum {
    TTC_BOUND_COMPUTE = 0,
    TTC_BOUND_NOC = 1,
    TTC_BOUND_DRAM = 2,
    TTC_BOUND_ETHERNET = 3,
    TTC_BOUND_COUNT
} TtcBound;

const char *ttc_bound_name(int bound); /* "compute", "NoC", "DRAM", "ethernet"; "?" when out of range */

/* One op's estimated device time (the `cost` pass), per chip. cycles = max(compute, noc, dram)
 * + the fixed DRAM latency when the op moves DRAM bytes. */
typedef struct TtcOpCost {
    int64_t compute_cycles, noc_cycles, dram_cycles;
    int64_t cycles;
    int32_t bound; /* TtcBound: the largest of the three */
    int32_t cores; /* cores the op's work is spread over */
} TtcOpCost;

typedef struct TtcPlan {
    uint32_t version;
    char model_name[TTC_NAME_MAX];
    int32_t model_type;   /* TtcModelType */
    char device[64];      /* device descriptor name, e.g. wormhole_n150 */
    int64_t vocab_size;
    int64_t eos_token_id; /* decoders: the token that ends generation, -1 when none */
    int32_t mesh_rows, mesh_cols; /* the device mesh the plan was sharded for (1x1: one chip) */
    int64_t max_batch;    /* --batch */
    int64_t max_seq;      /* --seq */
    int64_t max_ctx;      /* --max-seq (decoders); == max_seq for encoders */
    int64_t arena_bytes;  /* host activation arena: the largest entry's */
    char producer[256];   /* "ttc 0.1.0: ttc compile ..." for humans */

    int32_t n_tensors;
    TtcTensorDesc *tensors;
    int32_t n_ops;
    TtcOpDesc *ops;
    int32_t n_entries;
    TtcEntry entries[TTC_MAX_ENTRIES];
    /* Per-op estimates, n_ops of them, or NULL (plans without a COST chunk, or with entry totals
     * only). Owned by the plan. */
    TtcOpCost *op_costs;
    /* How the plan was compiled (the optional SRCE chunk), so that `ttc profile` can recompile it
     * with a suggested change: n_source "key=value" strings in command-line order (see
     * PLAN_FORMAT.md for the keys), or 0 and NULL. Owned by the plan. */
    int32_t n_source;
    char **source;
    /* A plan compiled with --allow-misfit although it does not fit `device` (the optional MISF
     * chunk): how many problems the compiler reported, and the first of them as it printed it
     * (after "warning: "). 0 and "" for a plan that fits. Runners refuse such a plan unless
     * --allow-misfit is given again. */
    int32_t n_misfits;
    char misfit[1024];
    /* Set by ttc_plan_parse (not stored): the plan came from bytes ttc did not just compile, so
     * operand shapes its validator does not check (the kernels' argument checks do: rt_op_fail)
     * are the file's fault when a kernel refuses them, not ttc's. */
    int from_file;
} TtcPlan;

void ttc_plan_free(TtcPlan *p); /* frees arrays; safe on a zeroed plan */
/* A fused weight's name "q.weight:ROWS|k.weight:ROWS|v.weight:ROWS" (passes/fuse.c): its parts,
 * stacked along dim 0, each the checkpoint's own tensor with its rows; a plain name is one part
 * with rows 0. Fills at most `max` parts and returns how many the name has (more than `max`: the
 * name is not one ttc writes). */
#define TTC_WEIGHT_MAX_PARTS 4
int ttc_weight_name_parts(const char *name, char parts[][TTC_NAME_MAX], int64_t *rows, int max);
#define TTC_PLAN_SOURCE_MAX_ITEMS 256  /* SRCE items */
#define TTC_PLAN_SOURCE_MAX_BYTES 4096 /* per item */
/* Appends one "key=value" SRCE item (copied). 0, or -1 when out of memory or beyond the limits. */
int ttc_plan_add_source(TtcPlan *p, const char *key, const char *value);
/* The value of the i-th item if its key is `key`, else NULL. */
const char *ttc_plan_source_value(const TtcPlan *p, int i, const char *key);
/* Whether any entry carries device estimates (then the writer adds the COST chunk). */
int ttc_plan_has_cost(const TtcPlan *p);

/* Writes atomically: a temp file beside `path`, renamed over it only when complete. */
TtcStatus ttc_plan_write(const TtcPlan *p, const char *path, TtcError *err);
/* Loads and validates every field (see PLAN_FORMAT.md); never trusts the file. */
TtcStatus ttc_plan_read(TtcPlan *p, const char *path, TtcError *err);
/* The same on a memory buffer (used by the file reader and by tests). `what` names it in errors. */
TtcStatus ttc_plan_parse(TtcPlan *p, const uint8_t *buf, size_t len, const char *what, TtcError *err);
/* Serializes into a malloc'ed buffer. */
TtcStatus ttc_plan_serialize(const TtcPlan *p, uint8_t **buf, size_t *len, TtcError *err);
/* Semantic validation shared by the loader and the compiler: indices in range, op arity,
 * shapes consistent, arena offsets within arena_bytes. */
TtcStatus ttc_plan_validate(const TtcPlan *p, const char *what, TtcError *err);

#endif
