/* ir.c: Graph IR storage and builders. */
#include "ir.h"
#include "hw.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *p, int *cap, int need, size_t elem) {
    if (need <= *cap) return p;
    int nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    void *q = realloc(p, (size_t)nc * elem);
    if (!q) {
        /* The compiler is a short-lived process: running out of memory while building a graph
         * of a few thousand ops means the machine is gone; there is nothing to unwind. */
        fputs("ttc: out of memory\n", stderr);
        abort();
    }
    /* The new slots are not cleared: every builder clears the one it hands out. Clearing them
     * here touched (faulted in) twice the array's pages at each doubling: hundreds of MiB, and
     * the larger part of a pass's time, when a pass crossed a power of two at 10,000 layers. */
    *cap = nc;
    return q;
}

static void copy_name(char *dst, const char *src) {
    size_t n = strlen(src);
    assert(n < TTC_NAME_MAX && "tensor/op name too long");
    memcpy(dst, src, n + 1);
}

void ir_init(Graph *g) { memset(g, 0, sizeof *g); }

int ir_begin_entry(Graph *g, const char *name, int mode, int64_t max_seq) {
    if (g->n_entries) ir_end_entry(g);
    assert(g->n_entries < TTC_MAX_ENTRIES && strlen(name) < sizeof g->entries[0].name);
    TtcEntry *e = &g->entries[g->n_entries];
    memset(e, 0, sizeof *e);
    strcpy(e->name, name);
    e->mode = mode;
    e->first_op = g->n_ops;
    e->max_seq = max_seq;
    g->cur_entry = g->n_entries;
    return g->n_entries++;
}

void ir_end_entry(Graph *g) {
    if (g->n_entries) g->entries[g->cur_entry].n_ops = g->n_ops - g->entries[g->cur_entry].first_op;
}

int ir_entry_of_op(const Graph *g, int op) { return g->ops[op].entry; }

void ir_free(Graph *g) {
    free(g->vals);
    free(g->ops);
    memset(g, 0, sizeof *g);
}

static int add_value(Graph *g, const char *name, TtcTensorKind kind) {
    g->vals = grow(g->vals, &g->cap_vals, g->n_vals + 1, sizeof *g->vals);
    IrValue *v = &g->vals[g->n_vals];
    memset(v, 0, sizeof *v);
    copy_name(v->d.name, name);
    v->d.kind = kind;
    v->d.dtype = TTC_F32;
    v->producer = -1;
    v->first_use = v->last_use = -1;
    v->d.entry = (kind == TTC_TENSOR_WEIGHT || kind == TTC_TENSOR_STATE) ? -1 : g->cur_entry;
    v->d.alias = -1;
    return g->n_vals++;
}

/* Passes that rewrite a graph add activations outside the builders' current entry. A name that
 * does not fit is refused (-1) rather than asserted: passes derive names from op paths. */
int ir_add_act(Graph *g, const char *name, int entry) {
    if (strlen(name) >= TTC_NAME_MAX) return -1;
    int v = add_value(g, name, TTC_TENSOR_ACT);
    g->vals[v].d.entry = entry;
    return v;
}

int ir_add_input(Graph *g, const char *name, TtcRole role, TtcDType dtype, TtcShape shape) {
    int id = add_value(g, name, TTC_TENSOR_INPUT);
    g->vals[id].d.role = role;
    g->vals[id].d.dtype = dtype;
    g->vals[id].d.shape = shape;
    return id;
}

int ir_add_weight(Graph *g, const char *name, TtcShape shape, TtcWeightInit init) {
    int id = add_value(g, name, TTC_TENSOR_WEIGHT);
    g->vals[id].d.shape = shape;
    g->vals[id].d.init = init;
    return id;
}

int ir_add_state(Graph *g, const char *name, TtcShape shape) {
    int id = add_value(g, name, TTC_TENSOR_STATE);
    g->vals[id].d.shape = shape;
    return id;
}

