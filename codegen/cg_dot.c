/* cg_dot.c: Graphviz DOT for `ttc dump-graph -o g.dot`. */
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

void cg_dot_write(const Graph *g, int mode, FILE *out) {
    char sh[96];
    int entry = 0;
    for (int e = 0; e < g->n_entries; e++)
        if (g->entries[e].mode == mode) entry = e;
    int first = g->n_entries ? g->entries[entry].first_op : 0;
    int end = g->n_entries ? first + g->entries[entry].n_ops : g->n_ops;
    fprintf(out, "digraph \"%s\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n", g->model_name);
    fprintf(out, "  edge [fontname=\"Helvetica\", fontsize=8];\n");
    fprintf(out, "  label=\"%s (%s) batch<=%lld seq<=%lld\";\n", g->model_name, g->n_entries ? g->entries[entry].name : "prefill",
            (long long)g->max_batch, (long long)g->max_seq);
    for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].d.kind == TTC_TENSOR_INPUT && g->vals[v].d.entry == entry) node_for_value(g, v, out);
    /* Ops of one module are consecutive (lowering emits a module at a time), so clusters are
     * opened and closed as the module prefix changes; a two-level path (layer_3.attention)
     * nests inside its layer's cluster. */
    char open_layer[TTC_NAME_MAX] = "", open_module[TTC_NAME_MAX] = "";
    int cluster = 0;
    for (int k = first; k < end; k++) {
        const IrOp *op = &g->ops[k];
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
                fprintf(out, "  subgraph cluster_%d {\n  label=\"%s\"; style=rounded; color=\"#888888\";\n", cluster++,
                        layer);
                strcpy(open_layer, layer);
            }
            if (strcmp(module, layer) != 0)
                fprintf(out, "  subgraph cluster_%d {\n  label=\"%s\"; style=dashed;\n", cluster++, module + ll + 1);
            strcpy(open_module, module);
        }
        const IrValue *o = &g->vals[op->d.out];
        fprintf(out, "  v%d [shape=box, label=\"%s\\n%s\\n%s%s\"%s];\n", op->d.out, ttc_op_name(op->d.kind),
                op->d.path + (ml ? ml + 1 : 0), ttc_dtype_name(o->d.dtype), ttc_shape_str(&o->d.shape, sh, sizeof sh),
                o->d.role >= TTC_ROLE_HIDDEN ? ", peripheries=2" : "");
    }
    if (open_module[0] && strcmp(open_module, open_layer) != 0) fputs("  }\n", out);
    if (open_layer[0]) fputs("  }\n", out);
    for (int k = first; k < end; k++) {
        const IrOp *op = &g->ops[k];
        for (int i = 0; i < op->d.n_in; i++) {
            int v = op->d.in[i];
            /* weights would drown the picture; the cache is drawn through its views */
            if (g->vals[v].d.kind == TTC_TENSOR_WEIGHT || g->vals[v].d.kind == TTC_TENSOR_STATE) continue;
            fprintf(out, "  v%d -> v%d [label=\"%s\"];\n", v, op->d.out, ttc_shape_str(&g->vals[v].d.shape, sh, sizeof sh));
        }
    }
    fputs("}\n", out);
}
