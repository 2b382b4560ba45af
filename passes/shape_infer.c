/* shape_infer.c: the `shape-infer` pass. Each op kind has a shape rule that checks its inputs
 * and derives its output's shape; the rules are indexed by op kind, one per row of ops.def. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pass.h"
#include "shard.h"

typedef struct ShapeCx {
    Graph *g;
    const IrOp *op;
    Diags *d;
    const TtcShape *in[TTC_MAX_OP_INPUTS];
    TtcShape out;
} ShapeCx;

typedef int (*ShapeRule)(ShapeCx *s);

static int fail(ShapeCx *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ShapeCx *s, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    DiagLoc none = {0};
    diag_error(s->d, none, "op '%s' (%s): %s", s->op->d.path, ttc_op_name(s->op->d.kind), msg);
    return -1;
}

static int same_dim(TtcDim a, TtcDim b) { return a.sym == b.sym && a.size == b.size; }

static int need_rank(ShapeCx *s, int i, int rank) {
    if (s->in[i]->rank == rank) return 0;
    return fail(s, "input %d has rank %d, expected %d", i, s->in[i]->rank, rank);
}

static int need_input_dtype(ShapeCx *s, int i, int want_int) {
    int is_int = s->g->vals[s->op->d.in[i]].d.dtype == TTC_I32;
    if (is_int == want_int) return 0;
    return fail(s, "input %d must be %s", i, want_int ? "int32" : "floating point");
}

static int rule_embedding(ShapeCx *s) {
    if (need_rank(s, 0, 2) || need_rank(s, 1, 2) || need_input_dtype(s, 0, 1)) return -1;
    s->out = ir_shape(3, s->in[0]->d[0], s->in[0]->d[1], s->in[1]->d[1]);
    return 0;
}

static int rule_pos_embedding(ShapeCx *s) {
    if (need_rank(s, 0, 2)) return -1;
    int64_t max_seq = s->g->n_entries ? s->g->entries[s->op->entry].max_seq : s->g->max_seq;
    TtcDim B = ir_sym(TTC_SYM_BATCH, s->g->max_batch), S = ir_sym(TTC_SYM_SEQ, max_seq);
    if (max_seq > s->in[0]->d[0].size)
        return fail(s, "position table has %lld rows, the plan allows %lld tokens", (long long)s->in[0]->d[0].size,
                    (long long)max_seq);
    s->out = ir_shape(3, B, S, s->in[0]->d[1]);
    return 0;
}

static int rule_elementwise2(ShapeCx *s) {
    if (!ir_shape_equal(s->in[0], s->in[1])) {
        char a[96], b[96];
        return fail(s, "operands differ in shape: %s vs %s", ttc_shape_str(s->in[0], a, sizeof a),
                    ttc_shape_str(s->in[1], b, sizeof b));
    }
    s->out = *s->in[0];
    return 0;
}

static int rule_unary(ShapeCx *s) {
    s->out = *s->in[0];
    return 0;
}

static int check_param_vector(ShapeCx *s, int i) {
    const TtcShape *x = s->in[0];
    if (s->in[i]->rank != 1 || !same_dim(s->in[i]->d[0], x->d[x->rank - 1]))
        return fail(s, "parameter %d must be a vector of the last dim (%lld)", i, (long long)x->d[x->rank - 1].size);
    return 0;
}

static int rule_norm(ShapeCx *s) {
    for (int i = 1; i < s->op->d.n_in; i++)
        if (check_param_vector(s, i)) return -1;
    if (s->op->d.attrs.eps <= 0) return fail(s, "eps must be positive");
    s->out = *s->in[0];
    return 0;
}

static int rule_linear(ShapeCx *s) {
    const TtcShape *x = s->in[0], *w = s->in[1];
    if (need_rank(s, 1, 2)) return -1;
    if (!same_dim(x->d[x->rank - 1], w->d[1]))
        return fail(s, "input has %lld features, weight expects %lld", (long long)x->d[x->rank - 1].size,
                    (long long)w->d[1].size);
    if (s->op->d.n_in == 3 && (s->in[2]->rank != 1 || !same_dim(s->in[2]->d[0], w->d[0])))
        return fail(s, "bias must be a vector of %lld", (long long)w->d[0].size);
    s->out = *x;
    s->out.d[x->rank - 1] = w->d[0];
    return 0;
}

static int check_heads(ShapeCx *s, const TtcShape *t, int heads, const char *what) {
    const TtcAttrs *a = &s->op->d.attrs;
    if (t->d[2].sym != TTC_SYM_NONE || t->d[2].size != (int64_t)heads * a->head_dim)
        return fail(s, "%s has %lld features, expected %d heads x %d", what, (long long)t->d[2].size, heads,
                    a->head_dim);
    return 0;
}

static int check_attn_attrs(ShapeCx *s) {
    const TtcAttrs *a = &s->op->d.attrs;
    if (a->heads <= 0 || a->kv_heads <= 0 || a->head_dim <= 0 || a->heads % a->kv_heads)
        return fail(s, "bad head configuration (heads %d, kv_heads %d, head_dim %d)", a->heads, a->kv_heads,
                    a->head_dim);
    return 0;
}

static int rule_attn_scores(ShapeCx *s) {
    const TtcAttrs *a = &s->op->d.attrs;
    if (check_attn_attrs(s) || need_rank(s, 0, 3) || need_rank(s, 1, 3)) return -1;
    if (check_heads(s, s->in[0], a->heads, "q") || check_heads(s, s->in[1], a->kv_heads, "k")) return -1;
    s->out = ir_shape(4, s->in[0]->d[0], ir_dim(a->heads), s->in[0]->d[1], s->in[1]->d[1]);
    return 0;
}

static int rule_softmax(ShapeCx *s) {
    if (need_rank(s, 0, 4)) return -1;
    if (s->op->d.n_in == 2) {
        const TtcShape *m = s->in[1];
        if (need_input_dtype(s, 1, 1) || need_rank(s, 1, 2)) return -1;
        if (!same_dim(m->d[0], s->in[0]->d[0]) || !same_dim(m->d[1], s->in[0]->d[3]))
            return fail(s, "mask must be [batch, context]");
    }
    s->out = *s->in[0];
    return 0;
}

static int rule_attn_context(ShapeCx *s) {
    const TtcAttrs *a = &s->op->d.attrs;
    if (check_attn_attrs(s) || need_rank(s, 0, 4) || need_rank(s, 1, 3)) return -1;
    if (check_heads(s, s->in[1], a->kv_heads, "v")) return -1;
    if (!same_dim(s->in[0]->d[3], s->in[1]->d[1])) return fail(s, "probabilities and v disagree on the context length");
    s->out = ir_shape(3, s->in[0]->d[0], s->in[0]->d[2], ir_dim((int64_t)a->heads * a->head_dim));
    return 0;
}

static int rule_first_token(ShapeCx *s) {
    if (need_rank(s, 0, 3)) return -1;
    s->out = ir_shape(2, s->in[0]->d[0], s->in[0]->d[2]);
    return 0;
}

static int rule_rope(ShapeCx *s) {
    const TtcAttrs *a = &s->op->d.attrs;
    if (need_rank(s, 0, 3)) return -1;
    if (a->heads <= 0 || a->head_dim <= 0 || a->head_dim % 2) return fail(s, "rope needs an even head_dim");
    if (check_heads(s, s->in[0], a->heads, "x")) return -1;
    s->out = *s->in[0];
    return 0;
}

/* new [B,S,W] into state [B,Tmax,F]: columns k_col..k_col+F-1 of the new rows (W = F unless a
 * fused qkv projection feeds the update); the output is the cache seen up to the current context. */