int ir_add_op(Graph *g, TtcOpKind kind, const char *path, const char *module_type, const int *in, int n_in,
              TtcAttrs attrs) {
    assert(n_in >= 0 && n_in <= TTC_MAX_OP_INPUTS);
    int out = add_value(g, path, TTC_TENSOR_ACT);
    g->ops = grow(g->ops, &g->cap_ops, g->n_ops + 1, sizeof *g->ops);
    IrOp *op = &g->ops[g->n_ops];
    memset(op, 0, sizeof *op);
    op->d.kind = kind;
    copy_name(op->d.path, path);
    assert(strlen(module_type) < sizeof op->module_type);
    strcpy(op->module_type, module_type);
    op->d.n_in = n_in;
    for (int i = 0; i < n_in; i++) op->d.in[i] = in[i];
    op->d.out = out;
    op->d.attrs = attrs;
    op->entry = g->cur_entry;
    g->vals[out].producer = g->n_ops;
    return g->n_ops++;
}

void ir_mark_output(Graph *g, int value, TtcRole role) { g->vals[value].d.role = role; }

TtcDim ir_dim(int64_t size) { return (TtcDim){TTC_SYM_NONE, size}; }
TtcDim ir_sym(TtcSym sym, int64_t bound) { return (TtcDim){sym, bound}; }

TtcShape ir_shape(int rank, ...) {
    TtcShape s;
    memset(&s, 0, sizeof s);
    assert(rank >= 0 && rank <= TTC_MAX_RANK);
    s.rank = rank;
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) s.d[i] = va_arg(ap, TtcDim);
    va_end(ap);
    return s;
}

int ir_shape_equal(const TtcShape *a, const TtcShape *b) {
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i].sym != b->d[i].sym || a->d[i].size != b->d[i].size) return 0;
    return 1;
}

static const char *const kind_names[] = {"input", "weight", "act", "state"};
static const char *const fidelity_names[] = {"LoFi", "HiFi2", "HiFi3", "HiFi4"};

static void dump_value_ref(const Graph *g, int id, FILE *out) {
    const IrValue *v = &g->vals[id];
    if (v->d.kind == TTC_TENSOR_WEIGHT || v->d.kind == TTC_TENSOR_STATE)
        fprintf(out, "@%s", v->d.name);
    else
        fprintf(out, "%%%d", id);
}

static void dump_shared(const Graph *g, FILE *out) {
    char sh[96];
    for (int i = 0; i < g->n_vals; i++) {
        const IrValue *v = &g->vals[i];
        if (v->d.kind != TTC_TENSOR_WEIGHT && v->d.kind != TTC_TENSOR_STATE) continue;
        fprintf(out, "  %s ", kind_names[v->d.kind]);
        dump_value_ref(g, i, out);
        fprintf(out, " : %s%s\n", ttc_dtype_name(v->d.dtype), ttc_shape_str(&v->d.shape, sh, sizeof sh));
    }
}

char *ir_placement_str(const IrPlacement *p, char *buf, size_t cap) {
    static const char *const kinds[] = {[HW_SHARD_HEIGHT] = "height", [HW_SHARD_WIDTH] = "width",
                                        [HW_SHARD_BLOCK] = "block"};
    if (p->memory != TTC_MEM_L1)
        snprintf(buf, cap, "dram");
    else if (p->sharding >= HW_SHARD_HEIGHT && p->sharding <= HW_SHARD_BLOCK)
        snprintf(buf, cap, "l1:%s[%dx%d]", kinds[p->sharding], p->grid_y, p->grid_x);
    else
        snprintf(buf, cap, "l1");
    return buf;
}

