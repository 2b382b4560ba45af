/* cg_c_ops.c: one plan op as C: a comment with what the op does and how the device is
 * configured for it, the kernel call (ttc_kernels_api.h) with its sizes written out, and the
 * rounding of its output to the activation format — exactly what exec.c does after each op. */
#include <string.h>

#include "cg_c_internal.h"

const char *cg_c_dim(CgC *c, TtcDim d, char *buf, size_t n) {
    static const char *const sym_names[TTC_SYM_COUNT] = {"", "B", "S", "T"};
    if (d.sym > TTC_SYM_NONE && d.sym < TTC_SYM_COUNT) {
        c->uses_sym[d.sym] = 1;
        snprintf(buf, n, "%s", sym_names[d.sym]);
    } else {
        snprintf(buf, n, "%lld", (long long)d.size);
    }
    return buf;
}

const char *cg_c_dims_product(CgC *c, const TtcShape *s, int from, int to, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = from; i < to && k < n; i++) {
        char d[32];
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i > from ? " * " : "", cg_c_dim(c, s->d[i], d, sizeof d));
    }
    if (from >= to) snprintf(buf, n, "1");
    return buf;
}

const char *cg_c_shape_text(const TtcTensorDesc *d, char *buf, size_t n) {
    char sh[96];
    snprintf(buf, n, "%s %s", ttc_shape_str(&d->shape, sh, sizeof sh), ttc_dtype_name((TtcDType)d->dtype));
    return buf;
}

/* ---- operands ---- */

typedef struct Emit {
    CgC *c;
    const TtcOpDesc *op;
    int k;
    TtcError *err;
} Emit;

static const TtcTensorDesc *tensor(const Emit *e, int t) { return &e->c->p->tensors[t]; }

/* A tensor read as data: a local (arena or cache view), a cache, or a weight's values. */
static const char *data_of(Emit *e, int t, char *buf, size_t n) {
    const TtcTensorDesc *d = tensor(e, t);
    if (d->kind == TTC_TENSOR_WEIGHT || d->kind == TTC_TENSOR_STATE) {
        e->c->uses_model = 1;
        snprintf(buf, n, "m->%s%s", e->c->field[t], d->kind == TTC_TENSOR_WEIGHT ? ".data" : "");
    } else {
        snprintf(buf, n, "%s", e->c->local[t]);
    }
    return buf;
}

/* A tensor read as a weight (values and prepared operands). */
static const char *weight_of(Emit *e, int t, char *buf, size_t n) {
    if (tensor(e, t)->kind == TTC_TENSOR_WEIGHT) {
        e->c->uses_model = 1;
        snprintf(buf, n, "m->%s", e->c->field[t]);
    } else {
        char d[CG_ID_MAX + 16];
        snprintf(buf, n, "(TtcWeight){%s, NULL}", data_of(e, t, d, sizeof d));
    }
    return buf;
}

static TtcStatus unsupported(const Emit *e, const char *why) {
    return ttc_fail(e->err, TTC_E_INTERNAL, "op %d ('%s', %s): the C emitter %s", e->k, e->op->path,
                    ttc_op_name((TtcOpKind)e->op->kind), why);
}

static TtcStatus need_rank(const Emit *e, int t, int rank, const char *what) {
    if (tensor(e, t)->shape.rank == rank) return TTC_OK;
    char msg[128];
    snprintf(msg, sizeof msg, "expects %s of rank %d, the plan has rank %d", what, rank, tensor(e, t)->shape.rank);
    return unsupported(e, msg);
}

/* Floats between consecutive sequences of k or v [B,T,F]: a cache view steps over the whole
 * capacity of each sequence's cache, a dense tensor over its own rows. */
