/* specialize.c: the `specialize` pass: prefill/decode specialization.
 *
 * Lowering builds one entry point, prefill, whose step-token dim S is bounded by --seq. A
 * decoder also needs decode: the same computation for one new token per sequence, reading and
 * extending the KV cache that prefill filled. This pass clones prefill's inputs, ops and
 * activations into a decode entry point whose S is bounded by 1. Weights and the cache state are
 * shared, not cloned; views of the cache (kv_update outputs) are cloned and still alias it. Each
 * entry then gets its own configuration (modes.decode in overlays) and memory plan from the
 * passes that follow. Encoders have nothing to specialize. */
#include <stdlib.h>
#include <string.h>

#include "pass.h"

/* The prefill value's clone for decode: same descriptor, S bounded by 1, entry 1. */
static int clone_value(Graph *g, int v) {
    IrValue src = g->vals[v];
    int id;
    if (src.d.kind == TTC_TENSOR_INPUT)
        id = ir_add_input(g, src.d.name, (TtcRole)src.d.role, (TtcDType)src.d.dtype, src.d.shape);
    else
        return -1; /* activations are cloned with their op */
    for (int i = 0; i < g->vals[id].d.shape.rank; i++)
        if (g->vals[id].d.shape.d[i].sym == TTC_SYM_SEQ) g->vals[id].d.shape.d[i].size = 1;
    return id;
}

int pass_specialize(Graph *g, PassCtx *cx) {
    if (g->model_type != TTC_MODEL_DECODER || g->n_entries != 1) return 0;
    int n_vals = g->n_vals, n_ops = g->n_ops;
    int *map = malloc((size_t)n_vals * sizeof *map);
    if (!map) {
        DiagLoc none = {0};
        diag_error(cx->diags, none, "out of memory");
        return -1;
    }
    ir_begin_entry(g, "decode", 1, 1);
    for (int v = 0; v < n_vals; v++) {
        const IrValue *val = &g->vals[v];
        map[v] = (val->d.kind == TTC_TENSOR_WEIGHT || val->d.kind == TTC_TENSOR_STATE) ? v
                 : val->d.entry == 0 && val->d.kind == TTC_TENSOR_INPUT ? clone_value(g, v)
                                                                        : -1;
    }
    for (int k = 0; k < n_ops; k++) {
        IrOp op = g->ops[k]; /* a copy: ir_add_op may move the array */
        int in[TTC_MAX_OP_INPUTS];
        for (int i = 0; i < op.d.n_in; i++) in[i] = map[op.d.in[i]];
        int nk = ir_add_op(g, (TtcOpKind)op.d.kind, op.d.path, op.module_type, in, op.d.n_in, op.d.attrs);
        int out = g->ops[nk].d.out;
        map[op.d.out] = out;
        g->vals[out].d.role = g->vals[op.d.out].d.role;
        g->vals[out].d.alias = g->vals[op.d.out].d.alias;
    }
    ir_end_entry(g);
    free(map);
    return 0;
}