static void dump_op(const Graph *g, const IrOp *op, FILE *out) {
    char sh[96], pl[48];
    const IrValue *o = &g->vals[op->d.out];
    fprintf(out, "  %%%d = %s(", op->d.out, ttc_op_name(op->d.kind));
    for (int i = 0; i < op->d.n_in; i++) {
        if (i) fputs(", ", out);
        dump_value_ref(g, op->d.in[i], out);
    }
    fprintf(out, ") : %s%s", ttc_dtype_name(o->d.dtype),
            o->d.shape.rank ? ttc_shape_str(&o->d.shape, sh, sizeof sh) : "[?]");
    if (o->place.set) fprintf(out, " %s%s", ir_placement_str(&o->place, pl, sizeof pl), o->place.pinned ? "!" : "");
    fprintf(out, "  # %s [%s]", op->d.path, op->module_type);
    const TtcAttrs *a = &op->d.attrs;
    if (a->eps != 0) fprintf(out, " eps=%g", (double)a->eps);
    if (a->heads) fprintf(out, " heads=%d", a->heads);
    if (a->kv_heads) fprintf(out, " kv_heads=%d", a->kv_heads);
    if (a->head_dim) fprintf(out, " head_dim=%d", a->head_dim);
    if (a->scale != 0) fprintf(out, " scale=%g", (double)a->scale);
    if (a->rope_theta != 0) fprintf(out, " theta=%g%s", (double)a->rope_theta, a->rope_scaling ? " llama3" : "");
    if (a->causal) fputs(" causal", out);
    if (a->window) fprintf(out, " window=%d", a->window);
    if (a->has_mask) fputs(" masked", out);
    if (a->chips > 1) fprintf(out, " chips=%d", a->chips);
    static const char *const epilogues[TTC_EPILOGUE_COUNT] = {
        [TTC_EPILOGUE_GELU] = "gelu", [TTC_EPILOGUE_GELU_TANH] = "gelu_tanh", [TTC_EPILOGUE_SILU] = "silu",
        [TTC_EPILOGUE_RELU] = "relu", [TTC_EPILOGUE_TANH] = "tanh",       [TTC_EPILOGUE_ROPE_QK] = "rope_qk"};
    if (a->epilogue > 0 && a->epilogue < TTC_EPILOGUE_COUNT) fprintf(out, " epilogue=%s", epilogues[a->epilogue]);
    if (o->d.role) fprintf(out, " role=%s", ttc_role_name(o->d.role));
    if (o->d.alias >= 0) fprintf(out, " view-of=@%s", g->vals[o->d.alias].d.name);
    const TtcOpConfig *c = &op->d.cfg;
    fprintf(out, " {act=%s w=%s %s%s}", ttc_dtype_name(c->act_dtype), ttc_dtype_name(c->weight_dtype),
            fidelity_names[c->fidelity & 3], c->fp32_acc ? " fp32acc" : "");
    if (g->arena_bytes && o->d.alias < 0) fprintf(out, " @arena+%lld", (long long)o->d.offset);
    fputc('\n', out);
}

/* Shared weights and state first, then per entry point its inputs and one line per op:
 *   %12 = linear(%11, @encoder.layer.0.attention.self.query.weight, ...) : fp32[B,S,32]  # layer_0.attention.q
 * with the op's resolved config and, once planned, its arena offset. Stable across runs. */
void ir_dump_text(const Graph *g, int mode, FILE *out) {
    char sh[96];
    fprintf(out, "graph %s (%s) device=%s batch<=%lld seq<=%lld ctx<=%lld\n", g->model_name,
            g->model_type == 0 ? "encoder" : "decoder", g->device, (long long)g->max_batch, (long long)g->max_seq,
            (long long)g->max_ctx);
    dump_shared(g, out);
    for (int e = 0; e < g->n_entries; e++) {
        const TtcEntry *en = &g->entries[e];
        if (mode >= 0 && en->mode != mode) continue;
        fprintf(out, "entry %s (seq<=%lld)", en->name, (long long)en->max_seq);
        if (en->arena_bytes) fprintf(out, " arena %lld bytes", (long long)en->arena_bytes);
        fputc('\n', out);
        for (int i = 0; i < g->n_vals; i++) {
            const IrValue *v = &g->vals[i];
            if (v->d.kind != TTC_TENSOR_INPUT || v->d.entry != e) continue;
            fprintf(out, "  input %%%d : %s%s role=%s", i, ttc_dtype_name(v->d.dtype),
                    ttc_shape_str(&v->d.shape, sh, sizeof sh), ttc_role_name(v->d.role));
            if (g->arena_bytes) fprintf(out, " @arena+%lld", (long long)v->d.offset);
            fputc('\n', out);
        }
        for (int k = en->first_op; k < en->first_op + en->n_ops; k++) dump_op(g, &g->ops[k], out);
    }
}
