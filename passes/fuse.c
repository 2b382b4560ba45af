/* fuse.c: the `fuse` pass: fewer, bigger kernels. Within each entry point it rewrites
 *
 *   attention    attn_scores -> softmax -> attn_context              => attention (tiled, online
 *                softmax: the S x T scores never exist)                 softmax; kernel_variant: flash)
 *   qkv          three linears of one input feeding one attention     => one linear over the fused
 *                (through rope and kv_update in decoders)                weight "q:R|k:R|v:R", RoPE in
 *                                                                        its epilogue (fused_qkv)
 *   epilogue     linear -> gelu | gelu_tanh | silu | relu | tanh      => linear with that epilogue
 *                (the linear's only reader)                              (fuse_epilogue)
 *   residual     add -> layernorm (the add's only reader: post-norm)  => add_layernorm
 *                                                                        (fuse_residual_norm)
 *
 * Each switch is read at the module of the ops a fusion replaces (the attention module for
 * attention and qkv, the linear's for an epilogue, the norm's for residual+norm), in the entry's
 * mode, so overlays can turn any fusion off for one layer, one module type or one mode. Fused
 * ops keep the configuration of the op whose place they take (resolved by `precision` before).
 *
 * What is not fused, and why:
 *   - qkv on a mesh of more than one chip: `shard` splits q, k and v column-parallel by heads,
 *     which a fused weight would interleave; sharded plans keep three projections;
 *   - qkv without the attention fusion: only the attention op reads q, k and v at column offsets
 *     of one tensor (attn_scores and attn_context read whole rows);
 *   - pre-norm residuals (decoders): the sum is the residual stream, read by the norm and by the
 *     next residual add, so add and rmsnorm both stay;
 *   - a linear whose result is read twice (e.g. the gated FFN's `up`, read by the multiply only but
 *     not through an activation), or is a graph output.
 * Every rewrite is printed with --verbose, one line each. Removed ops and the values only they
 * used (the separate q/k/v weights included) leave the graph (ir_remove_ops), and shapes are
 * inferred again for the rewritten ops. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pass.h"

typedef struct Fuse {
    Graph *g;
    PassCtx *cx;
    unsigned char *dead; /* per op: replaced by a fused op */
    IrUses uses;         /* per value: live readers, kept up to date by every rewrite */
    IrWeightIndex weights; /* fused weights made by one entry point are found by the next */
    int oom;             /* a rewrite ran out of memory: the pass fails */
    int n_fused[4];      /* attention, qkv, epilogue, residual+norm */
} Fuse;

static const char *const fusion_names[4] = {"attention", "qkv", "epilogue", "residual+norm"};

/* The switch `field` at op k's module in its entry's mode (built-in defaults without a config). */
static int switch_on(const Fuse *F, int k, int field) {
    if (!F->cx->hw) return 1;
    const IrOp *op = &F->g->ops[k];
    HwResolved r;
    hw_resolve(F->cx->hw, op->d.path, op->module_type, F->g->n_entries ? F->g->entries[op->entry].mode : 0, &r);
    if (field == HW_F_kernel_variant) return r.v[field] == HW_KERNEL_FLASH;
    return r.v[field] != 0;
}

/* The live op of `kind` producing activation v, or -1. */
static int producer_of(const Fuse *F, int v, int kind) {
    const IrValue *val = &F->g->vals[v];
    if (val->d.kind != TTC_TENSOR_ACT || val->producer < 0 || F->dead[val->producer]) return -1;
    return F->g->ops[val->producer].d.kind == kind ? val->producer : -1;
}

/* An activation read by exactly one live op and not a graph output: it can vanish into a fusion. */
static int private_value(const Fuse *F, int v) {
    return F->g->vals[v].d.role == TTC_ROLE_NONE && ir_uses_of(&F->uses, v) == 1;
}

/* Every change to an op's inputs, and every op marked dead, goes through these two so that the
 * use counts stay those of the live ops. */
