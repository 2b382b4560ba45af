/* cg.h: code generators over a compiled Graph: the plan (for the runtime) and Graphviz DOT. */
#ifndef TTC_CG_H
#define TTC_CG_H

#include <stdio.h>
#include "ir.h"
#include "../runtime/plan.h"

/* Copies the graph into a plan (the graph must have been through memory-plan). 0 ok, -1 OOM. */
int cg_plan_from_graph(const Graph *g, TtcPlan *p, const char *producer);
/* DOT of the entry point with `mode` (prefill/decode): ops as nodes grouped in one cluster per
 * module (layer_3 > attention), edges labelled with shapes; inputs as ellipses, outputs with a
 * double border. Deterministic. */
void cg_dot_write(const Graph *g, int mode, FILE *out);

#endif
