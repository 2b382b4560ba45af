/* cost.h: the analytic cost model of DEVICE.md §6, per op and per chip (passes/cost.c). The
 * `cost` pass stores each entry point's totals in Graph.entries (and so in the plan's COST
 * chunk); cost_graph gives the per-op figures, which cost_attach_plan puts into a plan. */
#ifndef TTC_COST_H
#define TTC_COST_H

#include "hw.h"
#include "ir.h"
#include "../runtime/plan.h"

/* Per-output-tile cycles of the ops that do not use the matrix unit (vector-unit estimates;
 * see cost.c). 0 for pure data movement. */
int cost_vector_cycles_per_tile(TtcOpKind k);

/* Fills costs[0..g->n_ops) on hw->device, with each value placed as `device-memory` places it.
 * 0 ok, -1 out of memory. */
int cost_graph(const Graph *g, const HwConfig *hw, TtcOpCost *costs);

/* Sets p->op_costs (n_ops records) for a plan made from `g` by cg_plan_from_graph, so that the
 * plan file carries per-op estimates; does nothing when the `cost` pass did not run (no entry
 * has a clock). 0 ok, -1 out of memory or a plan of another graph. */
int cost_attach_plan(const Graph *g, const HwConfig *hw, TtcPlan *p);

#endif