static void uses_drop(Fuse *F, int k) {
    if (ir_uses_count_op(&F->uses, &F->g->ops[k], -1) != 0) F->oom = 1;
}
static void uses_add(Fuse *F, int k) {
    if (ir_uses_count_op(&F->uses, &F->g->ops[k], +1) != 0) F->oom = 1;
}
static void retire(Fuse *F, int k) {
    uses_drop(F, k);
    F->dead[k] = 1;
}

/* "layer_0.attention.context" -> "layer_0.attention.<leaf>" */
static void sibling_path(char *dst, const char *path, const char *leaf) {
    const char *dot = strrchr(path, '.');
    int n = dot ? (int)(dot - path) : (int)strlen(path);
    snprintf(dst, TTC_NAME_MAX, "%.*s.%s", n, path, leaf);
}

static void note(Fuse *F, int kind, int k, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note(Fuse *F, int kind, int k, const char *fmt, ...) {
    F->n_fused[kind]++;
    if (!F->cx->verbose) return;
    const Graph *g = F->g;
    fprintf(stderr, "fuse (%s) %-13s ", g->n_entries ? g->entries[g->ops[k].entry].name : "graph", fusion_names[kind]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- attention: scores -> softmax -> context ---- */

static void fuse_attention(Fuse *F, int c) {
    Graph *g = F->g;
    IrOp *ctx = &g->ops[c];
    int probs = ctx->d.in[0];
    int sm = producer_of(F, probs, TTC_OP_SOFTMAX);
    if (sm < 0 || !private_value(F, probs)) return;
    int scores = g->ops[sm].d.in[0];
    int sc = producer_of(F, scores, TTC_OP_ATTN_SCORES);
    if (sc < 0 || !private_value(F, scores) || !switch_on(F, c, HW_F_kernel_variant)) return;
    const IrOp *s = &g->ops[sc], *m = &g->ops[sm];
    TtcAttrs a = s->d.attrs;
    a.causal = m->d.attrs.causal;
    a.window = m->d.attrs.window;
    a.has_mask = m->d.attrs.has_mask;
    a.q_col = a.k_col = a.v_col = 0;
    int in[4] = {s->d.in[0], s->d.in[1], ctx->d.in[1], m->d.n_in == 2 ? m->d.in[1] : -1};
    char path[TTC_NAME_MAX];
    sibling_path(path, ctx->d.path, "sdpa");
    note(F, 0, c, "%s + %s + %s -> attention %s", s->d.path, m->d.path, ctx->d.path, path);
    uses_drop(F, c);
    ctx->d.kind = TTC_OP_ATTENTION;
    ctx->d.n_in = a.has_mask ? 4 : 3;
    memcpy(ctx->d.in, in, sizeof in);
    ctx->d.attrs = a;
    snprintf(ctx->d.path, sizeof ctx->d.path, "%s", path);
    snprintf(g->vals[ctx->d.out].d.name, TTC_NAME_MAX, "%s", path);
    uses_add(F, c);
    retire(F, sc);
    retire(F, sm);
}

/* ---- qkv: three projections of one input as one matmul ---- */

/* One of q, k, v traced back from the attention input: its linear, and the rope and cache update
 * on the way (-1 when absent). */
typedef struct Branch {
    int lin, rope, update;
} Branch;

static int trace_branch(const Fuse *F, int v, Branch *b) {
    *b = (Branch){-1, -1, -1};
    if ((b->update = producer_of(F, v, TTC_OP_KV_UPDATE)) >= 0) {
        if (F->g->ops[b->update].d.attrs.k_col != 0) return -1;
        v = F->g->ops[b->update].d.in[0];
        if (!private_value(F, v)) return -1;
    }
    if ((b->rope = producer_of(F, v, TTC_OP_ROPE)) >= 0) {
        v = F->g->ops[b->rope].d.in[0];
        if (!private_value(F, v)) return -1;
    }
    b->lin = producer_of(F, v, TTC_OP_LINEAR);
    return b->lin >= 0 && F->g->ops[b->lin].d.attrs.epilogue == TTC_EPILOGUE_NONE ? 0 : -1;
}

static int same_rope(const TtcAttrs *a, const TtcAttrs *b) {
    return a->head_dim == b->head_dim && a->rope_theta == b->rope_theta && a->rope_scaling == b->rope_scaling &&
           a->rope_factor == b->rope_factor && a->rope_low_freq == b->rope_low_freq &&
           a->rope_high_freq == b->rope_high_freq && a->rope_orig_max == b->rope_orig_max;
}

/* The weight (input `slot` of the three linears) fused along dim 0: found when another entry
 * point made it already, else added. -1 when the name does not fit or a part is fused already. */
static int fused_weight(Fuse *F, const Branch *br, int slot) {
    Graph *g = F->g;
    char name[TTC_NAME_MAX];
    size_t n = 0;
    int64_t rows = 0;
    for (int i = 0; i < 3; i++) {
        const IrValue *w = &g->vals[g->ops[br[i].lin].d.in[slot]];
        if (w->d.kind != TTC_TENSOR_WEIGHT || strchr(w->d.name, '|') || strchr(w->d.name, ':')) return -1;
        int len = snprintf(name + n, sizeof name - n, "%s%s:%lld", i ? "|" : "", w->d.name,
                           (long long)w->d.shape.d[0].size);
        if (len < 0 || (size_t)len >= sizeof name - n) return -1;
        n += (size_t)len;
        rows += w->d.shape.d[0].size;
    }
    int v = ir_weight_index_find(&F->weights, g, name);
    if (v >= 0) return v;
    const IrValue *q = &g->vals[g->ops[br[0].lin].d.in[slot]];
    TtcShape shape = q->d.shape;
    shape.d[0] = ir_dim(rows);
    int dtype = q->d.dtype, init = q->d.init;
    v = ir_add_weight(g, name, shape, (TtcWeightInit)init);
    g->vals[v].d.dtype = dtype;
    if (ir_weight_index_add(&F->weights, g, v) != 0) F->oom = 1;
    return v;
}

/* Whether q, k and v come from three linears of one input with one configuration, each read
 * only on the way to this attention, RoPE on both q and k or neither, cache updates on both k
 * and v or neither. */
static int qkv_fusable(const Fuse *F, int att, Branch br[3]) {
    const Graph *g = F->g;
    const IrOp *a = &g->ops[att];
    if (a->d.attrs.q_col || a->d.attrs.k_col || a->d.attrs.v_col) return 0;
    for (int i = 0; i < 3; i++) {
        if (!private_value(F, a->d.in[i]) || trace_branch(F, a->d.in[i], &br[i]) != 0) return 0;
        const IrOp *l = &g->ops[br[i].lin];
        if (!private_value(F, l->d.out)) return 0;
        const IrOp *q = &g->ops[br[0].lin];
        if (l->d.in[0] != q->d.in[0] || l->d.n_in != q->d.n_in || memcmp(&l->d.cfg, &q->d.cfg, sizeof l->d.cfg) ||
            strcmp(l->module_type, q->module_type) || l->entry != q->entry)
            return 0;
    }
    if (br[0].lin == br[1].lin || br[1].lin == br[2].lin || br[0].lin == br[2].lin || br[0].update >= 0 ||
        br[2].rope >= 0 || (br[1].update < 0) != (br[2].update < 0) || (br[0].rope < 0) != (br[1].rope < 0))
        return 0;
    if (br[0].rope >= 0) {
        const TtcAttrs *rq = &g->ops[br[0].rope].d.attrs, *rk = &g->ops[br[1].rope].d.attrs;
        if (!same_rope(rq, rk) || rq->heads != a->d.attrs.heads || rk->heads != a->d.attrs.kv_heads) return 0;
    }
    return 1;
}

static void fuse_qkv(Fuse *F, int att) {
    Graph *g = F->g;
    Branch br[3];
    if (g->mesh_rows * g->mesh_cols > 1 || !qkv_fusable(F, att, br)) return;
    if (!switch_on(F, br[0].lin, HW_F_fused_qkv)) return;
    int w = fused_weight(F, br, 1), bias = g->ops[br[0].lin].d.n_in == 3 ? fused_weight(F, br, 2) : -1;
    if (w < 0 || (g->ops[br[0].lin].d.n_in == 3 && bias < 0)) return;
    int first = br[0].lin;
    for (int i = 1; i < 3; i++)
        if (br[i].lin < first) first = br[i].lin;
    int64_t rows[3];
    for (int i = 0; i < 3; i++) rows[i] = g->vals[g->ops[br[i].lin].d.in[1]].d.shape.d[0].size;
    const IrOp q = g->ops[br[0].lin];
    char path[TTC_NAME_MAX];
    sibling_path(path, q.d.path, "qkv");
    int out = ir_add_act(g, path, q.entry);
    if (out < 0) return;
    for (int i = 0; i < 3; i++) uses_drop(F, br[i].lin);
    uses_drop(F, att);
    if (br[1].update >= 0) {
        uses_drop(F, br[1].update);
        uses_drop(F, br[2].update);
    }
    IrOp *f = &g->ops[first];
    *f = q;
    snprintf(f->d.path, sizeof f->d.path, "%s", path);
    f->d.in[1] = w;
    if (bias >= 0) f->d.in[2] = bias;
    f->d.out = out;
    g->vals[out].producer = first;
    g->vals[out].d.dtype = q.d.cfg.act_dtype;
    if (br[0].rope >= 0) {
        const TtcAttrs *rq = &g->ops[br[0].rope].d.attrs;
        TtcAttrs *e = &f->d.attrs;
        *e = *rq;
        e->epilogue = TTC_EPILOGUE_ROPE_QK;
        e->kv_heads = g->ops[br[1].rope].d.attrs.heads;
        e->q_col = 0;
        e->k_col = (int32_t)rows[0];
        retire(F, br[0].rope);
        retire(F, br[1].rope);
    }
    for (int i = 0; i < 3; i++)
        if (br[i].lin != first) F->dead[br[i].lin] = 1; /* uncounted above */
    uses_add(F, first);
    IrOp *a = &g->ops[att];
    a->d.in[0] = out;
    if (br[1].update >= 0) {
        g->ops[br[1].update].d.in[0] = out;
        g->ops[br[1].update].d.attrs.k_col = (int32_t)rows[0];
        g->ops[br[2].update].d.in[0] = out;
        g->ops[br[2].update].d.attrs.k_col = (int32_t)(rows[0] + rows[1]);
    } else {
        a->d.in[1] = a->d.in[2] = out;
        a->d.attrs.k_col = (int32_t)rows[0];
        a->d.attrs.v_col = (int32_t)(rows[0] + rows[1]);
    }
    uses_add(F, att);
    if (br[1].update >= 0) {
        uses_add(F, br[1].update);
        uses_add(F, br[2].update);
    }
    note(F, 1, first, "%s + k + v -> linear %s [%lld|%lld|%lld rows]%s", q.d.path, path, (long long)rows[0],
         (long long)rows[1], (long long)rows[2], br[0].rope >= 0 ? ", rope on q and k in its epilogue" : "");
}

/* ---- matmul + bias + activation ---- */

static int epilogue_of(int kind) {
    switch (kind) {
    case TTC_OP_GELU: return TTC_EPILOGUE_GELU;
    case TTC_OP_GELU_TANH: return TTC_EPILOGUE_GELU_TANH;
    case TTC_OP_SILU: return TTC_EPILOGUE_SILU;
    case TTC_OP_RELU: return TTC_EPILOGUE_RELU;
    case TTC_OP_TANH: return TTC_EPILOGUE_TANH;
    default: return TTC_EPILOGUE_NONE;
    }
}

/* The linear takes over the activation's output (its readers, its role), so nothing downstream
 * changes; the linear's own result vanishes. */
static void fuse_epilogue(Fuse *F, int k) {
    Graph *g = F->g;
    const IrOp *act = &g->ops[k];
    int x = act->d.in[0], lin = producer_of(F, x, TTC_OP_LINEAR);
    if (lin < 0 || g->ops[lin].d.attrs.epilogue != TTC_EPILOGUE_NONE || !private_value(F, x) ||
        !switch_on(F, lin, HW_F_fuse_epilogue))
        return;
    IrOp *l = &g->ops[lin];
    l->d.attrs.epilogue = epilogue_of(act->d.kind);
    l->d.out = act->d.out;
    g->vals[act->d.out].producer = lin;
    g->vals[act->d.out].d.dtype = l->d.cfg.act_dtype;
    retire(F, k);
    note(F, 2, lin, "%s + %s -> linear %s with a %s epilogue", l->d.path, act->d.path, l->d.path,
         ttc_op_name((TtcOpKind)act->d.kind));
}

/* ---- residual add + layernorm (post-norm) ---- */

static void fuse_residual_norm(Fuse *F, int k) {
    Graph *g = F->g;
    IrOp *n = &g->ops[k];
    int sum = n->d.in[0], add = producer_of(F, sum, TTC_OP_ADD);
    if (add < 0 || !private_value(F, sum) || !switch_on(F, k, HW_F_fuse_residual_norm)) return;
    const IrOp *a = &g->ops[add];
    int in[4] = {a->d.in[0], a->d.in[1], n->d.in[1], n->d.in[2]};
    note(F, 3, k, "%s + %s -> add_layernorm %s", a->d.path, n->d.path, n->d.path);
    uses_drop(F, k);
    n->d.kind = TTC_OP_ADD_LAYERNORM;
    n->d.n_in = 4;
    memcpy(n->d.in, in, sizeof in);
    uses_add(F, k);
    retire(F, add);
}

int pass_fuse(Graph *g, PassCtx *cx) {
    DiagLoc none = {0};
    Fuse F = {g, cx, calloc((size_t)g->n_ops + 1, 1), {NULL, 0}, {NULL, 0, 0}, 0, {0}};
    if (!F.dead || ir_uses_init(&F.uses, g, NULL) != 0 || ir_weight_index_init(&F.weights, g) != 0) {
        free(F.dead);
        ir_uses_free(&F.uses);
        diag_error(cx->diags, none, "out of memory");
        return -1;
    }
    int n_ops = g->n_ops; /* rewrites reuse op slots: the count does not change until the end */
    /* Attention first: the qkv fusion needs the attention op that reads q, k, v at offsets. */
    for (int k = 0; k < n_ops; k++)
        if (!F.dead[k] && g->ops[k].d.kind == TTC_OP_ATTN_CONTEXT) fuse_attention(&F, k);
    for (int k = 0; k < n_ops; k++)
        if (!F.dead[k] && g->ops[k].d.kind == TTC_OP_ATTENTION) fuse_qkv(&F, k);
    for (int k = 0; k < n_ops; k++)
        if (!F.dead[k] && epilogue_of(g->ops[k].d.kind) != TTC_EPILOGUE_NONE) fuse_epilogue(&F, k);
    for (int k = 0; k < n_ops; k++)
        if (!F.dead[k] && g->ops[k].d.kind == TTC_OP_LAYERNORM) fuse_residual_norm(&F, k);
    int rc = F.oom ? -1 : ir_remove_ops(g, F.dead);
    free(F.dead);
    ir_uses_free(&F.uses);
    ir_weight_index_free(&F.weights);
    if (rc != 0) {
        diag_error(cx->diags, none, "out of memory");
        return -1;
    }
    if (cx->verbose)
        fprintf(stderr, "fuse: %d attention, %d qkv, %d epilogue, %d residual+norm fusions; %d ops left\n",
                F.n_fused[0], F.n_fused[1], F.n_fused[2], F.n_fused[3], g->n_ops);
    /* The rewritten ops' outputs (the fused qkv projection, cache updates reading it) get their
     * shapes from the ops' rules, as every other value did. */
    return pass_shape_infer(g, cx);
}
