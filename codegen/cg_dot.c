/* cg_dot.c: Graphviz DOT for `ttc dump-graph -o g.dot`.
 *
 * Modules are clusters. Per-chip ops (tensor parallelism) say on how many chips they run, and
 * collectives stand out (orange hexagons). With --collapse, a 32-layer model stays readable:
 * layer_0 is drawn in full as the representative, and every later layer_N whose ops have the
 * same kinds in the same order becomes part of one node "layer_1..layer_31 (31 more, same
 * structure)"; edges into and out of the collapsed layers attach to that node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"

/* The module of an op path is everything before the last dot: layer_3.attention.q -> layer_3.attention. */
static size_t module_len(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? (size_t)(dot - path) : 0;
}

static void node_for_value(const Graph *g, int v, FILE *out) {
    char sh[96];
    const IrValue *val = &g->vals[v];
    fprintf(out, "  v%d [shape=ellipse, style=filled, fillcolor=\"#e8f0fe\", label=\"%s\\n%s%s\"];\n", v, val->d.name,
            ttc_dtype_name(val->d.dtype), ttc_shape_str(&val->d.shape, sh, sizeof sh));
}

/* The layer index of a path "layer_N..." (top-level id), or -1. */
static int layer_index(const char *path) {
    int n = -1, len = 0;
    if (sscanf(path, "layer_%d%n", &n, &len) != 1 || (path[len] && path[len] != '.')) return -1;
    return n;
}

/* Whether layer `n`'s ops in [first, end) have the same kinds, in order, as layer_0's. */
static int same_as_layer0(const Graph *g, int first, int end, int n) {
    int i = first, j = first;
    for (;;) {
        while (i < end && layer_index(g->ops[i].d.path) != 0) i++;
        while (j < end && layer_index(g->ops[j].d.path) != n) j++;
        if (i == end || j == end) return i == end && j == end;
        if (g->ops[i].d.kind != g->ops[j].d.kind) return 0;
        i++;
        j++;
    }
}

#define COLLAPSED_NODE "collapsed_layers"

typedef struct DotCollapse {
    char *hidden;     /* per value: produced by a collapsed layer */
    int lo, hi, n;    /* collapsed layer range and count */
} DotCollapse;

static void find_collapsed(const Graph *g, int first, int end, DotCollapse *c) {
    memset(c, 0, sizeof *c);
    c->hidden = calloc((size_t)g->n_vals + 1, 1);
    if (!c->hidden) return;
    int max = -1;
    for (int k = first; k < end; k++)
        if (layer_index(g->ops[k].d.path) > max) max = layer_index(g->ops[k].d.path);
    char *same = calloc((size_t)max + 2, 1);
    if (!same) return;
    c->lo = -1;
    for (int n = 1; n <= max; n++)
        if ((same[n] = (char)same_as_layer0(g, first, end, n))) {
            if (c->lo < 0) c->lo = n;
            c->hi = n;
            c->n++;
        }
    for (int k = first; k < end; k++) {
        int n = layer_index(g->ops[k].d.path);
        if (n > 0 && same[n]) c->hidden[g->ops[k].d.out] = 1;
    }
    free(same);
}

static void op_node(const Graph *g, const IrOp *op, size_t ml, FILE *out) {
    char sh[96];
    const IrValue *o = &g->vals[op->d.out];
    int collective = op->d.kind == TTC_OP_ALL_REDUCE || op->d.kind == TTC_OP_ALL_GATHER;
    char chips[48] = "";
    if (collective)
        snprintf(chips, sizeof chips, "\\nover %d chips", op->d.attrs.chips);
    else if (op->d.attrs.chips > 1)
        snprintf(chips, sizeof chips, "\\nx%d chips", op->d.attrs.chips);
    fprintf(out, "  v%d [shape=%s, label=\"%s\\n%s\\n%s%s%s\"%s%s];\n", op->d.out, collective ? "hexagon" : "box",
            ttc_op_name(op->d.kind), op->d.path + (ml ? ml + 1 : 0), ttc_dtype_name(o->d.dtype),
            ttc_shape_str(&o->d.shape, sh, sizeof sh), chips, o->d.role >= TTC_ROLE_HIDDEN ? ", peripheries=2" : "",
            collective ? ", style=filled, fillcolor=\"#fbbc04\"" : "");
}

/* An edge once: collapsed layers funnel many edges into the same pair of nodes. */
static void edge(char *seen_pairs, int n_vals, int from, int to, const char *label, FILE *out) {
    if (from < 0 || to < 0) { /* the collapsed node */
        int a = from < 0 ? n_vals : from, b = to < 0 ? n_vals : to;
        if (seen_pairs && (a == n_vals || b == n_vals)) {
            int idx = a == n_vals ? b : a;
            char bit = a == n_vals ? 1 : 2;
            if (seen_pairs[idx] & bit) return;
            seen_pairs[idx] |= bit;
        }
    }
    char f[32], t[32];
    snprintf(f, sizeof f, from < 0 ? COLLAPSED_NODE : "v%d", from);
    snprintf(t, sizeof t, to < 0 ? COLLAPSED_NODE : "v%d", to);
    fprintf(out, "  %s -> %s [label=\"%s\"];\n", f, t, label);
}

