/* shard.c: the `shard` pass: tensor parallelism over the chips of a mesh (Megatron-style).
 *
 * For a mesh of N = rows x cols > 1 chips, in every entry point:
 *   - q/k/v projections are column-parallel: chip c computes its heads' columns. Query heads
 *     split evenly (N must divide them); KV heads too when N divides them, else (fewer KV heads
 *     than chips, N a multiple of them) each chip holds one KV head, replicated: chip c holds KV
 *     head c*Hkv/N, which is the one its query heads c*Hq/N .. read (query head h reads h/group,
 *     group = Hq/Hkv, and c*(Hq/N)/group = c*Hkv/N; N % Hkv == 0 keeps a chip's heads on one).
 *   - RoPE, the cache update and attention run per chip on stacked tensors; their heads and
 *     kv_heads attributes become per-chip counts; the KV cache is stacked [N, B, Tmax, F/parts].
 *   - the output projection is row-parallel: each chip multiplies its heads' slice of the
 *     context by its rows of o_proj^T, giving partial sums that an all_reduce adds (and adds the
 *     bias once). FFN: up/gate column-parallel, activation and gating per chip, down
 *     row-parallel + all_reduce.
 *   - lm_head is vocabulary-parallel (column-parallel over the vocab) + all_gather, when N divides
 *     the vocabulary; otherwise it stays replicated (said with --verbose).
 *   - embeddings, norms, residual adds and the pooler are replicated: every chip computes them on
 *     the same replicated data (the emulator computes them once).
 * Overlays pin a linear's split with `sharding: column_parallel | row_parallel | replicate`; a
 * replicated module gathers its split inputs first (all_gather). A row-parallel request on a
 * replicated input (nothing to split the rows by) falls back to replicate, said with --verbose.
 *
 * Attention stays unfused or fused, both work: the unfused scores [B, H, S, T] have no room for a
 * leading chip dim (rank 4 is the maximum), so per-chip scores fold the chip into the heads dim
 * (chip-major blocks, see shard.h); the fused `attention` op's tensors take the leading chip dim.
 *
 * Values keep their indices: the pass marks weights and the cache as stacked, gives split ops
 * attrs.chips = N, appends the collectives' outputs as new values, rebuilds the op list with the
 * collectives in place, and reruns shape-infer, which stacks every per-chip op's output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_layout.h"
#include "pass.h"
#include "shard.h"

typedef enum { POL_REPLICATE, POL_COLUMN, POL_ROW } Policy;

/* Where an op's value ends up in an attention op (found by following RoPE and the cache update
 * forward): which input, and the attention op's head counts. */
typedef struct AttnUse {
    char role;      /* 'q', 'k', 'v' or 0 */
    int heads, kv_heads;
} AttnUse;

typedef struct Shard {
    Graph *g;
    PassCtx *cx;
    int chips;
    int attention_op; /* the fused attention op's kind, or -1 when ops.def has none */
    int *policy_of;   /* per old op: resolved `sharding` (HwSharding) */
    AttnUse *use;     /* per value */
    int *parts;       /* per value: distinct slices when split over chips, 0 when replicated */
    int *map;         /* per value: the value consumers read instead (a collective's output) */
    int *gathered;    /* per value: its all_gather output, -1 none yet */
    int cap_vals;     /* length of the per-value arrays */
    IrOp *ops;        /* the new op list */
    int n_ops, cap_ops;
    int n_column, n_row, n_reduce, n_gather;
    int errors;
} Shard;

static void out_of_memory(Shard *S);

static void *grow_array(void *p, size_t old_n, size_t new_n, size_t elem) {
    void *q = realloc(p, new_n * elem);
    if (q) memset((char *)q + old_n * elem, 0, (new_n - old_n) * elem);
    return q;
}

/* A new activation of entry `entry` (ir_edit.c's ir_add_act) with this pass's bookkeeping for
 * it; -1 when out of memory. */
static int new_value(Shard *S, const char *name, int entry, int dtype) {
    if (S->g->n_vals >= S->cap_vals) { /* the maps are sized for every op to add two: cannot happen */
        out_of_memory(S);
        return -1;
    }
    int v = ir_add_act(S->g, name, entry);
    if (v < 0) {
        out_of_memory(S);
        return -1;
    }
    S->g->vals[v].d.dtype = dtype;
    S->map[v] = v;
    S->gathered[v] = -1;
    return v;
}

