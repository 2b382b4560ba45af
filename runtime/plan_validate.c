/* plan_validate.c: the semantic rules every plan obeys, checked by the loader on every file and
 * by the compiler before it writes one (rule list: PLAN_FORMAT.md, "What the loader checks").
 *
 * The runtime indexes arrays and carves the arena with these values without further checks, so
 * anything that could make it read or write out of bounds is rejected here. Each message names
 * the file and the element: "plan.bin: op 12 ('layer_1.attention.qkv'): input 2 refers to ...". */
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MAX_ITEMS 1000000 /* same bound as the parser's */
#define PLAN_ARENA_ALIGN 64    /* the executor hands kernels 64-byte aligned buffers */
#define PLAN_HOST_ELEM_BYTES 4 /* every dtype is held as 4-byte fp32 or int32 on the host */

typedef struct PlanCheck {
    const TtcPlan *p;
    const char *what;
    TtcError *err;
    const int32_t *entry_of_op; /* filled once the entry points are known to be sound */
} PlanCheck;

static const char *const plan_sym_bound_name[TTC_SYM_COUNT] = {"", "max_batch", "max_seq", "max_ctx"};

/* SEQ is bounded per entry point (a whole prompt in prefill, one token in decode). */
static int64_t plan_sym_bound(const TtcPlan *p, int32_t sym, int32_t entry) {
    if (sym == TTC_SYM_SEQ && entry >= 0 && entry < p->n_entries) return p->entries[entry].max_seq;
    return sym == TTC_SYM_BATCH ? p->max_batch : sym == TTC_SYM_SEQ ? p->max_seq : p->max_ctx;
}

static int plan_is_input_role(int32_t role) {
    return role == TTC_ROLE_INPUT_IDS || role == TTC_ROLE_TOKEN_TYPE_IDS || role == TTC_ROLE_ATTENTION_MASK;
}

/* Names come from fixed-size fields that a buggy compiler could leave unterminated; messages
 * print at most the field. */
static int plan_name_ok(const char *s) { return memchr(s, 0, TTC_NAME_MAX) != NULL; }

static TtcStatus plan_check_header(const PlanCheck *c) {
    const TtcPlan *p = c->p;
    if (!memchr(p->model_name, 0, sizeof p->model_name) || !memchr(p->device, 0, sizeof p->device) ||
        !memchr(p->producer, 0, sizeof p->producer))
        return ttc_fail(c->err, TTC_E_USER, "%s: model name, device or producer is not NUL-terminated", c->what);
    if (p->model_type != TTC_MODEL_ENCODER && p->model_type != TTC_MODEL_DECODER)
        return ttc_fail(c->err, TTC_E_USER, "%s: model type %d is neither encoder (0) nor decoder (1)", c->what,
                        (int)p->model_type);
    const struct { const char *name; int64_t v; } bounds[] = {
        {"vocab_size", p->vocab_size}, {"max_batch", p->max_batch}, {"max_seq", p->max_seq}, {"max_ctx", p->max_ctx}};
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
        if (bounds[i].v <= 0)
            return ttc_fail(c->err, TTC_E_USER, "%s: %s is %lld, must be positive", c->what, bounds[i].name,
                            (long long)bounds[i].v);
    if (p->max_ctx < p->max_seq)
        return ttc_fail(c->err, TTC_E_USER, "%s: max_ctx (%lld) is smaller than max_seq (%lld)", c->what,
                        (long long)p->max_ctx, (long long)p->max_seq);
    if (p->mesh_rows < 1 || p->mesh_cols < 1 || p->mesh_rows * (int64_t)p->mesh_cols > 1024)
        return ttc_fail(c->err, TTC_E_USER, "%s: mesh %dx%d must have 1..1024 chips", c->what, (int)p->mesh_rows,
                        (int)p->mesh_cols);
    if (p->eos_token_id < -1 || p->eos_token_id >= p->vocab_size)
        return ttc_fail(c->err, TTC_E_USER, "%s: eos_token_id %lld must be -1 (none) or a token id below %lld",
                        c->what, (long long)p->eos_token_id, (long long)p->vocab_size);
    if (p->arena_bytes < 0)
        return ttc_fail(c->err, TTC_E_USER, "%s: arena_bytes is %lld, must not be negative", c->what,
                        (long long)p->arena_bytes);
    if (p->n_tensors < 0 || p->n_tensors > PLAN_MAX_ITEMS || (p->n_tensors > 0 && !p->tensors))
        return ttc_fail(c->err, TTC_E_USER, "%s: %d tensors, must be 0..%d", c->what, (int)p->n_tensors,
                        PLAN_MAX_ITEMS);
    if (p->n_ops < 0 || p->n_ops > PLAN_MAX_ITEMS || (p->n_ops > 0 && !p->ops))
        return ttc_fail(c->err, TTC_E_USER, "%s: %d ops, must be 0..%d", c->what, (int)p->n_ops, PLAN_MAX_ITEMS);
    return TTC_OK;
}