static int rule_kv_update(ShapeCx *s) {
    const TtcShape *n = s->in[0], *c = s->in[1];
    int64_t col = s->op->d.attrs.k_col;
    if (need_rank(s, 0, 3) || need_rank(s, 1, 3)) return -1;
    if (s->g->vals[s->op->d.in[1]].d.kind != TTC_TENSOR_STATE) return fail(s, "input 1 must be a state tensor");
    int fits = col == 0 ? same_dim(n->d[2], c->d[2])
                        : n->d[2].sym == TTC_SYM_NONE && c->d[2].sym == TTC_SYM_NONE && col > 0 &&
                              col + c->d[2].size <= n->d[2].size;
    if (!same_dim(n->d[0], c->d[0]) || !fits || c->d[1].sym != TTC_SYM_CTX)
        return fail(s, "new rows must match the cache's batch and hold its features from column %lld, and the cache "
                    "span the context", (long long)col);
    s->out = ir_shape(3, n->d[0], c->d[1], c->d[2]);
    return 0;
}

/* q [..,S,Wq], k and v [..,T,W] with the same leading dims, mask [B,T] int32 when has_mask ->
 * [..,S,heads*D]; the heads must fit their rows from q_col, k_col, v_col. */
static int rule_attention(ShapeCx *s) {
    const TtcAttrs *a = &s->op->d.attrs;
    const TtcShape *q = s->in[0];
    if (check_attn_attrs(s)) return -1;
    if (q->rank < 3) return fail(s, "q has rank %d, expected 3 or more", q->rank);
    static const char *const names[3] = {"q", "k", "v"};
    const int64_t heads[3] = {a->heads, a->kv_heads, a->kv_heads}, cols[3] = {a->q_col, a->k_col, a->v_col};
    for (int i = 0; i < 3; i++) {
        const TtcShape *x = s->in[i];
        if (x->rank != q->rank) return fail(s, "%s has rank %d, q has %d", names[i], x->rank, q->rank);
        for (int j = 0; j < q->rank - 2; j++)
            if (!same_dim(x->d[j], q->d[j])) return fail(s, "%s and q differ in leading dim %d", names[i], j);
        TtcDim w = x->d[x->rank - 1];
        if (w.sym != TTC_SYM_NONE || cols[i] < 0 || cols[i] + heads[i] * a->head_dim > w.size)
            return fail(s, "%s has %lld features; %lld heads x %d from column %lld do not fit", names[i],
                        (long long)w.size, (long long)heads[i], a->head_dim, (long long)cols[i]);
    }
    if (!same_dim(s->in[1]->d[q->rank - 2], s->in[2]->d[q->rank - 2]))
        return fail(s, "k and v disagree on the context length");
    if ((s->op->d.n_in == 4) != (a->has_mask != 0)) return fail(s, "has_mask must say whether input 3 is a mask");
    if (s->op->d.n_in == 4) {
        const TtcShape *m = s->in[3];
        if (need_input_dtype(s, 3, 1) || need_rank(s, 3, 2)) return -1;
        if (!same_dim(m->d[1], s->in[1]->d[q->rank - 2])) return fail(s, "mask must be [batch, context]");
    }
    s->out = *q;
    s->out.d[q->rank - 1] = ir_dim((int64_t)a->heads * a->head_dim);
    return 0;
}

