/* ttc_types.h: the vocabulary shared by the compiler, the plan file and the runtime.
 *
 * Everything here is plain data with fixed meaning, because it is serialized into plan files
 * and into generated C: change a value only together with TTC_PLAN_VERSION. */
#ifndef TTC_TYPES_H
#define TTC_TYPES_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define TTC_VERSION_STRING "0.1.0"

/* ---- status and errors (runtime code never exits; it returns one of these) ---- */

typedef enum {
    TTC_OK = 0,
    TTC_E_USER = 1,     /* bad input, bad file, does not fit: the user can fix it */
    TTC_E_INTERNAL = 2, /* a bug in ttc, or the machine refused (out of memory) */
} TtcStatus;

typedef struct TtcError {
    TtcStatus status;
    char msg[1024];  /* "what and where", without the "error: " prefix */
    char hint[512];  /* "what to do", may be empty */
} TtcError;

/* Records the first failure only: later calls keep the original cause. Returns `st`. */
TtcStatus ttc_fail(TtcError *e, TtcStatus st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
TtcStatus ttc_failv(TtcError *e, TtcStatus st, const char *fmt, va_list ap);
/* Adds a hint to an error already recorded. */
void ttc_hint(TtcError *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sizes that saturate: a * b and a + b of counts (>= 0; a factor <= 0 gives 0), INT64_MAX when
 * the exact value would overflow, so that a sum or product of untrusted sizes can be compared with
 * a limit whatever its exact value. */
int64_t ttc_mul_sat(int64_t a, int64_t b);
int64_t ttc_add_sat(int64_t a, int64_t b);
/* Appends to the string in buf (a fixed buffer of `cap` bytes: messages are cut, never overrun). */
void ttc_str_append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ttc_error_clear(TtcError *e);
/* Prints "error: msg\n  hint: hint\n" to stderr. */
void ttc_error_print(const TtcError *e);

/* Monotonic wall-clock time in milliseconds (timings in reports and profiles). */
double ttc_now_ms(void);
/* Sorts n doubles ascending (best and median of repeated timings). */
void ttc_sort_doubles(double *v, size_t n);

/* ---- data formats ---- */

/* NAME, string, bytes per element on the host (emulated formats are held as fp32 values
 * that are exactly representable in the format), device bytes per 32x32 tile */
#define TTC_DTYPES(X)                  \
    X(F32, "fp32", 4, 4096)            \
    X(BF16, "bf16", 4, 2048)           \
    X(BFP8, "bfp8", 4, 1088)           \
    X(BFP4, "bfp4", 4, 576)            \
    X(I32, "int32", 4, 4096)

typedef enum {
#define X(n, s, hb, tb) TTC_##n,
    TTC_DTYPES(X)
#undef X
    TTC_DTYPE_COUNT
} TtcDType;

const char *ttc_dtype_name(TtcDType t);
int ttc_dtype_from_name(const char *s); /* -1 when unknown */
int ttc_dtype_tile_bytes(TtcDType t);

typedef enum { TTC_FIDELITY_LOFI, TTC_FIDELITY_HIFI2, TTC_FIDELITY_HIFI3, TTC_FIDELITY_HIFI4 } TtcFidelity;
typedef enum { TTC_LAYOUT_TILE, TTC_LAYOUT_ROW_MAJOR } TtcLayout;
typedef enum { TTC_MEM_DRAM, TTC_MEM_L1 } TtcMemory;

/* The resolved hardware configuration of one op (see DESIGN.md §4). */
typedef struct TtcOpConfig {
    uint8_t act_dtype;    /* TtcDType: format of the op's output activations */
    uint8_t weight_dtype; /* TtcDType: format weights are converted to at load */
    uint8_t fidelity;     /* TtcFidelity */
    uint8_t fp32_acc;     /* 1: fp32 destination accumulation */
    uint8_t layout;       /* TtcLayout */
    uint8_t memory;       /* TtcMemory */
} TtcOpConfig;

/* ---- shapes ---- */

/* A dimension is either a constant or bounded by a run-time symbol: plans are compiled for
 * upper bounds (--batch, --seq, --max-seq) and run with anything up to them. */
typedef enum {
    TTC_SYM_NONE = 0, /* constant */
    TTC_SYM_BATCH,    /* sequences in the batch */
    TTC_SYM_SEQ,      /* tokens in this step (prompt length in prefill, 1 in decode) */
    TTC_SYM_CTX,      /* past + new tokens (attention context), <= max-seq */
    TTC_SYM_COUNT
} TtcSym;

#define TTC_MAX_RANK 4

typedef struct TtcDim {
    int32_t sym;  /* TtcSym */
    int64_t size; /* constant size, or the upper bound of the symbol */
} TtcDim;

typedef struct TtcShape {
    int32_t rank;
    TtcDim d[TTC_MAX_RANK];
} TtcShape;

/* Actual sizes of the symbols for one execution (index by TtcSym; [TTC_SYM_NONE] unused). */
typedef struct TtcBindings {
    int64_t v[TTC_SYM_COUNT];
} TtcBindings;

int64_t ttc_shape_max_elems(const TtcShape *s);
int64_t ttc_dim_actual(TtcDim d, const TtcBindings *b);
int64_t ttc_shape_actual_elems(const TtcShape *s, const TtcBindings *b);
/* "[B,S,768]"-style text, deterministic; returns buf. */
char *ttc_shape_str(const TtcShape *s, char *buf, size_t n);

/* ---- op attributes: one struct for all ops, each op reads the fields it documents in ops.def ---- */

typedef struct TtcAttrs {
    float eps;          /* norms */
    float scale;        /* attention scores: 1/sqrt(head_dim) */
    int32_t heads;      /* attention: query heads */
    int32_t kv_heads;   /* attention: key/value heads (GQA) */
    int32_t head_dim;   /* attention */
    int32_t causal;     /* softmax: mask future positions */
    int32_t window;     /* softmax: sliding window (0 = none) */
    int32_t has_mask;   /* softmax: input 1 is a [B,T] padding mask (1 keep, 0 drop) */
    /* rope: rotate-half RoPE (Hugging Face convention) over `heads` heads of `head_dim` */
    float rope_theta;
    int32_t rope_scaling;   /* 0 none, 1 llama3 */
    float rope_factor, rope_low_freq, rope_high_freq;
    int32_t rope_orig_max;  /* llama3: original_max_position */
    /* fused ops (the `fuse` pass) */
    int32_t epilogue;       /* linear: TtcEpilogue applied to x w^T + b before the output is written */
    int32_t q_col, k_col, v_col; /* attention: first column of q, k, v within their inputs' rows (a
                                    fused qkv projection feeds all three from one tensor) */
    /* tensor parallelism (the `shard` pass) */
    int32_t chips;          /* collectives and per-chip ops: chips in the group (0 or 1 = none) */
} TtcAttrs;

/* What a linear op does to its result before writing it (matmul + bias + activation fusion). */
typedef enum {
    TTC_EPILOGUE_NONE = 0,
    TTC_EPILOGUE_GELU,
    TTC_EPILOGUE_GELU_TANH,
    TTC_EPILOGUE_SILU,
    TTC_EPILOGUE_RELU,
    TTC_EPILOGUE_TANH,
    /* RoPE on a fused qkv projection's result: `heads` q heads from column q_col and `kv_heads` k
     * heads from column k_col rotated in place (head_dim, rope_*), positions past + i */
    TTC_EPILOGUE_ROPE_QK,
    TTC_EPILOGUE_COUNT
} TtcEpilogue;

/* The op whose kernels apply an epilogue in place on the linear's output (TTC_OP_EPILOGUE, which
 * reads attrs.epilogue), or -1 for none. */
int ttc_epilogue_op(int epilogue);

/* ---- ops: the one list lives in ops.def ---- */

typedef enum {
#define OP(id, name, min_in, max_in, summary) TTC_OP_##id,
#include "ops.def"
#undef OP
    TTC_OP_COUNT
} TtcOpKind;

const char *ttc_op_name(TtcOpKind k);
int ttc_op_from_name(const char *s); /* -1 when unknown */
int ttc_op_min_inputs(TtcOpKind k);
int ttc_op_max_inputs(TtcOpKind k);
const char *ttc_op_summary(TtcOpKind k);

#define TTC_MAX_OP_INPUTS 4

/* ---- tensors and ops as they appear in a plan (the compiler's IR wraps these) ---- */

typedef enum {
    TTC_TENSOR_INPUT = 0,  /* fed by the caller: ids, masks */
    TTC_TENSOR_WEIGHT = 1, /* loaded from safetensors or seeded random */
    TTC_TENSOR_ACT = 2,    /* produced by an op, lives in the activation arena */
    TTC_TENSOR_STATE = 3,  /* kept across calls and shared by entry points: the KV cache */
} TtcTensorKind;

/* How --random-weights fills a weight (values are a pure function of seed and tensor name). */
typedef enum {
    TTC_INIT_NORMAL = 0, /* N(0, 0.02): matrices, biases, embeddings */
    TTC_INIT_NORM_GAIN,  /* 1 + N(0, 0.1): norm weights */
    TTC_INIT_NORM_BIAS,  /* N(0, 0.1): norm biases */
} TtcWeightInit;

/* Roles of graph inputs and outputs, so the runtime knows which flag feeds what. */
typedef enum {
    TTC_ROLE_NONE = 0,
    TTC_ROLE_INPUT_IDS,
    TTC_ROLE_TOKEN_TYPE_IDS,
    TTC_ROLE_ATTENTION_MASK,
    TTC_ROLE_HIDDEN, /* output: last hidden state */
    TTC_ROLE_POOLED, /* output: pooler output */
    TTC_ROLE_LOGITS, /* output: decoder logits */
    TTC_ROLE_COUNT
} TtcRole;

const char *ttc_role_name(TtcRole r);

#define TTC_NAME_MAX 160

typedef struct TtcTensorDesc {
    char name[TTC_NAME_MAX]; /* weights: canonical HF name without model prefix */
    int32_t kind;            /* TtcTensorKind */
    int32_t dtype;           /* TtcDType: device format (weights: what they are converted to) */
    int32_t role;            /* TtcRole, inputs and outputs */
    int32_t init;            /* TtcWeightInit, weights */
    TtcShape shape;          /* upper-bound shape */
    int64_t offset;          /* activations and inputs: byte offset in the host arena */
    int32_t entry;           /* inputs and activations: the entry point they belong to; -1 for
                                weights and state, which all entry points share */
    int32_t alias;           /* an activation that is a view of a state tensor (the KV cache
                                after an update): that tensor's index; else -1 */
    /* Weights: `name` may list several Hugging Face tensors joined by '|' (a fused qkv weight is
     * q|k|v concatenated along dim 0). A weight stacked per chip (tensor parallelism) has shape
     * [shard_chips, ...one chip's slice...]: chip c holds part (c * shard_parts / shard_chips) of
     * the full tensor split into shard_parts equal parts along shard_dim (0 rows, 1 columns);
     * shard_parts < shard_chips replicates parts (KV heads when there are fewer than chips).
     * Activations and the KV cache use shard_chips for per-chip values too: shard_dim 0 is a
     * leading chip dim [chips, ...]; shard_dim 1 folds the chip into dim 1 in chip-order blocks
     * (the unfused attention scores [B, chips*heads, S, T], which have no room for a fifth dim). */
    int32_t shard_chips;     /* 0: not stacked */
    int32_t shard_dim;
    int32_t shard_parts;
} TtcTensorDesc;

typedef struct TtcOpDesc {
    int32_t kind; /* TtcOpKind */
    char path[TTC_NAME_MAX]; /* module path, e.g. layer_3.attention.qkv */
    int32_t n_in;
    int32_t in[TTC_MAX_OP_INPUTS]; /* tensor indices */
    int32_t out;                   /* tensor index */
    TtcAttrs attrs;
    TtcOpConfig cfg;
} TtcOpDesc;

#endif
