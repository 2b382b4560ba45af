/* compile.h: the front half of every spec command (compile, dump-graph, check, config) and of
 * in-process users such as tests: spec + overlays + --set -> a Graph through the pass pipeline. */
#ifndef TTC_COMPILE_H
#define TTC_COMPILE_H

#include "diag.h"
#include "hw.h"
#include "ir.h"
#include "pass.h"
#include "spec.h"
#include "../runtime/plan.h"

typedef struct CompileOptions {
    const char *spec;
    const char *const *hw; /* overlay files, applied in order */
    int n_hw;
    const char *const *sets; /* --set assignments, applied last */
    int n_sets;
    int64_t batch, seq, max_seq; /* 0 = default */
    int mode;                    /* HwMode: which entry point dumps show (compile builds all) */
    int stop_after;              /* pass id, or -1 for the whole pipeline */
    int disabled[PASS_COUNT];
    int n_disabled;
    int time_passes, verbose;
} CompileOptions;

typedef struct Compilation {
    Diags diags;
    Spec spec;
    HwConfig hw;
    Graph graph;
    int have_spec, have_hw, have_graph;
} Compilation;

void compile_options_init(CompileOptions *o);
/* 0 on success (warnings may be in c->diags); otherwise the exit status: 1 user error,
 * 2 internal error, with every diagnostic in c->diags. Free with compile_free either way. */
int compile_spec(const CompileOptions *o, Compilation *c);
void compile_free(Compilation *c);
/* The plan of a compiled graph, with the cost pass's per-op estimates attached. 0, or -1 when
 * out of memory (then *plan is left empty). */
int compile_plan_of(const Compilation *c, const char *producer, TtcPlan *plan);
/* compile_spec, then the plan (what tests, benchmarks and embedders want in one call). Prints the
 * diagnostics to `diag_out` (may be NULL) on failure; returns 0 or the exit status. */
int compile_spec_to_plan(const CompileOptions *o, TtcPlan *plan, FILE *diag_out);

/* Records in plan->source how `o` compiled it (the SRCE chunk: spec as given and absolute,
 * overlays, --set, the plan's batch/seq/context bounds, disabled passes), for recompiling it
 * later (ttc profile checks its suggestions that way). 0, or -1 when out of memory. */
int compile_plan_source(const CompileOptions *o, TtcPlan *plan);

#endif