/* Rank, dims and symbols; *elems gets the upper-bound element count, overflow-checked. */
static TtcStatus plan_check_shape(const PlanCheck *c, int32_t i, int64_t *elems) {
    const TtcTensorDesc *t = &c->p->tensors[i];
    const TtcShape *s = &t->shape;
    if (s->rank < 1 || s->rank > TTC_MAX_RANK)
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): rank %d must be 1..%d", c->what, (int)i, t->name,
                        (int)s->rank, TTC_MAX_RANK);
    int64_t n = 1;
    for (int d = 0; d < s->rank; d++) {
        TtcDim dim = s->d[d];
        if (dim.sym < 0 || dim.sym >= TTC_SYM_COUNT)
            return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): dim %d has symbol %d, must be 0..%d", c->what,
                            (int)i, t->name, d, (int)dim.sym, TTC_SYM_COUNT - 1);
        if (dim.size <= 0)
            return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): dim %d has size %lld, must be positive",
                            c->what, (int)i, t->name, d, (long long)dim.size);
        /* The executor sizes symbolic dims by the run's bindings, which never exceed the plan's
         * bounds; a different upper bound here would make the arena layout a lie. */
        int64_t bound = plan_sym_bound(c->p, dim.sym, t->entry);
        if (dim.sym != TTC_SYM_NONE && dim.size != bound)
            return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): dim %d is bounded by %s but has size %lld, "
                            "the plan's %s is %lld", c->what, (int)i, t->name, d, plan_sym_bound_name[dim.sym],
                            (long long)dim.size, plan_sym_bound_name[dim.sym], (long long)bound);
        if (n > INT64_MAX / PLAN_HOST_ELEM_BYTES / dim.size)
            return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): shape overflows 64-bit byte sizes", c->what,
                            (int)i, t->name);
        n *= dim.size;
    }
    *elems = n;
    return TTC_OK;
}

