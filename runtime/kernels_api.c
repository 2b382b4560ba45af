/* kernels_api.c: the kernels as plain C calls (ttc_kernels_api.h).
 *
 * Every function builds the RtOpArgs the plan executor (exec.c) would build for the op at these
 * sizes — same ranks, dims, cache strides, prepared weights and bindings — and runs the op's
 * fast kernel, so the result is bit for bit the plan runtime's. */
#include "ttc_kernels_api.h"

#include <string.h>

TtcWeight ttc_model_weight(const TtcModel *m, int t) {
    TtcWeight w = {m->weights ? m->weights[t] : NULL, m->prep ? m->prep[t] : NULL};
    return w;
}

void ttc_place_ids(int32_t *dst, const int32_t *src, int64_t n, int32_t fill) {
    if (src) {
        memcpy(dst, src, (size_t)n * sizeof *dst);
        return;
    }
    for (int64_t i = 0; i < n; i++) dst[i] = fill;
}

/* A dense tensor of `rank` dims (unused trailing dims are ignored). */
static RtTensor dense(const void *data, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    RtTensor t = {.data = (void *)data, .rank = rank, .dims = {d0, d1, d2, d3}};
    for (int i = rank; i < TTC_MAX_RANK; i++) t.dims[i] = 0;
    return t;
}

static RtTensor strided(const void *data, int64_t d0, int64_t d1, int64_t d2, int64_t stride0) {
    RtTensor t = dense(data, 3, d0, d1, d2, 0);
    t.stride0 = stride0;
    return t;
}

/* Runs op's fast kernel on `a` (inputs and output filled by the caller), as exec.c's run_entry
 * does: the step's bindings, and a generic message when a kernel fails without one. */
static TtcStatus run(TtcStep *st, const TtcOpDesc *op, RtOpArgs *a) {
    if (st->err->status != TTC_OK) return st->err->status;
    TtcBindings bind;
    memset(&bind, 0, sizeof bind);
    bind.v[TTC_SYM_BATCH] = st->batch;
    bind.v[TTC_SYM_SEQ] = st->seq;
    bind.v[TTC_SYM_CTX] = st->ctx;
    a->op = op;
    a->err = st->err;
    a->bind = &bind;
    TtcStatus rc = rt_fast_kernels[op->kind](a);
    if (rc != TTC_OK && st->err->status == TTC_OK)
        ttc_fail(st->err, rc, "op '%s' (%s) failed", op->path, ttc_op_name((TtcOpKind)op->kind));
    return st->err->status;
}

/* ---- gathers ---- */

TtcStatus ttc_embedding(TtcStep *st, const TtcOpDesc *op, float *out, const int32_t *ids, int64_t batch, int64_t seq,
                        TtcWeight table, int64_t vocab, int64_t hidden) {
    RtOpArgs a = {.n_in = 2};
    a.in[0] = dense(ids, 2, batch, seq, 0, 0);
    a.in[1] = dense(table.data, 2, vocab, hidden, 0, 0);
    a.prep[1] = table.prep;
    a.out = dense(out, 3, batch, seq, hidden, 0);
    return run(st, op, &a);
}

TtcStatus ttc_pos_embedding(TtcStep *st, const TtcOpDesc *op, float *out, int64_t batch, int64_t seq, TtcWeight table,
                            int64_t positions, int64_t hidden) {
    RtOpArgs a = {.n_in = 1};
    a.in[0] = dense(table.data, 2, positions, hidden, 0, 0);
    a.prep[0] = table.prep;
    a.out = dense(out, 3, batch, seq, hidden, 0);
    return run(st, op, &a);
}

TtcStatus ttc_first_token(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t batch, int64_t seq,
                          int64_t hidden) {
    RtOpArgs a = {.n_in = 1};
    a.in[0] = dense(x, 3, batch, seq, hidden, 0);
    a.out = dense(out, 2, batch, hidden, 0, 0);
    return run(st, op, &a);
}

/* ---- elementwise: the kernels see flat vectors, which is all they look at ---- */

static TtcStatus binary(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, const float *y, int64_t n) {
    RtOpArgs a = {.n_in = 2};
    a.in[0] = dense(x, 1, n, 0, 0, 0);
    a.in[1] = dense(y, 1, n, 0, 0, 0);
    a.out = dense(out, 1, n, 0, 0, 0);
    return run(st, op, &a);
}

static TtcStatus unary(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n) {
    RtOpArgs a = {.n_in = 1};
    a.in[0] = dense(x, 1, n, 0, 0, 0);
    a.out = dense(out, 1, n, 0, 0, 0);
    return run(st, op, &a);
}