void cg_dot_write(const Graph *g, int mode, FILE *out) { cg_dot_write_ex(g, mode, 0, out); }

void cg_dot_write_ex(const Graph *g, int mode, int collapse, FILE *out) {
    char sh[96];
    int entry = 0;
    for (int e = 0; e < g->n_entries; e++)
        if (g->entries[e].mode == mode) entry = e;
    int first = g->n_entries ? g->entries[entry].first_op : 0;
    int end = g->n_entries ? first + g->entries[entry].n_ops : g->n_ops;
    DotCollapse C = {0};
    if (collapse) find_collapsed(g, first, end, &C);
    char *seen = C.n ? calloc((size_t)g->n_vals + 1, 1) : NULL;
    fprintf(out, "digraph \"%s\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n", g->model_name);
    fprintf(out, "  edge [fontname=\"Helvetica\", fontsize=8];\n");
    fprintf(out, "  label=\"%s (%s) batch<=%lld seq<=%lld", g->model_name, g->n_entries ? g->entries[entry].name : "prefill",
            (long long)g->max_batch, (long long)g->max_seq);
    if (g->mesh_rows * g->mesh_cols > 1) fprintf(out, " on a %dx%d mesh", g->mesh_rows, g->mesh_cols);
    fputs("\";\n", out);
    for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].d.kind == TTC_TENSOR_INPUT && g->vals[v].d.entry == entry) node_for_value(g, v, out);
    /* Ops of one module are consecutive (lowering emits a module at a time), so clusters are
     * opened and closed as the module prefix changes; a two-level path (layer_3.attention)
     * nests inside its layer's cluster. */
    char open_layer[TTC_NAME_MAX] = "", open_module[TTC_NAME_MAX] = "";
    int cluster = 0, collapsed_drawn = 0;
    for (int k = first; k < end; k++) {
        const IrOp *op = &g->ops[k];
        if (C.hidden && C.hidden[op->d.out]) continue;
        char module[TTC_NAME_MAX], layer[TTC_NAME_MAX];
        size_t ml = module_len(op->d.path);
        memcpy(module, op->d.path, ml);
        module[ml] = 0;
        const char *dot = strchr(module, '.');
        size_t ll = dot ? (size_t)(dot - module) : ml;
        memcpy(layer, module, ll);
        layer[ll] = 0;
        if (strcmp(module, open_module) != 0) {
            if (open_module[0] && strcmp(open_module, open_layer) != 0) fputs("  }\n", out);
            if (strcmp(layer, open_layer) != 0) {
                if (open_layer[0]) fputs("  }\n", out);
                /* the collapsed layers come right after the representative */
                if (C.n && !collapsed_drawn && layer_index(open_layer) == 0) {
                    fprintf(out, "  %s [shape=box3d, style=filled, fillcolor=\"#eeeeee\", label=\"layer_%d..layer_%d "
                            "(%d more, same structure)\"];\n", COLLAPSED_NODE, C.lo, C.hi, C.n);
                    collapsed_drawn = 1;
                }
                /* top-level ops without a module (final_norm, lm_head) stand outside any cluster */
                if (layer[0])
                    fprintf(out, "  subgraph cluster_%d {\n  label=\"%s%s\"; style=rounded; color=\"#888888\";\n",
                            cluster++, layer, C.n && layer_index(layer) == 0 ? " (representative)" : "");
                strcpy(open_layer, layer);
            }
            if (strcmp(module, layer) != 0)
                fprintf(out, "  subgraph cluster_%d {\n  label=\"%s\"; style=dashed;\n", cluster++, module + ll + 1);
            strcpy(open_module, module);
        }
        op_node(g, op, ml, out);
    }
    if (open_module[0] && strcmp(open_module, open_layer) != 0) fputs("  }\n", out);
    if (open_layer[0]) fputs("  }\n", out);
    if (C.n && !collapsed_drawn)
        fprintf(out, "  %s [shape=box3d, label=\"layer_%d..layer_%d (%d more, same structure)\"];\n", COLLAPSED_NODE, C.lo,
                C.hi, C.n);
    for (int k = first; k < end; k++) {
        const IrOp *op = &g->ops[k];
        for (int i = 0; i < op->d.n_in; i++) {
            int v = op->d.in[i];
            /* weights would drown the picture; the cache is drawn through its views */
            if (g->vals[v].d.kind == TTC_TENSOR_WEIGHT || g->vals[v].d.kind == TTC_TENSOR_STATE) continue;
            int from = C.hidden && C.hidden[v] ? -1 : v, to = C.hidden && C.hidden[op->d.out] ? -1 : op->d.out;
            if (from < 0 && to < 0) continue; /* inside the collapsed layers */
            edge(seen, g->n_vals, from, to, ttc_shape_str(&g->vals[v].d.shape, sh, sizeof sh), out);
        }
    }
    fputs("}\n", out);
    free(seen);
    free(C.hidden);
}
