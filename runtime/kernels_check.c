/* kernels_check.c: argument validation shared by the fast and the reference kernels.
 *
 * Kernels trust nothing they are given: a plan file or an executor bug must produce a message
 * naming the op and the mismatch, never an out-of-bounds read. Each rt_check_* function
 * implements the shape column of its ops.def row. */
#include "kernels_check.h"

#include <stdarg.h>
#include <stdio.h>

TtcStatus rt_op_fail(const RtOpArgs *a, TtcStatus st, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st == TTC_E_INTERNAL && a->plan_from_file) st = TTC_E_USER;
    ttc_fail(a->err, st, "op '%s' (%s): %s", a->op->path, ttc_op_name((TtcOpKind)a->op->kind), msg);
    if (st == TTC_E_INTERNAL)
        ttc_hint(a->err, "this is a bug in ttc: the executor's dims break the op's contract in runtime/ops.def");
    else if (a->plan_from_file)
        ttc_hint(a->err, "the plan's operand shapes contradict what the op computes: the file is damaged or was not "
                 "written by this ttc; recompile it with ttc compile");
    return st;
}

TtcStatus rt_op_oom(const RtOpArgs *a, const char *what) {
    ttc_fail(a->err, TTC_E_INTERNAL, "op '%s' (%s): out of memory for %s", a->op->path,
             ttc_op_name((TtcOpKind)a->op->kind), what);
    ttc_hint(a->err, "the host has no memory left for this op's scratch buffers: run a smaller batch or sequence");
    return TTC_E_INTERNAL;
}

static const char *dims_str(const RtTensor *t, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

static int same_dims(const RtTensor *x, const RtTensor *y) {
    if (x->rank != y->rank) return 0;
    for (int i = 0; i < x->rank; i++)
        if (x->dims[i] != y->dims[i]) return 0;
    return 1;
}

static TtcStatus check_tensor(const RtOpArgs *a, const RtTensor *t, const char *what, const void *prep) {
    char buf[96];
    /* A weight prepared at load is read through its preparation only: its fp32 values may have
     * been released (weight_prep.h). */
    if (!t->data && !prep) return rt_op_fail(a, TTC_E_INTERNAL, "%s has no data", what);
    if (t->rank < 1 || t->rank > TTC_MAX_RANK)
        return rt_op_fail(a, TTC_E_INTERNAL, "%s has rank %d (1..%d supported)", what, t->rank, TTC_MAX_RANK);
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0)
            return rt_op_fail(a, TTC_E_INTERNAL, "%s has a negative dim %s", what, dims_str(t, buf, sizeof buf));
    return TTC_OK;
}

/* What every op needs: an op description, an input count its ops.def row allows, and tensors
 * with data and sane dims. */
static TtcStatus check_common(const RtOpArgs *a) {
    if (!a->op) return ttc_fail(a->err, TTC_E_INTERNAL, "kernel called without an op description");
    TtcOpKind k = (TtcOpKind)a->op->kind;
    if (a->n_in < ttc_op_min_inputs(k) || a->n_in > ttc_op_max_inputs(k))
        return rt_op_fail(a, TTC_E_INTERNAL, "got %d inputs, the op takes %d to %d", a->n_in, ttc_op_min_inputs(k),
                          ttc_op_max_inputs(k));
    static const char *const names[TTC_MAX_OP_INPUTS] = {"input 0", "input 1", "input 2", "input 3"};
    for (int i = 0; i < a->n_in; i++)
        if (check_tensor(a, &a->in[i], names[i], a->prep[i])) return TTC_E_INTERNAL;
    return check_tensor(a, &a->out, "the output", NULL);
}

static TtcStatus need_rank(const RtOpArgs *a, const RtTensor *t, const char *what, int rank) {
    if (t->rank == rank) return TTC_OK;
    char buf[96];
    return rt_op_fail(a, TTC_E_INTERNAL, "%s is %s, rank %d expected", what, dims_str(t, buf, sizeof buf), rank);
}

/* The output must have exactly the dims `want` lists (rank entries). */
static TtcStatus need_out(const RtOpArgs *a, int rank, const int64_t *want) {
    RtTensor expect = {.rank = rank};
    for (int i = 0; i < rank; i++) expect.dims[i] = want[i];
    if (same_dims(&a->out, &expect)) return TTC_OK;
    char got[96], exp[96];
    return rt_op_fail(a, TTC_E_INTERNAL, "output is %s, inputs imply %s", dims_str(&a->out, got, sizeof got),
                      dims_str(&expect, exp, sizeof exp));
}

