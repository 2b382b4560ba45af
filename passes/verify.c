/* verify.c: the `verify` pass. Checks the invariants every other pass relies on, so that a pass
 * that breaks one is named at once (the pipeline runs it after every pass in tests). */
#include <stdarg.h>
#include <stdio.h>

#include "pass.h"

static int bad(Diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(Diags *d, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    DiagLoc none = {0};
    diag_error(d, none, "internal: IR verification failed: %s", msg);
    return 1;
}

static int shape_ok(const TtcShape *s) {
    if (s->rank < 1 || s->rank > TTC_MAX_RANK) return 0;
    for (int i = 0; i < s->rank; i++)
        if (s->d[i].size <= 0 || s->d[i].sym < 0 || s->d[i].sym >= TTC_SYM_COUNT) return 0;
    return 1;
}

int pass_verify(Graph *g, PassCtx *cx) {
    Diags *d = cx->diags;
    int errors = 0, outputs = 0;
    for (int k = 0; k < g->n_ops; k++) {
        const IrOp *op = &g->ops[k];
        const TtcOpDesc *o = &op->d;
        if (o->kind < 0 || o->kind >= TTC_OP_COUNT) {
            errors += bad(d, "op %d has unknown kind %d", k, o->kind);
            continue;
        }
        if (o->n_in < ttc_op_min_inputs(o->kind) || o->n_in > ttc_op_max_inputs(o->kind))
            errors += bad(d, "op '%s' (%s) has %d inputs, expects %d..%d", o->path, ttc_op_name(o->kind), o->n_in,
                          ttc_op_min_inputs(o->kind), ttc_op_max_inputs(o->kind));
        for (int i = 0; i < o->n_in; i++) {
            int v = o->in[i];
            if (v < 0 || v >= g->n_vals) {
                errors += bad(d, "op '%s' input %d refers to value %d of %d", o->path, i, v, g->n_vals);
                continue;
            }
            /* SSA in execution order: an activation must be produced before it is read. */
            if (g->vals[v].d.kind == TTC_TENSOR_ACT && g->vals[v].producer >= k)
                errors += bad(d, "op '%s' reads %%%d before it is produced", o->path, v);
            /* Entry points run separately: an op sees its own entry's values and shared ones. */
            if (g->vals[v].d.entry != -1 && g->vals[v].d.entry != op->entry)
                errors += bad(d, "op '%s' of entry %d reads %%%d of entry %d", o->path, op->entry, v,
                              g->vals[v].d.entry);
        }
        if (o->out < 0 || o->out >= g->n_vals || g->vals[o->out].producer != k ||
            g->vals[o->out].d.kind != TTC_TENSOR_ACT)
            errors += bad(d, "op '%s' output %%%d is not an activation produced by it", o->path, o->out);
    }
    for (int v = 0; v < g->n_vals; v++) {
        const IrValue *val = &g->vals[v];
        if (val->d.kind == TTC_TENSOR_ACT && (val->producer < 0 || val->producer >= g->n_ops))
            errors += bad(d, "activation %%%d ('%s') has no producer", v, val->d.name);
        if (val->d.kind != TTC_TENSOR_ACT && val->producer != -1)
            errors += bad(d, "%s '%s' is produced by an op", val->d.kind == TTC_TENSOR_INPUT ? "input" : "weight/state",
                          val->d.name);
        /* Shapes exist once shape-infer has run; before it only inputs and weights have them. */
        if ((val->d.kind != TTC_TENSOR_ACT || val->d.shape.rank) && !shape_ok(&val->d.shape))
            errors += bad(d, "value %%%d ('%s') has an invalid shape", v, val->d.name);
        if (val->d.kind == TTC_TENSOR_ACT && val->d.role >= TTC_ROLE_HIDDEN) outputs++;
    }
    if (!outputs) errors += bad(d, "the graph has no output");
    return errors ? -1 : 0;
}