/* a, b (same shape), gamma, beta vectors of the last dim -> the shape of a */
static int rule_add_layernorm(ShapeCx *s) {
    if (rule_elementwise2(s) || check_param_vector(s, 2) || check_param_vector(s, 3)) return -1;
    if (s->op->d.attrs.eps <= 0) return fail(s, "eps must be positive");
    return 0;
}


/* ---- tensor parallelism (see passes/shard.c) ---- */

/* partial[N, ...], bias[F]? -> [...] */
static int rule_all_reduce(ShapeCx *s) {
    const TtcShape *x = s->in[0];
    int chips = s->op->d.attrs.chips;
    if (chips < 2 || x->rank < 2 || x->d[0].sym != TTC_SYM_NONE || x->d[0].size != chips)
        return fail(s, "input must be stacked over the %d chips of the group (dim 0)", chips);
    s->out.rank = x->rank - 1;
    for (int i = 1; i < x->rank; i++) s->out.d[i - 1] = x->d[i];
    if (s->op->d.n_in == 2 && (s->in[1]->rank != 1 || !same_dim(s->in[1]->d[0], x->d[x->rank - 1])))
        return fail(s, "bias must be a vector of the last dim (%lld)", (long long)x->d[x->rank - 1].size);
    return 0;
}

/* x[N, ..., F] -> [..., N*F] */
static int rule_all_gather(ShapeCx *s) {
    if (rule_all_reduce(s)) return -1;
    TtcDim *last = &s->out.d[s->out.rank - 1];
    if (last->sym != TTC_SYM_NONE) return fail(s, "the gathered (last) dim must be constant");
    last->size *= s->op->d.attrs.chips;
    return 0;
}

/* A per-chip op (attrs.chips > 1, not a collective) runs its ordinary rule on one chip's shapes:
 * a stacked input loses its chip dim (dim 0, or the chip blocks folded into dim 1, see
 * sh_chip_shape), and the output is stacked again. An output of rank 4 cannot take a leading
 * chip dim (TTC_MAX_RANK): its chips are folded into dim 1, chip-major (attention scores
 * [B, chips*heads, S, T]: chip c's [B, heads, S, T] is the c-th contiguous block). */