/* Kernels write their output while still reading inputs, so the output may not overlap an
 * input; ops that go element by element or row by row may run exactly in place (allow_exact:
 * output and input are the same buffer). */
static TtcStatus check_overlap(const RtOpArgs *a, int allow_exact) {
    uintptr_t o0 = (uintptr_t)a->out.data, o1 = o0 + (uintptr_t)rt_tensor_elems(&a->out) * sizeof(float);
    for (int i = 0; i < a->n_in; i++) {
        uintptr_t i0 = (uintptr_t)a->in[i].data, i1 = i0 + (uintptr_t)rt_tensor_elems(&a->in[i]) * sizeof(float);
        if (o0 >= i1 || i0 >= o1 || o0 == o1 || i0 == i1) continue; /* disjoint, or one is empty */
        if (allow_exact && o0 == i0 && o1 == i1) continue;
        return rt_op_fail(a, TTC_E_INTERNAL, "the output buffer overlaps input %d%s", i,
                          allow_exact ? " (only exact in-place use is allowed)" : "");
    }
    return TTC_OK;
}

/* "a, b (same shape) -> same shape" and "x -> same shape" */
TtcStatus rt_check_elementwise(const RtOpArgs *a, int64_t *n) {
    if (check_common(a)) return TTC_E_INTERNAL;
    char x[96], y[96];
    for (int i = 1; i < a->n_in; i++)
        if (!same_dims(&a->in[0], &a->in[i]))
            return rt_op_fail(a, TTC_E_INTERNAL, "operands differ in shape: %s vs %s",
                              dims_str(&a->in[0], x, sizeof x), dims_str(&a->in[i], y, sizeof y));
    if (!same_dims(&a->in[0], &a->out))
        return rt_op_fail(a, TTC_E_INTERNAL, "output is %s, input is %s", dims_str(&a->out, y, sizeof y),
                          dims_str(&a->in[0], x, sizeof x));
    *n = rt_tensor_elems(&a->out);
    return check_overlap(a, 1);
}

/* ids[B,S] i32, table[V,H] -> [B,S,H] */
TtcStatus rt_check_embedding(const RtOpArgs *a, RtRowsOp *d) {
    if (check_common(a) || need_rank(a, &a->in[0], "ids", 2) || need_rank(a, &a->in[1], "table", 2))
        return TTC_E_INTERNAL;
    *d = (RtRowsOp){.b = a->in[0].dims[0], .s = a->in[0].dims[1], .v = a->in[1].dims[0], .h = a->in[1].dims[1]};
    if (need_out(a, 3, (int64_t[]){d->b, d->s, d->h}) || check_overlap(a, 0)) return TTC_E_INTERNAL;
    /* The ids come from the user: every one is checked before any row is gathered. */
    const int32_t *ids = a->in[0].data;
    for (int64_t i = 0; i < d->b * d->s; i++) {
        if (ids[i] >= 0 && ids[i] < d->v) continue;
        ttc_fail(a->err, TTC_E_USER, "op '%s': token id %d at [%lld,%lld] is outside the vocabulary [0, %lld)",
                 a->op->path, ids[i], (long long)(i / d->s), (long long)(i % d->s), (long long)d->v);
        ttc_hint(a->err, "the ids must come from this model's tokenizer (vocab_size %lld)", (long long)d->v);
        return TTC_E_USER;
    }
    return TTC_OK;
}

/* table[P,H] -> [B,S,H], S <= P */
TtcStatus rt_check_pos_embedding(const RtOpArgs *a, RtRowsOp *d) {
    if (check_common(a) || need_rank(a, &a->in[0], "position table", 2) || need_rank(a, &a->out, "output", 3))
        return TTC_E_INTERNAL;
    *d = (RtRowsOp){.b = a->out.dims[0], .s = a->out.dims[1], .v = a->in[0].dims[0], .h = a->in[0].dims[1]};
    if (need_out(a, 3, (int64_t[]){d->b, d->s, d->h}) || check_overlap(a, 0)) return TTC_E_INTERNAL;
    if (d->s > d->v) {
        rt_op_fail(a, TTC_E_USER, "the sequence has %lld tokens but the position table only has %lld rows",
                   (long long)d->s, (long long)d->v);
        ttc_hint(a->err, "the model supports at most %lld tokens per sequence: shorten the input", (long long)d->v);
        return TTC_E_USER;
    }
    return TTC_OK;
}

