/* kernels_check.h: validation of the arguments a kernel receives (internal to the runtime).
 *
 * Both kernel sets (fast and reference) call the same check for an op before touching memory,
 * so they accept exactly the same arguments and fail with the same message. A check returns
 * TTC_OK and fills the op's sizes, or records "op 'PATH' (NAME): what is inconsistent" in
 * a->err and returns TTC_E_INTERNAL (the executor passed dims that break ops.def: a ttc bug);
 * a few failures the user can cause (a prompt longer than the position table) are TTC_E_USER. */
#ifndef TTC_KERNELS_CHECK_H
#define TTC_KERNELS_CHECK_H

#include "kernels.h"

/* Records a failure of status `st` prefixed with the op's path and name; returns the status. An
 * internal one is an argument that breaks the op's contract (ops.def): a bug in ttc for a plan it
 * compiled, the file's fault (a user error) for a plan read from a file. */
TtcStatus rt_op_fail(const RtOpArgs *a, TtcStatus st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A kernel's scratch memory could not be allocated (`what`: "the attention blocks"): internal. */
TtcStatus rt_op_oom(const RtOpArgs *a, const char *what);

/* EMBEDDING: ids[B,S], table[V,H] -> [B,S,H]. POS_EMBEDDING: table[P,H] -> [B,S,H] (v = P).
 * FIRST_TOKEN: x[B,S,H] -> [B,H] (v unused). */
typedef struct RtRowsOp {
    int64_t b, s, h, v;
} RtRowsOp;

/* Unary and binary elementwise ops: every input and the output have the same dims. */
TtcStatus rt_check_elementwise(const RtOpArgs *a, int64_t *n);
TtcStatus rt_check_embedding(const RtOpArgs *a, RtRowsOp *d);
TtcStatus rt_check_pos_embedding(const RtOpArgs *a, RtRowsOp *d);
TtcStatus rt_check_first_token(const RtOpArgs *a, RtRowsOp *d);

/* LAYERNORM, RMSNORM: x[...,H] seen as rows x h, parameter vectors [H]. */
typedef struct RtNormOp {
    int64_t rows, h;
} RtNormOp;
TtcStatus rt_check_norm(const RtOpArgs *a, RtNormOp *d);

/* LINEAR: x[m,k] (leading dims flattened), w[n,k], bias[n] when has_bias. */
typedef struct RtLinearOp {
    int64_t m, k, n;
    int has_bias;
} RtLinearOp;
TtcStatus rt_check_linear(const RtOpArgs *a, RtLinearOp *d);

/* Attention: batch, query tokens, context, query heads, kv heads, head dim; group = hq / hkv
 * query heads share one kv head (query head h reads kv head h / group). */
typedef struct RtAttnOp {
    int64_t b, s, t, hq, hkv, d, group;
} RtAttnOp;
TtcStatus rt_check_attn_scores(const RtOpArgs *a, RtAttnOp *d);
TtcStatus rt_check_attn_context(const RtOpArgs *a, RtAttnOp *d);
/* SOFTMAX: scores[B,Hq,S,T] (b, hq, s, t filled; hkv, d, group are 0), mask[B,T] when has_mask. */
TtcStatus rt_check_softmax(const RtOpArgs *a, RtAttnOp *d);

#endif