static TtcStatus plan_check_tensor(const PlanCheck *c, int32_t i) {
    const TtcPlan *p = c->p;
    const TtcTensorDesc *t = &p->tensors[i];
    if (!plan_name_ok(t->name))
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d: name is not NUL-terminated", c->what, (int)i);
    if (t->kind < TTC_TENSOR_INPUT || t->kind > TTC_TENSOR_STATE)
        return ttc_fail(c->err, TTC_E_USER,
                        "%s: tensor %d ('%s'): kind %d is none of input (0), weight (1), activation (2), state (3)",
                        c->what, (int)i, t->name, (int)t->kind);
    /* Weights and state are shared by every entry point; inputs and activations belong to one. */
    int shared = t->kind == TTC_TENSOR_WEIGHT || t->kind == TTC_TENSOR_STATE;
    if (shared ? t->entry != -1 : (t->entry < 0 || t->entry >= p->n_entries))
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): entry %d must be %s", c->what, (int)i, t->name,
                        (int)t->entry, shared ? "-1 (shared)" : "an entry point of the plan");
    if (t->alias != -1 && (t->kind != TTC_TENSOR_ACT || t->alias < 0 || t->alias >= p->n_tensors ||
                           p->tensors[t->alias].kind != TTC_TENSOR_STATE))
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): alias %d must be -1 or, for an activation, a "
                        "state tensor", c->what, (int)i, t->name, (int)t->alias);
    if (t->dtype < 0 || t->dtype >= TTC_DTYPE_COUNT)
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): dtype %d must be 0..%d", c->what, (int)i,
                        t->name, (int)t->dtype, TTC_DTYPE_COUNT - 1);
    if (t->role < 0 || t->role >= TTC_ROLE_COUNT)
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): role %d must be 0..%d", c->what, (int)i, t->name,
                        (int)t->role, TTC_ROLE_COUNT - 1);
    if (t->init < TTC_INIT_NORMAL || t->init > TTC_INIT_NORM_BIAS)
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): init %d must be 0..%d", c->what, (int)i,
                        t->name, (int)t->init, TTC_INIT_NORM_BIAS);
    /* Inputs are fed by role (--input-ids ...): a role-less input could never be filled, and an
     * input role on anything else would be fed into a weight or an op's output. */
    if (t->kind == TTC_TENSOR_INPUT && !plan_is_input_role(t->role))
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): input has role '%s', not an input role", c->what,
                        (int)i, t->name, ttc_role_name((TtcRole)t->role));
    if (t->kind != TTC_TENSOR_INPUT && plan_is_input_role(t->role))
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): role '%s' is only for input tensors", c->what,
                        (int)i, t->name, ttc_role_name((TtcRole)t->role));
    if (t->kind == TTC_TENSOR_WEIGHT && t->role != TTC_ROLE_NONE)
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): weights cannot have role '%s'", c->what, (int)i,
                        t->name, ttc_role_name((TtcRole)t->role));
    int64_t elems = 0;
    if (plan_check_shape(c, i, &elems)) return TTC_E_USER;
    /* Stacked per chip (passes/shard.h): a weight [chips, one chip's slice], each chip's part in
     * range; an activation or state [chips, ...] (dim 0) or, for activations, [d0, chips*d1, ...]
     * (dim 1: chip blocks folded into dim 1). Chips are at most the plan's mesh. */
    int folded = t->kind != TTC_TENSOR_WEIGHT && t->shard_dim == 1;
    if (t->shard_chips != 0 &&
        (t->shard_chips < 2 || t->shard_chips > p->mesh_rows * p->mesh_cols || t->shape.rank < 2 ||
         t->kind == TTC_TENSOR_INPUT || t->shard_dim < 0 || t->shard_dim > 1 || t->shard_parts < 1 ||
         t->shard_parts > t->shard_chips || (folded && t->kind != TTC_TENSOR_ACT) ||
         (folded ? t->shape.d[1].sym != TTC_SYM_NONE || t->shape.d[1].size % t->shard_chips
                 : t->shape.d[0].sym != TTC_SYM_NONE || t->shape.d[0].size != t->shard_chips)))
        return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): per-chip stacking (chips %d, dim %d, parts %d) must "
                        "have 2..%d chips (the mesh) as a constant first dim (weights: split along dim 0 or 1 into "
                        "1..chips parts), or, for an activation, folded into a constant dim 1", c->what, (int)i,
                        t->name, (int)t->shard_chips, (int)t->shard_dim, (int)t->shard_parts,
                        (int)(p->mesh_rows * p->mesh_cols));
    if (t->kind == TTC_TENSOR_WEIGHT || t->kind == TTC_TENSOR_STATE || t->alias >= 0) {
        if (t->offset != 0)
            return ttc_fail(c->err, TTC_E_USER,
                            "%s: tensor %d ('%s'): has arena offset %lld, must be 0 (weights, state and views of "
                            "state live outside the arena)", c->what, (int)i, t->name, (long long)t->offset);
        return TTC_OK;
    }
    if (t->offset < 0 || t->offset % PLAN_ARENA_ALIGN != 0)
        return ttc_fail(c->err, TTC_E_USER,
                        "%s: tensor %d ('%s'): arena offset %lld must be a non-negative multiple of %d", c->what,
                        (int)i, t->name, (long long)t->offset, PLAN_ARENA_ALIGN);
    int64_t bytes = elems * PLAN_HOST_ELEM_BYTES; /* cannot overflow: plan_check_shape bounded it */
    int64_t arena = p->entries[t->entry].arena_bytes;
    if (t->offset > arena || bytes > arena - t->offset)
        return ttc_fail(c->err, TTC_E_USER,
                        "%s: tensor %d ('%s'): %lld bytes at arena offset %lld overrun entry '%s''s arena of %lld "
                        "bytes", c->what, (int)i, t->name, (long long)bytes, (long long)t->offset,
                        p->entries[t->entry].name, (long long)arena);
    return TTC_OK;
}

