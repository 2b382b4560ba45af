/* ir_edit.c: rewriting a graph in place: finding weights (by a scan, or a hash index), use counts
 * (by a scan, or kept up to date), and removing ops with the
 * values only they needed, so that a pass can replace a chain of ops by one and leave the graph
 * as if it had been built that way (every activation produced exactly once, nothing unread kept,
 * which the plan validator requires). */
#include <stdint.h>
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

int ir_uses_init(IrUses *u, const Graph *g, const unsigned char *dead) {
    u->cap = g->n_vals + 1;
    u->n = calloc((size_t)u->cap, sizeof *u->n);
    if (!u->n) {
        u->cap = 0;
        return -1;
    }
    for (int k = 0; k < g->n_ops; k++)
        if (!dead || !dead[k]) ir_uses_count_op(u, &g->ops[k], +1); /* cannot grow: inputs < n_vals */
    return 0;
}

static int uses_reserve(IrUses *u, int v) {
    if (v < u->cap) return 0;
    int cap = u->cap ? u->cap : 64;
    while (cap <= v) cap *= 2;
    int *n = realloc(u->n, (size_t)cap * sizeof *n);
    if (!n) return -1;
    memset(n + u->cap, 0, (size_t)(cap - u->cap) * sizeof *n);
    u->n = n;
    u->cap = cap;
    return 0;
}

int ir_uses_count_op(IrUses *u, const IrOp *op, int sign) {
    for (int i = 0; i < op->d.n_in; i++) {
        if (uses_reserve(u, op->d.in[i]) != 0) return -1;
        u->n[op->d.in[i]] += sign;
    }
    return 0;
}

int ir_uses_of(const IrUses *u, int v) { return v >= 0 && v < u->cap ? u->n[v] : 0; }

void ir_uses_free(IrUses *u) {
    free(u->n);
    u->n = NULL;
    u->cap = 0;
}

/* FNV-1a, then a final mix: FNV's low bits (the slot, under the mask) carry little of the
 * high bits, and names that differ only in a layer number then cluster under linear probing. */
static unsigned name_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* The slot holding `name`, or the empty slot where it would go. */
static int weight_slot(const IrWeightIndex *x, const Graph *g, const char *name) {
    unsigned mask = (unsigned)x->cap - 1, i = name_hash(name) & mask;
    while (x->slot[i] && strcmp(g->vals[x->slot[i] - 1].d.name, name) != 0) i = (i + 1) & mask;
    return (int)i;
}

static int weight_index_grow(IrWeightIndex *x, const Graph *g) {
    IrWeightIndex bigger = {calloc((size_t)x->cap * 2, sizeof *x->slot), x->cap * 2, 0};
    if (!bigger.slot) return -1;
    for (int i = 0; i < x->cap; i++) {
        if (!x->slot[i]) continue;
        bigger.slot[weight_slot(&bigger, g, g->vals[x->slot[i] - 1].d.name)] = x->slot[i];
        bigger.n++;
    }
    free(x->slot);
    *x = bigger;
    return 0;
}

int ir_weight_index_add(IrWeightIndex *x, const Graph *g, int v) {
    if (2 * (x->n + 1) > x->cap && weight_index_grow(x, g) != 0) return -1; /* at most half full */
    int i = weight_slot(x, g, g->vals[v].d.name);
    if (x->slot[i]) return 0; /* the first weight of a name wins, as in ir_find_weight */
    x->slot[i] = v + 1;
    x->n++;
    return 0;
}

int ir_weight_index_init(IrWeightIndex *x, const Graph *g) {
    *x = (IrWeightIndex){calloc(64, sizeof *x->slot), 64, 0};
    if (!x->slot) return -1;
    for (int v = 0; v < g->n_vals; v++) {
        if (g->vals[v].d.kind != TTC_TENSOR_WEIGHT) continue;
        if (ir_weight_index_add(x, g, v) != 0) {
            ir_weight_index_free(x);
            return -1;
        }
    }
    return 0;
}

int ir_weight_index_find(const IrWeightIndex *x, const Graph *g, const char *name) {
    if (!x->cap) return -1;
    int i = weight_slot(x, g, name);
    return x->slot[i] ? x->slot[i] - 1 : -1;
}

void ir_weight_index_free(IrWeightIndex *x) {
    free(x->slot);
    *x = (IrWeightIndex){NULL, 0, 0};
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
