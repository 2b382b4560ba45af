/* cg_plan.c: Graph -> TtcPlan. The IR already holds plan descriptors, so this is a copy plus
 * the header fields; the plan format itself lives in runtime/plan_io.c. */
#include <stdlib.h>
#include <string.h>

#include "cg.h"

int cg_plan_from_graph(const Graph *g, TtcPlan *p, const char *producer) {
    memset(p, 0, sizeof *p);
    p->version = TTC_PLAN_VERSION;
    snprintf(p->model_name, sizeof p->model_name, "%s", g->model_name);
    p->model_type = g->model_type;
    snprintf(p->device, sizeof p->device, "%s", g->device);
    snprintf(p->producer, sizeof p->producer, "%s", producer ? producer : "");
    p->vocab_size = g->vocab_size;
    p->eos_token_id = g->eos_token_id;
    p->mesh_rows = g->mesh_rows > 0 ? g->mesh_rows : 1;
    p->mesh_cols = g->mesh_cols > 0 ? g->mesh_cols : 1;
    p->max_batch = g->max_batch;
    p->max_seq = g->max_seq;
    p->max_ctx = g->max_ctx;
    p->arena_bytes = g->arena_bytes;
    p->n_entries = g->n_entries;
    memcpy(p->entries, g->entries, sizeof p->entries);
    p->tensors = calloc((size_t)g->n_vals + 1, sizeof *p->tensors);
    p->ops = calloc((size_t)g->n_ops + 1, sizeof *p->ops);
    if (!p->tensors || !p->ops) {
        ttc_plan_free(p);
        return -1;
    }
    p->n_tensors = g->n_vals;
    p->n_ops = g->n_ops;
    for (int v = 0; v < g->n_vals; v++) {
        p->tensors[v] = g->vals[v].d;
        if (p->tensors[v].kind == TTC_TENSOR_WEIGHT || p->tensors[v].kind == TTC_TENSOR_STATE ||
            p->tensors[v].alias >= 0)
            p->tensors[v].offset = 0;
    }
    for (int k = 0; k < g->n_ops; k++) p->ops[k] = g->ops[k].d;
    return 0;
}