/* x[B,S,H] -> [B,H] */
TtcStatus rt_check_first_token(const RtOpArgs *a, RtRowsOp *d) {
    if (check_common(a) || need_rank(a, &a->in[0], "x", 3)) return TTC_E_INTERNAL;
    *d = (RtRowsOp){.b = a->in[0].dims[0], .s = a->in[0].dims[1], .h = a->in[0].dims[2]};
    if (d->s < 1) return rt_op_fail(a, TTC_E_INTERNAL, "the sequence is empty: there is no first token");
    if (need_out(a, 2, (int64_t[]){d->b, d->h})) return TTC_E_INTERNAL;
    return check_overlap(a, 0);
}

/* x[...,H], gamma[H] (, beta[H]) -> [...,H] */
TtcStatus rt_check_norm(const RtOpArgs *a, RtNormOp *d) {
    if (check_common(a)) return TTC_E_INTERNAL;
    const RtTensor *x = &a->in[0];
    d->h = x->dims[x->rank - 1];
    d->rows = d->h ? rt_tensor_elems(x) / d->h : 0;
    static const char *const names[3] = {"x", "gamma", "beta"};
    char buf[96];
    for (int i = 1; i < a->n_in; i++)
        if (a->in[i].rank != 1 || a->in[i].dims[0] != d->h)
            return rt_op_fail(a, TTC_E_INTERNAL, "%s is %s, a vector of the last dim (%lld) expected", names[i],
                              dims_str(&a->in[i], buf, sizeof buf), (long long)d->h);
    char got[96];
    if (!same_dims(x, &a->out))
        return rt_op_fail(a, TTC_E_INTERNAL, "output is %s, x is %s", dims_str(&a->out, got, sizeof got),
                          dims_str(x, buf, sizeof buf));
    float eps = a->op->attrs.eps;
    if (!(eps >= 0.0f) || eps > 1.0f) /* also catches NaN */
        return rt_op_fail(a, TTC_E_INTERNAL, "eps %g is not in [0, 1]", (double)eps);
    return check_overlap(a, 1);
}

/* x[...,K], w[N,K], bias[N]? -> [...,N] */
TtcStatus rt_check_linear(const RtOpArgs *a, RtLinearOp *d) {
    if (check_common(a) || need_rank(a, &a->in[1], "weight", 2)) return TTC_E_INTERNAL;
    const RtTensor *x = &a->in[0], *w = &a->in[1];
    char xs[96], ws[96];
    d->n = w->dims[0];
    d->k = w->dims[1];
    d->has_bias = a->n_in == 3;
    if (x->dims[x->rank - 1] != d->k)
        return rt_op_fail(a, TTC_E_INTERNAL, "x is %s but the weight is %s: last dims must agree (K)",
                          dims_str(x, xs, sizeof xs), dims_str(w, ws, sizeof ws));
    if (d->has_bias && (a->in[2].rank != 1 || a->in[2].dims[0] != d->n))
        return rt_op_fail(a, TTC_E_INTERNAL, "bias is %s, the weight has %lld rows", dims_str(&a->in[2], xs, sizeof xs),
                          (long long)d->n);
    d->m = d->k ? rt_tensor_elems(x) / d->k : 1;
    int64_t want[TTC_MAX_RANK];
    for (int i = 0; i < x->rank; i++) want[i] = x->dims[i];
    want[x->rank - 1] = d->n;
    if (d->k == 0) /* x has no elements to count rows by: take them from the dims */
        for (int i = 0; i < x->rank - 1; i++) d->m *= x->dims[i];
    if (need_out(a, x->rank, want)) return TTC_E_INTERNAL;
    return check_overlap(a, 0);
}

static TtcStatus check_heads(const RtOpArgs *a, RtAttnOp *d) {
    const TtcAttrs *at = &a->op->attrs;
    if (at->heads <= 0 || at->kv_heads <= 0 || at->head_dim <= 0 || at->heads % at->kv_heads)
        return rt_op_fail(a, TTC_E_INTERNAL, "bad head configuration (heads %d, kv_heads %d, head_dim %d)", at->heads,
                          at->kv_heads, at->head_dim);
    d->hq = at->heads;
    d->hkv = at->kv_heads;
    d->d = at->head_dim;
    d->group = d->hq / d->hkv;
    return TTC_OK;
}