static const char *row_stride(Emit *e, int t, char *buf, size_t n) {
    const TtcTensorDesc *d = tensor(e, t);
    char a[32], b[32];
    if (d->alias >= 0) {
        const TtcShape *cs = &tensor(e, d->alias)->shape;
        int64_t cap = cs->d[1].size;
        if (cap == e->c->p->max_ctx)
            snprintf(buf, n, "MAX_CTX * %lld", (long long)cs->d[2].size);
        else
            snprintf(buf, n, "%lld * %lld", (long long)cap, (long long)cs->d[2].size);
    } else {
        snprintf(buf, n, "%s * %s", cg_c_dim(e->c, d->shape.d[1], a, sizeof a), cg_c_dim(e->c, d->shape.d[2], b, sizeof b));
    }
    return buf;
}

/* ---- the comment above a call ---- */

static const char *fidelity_name(int f) {
    static const char *const names[] = {"LoFi", "HiFi2", "HiFi3", "HiFi4"};
    return f >= 0 && f < 4 ? names[f] : "?";
}

static void describe(Emit *e, char *buf, size_t n) {
    const TtcOpDesc *op = e->op;
    const TtcAttrs *at = &op->attrs;
    size_t k = 0;
    buf[0] = 0;
    switch ((TtcOpKind)op->kind) {
    case TTC_OP_LINEAR: {
        static const char *const epilogues[TTC_EPILOGUE_COUNT] = {"", "gelu", "gelu_tanh", "silu", "relu", "tanh",
                                                                  "rope on q and k"};
        k = (size_t)snprintf(buf, n, "%s weights, %s, %s accumulation",
                             ttc_dtype_name((TtcDType)tensor(e, op->in[1])->dtype), fidelity_name(op->cfg.fidelity),
                             op->cfg.fp32_acc ? "fp32" : "bf16");
        if (at->epilogue > 0 && at->epilogue < TTC_EPILOGUE_COUNT && k < n)
            snprintf(buf + k, n - k, ", then %s in place", epilogues[at->epilogue]);
        break;
    }
    case TTC_OP_LAYERNORM:
    case TTC_OP_RMSNORM:
        snprintf(buf, n, "eps %g", (double)at->eps);
        break;
    case TTC_OP_ADD_LAYERNORM:
        snprintf(buf, n, "layernorm of the sum, eps %g", (double)at->eps);
        break;
    case TTC_OP_ATTENTION:
        k = (size_t)snprintf(buf, n, "flash attention, %d heads", at->heads);
        if (at->kv_heads != at->heads && k < n) k += (size_t)snprintf(buf + k, n - k, " sharing %d kv heads", at->kv_heads);
        if (k < n) k += (size_t)snprintf(buf + k, n - k, " of %d, scale %g", at->head_dim, (double)at->scale);
        if (at->causal && k < n) k += (size_t)snprintf(buf + k, n - k, ", causal");
        if (at->window && k < n) k += (size_t)snprintf(buf + k, n - k, ", sliding window %d", at->window);
        if (at->has_mask && k < n) k += (size_t)snprintf(buf + k, n - k, ", padding masked");
        if ((at->q_col || at->k_col || at->v_col) && k < n)
            snprintf(buf + k, n - k, ", q/k/v from columns %d/%d/%d", at->q_col, at->k_col, at->v_col);
        break;
    case TTC_OP_ATTN_SCORES:
    case TTC_OP_ATTN_CONTEXT:
        k = (size_t)snprintf(buf, n, "%d heads", at->heads);
        if (at->kv_heads != at->heads) k += (size_t)snprintf(buf + k, n - k, " sharing %d kv heads", at->kv_heads);
        k += (size_t)snprintf(buf + k, n - k, " of %d", at->head_dim);
        if (op->kind == TTC_OP_ATTN_SCORES && k < n) snprintf(buf + k, n - k, ", scale %g", (double)at->scale);
        break;
    case TTC_OP_SOFTMAX:
        k = (size_t)snprintf(buf, n, "over the context");
        if (at->causal && k < n) k += (size_t)snprintf(buf + k, n - k, ", causal");
        if (at->window && k < n) k += (size_t)snprintf(buf + k, n - k, ", sliding window %d", at->window);
        if (at->has_mask && k < n) snprintf(buf + k, n - k, ", padding masked");
        break;
    case TTC_OP_ROPE:
        k = (size_t)snprintf(buf, n, "%d heads of %d at positions T-S..T-1, theta %g", at->heads, at->head_dim,
                             (double)at->rope_theta);
        if (at->rope_scaling == 1 && k < n) snprintf(buf + k, n - k, ", llama3 scaling x%g", (double)at->rope_factor);
        break;
    case TTC_OP_KV_UPDATE:
        k = (size_t)snprintf(buf, n, "new rows T-S..T-1 of %s", tensor(e, op->in[1])->name);
        if (at->k_col && k < n) snprintf(buf + k, n - k, " from column %d of the fused projection", at->k_col);
        break;
    case TTC_OP_EMBEDDING:
        snprintf(buf, n, "rows of %s", tensor(e, op->in[1])->name);
        break;
    case TTC_OP_POS_EMBEDDING:
        snprintf(buf, n, "rows 0..S-1 of %s", tensor(e, op->in[0])->name);
        break;
    default:
        break;
    }
}