/* Entry points partition the op list into consecutive, non-empty ranges, in order. */
static TtcStatus plan_check_entries(const PlanCheck *c) {
    const TtcPlan *p = c->p;
    if (p->n_entries < 1 || p->n_entries > TTC_MAX_ENTRIES)
        return ttc_fail(c->err, TTC_E_USER, "%s: %d entry points, must be 1..%d", c->what, (int)p->n_entries,
                        TTC_MAX_ENTRIES);
    int32_t next = 0;
    for (int32_t e = 0; e < p->n_entries; e++) {
        const TtcEntry *en = &p->entries[e];
        if (!memchr(en->name, 0, sizeof en->name))
            return ttc_fail(c->err, TTC_E_USER, "%s: entry %d: name is not NUL-terminated", c->what, (int)e);
        if (en->first_op != next || en->n_ops < 1 || en->n_ops > p->n_ops - next)
            return ttc_fail(c->err, TTC_E_USER, "%s: entry %d ('%s'): ops %d..+%d must start at op %d and stay "
                            "within the %d ops", c->what, (int)e, en->name, (int)en->first_op, (int)en->n_ops,
                            (int)next, (int)p->n_ops);
        if ((en->mode != 0 && en->mode != 1) || en->max_seq < 1 || en->max_seq > p->max_seq ||
            en->arena_bytes < 0 || en->arena_bytes > p->arena_bytes)
            return ttc_fail(c->err, TTC_E_USER, "%s: entry %d ('%s'): mode %d must be 0 or 1, max_seq %lld in "
                            "1..%lld, arena %lld in 0..%lld", c->what, (int)e, en->name, (int)en->mode,
                            (long long)en->max_seq, (long long)p->max_seq, (long long)en->arena_bytes,
                            (long long)p->arena_bytes);
        next += en->n_ops;
    }
    if (next != p->n_ops)
        return ttc_fail(c->err, TTC_E_USER, "%s: entry points cover %d of the %d ops", c->what, (int)next,
                        (int)p->n_ops);
    return TTC_OK;
}

static TtcStatus plan_check_tensors(const PlanCheck *c) {
    int32_t role_owner[TTC_MAX_ENTRIES][TTC_ROLE_COUNT];
    for (int e = 0; e < TTC_MAX_ENTRIES; e++)
        for (int r = 0; r < TTC_ROLE_COUNT; r++) role_owner[e][r] = -1;
    for (int32_t i = 0; i < c->p->n_tensors; i++) {
        if (plan_check_tensor(c, i)) return TTC_E_USER;
        const TtcTensorDesc *t = &c->p->tensors[i];
        if (!plan_is_input_role(t->role)) continue;
        int32_t *owner = &role_owner[t->entry][t->role];
        if (*owner >= 0)
            return ttc_fail(c->err, TTC_E_USER, "%s: tensor %d ('%s'): role '%s' is already taken by tensor %d ('%s')",
                            c->what, (int)i, t->name, ttc_role_name((TtcRole)t->role), (int)*owner,
                            c->p->tensors[*owner].name);
        *owner = i;
    }
    return TTC_OK;
}

/* The fused ops' attributes (passes/fuse.c): an epilogue only on a linear, rope_qk's rotation
 * parameters, and attention heads that fit the rows they are read from at their column offsets
 * (the kernels check the same at run time; here a corrupt file is named at load). */
