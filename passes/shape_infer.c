/* shape_infer.c: the `shape-infer` pass. Each op kind has a shape rule that checks its inputs
 * and derives its output's shape; the rules are indexed by op kind, one per row of ops.def. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pass.h"

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

/* new [B,S,F] into state [B,Tmax,F]: the output is the cache seen up to the current context. */
static int rule_kv_update(ShapeCx *s) {
    const TtcShape *n = s->in[0], *c = s->in[1];
    if (need_rank(s, 0, 3) || need_rank(s, 1, 3)) return -1;
    if (s->g->vals[s->op->d.in[1]].d.kind != TTC_TENSOR_STATE) return fail(s, "input 1 must be a state tensor");
    if (!same_dim(n->d[0], c->d[0]) || !same_dim(n->d[2], c->d[2]) || c->d[1].sym != TTC_SYM_CTX)
        return fail(s, "new rows must match the cache's batch and features, and the cache span the context");
    s->out = ir_shape(3, n->d[0], c->d[1], n->d[2]);
    return 0;
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
        for (int i = 0; i < op->d.n_in; i++) s.in[i] = &g->vals[op->d.in[i]].d.shape;
        if (rules[op->d.kind](&s) != 0) {
            errors++;
            continue;
        }
        g->vals[op->d.out].d.shape = s.out;
    }
    return errors ? -1 : 0;
}

int shape_infer_has_rule(TtcOpKind k) { return rules[k] != NULL; }
