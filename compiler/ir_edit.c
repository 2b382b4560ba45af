/* ir_edit.c: rewriting a graph in place: finding weights, use counts, and removing ops with the
 * values only they needed, so that a pass can replace a chain of ops by one and leave the graph
 * as if it had been built that way (every activation produced exactly once, nothing unread kept,
 * which the plan validator requires). */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

int ir_find_weight(const Graph *g, const char *name) {
    for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].d.kind == TTC_TENSOR_WEIGHT && strcmp(g->vals[v].d.name, name) == 0) return v;
    return -1;
}

int ir_count_uses(const Graph *g, int v, const unsigned char *dead) {
    int n = 0;
    for (int k = 0; k < g->n_ops; k++) {
        if (dead && dead[k]) continue;
        for (int i = 0; i < g->ops[k].d.n_in; i++) n += g->ops[k].d.in[i] == v;
    }
    return n;
}

int ir_remove_ops(Graph *g, const unsigned char *dead) {
    int *op_map = malloc(((size_t)g->n_ops + 1) * sizeof *op_map);
    int *val_map = malloc(((size_t)g->n_vals + 1) * sizeof *val_map);
    unsigned char *read = calloc((size_t)g->n_vals + 1, 1);
    if (!op_map || !val_map || !read) {
        free(op_map);
        free(val_map);
        free(read);
        return -1;
    }
    int n_ops = 0;
    for (int k = 0; k < g->n_ops; k++) {
        op_map[k] = dead[k] ? -1 : n_ops++;
        if (dead[k]) continue;
        for (int i = 0; i < g->ops[k].d.n_in; i++) read[g->ops[k].d.in[i]] = 1;
    }
    int n_vals = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const IrValue *val = &g->vals[v];
        int keep = 1;
        if (val->d.kind == TTC_TENSOR_ACT)
            keep = val->producer >= 0 && val->producer < g->n_ops && !dead[val->producer] &&
                   g->ops[val->producer].d.out == v;
        else if (val->d.kind == TTC_TENSOR_WEIGHT)
            keep = read[v];
        val_map[v] = keep ? n_vals++ : -1;
    }
    /* Entry ranges: each entry keeps its live ops, in order. */
    for (int e = 0; e < g->n_entries; e++) {
        TtcEntry *en = &g->entries[e];
        int first = -1, n = 0;
        for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
            if (op_map[k] < 0) continue;
            if (first < 0) first = op_map[k];
            n++;
        }
        en->first_op = first < 0 ? n_ops : first;
        en->n_ops = n;
    }
    for (int k = 0; k < g->n_ops; k++) {
        if (op_map[k] < 0) continue;
        IrOp *op = &g->ops[op_map[k]];
        *op = g->ops[k]; /* op_map[k] <= k: moving down never overwrites an op still to be moved */
        for (int i = 0; i < op->d.n_in; i++) op->d.in[i] = val_map[op->d.in[i]];
        op->d.out = val_map[op->d.out];
    }
    for (int v = 0; v < g->n_vals; v++) {
        if (val_map[v] < 0) continue;
        IrValue *val = &g->vals[val_map[v]];
        *val = g->vals[v];
        if (val->producer >= 0) val->producer = op_map[val->producer];
        if (val->d.alias >= 0) val->d.alias = val_map[val->d.alias];
    }
    g->n_ops = n_ops;
    g->n_vals = n_vals;
    free(op_map);
    free(val_map);
    free(read);
    return 0;
}