static TtcStatus plan_check_fused(const PlanCheck *c, int32_t k) {
    const TtcOpDesc *op = &c->p->ops[k];
    const TtcAttrs *a = &op->attrs;
    const TtcTensorDesc *t = c->p->tensors;
    if (a->epilogue != TTC_EPILOGUE_NONE && op->kind != TTC_OP_LINEAR)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): only a linear op has an epilogue (%d)", c->what, (int)k,
                        op->path, (int)a->epilogue);
    int64_t w_out = t[op->out].shape.d[t[op->out].shape.rank - 1].size;
    if (a->epilogue == TTC_EPILOGUE_ROPE_QK &&
        (a->heads <= 0 || a->kv_heads <= 0 || a->head_dim <= 0 || a->head_dim % 2 || !(a->rope_theta > 0) ||
         !isfinite(a->rope_theta) || a->rope_scaling < 0 || a->rope_scaling > 1 || !isfinite(a->rope_factor) ||
         !isfinite(a->rope_low_freq) || !isfinite(a->rope_high_freq) ||
         a->q_col + (int64_t)a->heads * a->head_dim > w_out || a->k_col + (int64_t)a->kv_heads * a->head_dim > w_out))
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): the rope_qk epilogue needs positive heads (%d) and "
                        "kv_heads (%d) of an even head_dim (%d) inside the %lld output columns from q_col %d and k_col "
                        "%d, and a finite positive theta", c->what, (int)k, op->path, (int)a->heads, (int)a->kv_heads,
                        (int)a->head_dim, (long long)w_out, (int)a->q_col, (int)a->k_col);
    if (op->kind == TTC_OP_KV_UPDATE) {
        const TtcShape *n = &t[op->in[0]].shape, *cache = &t[op->in[1]].shape;
        if (a->k_col + cache->d[cache->rank - 1].size > n->d[n->rank - 1].size)
            return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): the cache's %lld features from column %d do not fit "
                            "the new rows' %lld", c->what, (int)k, op->path, (long long)cache->d[cache->rank - 1].size,
                            (int)a->k_col, (long long)n->d[n->rank - 1].size);
    }
    if (op->kind != TTC_OP_ATTENTION) return TTC_OK;
    if ((op->n_in == 4) != (a->has_mask != 0))
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): has_mask (%d) must match the mask input", c->what,
                        (int)k, op->path, (int)a->has_mask);
    const int64_t cols[3] = {a->q_col, a->k_col, a->v_col}, heads[3] = {a->heads, a->kv_heads, a->kv_heads};
    for (int i = 0; i < 3; i++) {
        const TtcShape *x = &t[op->in[i]].shape;
        if (x->rank < 3 || cols[i] + heads[i] * a->head_dim > x->d[x->rank - 1].size)
            return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): input %d needs rank 3 or more and %lld heads of %d "
                            "from column %lld inside its rows", c->what, (int)k, op->path, i, (long long)heads[i],
                            (int)a->head_dim, (long long)cols[i]);
    }
    return TTC_OK;
}

/* Kernels divide by and loop over these; a zero or negative value must never reach them. */
static TtcStatus plan_check_attrs(const PlanCheck *c, int32_t k) {
    const TtcOpDesc *op = &c->p->ops[k];
    const TtcAttrs *a = &op->attrs;
    if (!isfinite(a->eps) || !isfinite(a->scale))
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): eps (%g) and scale (%g) must be finite", c->what,
                        (int)k, op->path, (double)a->eps, (double)a->scale);
    if (a->epilogue < 0 || a->epilogue >= TTC_EPILOGUE_COUNT || a->q_col < 0 || a->k_col < 0 || a->v_col < 0 ||
        a->chips < 0)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): epilogue %d must be 0..%d; column offsets and chips not "
                        "negative", c->what, (int)k, op->path, (int)a->epilogue, TTC_EPILOGUE_COUNT - 1);
    if (a->window < 0 || (a->causal != 0 && a->causal != 1) || (a->has_mask != 0 && a->has_mask != 1))
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): causal (%d) and has_mask (%d) must be 0 or 1, "
                        "window (%d) not negative", c->what, (int)k, op->path, (int)a->causal, (int)a->has_mask,
                        (int)a->window);
    if (op->kind == TTC_OP_ROPE) {
        if (a->heads <= 0 || a->head_dim <= 0 || a->head_dim % 2 || !(a->rope_theta > 0) || !isfinite(a->rope_theta) ||
            a->rope_scaling < 0 || a->rope_scaling > 1 || !isfinite(a->rope_factor) || !isfinite(a->rope_low_freq) ||
            !isfinite(a->rope_high_freq))
            return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): rope needs positive heads (%d), an even head_dim "
                            "(%d), a finite positive theta (%g) and finite scaling parameters", c->what, (int)k,
                            op->path, (int)a->heads, (int)a->head_dim, (double)a->rope_theta);
        return TTC_OK;
    }
    if (op->kind != TTC_OP_ATTN_SCORES && op->kind != TTC_OP_ATTN_CONTEXT && op->kind != TTC_OP_ATTENTION)
        return TTC_OK;
    if (a->heads <= 0 || a->kv_heads <= 0 || a->head_dim <= 0 || a->heads % a->kv_heads != 0)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): heads (%d) and kv_heads (%d) must be positive with "
                        "kv_heads dividing heads, head_dim (%d) positive", c->what, (int)k, op->path,
                        (int)a->heads, (int)a->kv_heads, (int)a->head_dim);
    return TTC_OK;
}

