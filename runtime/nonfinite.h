/* nonfinite.h: finding NaN and infinity in the tensors of a running plan, for `ttc run
 * --nan-check` (the executor stops at the first op whose output holds one), `ttc run --check`
 * (which names that op in the emulated and the reference path) and `ttc generate --nan-check`.
 *
 * Nothing here runs unless asked: the executor calls ttc_op_output_check only when the session
 * was opened with nan_check, so a normal run pays one predictable branch per op. */
#ifndef TTC_NONFINITE_H
#define TTC_NONFINITE_H

#include <stddef.h>

#include "ttc_runtime.h"

/* Index (in row-major order over t's dims) of the first NaN or infinite value of a float
 * tensor, -1 when every value is finite. A cache view's stride0 is honoured. */
int64_t ttc_tensor_first_nonfinite(const RtTensor *t);

/* The same for tensor `t` of session `s` as it is now: int32 tensors (ids, masks) are finite by
 * definition; a weight held only in its prepared matmul form is read from that form. */
int64_t ttc_session_first_nonfinite(TtcSession *s, int t);

/* Describes op k's inputs into buf: "inputs were finite", or which ones already held a
 * non-finite value and where ("input 1, weight 'layer.0.w' [768, 768], holds NaN at [3, 7]").
 * scan_activations 0: activations and the cache are taken as finite without being read (the
 * executor's check: each was checked when it was produced, and the arena may have reused its
 * memory since); weights are always read. */
void ttc_op_inputs_text(TtcSession *s, int k, int scan_activations, char *buf, size_t n);

/* TTC_OK when op k's output is finite; else records, in the DESIGN.md §7 shape,
 *     module 'PATH' (MODE): op KIND output holds NaN at [i, j, k] of [dims]; INPUTS
 *       hint: what to look at
 * and returns TTC_E_USER (a broken checkpoint or an overflowing configuration: user input). */
TtcStatus ttc_op_output_check(TtcSession *s, int k, int scan_activations, TtcError *err);

/* Records the first op whose output holds a non-finite value, without stopping the run: a
 * TtcOpHook for `ttc run --check`, which reports where each path (emulated, reference) first
 * went non-finite. Set .s to the session before its first step; op is -1 until one is found,
 * then `found` holds ttc_op_output_check's message. */
typedef struct TtcNonfiniteRecord {
    TtcSession *s;
    int op;
    TtcError found;
} TtcNonfiniteRecord;
void ttc_nonfinite_record_init(TtcNonfiniteRecord *r);
void ttc_nonfinite_on_op(void *record, int op_index, const RtTensor *out, double ms);

#endif