static int emit(Shard *S, const IrOp *op) {
    if (S->n_ops == S->cap_ops) {
        IrOp *o = grow_array(S->ops, (size_t)S->cap_ops, (size_t)S->cap_ops * 2 + 64, sizeof *o);
        if (!o) {
            out_of_memory(S);
            return -1;
        }
        S->ops = o;
        S->cap_ops = S->cap_ops * 2 + 64;
    }
    S->ops[S->n_ops] = *op;
    S->g->vals[op->d.out].producer = S->n_ops;
    return S->n_ops++;
}

static void error(Shard *S, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error(Shard *S, const char *hint, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    DiagLoc none = {0};
    Diag *e = diag_error(S->cx->diags, none, "%s", msg);
    if (hint) diag_hint(e, "%s", hint);
    S->errors++;
}

static void out_of_memory(Shard *S) { error(S, NULL, "out of memory"); }

static void note(Shard *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(Shard *S, const char *fmt, ...) {
    if (!S->cx->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("shard: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A collective over the chips reading `in` (and `bias`, -1 for none), placed after op `from`;
 * its output takes over the role of graph output from `in`. Returns the output value. */
static int add_collective(Shard *S, TtcOpKind kind, const IrOp *from, int in, int bias) {
    char path[TTC_NAME_MAX];
    snprintf(path, sizeof path, "%.*s.%s", TTC_NAME_MAX - 16, from->d.path, ttc_op_name(kind));
    int out = new_value(S, path, from->entry, S->g->vals[in].d.dtype);
    if (out < 0) return -1;
    IrOp op = *from;
    memset(&op.d.attrs, 0, sizeof op.d.attrs);
    op.d.attrs.chips = S->chips;
    op.d.kind = kind;
    snprintf(op.d.path, sizeof op.d.path, "%s", path);
    op.d.n_in = bias >= 0 ? 2 : 1;
    op.d.in[0] = in;
    op.d.in[1] = bias;
    op.d.in[2] = op.d.in[3] = 0;
    op.d.out = out;
    if (emit(S, &op) < 0) return -1;
    IrValue *src = &S->g->vals[in];
    S->g->vals[out].d.role = src->d.role;
    src->d.role = TTC_ROLE_NONE;
    if (kind == TTC_OP_ALL_REDUCE) S->n_reduce++;
    else S->n_gather++;
    return out;
}

/* The replicated form of value v for a reader that needs all of it: v itself, or the all_gather of
 * its slices (made once per value). Slices replicated over chips (KV heads) cannot be gathered. */
static int need_whole(Shard *S, int v, const IrOp *reader) {
    if (!S->parts[v]) return v;
    if (S->gathered[v] >= 0) return S->gathered[v];
    if (S->parts[v] != S->chips || S->g->vals[v].d.shard_dim != 0 || S->g->vals[v].producer < 0) {
        error(S, "keep the whole attention module on the same sharding (sharding: replicate on the module)",
              "op '%s' needs all of '%s', which is split over %d chips in %d replicated parts and cannot be gathered",
              reader->d.path, S->g->vals[v].d.name, S->chips, S->parts[v]);
        return v;
    }
    int out = add_collective(S, TTC_OP_ALL_GATHER, &S->ops[S->g->vals[v].producer], v, -1);
    if (out < 0) return v;
    S->gathered[v] = out;
    return out;
}

/* Marks weight w stacked per chip, split along `dim` into `parts` (shape [N, slice]). A weight
 * shared by two ops (prefill and decode) must be split the same way by both. */
static void stack_weight(Shard *S, int w, int dim, int parts, const IrOp *op) {
    TtcTensorDesc *d = &S->g->vals[w].d;
    if (d->shard_chips) {
        if (d->shard_dim != dim || d->shard_parts != parts)
            error(S, "give the module the same `sharding` in every mode",
                  "op '%s': weight '%s' is already split %s into %d parts by another op", op->d.path, d->name,
                  d->shard_dim ? "by columns" : "by rows", d->shard_parts);
        return;
    }
    TtcShape s = d->shape;
    if (s.rank < 1 || s.rank > 2 || dim >= s.rank || s.d[dim].size % parts) {
        error(S, NULL, "internal: op '%s': weight '%s' cannot be split along dim %d into %d parts", op->d.path, d->name,
              dim, parts);
        return;
    }
    s.d[dim].size /= parts;
    for (int i = s.rank; i > 0; i--) s.d[i] = s.d[i - 1];
    s.d[0] = ir_dim(S->chips);
    s.rank++;
    d->shape = s;
    d->shard_chips = S->chips;
    d->shard_dim = dim;
    d->shard_parts = parts;
}

static const char *last_component(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* A linear's split: the overlay's, else column for q/k/v, up/gate and lm_head, row for the
 * attention output and FFN down projections, replicate for anything else (pooler). */
static Policy linear_policy(const Shard *S, int k) {
    const IrOp *op = &S->g->ops[k];
    switch (S->policy_of[k]) {
    case HW_SHARD_REPLICATE: return POL_REPLICATE;
    case HW_SHARD_COLUMN_PARALLEL: return POL_COLUMN;
    case HW_SHARD_ROW_PARALLEL: return POL_ROW;
    default: break;
    }
    const char *c = last_component(op->d.path);
    if (strcmp(op->module_type, "lm_head") == 0) return POL_COLUMN;
    if (!strcmp(c, "q") || !strcmp(c, "k") || !strcmp(c, "v") || !strcmp(c, "up") || !strcmp(c, "gate"))
        return POL_COLUMN;
    if (!strcmp(c, "out") || !strcmp(c, "down")) return POL_ROW;
    return POL_REPLICATE;
}

/* "layer_3.attention" for "layer_3.attention.q": what the user names in an overlay. */
static void module_of(const IrOp *op, char *buf, size_t n) {
    snprintf(buf, n, "%s", op->d.path);
    char *dot = strrchr(buf, '.');
    if (dot) *dot = 0;
}

/* Parts a column-parallel linear's output splits into (heads stay whole), or 0 to replicate it
 * instead; reports head counts that do not split. */
static int column_parts(Shard *S, const IrOp *op, int out_features) {
    const AttnUse *u = &S->use[op->d.out];
    int n = S->chips;
    char mod[TTC_NAME_MAX], hint[512];
    module_of(op, mod, sizeof mod);
    if (u->role == 'q' || (u->role && u->kv_heads % n == 0)) {
        int heads = u->role == 'q' ? u->heads : u->kv_heads;
        if (heads % n == 0) return n;
        static const struct { int chips; const char *name; } systems[] = {
            {32, "wormhole_galaxy"}, {8, "wormhole_t3k"}, {2, "wormhole_n300"}, {1, "wormhole_n150"}};
        int fit = 3; /* the largest smaller system that divides the heads; one chip always does */
        for (int i = 0; i < 4; i++)
            if (systems[i].chips < n && heads % systems[i].chips == 0) {
                fit = i;
                break;
            }
        snprintf(hint, sizeof hint, "use a system whose chip count divides %d (e.g. %s, %d chip%s), or set sharding: "
                 "replicate on '%s'", heads, systems[fit].name, systems[fit].chips, systems[fit].chips > 1 ? "s" : "",
                 mod);
        error(S, hint, "module '%s': %d query heads do not divide over %d chips", mod, heads, n);
        return 0;
    }
    if (u->role) { /* k or v with fewer KV heads than chips: one replicated KV head per chip */
        if (u->kv_heads < n && n % u->kv_heads == 0) return u->kv_heads;
        snprintf(hint, sizeof hint, "use a mesh whose chip count divides %d or is a multiple of it, or set sharding: "
                 "replicate on '%s'", u->kv_heads, mod);
        error(S, hint, "module '%s': %d KV heads neither divide over %d chips nor replicate evenly on them", mod,
              u->kv_heads, n);
        return 0;
    }
    if (out_features % n == 0) return n;
    if (strcmp(op->module_type, "lm_head") == 0) {
        note(S, "'%s' stays replicated: its %d outputs (the vocabulary) do not divide over %d chips", op->d.path,
             out_features, n);
        return 0;
    }
    snprintf(hint, sizeof hint, "use a mesh whose chip count divides %d, or set sharding: replicate on '%s'",
             out_features, op->d.path);
    error(S, hint, "op '%s': %d output features do not divide over %d chips", op->d.path, out_features, n);
    return 0;
}

/* Rewrites one LINEAR (op is a copy with its inputs already mapped). */
static void shard_linear(Shard *S, int k, IrOp *op) {
    Policy pol = linear_policy(S, k);
    int x = op->d.in[0], w = op->d.in[1], bias = op->d.n_in > 2 ? op->d.in[2] : -1;
    int out_features = (int)S->g->vals[w].d.shape.d[0].size;
    if (pol == POL_ROW && (!S->parts[x] || S->parts[x] != S->chips || op->d.attrs.epilogue)) {
        if (S->policy_of[k] == HW_SHARD_ROW_PARALLEL)
            note(S, "'%s' stays replicated: row_parallel needs its input split over the chips%s", op->d.path,
                 op->d.attrs.epilogue ? " and no fused activation" : "");
        pol = POL_REPLICATE;
    }
    int parts = 0;
    if (pol == POL_COLUMN) {
        parts = column_parts(S, op, out_features);
        if (!parts) pol = POL_REPLICATE;
    }
    if (pol == POL_REPLICATE) {
        op->d.in[0] = need_whole(S, x, op);
        emit(S, op);
        return;
    }
    op->d.attrs.chips = S->chips;
    if (pol == POL_COLUMN) {
        op->d.in[0] = need_whole(S, x, op);
        stack_weight(S, w, 0, parts, op);
        if (bias >= 0) stack_weight(S, bias, 0, parts, op);
        S->parts[op->d.out] = parts;
        S->g->vals[op->d.out].d.shard_parts = parts;
        S->n_column++;
        emit(S, op);
        /* The logits leave the device whole: the vocabulary slices are gathered at once. */
        if (strcmp(op->module_type, "lm_head") == 0) {
            int g = add_collective(S, TTC_OP_ALL_GATHER, op, op->d.out, -1);
            if (g >= 0) S->map[op->d.out] = S->gathered[op->d.out] = g;
        }
        return;
    }
    /* Row-parallel: chip c multiplies its slice of the features by its columns of w; the bias
     * joins the all_reduce so that it is added once, not once per chip. */
    stack_weight(S, w, 1, S->chips, op);
    op->d.n_in = 2;
    S->parts[op->d.out] = S->chips;
    S->n_row++;
    emit(S, op);
    int r = add_collective(S, TTC_OP_ALL_REDUCE, op, op->d.out, bias);
    if (r >= 0) S->map[op->d.out] = r;
}

/* Ops that work on feature slices when their (non-mask) inputs are split. */
static int is_per_chip_capable(const Shard *S, int kind) {
    switch (kind) {
    case TTC_OP_GELU:
    case TTC_OP_GELU_TANH:
    case TTC_OP_SILU:
    case TTC_OP_RELU:
    case TTC_OP_TANH:
    case TTC_OP_ADD:
    case TTC_OP_MUL:
    case TTC_OP_ROPE:
    case TTC_OP_KV_UPDATE:
    case TTC_OP_ATTN_SCORES:
    case TTC_OP_SOFTMAX:
    case TTC_OP_ATTN_CONTEXT: return 1;
    default: return kind == S->attention_op;
    }
}

/* Inputs that carry features (split or not); the rest (masks, the cache) are passed whole. */
static int is_feature_input(const Shard *S, const IrOp *op, int i) {
    int v = op->d.in[i];
    if (S->g->vals[v].d.dtype == TTC_I32) return 0; /* padding masks */
    if (op->d.kind == TTC_OP_KV_UPDATE && i == 1) return 0;
    return S->g->vals[v].d.kind == TTC_TENSOR_ACT;
}

/* Stacks the KV cache `state` for a per-chip update whose new rows are split into `parts`. */
static void stack_cache(Shard *S, int state, int parts, const IrOp *op) {
    TtcTensorDesc *d = &S->g->vals[state].d;
    if (d->shard_chips) {
        if (d->shard_parts != parts) error(S, NULL, "op '%s': the KV cache is already split differently", op->d.path);
        return;
    }
    TtcShape s = d->shape;
    if (s.rank != 3 || s.d[2].size % parts) {
        error(S, NULL, "internal: op '%s': cannot split the cache '%s' into %d parts", op->d.path, d->name, parts);
        return;
    }
    s.d[2].size /= parts;
    d->shape = ir_shape(4, ir_dim(S->chips), s.d[0], s.d[1], s.d[2]);
    d->shard_chips = S->chips;
    d->shard_dim = 0;
    d->shard_parts = parts;
}

static void shard_other(Shard *S, int k, IrOp *op) {
    int split = 0, whole = 0;
    for (int i = 0; i < op->d.n_in; i++) {
        if (!is_feature_input(S, op, i)) continue;
        if (S->parts[op->d.in[i]]) split++;
        else whole++;
    }
    /* Binary elementwise ops need both operands cut the same way. */
    int same = (op->d.kind != TTC_OP_ADD && op->d.kind != TTC_OP_MUL) ||
               S->parts[op->d.in[0]] == S->parts[op->d.in[1]];
    if (split && !whole && same && is_per_chip_capable(S, op->d.kind) && S->policy_of[k] != HW_SHARD_REPLICATE) {
        TtcAttrs *a = &op->d.attrs;
        int p0 = S->parts[op->d.in[0]], p1 = op->d.n_in > 1 ? S->parts[op->d.in[1]] : 0;
        a->chips = S->chips;
        if (a->heads && p0) a->heads /= p0;
        if (a->kv_heads && p1) a->kv_heads /= p1;
        if (op->d.kind == TTC_OP_KV_UPDATE) stack_cache(S, op->d.in[1], p0, op);
        S->parts[op->d.out] = p0;
        S->g->vals[op->d.out].d.shard_parts = p0;
        emit(S, op);
        return;
    }
    for (int i = 0; i < op->d.n_in; i++)
        if (is_feature_input(S, op, i)) op->d.in[i] = need_whole(S, op->d.in[i], op);
    emit(S, op);
}

/* Follows each attention op's q, k and v back through RoPE and the cache update to the
 * projections that make them (ops are in order, so one backward sweep suffices). */
static void find_attention_uses(Shard *S) {
    const Graph *g = S->g;
    for (int k = g->n_ops - 1; k >= 0; k--) {
        const IrOp *op = &g->ops[k];
        const TtcAttrs *a = &op->d.attrs;
        AttnUse u = {0, a->heads, a->kv_heads};
        if (op->d.kind == TTC_OP_ATTN_SCORES || op->d.kind == S->attention_op) {
            u.role = 'q';
            S->use[op->d.in[0]] = u;
            u.role = 'k';
            S->use[op->d.in[1]] = u;
            if (op->d.kind == S->attention_op && op->d.n_in > 2) {
                u.role = 'v';
                S->use[op->d.in[2]] = u;
            }
        } else if (op->d.kind == TTC_OP_ATTN_CONTEXT) {
            u.role = 'v';
            S->use[op->d.in[1]] = u;
        } else if (op->d.kind == TTC_OP_ROPE || op->d.kind == TTC_OP_KV_UPDATE) {
            S->use[op->d.in[0]] = S->use[op->d.out];
        }
    }
}

static int shard_init(Shard *S, Graph *g, PassCtx *cx) {
    memset(S, 0, sizeof *S);
    S->g = g;
    S->cx = cx;
    S->chips = g->mesh_rows * g->mesh_cols;
    S->attention_op = ttc_op_from_name("attention");
    S->cap_vals = g->n_vals + 2 * g->n_ops + 16;
    S->policy_of = dev_resolve_sharding(g, cx->hw);
    S->use = calloc((size_t)S->cap_vals, sizeof *S->use);
    S->parts = calloc((size_t)S->cap_vals, sizeof *S->parts);
    S->map = calloc((size_t)S->cap_vals, sizeof *S->map);
    S->gathered = calloc((size_t)S->cap_vals, sizeof *S->gathered);
    if (!S->policy_of || !S->use || !S->parts || !S->map || !S->gathered) return -1;
    for (int v = 0; v < S->cap_vals; v++) {
        S->map[v] = v;
        S->gathered[v] = -1;
    }
    find_attention_uses(S);
    return 0;
}

static void shard_free(Shard *S) {
    free(S->policy_of);
    free(S->use);
    free(S->parts);
    free(S->map);
    free(S->gathered);
    free(S->ops);
}

int pass_shard(Graph *g, PassCtx *cx) {
    if (g->mesh_rows * g->mesh_cols <= 1) return 0;
    Shard S;
    DiagLoc none = {0};
    if (shard_init(&S, g, cx) != 0) {
        shard_free(&S);
        diag_error(cx->diags, none, "out of memory");
        return -1;
    }
    int first[TTC_MAX_ENTRIES] = {0};
    for (int e = 0; e < g->n_entries; e++) {
        first[e] = S.n_ops;
        const TtcEntry *en = &g->entries[e];
        for (int k = en->first_op; k < en->first_op + en->n_ops && !S.errors; k++) {
            IrOp op = g->ops[k];
            for (int i = 0; i < op.d.n_in; i++) op.d.in[i] = S.map[op.d.in[i]];
            if (op.d.kind == TTC_OP_LINEAR) shard_linear(&S, k, &op);
            else shard_other(&S, k, &op);
        }
    }
    if (S.errors) {
        shard_free(&S);
        return -1;
    }
    for (int e = 0; e < g->n_entries; e++) {
        g->entries[e].first_op = first[e];
        g->entries[e].n_ops = (e + 1 < g->n_entries ? first[e + 1] : S.n_ops) - first[e];
    }
    free(g->ops);
    g->ops = S.ops;
    g->n_ops = S.n_ops;
    g->cap_ops = S.cap_ops;
    S.ops = NULL;
    note(&S, "%d chips (%dx%d): %d column-parallel and %d row-parallel linears, %d all_reduce, %d all_gather",
         S.chips, g->mesh_rows, g->mesh_cols, S.n_column, S.n_row, S.n_reduce, S.n_gather);
    shard_free(&S);
    return pass_shape_infer(g, cx);
}