static TtcStatus plan_check_config(const PlanCheck *c, int32_t k) {
    const TtcOpDesc *op = &c->p->ops[k];
    const TtcOpConfig *cfg = &op->cfg;
    if (cfg->act_dtype >= TTC_DTYPE_COUNT || cfg->weight_dtype >= TTC_DTYPE_COUNT)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): config dtypes (act %d, weight %d) must be 0..%d",
                        c->what, (int)k, op->path, cfg->act_dtype, cfg->weight_dtype, TTC_DTYPE_COUNT - 1);
    if (cfg->fidelity > TTC_FIDELITY_HIFI4 || cfg->fp32_acc > 1 || cfg->layout > TTC_LAYOUT_ROW_MAJOR ||
        cfg->memory > TTC_MEM_L1)
        return ttc_fail(c->err, TTC_E_USER,
                        "%s: op %d ('%s'): config out of range: fidelity %d (0..%d), fp32_acc %d (0..1), "
                        "layout %d (0..%d), memory %d (0..%d)", c->what, (int)k, op->path, cfg->fidelity,
                        TTC_FIDELITY_HIFI4, cfg->fp32_acc, cfg->layout, TTC_LAYOUT_ROW_MAJOR, cfg->memory,
                        TTC_MEM_L1);
    return TTC_OK;
}

/* Tensor parallelism (passes/shard.c): the executor cuts a per-chip op's stacked tensors into
 * attrs.chips slices and hands a collective the whole stack, so the chip counts must agree:
 *   all_reduce, all_gather: input stacked over `chips` along dim 0, output not stacked;
 *   per-chip ops (chips > 1): every stacked input and the output stacked over `chips`;
 *   every other op: nothing stacked (a kernel would read all chips' slices as one tensor). */
static TtcStatus plan_check_chips(const PlanCheck *c, int32_t k) {
    const TtcPlan *p = c->p;
    const TtcOpDesc *op = &p->ops[k];
    int chips = op->attrs.chips, collective = op->kind == TTC_OP_ALL_REDUCE || op->kind == TTC_OP_ALL_GATHER;
    int per_chip = chips > 1 && !collective;
    const TtcTensorDesc *out = &p->tensors[op->out];
    const char *rule = NULL;
    if (chips > p->mesh_rows * p->mesh_cols) rule = "more chips than the plan's mesh";
    else if (collective && (chips < 2 || p->tensors[op->in[0]].shard_chips != chips ||
                            p->tensors[op->in[0]].shard_dim != 0 || out->shard_chips))
        rule = "a collective needs input 0 stacked over its chips along dim 0 and an unstacked output";
    else if (per_chip && out->shard_chips != chips)
        rule = "a per-chip op's output must be stacked over its chips";
    else if (!per_chip && !collective && out->shard_chips)
        rule = "only per-chip ops may output a stacked tensor";
    for (int j = collective ? 1 : 0; !rule && j < op->n_in; j++) {
        int32_t sc = p->tensors[op->in[j]].shard_chips;
        if (sc && (!per_chip || sc != chips)) rule = "a stacked input needs a per-chip op over the same chips";
    }
    if (!rule) return TTC_OK;
    return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s', %s, chips %d): %s", c->what, (int)k, op->path,
                    ttc_op_name((TtcOpKind)op->kind), (int)chips, rule);
}