/* `t` is [B, rows, heads*D] with B = d->b. */
static TtcStatus check_head_features(const RtOpArgs *a, const RtTensor *t, const char *what, int64_t heads,
                                     const RtAttnOp *d) {
    char buf[96];
    if (need_rank(a, t, what, 3)) return TTC_E_INTERNAL;
    if (t->dims[0] != d->b || t->dims[2] != heads * d->d)
        return rt_op_fail(a, TTC_E_INTERNAL, "%s is %s, [%lld, tokens, %lld heads x %lld] expected", what,
                          dims_str(t, buf, sizeof buf), (long long)d->b, (long long)heads, (long long)d->d);
    return TTC_OK;
}

/* q[B,S,Hq*D], k[B,T,Hkv*D] -> [B,Hq,S,T]; scale */
TtcStatus rt_check_attn_scores(const RtOpArgs *a, RtAttnOp *d) {
    if (check_common(a) || check_heads(a, d) || need_rank(a, &a->in[0], "q", 3)) return TTC_E_INTERNAL;
    d->b = a->in[0].dims[0];
    d->s = a->in[0].dims[1];
    if (check_head_features(a, &a->in[0], "q", d->hq, d) || check_head_features(a, &a->in[1], "k", d->hkv, d))
        return TTC_E_INTERNAL;
    d->t = a->in[1].dims[1];
    float sc = a->op->attrs.scale;
    if (!(sc > 0.0f) || sc > 1e30f) /* also catches NaN */
        return rt_op_fail(a, TTC_E_INTERNAL, "scale %g is not a positive number", (double)sc);
    if (need_out(a, 4, (int64_t[]){d->b, d->hq, d->s, d->t})) return TTC_E_INTERNAL;
    return check_overlap(a, 0);
}

/* probs[B,Hq,S,T], v[B,T,Hkv*D] -> [B,S,Hq*D] */
TtcStatus rt_check_attn_context(const RtOpArgs *a, RtAttnOp *d) {
    if (check_common(a) || check_heads(a, d) || need_rank(a, &a->in[0], "probs", 4)) return TTC_E_INTERNAL;
    const RtTensor *p = &a->in[0];
    d->b = p->dims[0];
    d->s = p->dims[2];
    d->t = p->dims[3];
    char buf[96];
    if (p->dims[1] != d->hq)
        return rt_op_fail(a, TTC_E_INTERNAL, "probs is %s but the op has %lld heads", dims_str(p, buf, sizeof buf),
                          (long long)d->hq);
    if (check_head_features(a, &a->in[1], "v", d->hkv, d)) return TTC_E_INTERNAL;
    if (a->in[1].dims[1] != d->t)
        return rt_op_fail(a, TTC_E_INTERNAL, "probs cover %lld context positions, v has %lld", (long long)d->t,
                          (long long)a->in[1].dims[1]);
    if (need_out(a, 3, (int64_t[]){d->b, d->s, d->hq * d->d})) return TTC_E_INTERNAL;
    return check_overlap(a, 0);
}

/* scores[B,Hq,S,T], mask[B,T] i32? -> [B,Hq,S,T]; causal window has_mask */
TtcStatus rt_check_softmax(const RtOpArgs *a, RtAttnOp *d) {
    if (check_common(a) || need_rank(a, &a->in[0], "scores", 4)) return TTC_E_INTERNAL;
    const RtTensor *x = &a->in[0];
    const TtcAttrs *at = &a->op->attrs;
    *d = (RtAttnOp){.b = x->dims[0], .hq = x->dims[1], .s = x->dims[2], .t = x->dims[3]};
    char buf[96];
    if ((a->n_in == 2) != (at->has_mask != 0))
        return rt_op_fail(a, TTC_E_INTERNAL, "has_mask is %d but %d inputs were given", at->has_mask, a->n_in);
    if (at->has_mask) {
        const RtTensor *m = &a->in[1];
        if (m->rank != 2 || m->dims[0] != d->b || m->dims[1] != d->t)
            return rt_op_fail(a, TTC_E_INTERNAL, "mask is %s, [%lld, %lld] (batch, context) expected",
                              dims_str(m, buf, sizeof buf), (long long)d->b, (long long)d->t);
    }
    if (at->window < 0) return rt_op_fail(a, TTC_E_INTERNAL, "window %d is negative", at->window);
    /* query i sits at absolute position T - S + i: the context must hold every query */
    if ((at->causal || at->window) && d->t < d->s)
        return rt_op_fail(a, TTC_E_INTERNAL, "%lld queries but only %lld context positions: a causal or windowed "
                          "query must see itself", (long long)d->s, (long long)d->t);
    if (need_out(a, 4, (int64_t[]){d->b, d->hq, d->s, d->t})) return TTC_E_INTERNAL;
    return check_overlap(a, 1);
}