TtcStatus ttc_add(TtcStep *st, const TtcOpDesc *op, float *out, const float *a, const float *b, int64_t n) {
    return binary(st, op, out, a, b, n);
}
TtcStatus ttc_mul(TtcStep *st, const TtcOpDesc *op, float *out, const float *a, const float *b, int64_t n) {
    return binary(st, op, out, a, b, n);
}
TtcStatus ttc_gelu(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n) {
    return unary(st, op, out, x, n);
}
TtcStatus ttc_reshard(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n) {
    return unary(st, op, out, x, n);
}
TtcStatus ttc_gelu_tanh(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n) {
    return unary(st, op, out, x, n);
}
TtcStatus ttc_silu(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n) {
    return unary(st, op, out, x, n);
}
TtcStatus ttc_relu(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n) {
    return unary(st, op, out, x, n);
}
TtcStatus ttc_tanh(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n) {
    return unary(st, op, out, x, n);
}

/* ---- norms ---- */

TtcStatus ttc_layernorm(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows, int64_t hidden,
                        TtcWeight gamma, TtcWeight beta) {
    RtOpArgs a = {.n_in = 3};
    a.in[0] = dense(x, 2, rows, hidden, 0, 0);
    a.in[1] = dense(gamma.data, 1, hidden, 0, 0, 0);
    a.in[2] = dense(beta.data, 1, hidden, 0, 0, 0);
    a.prep[1] = gamma.prep;
    a.prep[2] = beta.prep;
    a.out = dense(out, 2, rows, hidden, 0, 0);
    return run(st, op, &a);
}

TtcStatus ttc_rmsnorm(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows, int64_t hidden,
                      TtcWeight gamma) {
    RtOpArgs a = {.n_in = 2};
    a.in[0] = dense(x, 2, rows, hidden, 0, 0);
    a.in[1] = dense(gamma.data, 1, hidden, 0, 0, 0);
    a.prep[1] = gamma.prep;
    a.out = dense(out, 2, rows, hidden, 0, 0);
    return run(st, op, &a);
}

/* ---- matrix products ---- */

static TtcStatus linear(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows, int64_t k,
                        int64_t n, TtcWeight w, const TtcWeight *bias) {
    RtOpArgs a = {.n_in = bias ? 3 : 2};
    a.in[0] = dense(x, 2, rows, k, 0, 0);
    a.in[1] = dense(w.data, 2, n, k, 0, 0);
    a.prep[1] = w.prep;
    if (bias) {
        a.in[2] = dense(bias->data, 1, n, 0, 0, 0);
        a.prep[2] = bias->prep;
    }
    a.out = dense(out, 2, rows, n, 0, 0);
    return run(st, op, &a);
}

TtcStatus ttc_linear(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows, int64_t in_features,
                     int64_t out_features, TtcWeight w) {
    return linear(st, op, out, x, rows, in_features, out_features, w, NULL);
}

TtcStatus ttc_linear_bias(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows,
                          int64_t in_features, int64_t out_features, TtcWeight w, TtcWeight bias) {
    return linear(st, op, out, x, rows, in_features, out_features, w, &bias);
}

/* ---- attention ---- */

TtcStatus ttc_attn_scores(TtcStep *st, const TtcOpDesc *op, float *out, const float *q, const float *k, int64_t batch,
                          int64_t seq, int64_t ctx, int64_t k_row_stride) {
    const TtcAttrs *at = &op->attrs;
    RtOpArgs a = {.n_in = 2};
    a.in[0] = dense(q, 3, batch, seq, (int64_t)at->heads * at->head_dim, 0);
    a.in[1] = strided(k, batch, ctx, (int64_t)at->kv_heads * at->head_dim, k_row_stride);
    a.out = dense(out, 4, batch, at->heads, seq, ctx);
    return run(st, op, &a);
}

static TtcStatus softmax(TtcStep *st, const TtcOpDesc *op, float *out, const float *scores, const int32_t *mask,
                         int64_t batch, int64_t heads, int64_t seq, int64_t ctx) {
    RtOpArgs a = {.n_in = mask ? 2 : 1};
    a.in[0] = dense(scores, 4, batch, heads, seq, ctx);
    if (mask) a.in[1] = dense(mask, 2, batch, ctx, 0, 0);
    a.out = dense(out, 4, batch, heads, seq, ctx);
    return run(st, op, &a);
}

TtcStatus ttc_softmax(TtcStep *st, const TtcOpDesc *op, float *out, const float *scores, int64_t batch, int64_t heads,
                      int64_t seq, int64_t ctx) {
    return softmax(st, op, out, scores, NULL, batch, heads, seq, ctx);
}

TtcStatus ttc_softmax_masked(TtcStep *st, const TtcOpDesc *op, float *out, const float *scores, const int32_t *mask,
                             int64_t batch, int64_t heads, int64_t seq, int64_t ctx) {
    return softmax(st, op, out, scores, mask, batch, heads, seq, ctx);
}

TtcStatus ttc_attn_context(TtcStep *st, const TtcOpDesc *op, float *out, const float *probs, const float *v,
                           int64_t batch, int64_t seq, int64_t ctx, int64_t v_row_stride) {
    const TtcAttrs *at = &op->attrs;
    RtOpArgs a = {.n_in = 2};
    a.in[0] = dense(probs, 4, batch, at->heads, seq, ctx);
    a.in[1] = strided(v, batch, ctx, (int64_t)at->kv_heads * at->head_dim, v_row_stride);
    a.out = dense(out, 3, batch, seq, (int64_t)at->heads * at->head_dim, 0);
    return run(st, op, &a);
}