/* Whether some op at or after `k` writes tensor `t`: only to word the error message. */
static int plan_produced_from(const TtcPlan *p, int32_t t, int32_t k) {
    for (int32_t j = k; j < p->n_ops; j++)
        if (p->ops[j].out == t) return 1;
    return 0;
}

/* One op: arity, indices, and the dataflow rule that every activation it reads was produced by
 * an earlier op (`producer` holds the producing op of each tensor so far, -1 for none). */
static TtcStatus plan_check_op(const PlanCheck *c, int32_t k, int32_t *producer) {
    const TtcPlan *p = c->p;
    const TtcOpDesc *op = &p->ops[k];
    if (!plan_name_ok(op->path))
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d: path is not NUL-terminated", c->what, (int)k);
    if (op->kind < 0 || op->kind >= TTC_OP_COUNT)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): kind %d is not an op (0..%d)", c->what, (int)k,
                        op->path, (int)op->kind, TTC_OP_COUNT - 1);
    const char *name = ttc_op_name((TtcOpKind)op->kind);
    int lo = ttc_op_min_inputs((TtcOpKind)op->kind), hi = ttc_op_max_inputs((TtcOpKind)op->kind);
    if (op->n_in < lo || op->n_in > hi || op->n_in > TTC_MAX_OP_INPUTS)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): %s takes %d..%d inputs, has %d", c->what, (int)k,
                        op->path, name, lo, hi, (int)op->n_in);
    for (int j = 0; j < op->n_in; j++) {
        int32_t t = op->in[j];
        if (t < 0 || t >= p->n_tensors)
            return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): input %d refers to tensor %d, plan has %d tensors",
                            c->what, (int)k, op->path, j, (int)t, (int)p->n_tensors);
        if (p->tensors[t].kind == TTC_TENSOR_ACT && producer[t] < 0)
            return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): input %d (tensor %d '%s') is used before %s",
                            c->what, (int)k, op->path, j, (int)t, p->tensors[t].name,
                            plan_produced_from(p, t, k) ? "the op that produces it (ops must be in execution order)"
                                                        : "being produced (no op produces it)");
    }
    int32_t o = op->out;
    if (o < 0 || o >= p->n_tensors)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): output refers to tensor %d, plan has %d tensors",
                        c->what, (int)k, op->path, (int)o, (int)p->n_tensors);
    if (p->tensors[o].kind != TTC_TENSOR_ACT)
        return ttc_fail(c->err, TTC_E_USER,
                        "%s: op %d ('%s'): output tensor %d ('%s') is %s, ops may only produce activations", c->what,
                        (int)k, op->path, (int)o, p->tensors[o].name,
                        p->tensors[o].kind == TTC_TENSOR_INPUT ? "an input" : "a weight");
    if (producer[o] >= 0)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): output tensor %d ('%s') is already produced by op %d "
                        "('%s')", c->what, (int)k, op->path, (int)o, p->tensors[o].name, (int)producer[o],
                        p->ops[producer[o]].path);
    producer[o] = k;
    /* An op reads and writes only its own entry point's tensors and the shared ones. */
    int32_t entry = c->entry_of_op[k];
    for (int j = -1; j < op->n_in; j++) {
        const TtcTensorDesc *t = &p->tensors[j < 0 ? o : op->in[j]];
        if (t->entry != -1 && t->entry != entry)
            return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s') of entry '%s' uses tensor '%s' of entry '%s'",
                            c->what, (int)k, op->path, p->entries[entry].name, t->name, p->entries[t->entry].name);
    }
    /* A cache update's output is the view of the state it writes; nothing else may alias state. */
    int is_update = op->kind == TTC_OP_KV_UPDATE;
    if (is_update ? (p->tensors[op->in[1]].kind != TTC_TENSOR_STATE || p->tensors[o].alias != op->in[1])
                  : p->tensors[o].alias != -1)
        return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): %s", c->what, (int)k, op->path,
                        is_update ? "kv_update must write a state tensor and output its view"
                                  : "only kv_update may output a view of state");
    if (plan_check_attrs(c, k) || plan_check_fused(c, k) || plan_check_config(c, k) || plan_check_chips(c, k))
        return TTC_E_USER;
    return TTC_OK;
}

