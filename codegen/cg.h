/* cg.h: code generators over a compiled Graph: the plan (for the runtime), C source (for a
 * standalone program) and Graphviz DOT. */
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
/* The same; with `collapse`, repeated layers (layer_1.. with layer_0's structure) become one node
 * after the representative layer_0 ("layer_1..layer_31 (31 more, same structure)"). */
void cg_dot_write_ex(const Graph *g, int mode, int collapse, FILE *out);

/* Where the C comes from, for its header comment and --help (all strings may be NULL). */
typedef struct CgCOptions {
    const char *spec;                /* the ArchitectureSpec as given on the command line */
    const char *const *overlays;     /* --hw files, in order */
    int n_overlays;
    const char *const *sets;         /* --set assignments, in order */
    int n_sets;
    const char *command;             /* the ttc command line that regenerates the file */
    const char *build;               /* the C compiler command line that builds it */
} CgCOptions;

/* Readable C for a validated plan (`ttc compile --emit c`): one function per module calling the
 * runtime's kernels (runtime/ttc_kernels_api.h) with the plan's shapes and arena offsets written
 * out, the entry points, the plan's tables, and a main() that hands them to runtime/ttc_exe.h.
 * Deterministic. Fails (TTC_E_INTERNAL) only on an op form it has no call for. */
TtcStatus cg_c_write(const TtcPlan *p, const CgCOptions *o, FILE *out, TtcError *err);

#endif