/* ---- decoders ---- */

TtcStatus ttc_rope(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t batch, int64_t seq) {
    const TtcAttrs *at = &op->attrs;
    RtOpArgs a = {.n_in = 1};
    a.in[0] = dense(x, 3, batch, seq, (int64_t)at->heads * at->head_dim, 0);
    a.out = dense(out, 3, batch, seq, (int64_t)at->heads * at->head_dim, 0);
    return run(st, op, &a);
}

/* The executor sees the cache whole ([B, capacity, F]) and the op's output as the view of its
 * first T rows ([B, T, F]); both step capacity*F floats from one sequence to the next. */
TtcStatus ttc_kv_update(TtcStep *st, const TtcOpDesc *op, float *cache, const float *x, int64_t batch, int64_t seq,
                        int64_t features, int64_t ctx, int64_t capacity) {
    RtOpArgs a = {.n_in = 2};
    a.in[0] = dense(x, 3, batch, seq, features, 0);
    a.in[1] = strided(cache, batch, capacity, features, capacity * features);
    a.out = strided(cache, batch, ctx, features, capacity * features);
    return run(st, op, &a);
}

/* ---- fused ops ---- */

TtcStatus ttc_attention(TtcStep *st, const TtcOpDesc *op, float *out, const float *q, const float *k, const float *v,
                        const int32_t *mask, int64_t batch, int64_t seq, int64_t ctx, int64_t q_width, int64_t k_width,
                        int64_t k_row_stride, int64_t v_width, int64_t v_row_stride) {
    const TtcAttrs *at = &op->attrs;
    RtOpArgs a = {.n_in = mask ? 4 : 3};
    a.in[0] = dense(q, 3, batch, seq, q_width, 0);
    a.in[1] = strided(k, batch, ctx, k_width, k_row_stride == ctx * k_width ? 0 : k_row_stride);
    a.in[2] = strided(v, batch, ctx, v_width, v_row_stride == ctx * v_width ? 0 : v_row_stride);
    if (mask) a.in[3] = dense(mask, 2, batch, ctx, 0, 0);
    a.out = dense(out, 3, batch, seq, (int64_t)at->heads * at->head_dim, 0);
    return run(st, op, &a);
}

TtcStatus ttc_add_layernorm(TtcStep *st, const TtcOpDesc *op, float *out, const float *a, const float *b, int64_t rows,
                            int64_t hidden, TtcWeight gamma, TtcWeight beta) {
    RtOpArgs args = {.n_in = 4};
    args.in[0] = dense(a, 2, rows, hidden, 0, 0);
    args.in[1] = dense(b, 2, rows, hidden, 0, 0);
    args.in[2] = dense(gamma.data, 1, hidden, 0, 0, 0);
    args.in[3] = dense(beta.data, 1, hidden, 0, 0, 0);
    args.prep[2] = gamma.prep;
    args.prep[3] = beta.prep;
    args.out = dense(out, 2, rows, hidden, 0, 0);
    return run(st, op, &args);
}

/* The executor runs the epilogue kernel with the linear's own op description on its output, in
 * place, before the output is rounded: the same here. */
TtcStatus ttc_epilogue(TtcStep *st, const TtcOpDesc *op, float *x, int64_t outer, int64_t seq, int64_t features) {
    if (st->err->status != TTC_OK) return st->err->status;
    int kind = ttc_epilogue_op(op->attrs.epilogue);
    if (kind < 0) return TTC_OK;
    TtcBindings bind;
    memset(&bind, 0, sizeof bind);
    bind.v[TTC_SYM_BATCH] = st->batch;
    bind.v[TTC_SYM_SEQ] = st->seq;
    bind.v[TTC_SYM_CTX] = st->ctx;
    RtOpArgs a = {.n_in = 1, .op = op, .err = st->err, .bind = &bind};
    a.in[0] = a.out = dense(x, 3, outer, seq, features, 0);
    TtcStatus rc = rt_fast_kernels[kind](&a);
    if (rc != TTC_OK && st->err->status == TTC_OK)
        ttc_fail(st->err, rc, "op '%s' (%s) failed", op->path, ttc_op_name((TtcOpKind)op->kind));
    return st->err->status;
}

TtcStatus ttc_kv_update_cols(TtcStep *st, const TtcOpDesc *op, float *cache, const float *x, int64_t batch,
                             int64_t seq, int64_t width, int64_t features, int64_t ctx, int64_t capacity) {
    RtOpArgs a = {.n_in = 2};
    a.in[0] = dense(x, 3, batch, seq, width, 0);
    a.in[1] = strided(cache, batch, capacity, features, capacity * features);
    a.out = strided(cache, batch, ctx, features, capacity * features);
    return run(st, op, &a);
}