/* Device estimates are for people and profiles, not for memory safety; still, a negative time or
 * an unknown bound would print nonsense, and a total below its own parts is a corrupt record. */
static TtcStatus plan_check_cost(const PlanCheck *c) {
    const TtcPlan *p = c->p;
    for (int32_t e = 0; e < p->n_entries; e++) {
        const TtcEntry *en = &p->entries[e];
        if (en->l1_peak_bytes < 0 || en->dram_peak_bytes < 0 || en->device_cycles < 0 || en->clock_khz < 0 ||
            en->device_bound < 0 || en->device_bound >= TTC_BOUND_COUNT || (en->device_cycles > 0 && !en->clock_khz))
            return ttc_fail(c->err, TTC_E_USER, "%s: entry %d ('%s'): device estimates out of range: L1 peak %lld, "
                            "DRAM peak %lld, cycles %lld at %lld kHz (positive when there are cycles), bound %d "
                            "(0..%d)", c->what, (int)e, en->name, (long long)en->l1_peak_bytes,
                            (long long)en->dram_peak_bytes, (long long)en->device_cycles, (long long)en->clock_khz,
                            (int)en->device_bound, TTC_BOUND_COUNT - 1);
        if (p->op_costs && !en->clock_khz)
            return ttc_fail(c->err, TTC_E_USER, "%s: entry %d ('%s'): per-op costs need the device clock", c->what,
                            (int)e, en->name);
    }
    for (int32_t k = 0; p->op_costs && k < p->n_ops; k++) {
        const TtcOpCost *o = &p->op_costs[k];
        int64_t most = o->compute_cycles > o->noc_cycles ? o->compute_cycles : o->noc_cycles;
        if (o->dram_cycles > most) most = o->dram_cycles;
        if (o->compute_cycles < 0 || o->noc_cycles < 0 || o->dram_cycles < 0 || o->cycles < most ||
            o->bound < 0 || o->bound >= TTC_BOUND_COUNT || o->cores < 1)
            return ttc_fail(c->err, TTC_E_USER, "%s: op %d ('%s'): cost out of range: compute %lld, NoC %lld, DRAM "
                            "%lld cycles (not negative), total %lld (at least the largest), bound %d (0..%d), cores "
                            "%d (positive)", c->what, (int)k, p->ops[k].path, (long long)o->compute_cycles,
                            (long long)o->noc_cycles, (long long)o->dram_cycles, (long long)o->cycles, (int)o->bound,
                            TTC_BOUND_COUNT - 1, (int)o->cores);
    }
    return TTC_OK;
}

TtcStatus ttc_plan_validate(const TtcPlan *p, const char *what, TtcError *err) {
    PlanCheck c = {p, what ? what : "plan", err, NULL};
    if (plan_check_header(&c) || plan_check_entries(&c) || plan_check_tensors(&c)) return TTC_E_USER;
    int32_t *producer = malloc(((size_t)p->n_tensors + 1) * sizeof *producer);
    int32_t *entry_of_op = malloc(((size_t)p->n_ops + 1) * sizeof *entry_of_op);
    if (!producer || !entry_of_op) {
        free(producer);
        free(entry_of_op);
        return ttc_fail(err, TTC_E_INTERNAL, "%s: out of memory validating the plan", c.what);
    }
    for (int32_t e = 0; e < p->n_entries; e++)
        for (int32_t k = 0; k < p->entries[e].n_ops; k++) entry_of_op[p->entries[e].first_op + k] = e;
    c.entry_of_op = entry_of_op;
    for (int32_t i = 0; i < p->n_tensors; i++) producer[i] = -1;
    TtcStatus st = TTC_OK;
    for (int32_t k = 0; k < p->n_ops && st == TTC_OK; k++) st = plan_check_op(&c, k, producer);
    for (int32_t i = 0; i < p->n_tensors && st == TTC_OK; i++)
        if (p->tensors[i].kind == TTC_TENSOR_ACT && producer[i] < 0)
            st = ttc_fail(err, TTC_E_USER, "%s: tensor %d ('%s'): activation is never produced by any op", c.what,
                          (int)i, p->tensors[i].name);
    free(producer);
    free(entry_of_op);
    if (st == TTC_OK) st = plan_check_cost(&c);
    return st;
}