static int per_chip_op(const IrOp *op) {
    return op->d.attrs.chips > 1 && op->d.kind != TTC_OP_ALL_REDUCE && op->d.kind != TTC_OP_ALL_GATHER;
}

TtcShape shape_chip_slice(const TtcTensorDesc *d) {
    TtcShape s = d->shape;
    if (d->shard_chips <= 0) return s;
    if (d->kind != TTC_TENSOR_WEIGHT && d->shard_dim == 1) {
        s.d[1].size /= d->shard_chips;
        return s;
    }
    for (int i = 1; i < s.rank; i++) s.d[i - 1] = s.d[i];
    s.rank--;
    return s;
}

static void stack_output(IrValue *out, int chips) {
    TtcShape s = out->d.shape;
    out->d.shard_chips = chips;
    if (out->d.shard_parts <= 0 || out->d.shard_parts > chips) out->d.shard_parts = chips;
    if (s.rank >= TTC_MAX_RANK) {
        out->d.shard_dim = 1;
        s.d[1].size *= chips;
    } else {
        out->d.shard_dim = 0;
        for (int i = s.rank; i > 0; i--) s.d[i] = s.d[i - 1];
        s.d[0] = ir_dim(chips);
        s.rank++;
    }
    out->d.shape = s;
}

static const ShapeRule rules[TTC_OP_COUNT] = {
    [TTC_OP_EMBEDDING] = rule_embedding,
    [TTC_OP_POS_EMBEDDING] = rule_pos_embedding,
    [TTC_OP_ADD] = rule_elementwise2,
    [TTC_OP_MUL] = rule_elementwise2,
    [TTC_OP_LAYERNORM] = rule_norm,
    [TTC_OP_RMSNORM] = rule_norm,
    [TTC_OP_LINEAR] = rule_linear,
    [TTC_OP_ATTN_SCORES] = rule_attn_scores,
    [TTC_OP_SOFTMAX] = rule_softmax,
    [TTC_OP_ATTN_CONTEXT] = rule_attn_context,
    [TTC_OP_GELU] = rule_unary,
    [TTC_OP_GELU_TANH] = rule_unary,
    [TTC_OP_SILU] = rule_unary,
    [TTC_OP_RELU] = rule_unary,
    [TTC_OP_TANH] = rule_unary,
    [TTC_OP_FIRST_TOKEN] = rule_first_token,
    [TTC_OP_ROPE] = rule_rope,
    [TTC_OP_KV_UPDATE] = rule_kv_update,
    [TTC_OP_ALL_REDUCE] = rule_all_reduce,
    [TTC_OP_ALL_GATHER] = rule_all_gather,
    [TTC_OP_RESHARD] = rule_unary,
    [TTC_OP_ATTENTION] = rule_attention,
    [TTC_OP_ADD_LAYERNORM] = rule_add_layernorm,
    [TTC_OP_EPILOGUE] = rule_unary,
};

int pass_shape_infer(Graph *g, PassCtx *cx) {
    int errors = 0;
    for (int k = 0; k < g->n_ops; k++) {
        IrOp *op = &g->ops[k];
        ShapeCx s = {.g = g, .op = op, .d = cx->diags};
        if (!rules[op->d.kind]) {
            fail(&s, "internal: no shape rule");
            errors++;
            continue;
        }
        int chips = per_chip_op(op) ? op->d.attrs.chips : 0;
        TtcShape slice[TTC_MAX_OP_INPUTS];
        for (int i = 0; i < op->d.n_in; i++) {
            slice[i] = shape_chip_slice(&g->vals[op->d.in[i]].d);
            s.in[i] = chips ? &slice[i] : &g->vals[op->d.in[i]].d.shape;
        }
        if (rules[op->d.kind](&s) != 0) {
            errors++;
            continue;
        }
        IrValue *out = &g->vals[op->d.out];
        out->d.shape = s.out;
        if (chips) {
            stack_output(out, chips);
        } else {
            out->d.shard_chips = out->d.shard_dim = out->d.shard_parts = 0;
        }
    }
    return errors ? -1 : 0;
}

int shape_infer_has_rule(TtcOpKind k) { return rules[k] != NULL; }
