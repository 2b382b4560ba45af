/* precision.c: the `precision` pass. Resolves every op's hardware configuration from the
 * overlays (module type, path, mode) and sets the formats values are held in: an op's output
 * takes its activation format, a matmul's weights its weight format, other weights (embedding
 * tables, norm parameters) the activation format, as they are stored next to activations. */
#include <stdlib.h>
#include <string.h>

#include "pass.h"

int pass_precision(Graph *g, PassCtx *cx) {
    if (!cx->hw) return 0; /* graphs built by tests without a config keep fp32 */
    const char **paths = calloc((size_t)g->n_ops + 1, sizeof *paths);
    const char **types = calloc((size_t)g->n_ops + 1, sizeof *types);
    if (!paths || !types) {
        free(paths);
        free(types);
        DiagLoc none = {0};
        diag_error(cx->diags, none, "out of memory");
        return -1;
    }
    for (int k = 0; k < g->n_ops; k++) {
        IrOp *op = &g->ops[k];
        HwResolved r;
        hw_resolve(cx->hw, op->d.path, op->module_type, g->n_entries ? g->entries[op->entry].mode : 0, &r);
        hw_resolved_to_op_config(&r, &op->d.cfg);
        g->vals[op->d.out].d.dtype = op->d.cfg.act_dtype;
        /* The KV cache holds activations in their format, unless an overlay gives kv_cache.dtype
         * (the built-in default is not read: a fp32 reference plan keeps a fp32 cache). The
         * update op carries the format in its weight_dtype (it has no weights) for the runtime,
         * which rounds the rows it writes; its output is the view of the cache. */
        int kv_format = strncmp(r.prov[HW_F_kv_dtype].origin ? r.prov[HW_F_kv_dtype].origin : "", "built-in", 8) == 0
                            ? op->d.cfg.act_dtype
                            : r.v[HW_F_kv_dtype];
        if (op->d.kind == TTC_OP_KV_UPDATE) {
            op->d.cfg.weight_dtype = (uint8_t)kv_format;
            g->vals[op->d.out].d.dtype = kv_format;
        }
        for (int i = 0; i < op->d.n_in; i++) {
            IrValue *w = &g->vals[op->d.in[i]];
            if (w->d.kind == TTC_TENSOR_STATE) w->d.dtype = kv_format;
            if (w->d.kind != TTC_TENSOR_WEIGHT) continue;
            w->d.dtype = op->d.kind == TTC_OP_LINEAR ? op->d.cfg.weight_dtype : op->d.cfg.act_dtype;
        }
        paths[k] = op->d.path;
        types[k] = op->module_type;
    }
    int rc = hw_check_unused(cx->hw, paths, types, g->n_ops, cx->diags);
    free(paths);
    free(types);
    return rc == 0 ? 0 : -1;
}