/* ---- the call ---- */

/* The kernel call for the op, into `call`; the shapes it needs are checked against the plan. */
static TtcStatus call_text(Emit *e, char *call, size_t n) {
    const TtcOpDesc *op = e->op;
    CgC *c = e->c;
    const TtcTensorDesc *o = tensor(e, op->out);
    const TtcShape *os = &o->shape;
    char a0[CG_ID_MAX + 16], a1[CG_ID_MAX + 16], a2[CG_ID_MAX + 16], d0[32], d1[32], d2[32], d3[32], prod[160],
        stride[96];
    char out[CG_ID_MAX];
    snprintf(out, sizeof out, "%s", c->local[op->out]);
    if (op->kind != TTC_OP_KV_UPDATE && (o->kind != TTC_TENSOR_ACT || o->alias >= 0))
        return unsupported(e, "expects the output in the arena");
    const TtcShape *xs = op->n_in > 0 ? &tensor(e, op->in[0])->shape : NULL;
    const char *head = "st, &ops[";
    switch ((TtcOpKind)op->kind) {
    case TTC_OP_EMBEDDING:
        if (need_rank(e, op->in[0], 2, "ids") || need_rank(e, op->in[1], 2, "a table")) return e->err->status;
        snprintf(call, n, "ttc_embedding(%s%d], %s, %s, %s, %s, %s, %lld, %lld);", head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), cg_c_dim(c, xs->d[0], d0, sizeof d0),
                 cg_c_dim(c, xs->d[1], d1, sizeof d1), weight_of(e, op->in[1], a1, sizeof a1),
                 (long long)tensor(e, op->in[1])->shape.d[0].size, (long long)tensor(e, op->in[1])->shape.d[1].size);
        break;
    case TTC_OP_POS_EMBEDDING:
        if (need_rank(e, op->in[0], 2, "a table") || need_rank(e, op->out, 3, "an output")) return e->err->status;
        snprintf(call, n, "ttc_pos_embedding(%s%d], %s, %s, %s, %s, %lld, %lld);", head, e->k, out,
                 cg_c_dim(c, os->d[0], d0, sizeof d0), cg_c_dim(c, os->d[1], d1, sizeof d1),
                 weight_of(e, op->in[0], a0, sizeof a0), (long long)xs->d[0].size, (long long)xs->d[1].size);
        break;
    case TTC_OP_FIRST_TOKEN:
        if (need_rank(e, op->in[0], 3, "x")) return e->err->status;
        snprintf(call, n, "ttc_first_token(%s%d], %s, %s, %s, %s, %s);", head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), cg_c_dim(c, xs->d[0], d0, sizeof d0),
                 cg_c_dim(c, xs->d[1], d1, sizeof d1), cg_c_dim(c, xs->d[2], d2, sizeof d2));
        break;
    case TTC_OP_ADD:
    case TTC_OP_MUL:
        snprintf(call, n, "ttc_%s(%s%d], %s, %s, %s, %s);", ttc_op_name((TtcOpKind)op->kind), head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), data_of(e, op->in[1], a1, sizeof a1),
                 cg_c_dims_product(c, os, 0, os->rank, prod, sizeof prod));
        break;
    case TTC_OP_GELU:
    case TTC_OP_GELU_TANH:
    case TTC_OP_SILU:
    case TTC_OP_RELU:
    case TTC_OP_TANH:
    case TTC_OP_RESHARD: /* a copy on the host: core-grid sharding only changes the device cost */
        snprintf(call, n, "ttc_%s(%s%d], %s, %s, %s);", ttc_op_name((TtcOpKind)op->kind), head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), cg_c_dims_product(c, os, 0, os->rank, prod, sizeof prod));
        break;
    case TTC_OP_LAYERNORM:
        snprintf(call, n, "ttc_layernorm(%s%d], %s, %s, %s, %s, %s, %s);", head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), cg_c_dims_product(c, xs, 0, xs->rank - 1, prod, sizeof prod),
                 cg_c_dim(c, xs->d[xs->rank - 1], d0, sizeof d0), weight_of(e, op->in[1], a1, sizeof a1),
                 weight_of(e, op->in[2], a2, sizeof a2));
        break;
    case TTC_OP_RMSNORM:
        snprintf(call, n, "ttc_rmsnorm(%s%d], %s, %s, %s, %s, %s);", head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), cg_c_dims_product(c, xs, 0, xs->rank - 1, prod, sizeof prod),
                 cg_c_dim(c, xs->d[xs->rank - 1], d0, sizeof d0), weight_of(e, op->in[1], a1, sizeof a1));
        break;
    case TTC_OP_LINEAR: {
        if (need_rank(e, op->in[1], 2, "a weight")) return e->err->status;
        const TtcShape *ws = &tensor(e, op->in[1])->shape;
        int k0 = (int)snprintf(call, n, "ttc_linear%s(%s%d], %s, %s, %s, %s, %s, %s", op->n_in == 3 ? "_bias" : "",
                               head, e->k, out, data_of(e, op->in[0], a0, sizeof a0),
                               cg_c_dims_product(c, xs, 0, xs->rank - 1, prod, sizeof prod),
                               cg_c_dim(c, ws->d[1], d1, sizeof d1), cg_c_dim(c, ws->d[0], d0, sizeof d0),
                               weight_of(e, op->in[1], a1, sizeof a1));
        if (k0 > 0 && (size_t)k0 < n)
            k0 += snprintf(call + k0, n - (size_t)k0, "%s%s);", op->n_in == 3 ? ", " : "",
                           op->n_in == 3 ? weight_of(e, op->in[2], a2, sizeof a2) : "");
        /* the epilogue runs on the fp32 result before it is rounded, as in the executor */
        if (op->attrs.epilogue != TTC_EPILOGUE_NONE && k0 > 0 && (size_t)k0 < n) {
            if (os->rank != 2 && os->rank != 3) return unsupported(e, "expects an epilogue on a rank 2 or 3 output");
            snprintf(call + k0, n - (size_t)k0, "\n    ttc_epilogue(%s%d], %s, %s, %s, %s);", head, e->k, out,
                     os->rank == 3 ? cg_c_dim(c, os->d[0], d0, sizeof d0) : "1",
                     cg_c_dim(c, os->d[os->rank - 2], d1, sizeof d1), cg_c_dim(c, os->d[os->rank - 1], d2, sizeof d2));
        }
        break;
    }
    case TTC_OP_ADD_LAYERNORM: {
        char a3[CG_ID_MAX + 16];
        snprintf(call, n, "ttc_add_layernorm(%s%d], %s, %s, %s, %s, %s, %s, %s);", head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), data_of(e, op->in[1], a1, sizeof a1),
                 cg_c_dims_product(c, xs, 0, xs->rank - 1, prod, sizeof prod),
                 cg_c_dim(c, xs->d[xs->rank - 1], d0, sizeof d0), weight_of(e, op->in[2], a2, sizeof a2),
                 weight_of(e, op->in[3], a3, sizeof a3));
        break;
    }
    case TTC_OP_ATTENTION: {
        if (need_rank(e, op->in[0], 3, "q") || need_rank(e, op->in[1], 3, "k") || need_rank(e, op->in[2], 3, "v"))
            return e->err->status;
        const TtcShape *ks = &tensor(e, op->in[1])->shape, *vs = &tensor(e, op->in[2])->shape;
        char a3[CG_ID_MAX + 16], vstride[96];
        snprintf(call, n, "ttc_attention(%s%d], %s, %s, %s, %s, %s, %s, %s, %s, %lld, %lld, %s, %lld, %s);", head,
                 e->k, out, data_of(e, op->in[0], a0, sizeof a0), data_of(e, op->in[1], a1, sizeof a1),
                 data_of(e, op->in[2], a2, sizeof a2), op->n_in == 4 ? data_of(e, op->in[3], a3, sizeof a3) : "NULL",
                 cg_c_dim(c, xs->d[0], d0, sizeof d0), cg_c_dim(c, xs->d[1], d1, sizeof d1),
                 cg_c_dim(c, ks->d[1], d2, sizeof d2), (long long)xs->d[2].size, (long long)ks->d[2].size,
                 row_stride(e, op->in[1], stride, sizeof stride), (long long)vs->d[2].size,
                 row_stride(e, op->in[2], vstride, sizeof vstride));
        break;
    }
    case TTC_OP_ATTN_SCORES: {
        if (need_rank(e, op->in[0], 3, "q") || need_rank(e, op->in[1], 3, "k")) return e->err->status;
        const TtcShape *ks = &tensor(e, op->in[1])->shape;
        snprintf(call, n, "ttc_attn_scores(%s%d], %s, %s, %s, %s, %s, %s, %s);", head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), data_of(e, op->in[1], a1, sizeof a1),
                 cg_c_dim(c, xs->d[0], d0, sizeof d0), cg_c_dim(c, xs->d[1], d1, sizeof d1),
                 cg_c_dim(c, ks->d[1], d2, sizeof d2), row_stride(e, op->in[1], stride, sizeof stride));
        break;
    }
    case TTC_OP_SOFTMAX:
        if (need_rank(e, op->in[0], 4, "scores")) return e->err->status;
        snprintf(call, n, "ttc_softmax%s(%s%d], %s, %s%s%s, %s, %s, %s, %s);", op->n_in == 2 ? "_masked" : "", head,
                 e->k, out, data_of(e, op->in[0], a0, sizeof a0), op->n_in == 2 ? ", " : "",
                 op->n_in == 2 ? data_of(e, op->in[1], a1, sizeof a1) : "", cg_c_dim(c, xs->d[0], d0, sizeof d0),
                 cg_c_dim(c, xs->d[1], d1, sizeof d1), cg_c_dim(c, xs->d[2], d2, sizeof d2),
                 cg_c_dim(c, xs->d[3], d3, sizeof d3));
        break;
    case TTC_OP_ATTN_CONTEXT:
        if (need_rank(e, op->in[0], 4, "probs") || need_rank(e, op->in[1], 3, "v")) return e->err->status;
        snprintf(call, n, "ttc_attn_context(%s%d], %s, %s, %s, %s, %s, %s, %s);", head, e->k, out,
                 data_of(e, op->in[0], a0, sizeof a0), data_of(e, op->in[1], a1, sizeof a1),
                 cg_c_dim(c, xs->d[0], d0, sizeof d0), cg_c_dim(c, xs->d[2], d1, sizeof d1),
                 cg_c_dim(c, xs->d[3], d2, sizeof d2), row_stride(e, op->in[1], stride, sizeof stride));
        break;
    case TTC_OP_ROPE:
        if (need_rank(e, op->in[0], 3, "x")) return e->err->status;
        snprintf(call, n, "ttc_rope(%s%d], %s, %s, %s, %s);", head, e->k, out, data_of(e, op->in[0], a0, sizeof a0),
                 cg_c_dim(c, xs->d[0], d0, sizeof d0), cg_c_dim(c, xs->d[1], d1, sizeof d1));
        break;
    case TTC_OP_KV_UPDATE: {
        const TtcTensorDesc *cache = tensor(e, op->in[1]);
        if (cache->kind != TTC_TENSOR_STATE || o->alias != op->in[1])
            return unsupported(e, "expects a KV cache (state) and its view as the output");
        if (need_rank(e, op->in[0], 3, "new rows") || need_rank(e, op->in[1], 3, "a cache")) return e->err->status;
        int64_t cap = cache->shape.d[1].size;
        char capacity[32];
        if (cap == c->p->max_ctx)
            snprintf(capacity, sizeof capacity, "MAX_CTX");
        else
            snprintf(capacity, sizeof capacity, "%lld", (long long)cap);
        if (op->attrs.k_col) /* columns of a fused qkv projection's rows */
            snprintf(call, n, "ttc_kv_update_cols(%s%d], %s, %s, %s, %s, %lld, %lld, %s, %s);", head, e->k,
                     data_of(e, op->in[1], a1, sizeof a1), data_of(e, op->in[0], a0, sizeof a0),
                     cg_c_dim(c, xs->d[0], d0, sizeof d0), cg_c_dim(c, xs->d[1], d1, sizeof d1),
                     (long long)xs->d[2].size, (long long)cache->shape.d[2].size, cg_c_dim(c, os->d[1], d3, sizeof d3),
                     capacity);
        else
            snprintf(call, n, "ttc_kv_update(%s%d], %s, %s, %s, %s, %s, %s, %s);", head, e->k,
                     data_of(e, op->in[1], a1, sizeof a1), data_of(e, op->in[0], a0, sizeof a0),
                     cg_c_dim(c, xs->d[0], d0, sizeof d0), cg_c_dim(c, xs->d[1], d1, sizeof d1),
                     cg_c_dim(c, xs->d[2], d2, sizeof d2), cg_c_dim(c, os->d[1], d3, sizeof d3), capacity);
        break;
    }
    default:
        return unsupported(e, "has no kernel call for this op kind");
    }
    return TTC_OK;
}

