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
    int64_t max_seq;     /* bound of the SEQ symbol in this entry */
    int64_t arena_bytes; /* this entry's memory plan; all entries share one arena */
} TtcEntry;

typedef struct TtcPlan {
    uint32_t version;
    char model_name[TTC_NAME_MAX];
    int32_t model_type;   /* TtcModelType */
    char device[64];      /* device descriptor name, e.g. wormhole_n150 */
    int64_t vocab_size;
    int64_t eos_token_id; /* decoders: the token that ends generation, -1 when none */
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
} TtcPlan;

void ttc_plan_free(TtcPlan *p); /* frees arrays; safe on a zeroed plan */

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