TtcStatus cg_c_emit_op(CgC *c, int k, FILE *out, TtcError *err) {
    Emit e = {c, &c->p->ops[k], k, err};
    const TtcOpDesc *op = e.op;
    char call[1024], what[256];
    if (call_text(&e, call, sizeof call) != TTC_OK) return err->status;
    describe(&e, what, sizeof what);
    fprintf(out, "    /* ");
    cg_c_comment_text(out, op->path);
    fprintf(out, " (%s)%s", ttc_op_name((TtcOpKind)op->kind), what[0] ? ": " : "");
    cg_c_comment_text(out, what);
    fprintf(out, " */\n    %s\n", call);
    /* The device holds every activation in the op's format; the cache rows a kv_update copies
     * were rounded when the k/v projection produced them. */
    if (op->cfg.act_dtype != TTC_F32 && op->kind != TTC_OP_KV_UPDATE) {
        const TtcShape *os = &c->p->tensors[op->out].shape;
        char prod[160], row[32];
        fprintf(out, "    ttc_round_to_dtype(%s, %s, %s, %s);\n", c->local[op->out],
                cg_c_dims_product(c, os, 0, os->rank, prod, sizeof prod), cg_c_dim(c, os->d[os->rank - 1], row, sizeof row),
                cg_c_dtype_enum(op->cfg.act_dtype));
    }
    return TTC_OK;
}
