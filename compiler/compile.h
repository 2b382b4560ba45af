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
    /* What does not fit the device (device-memory's problems) is a warning rather than an error,
     * and the plan records it (--allow-misfit: for the estimates, or to run on the emulator). */
    int allow_misfit;
    /* max_seq is what a command would like (a prompt plus the tokens to generate), not a bound
     * the user set: cut to the model's max_sequence_length instead of refused, so that the
     * command says what does not fit in its own terms. */
    int max_seq_is_wish;
} CompileOptions;

typedef struct Compilation {
    Diags diags;
    Spec spec;
    HwConfig hw;
    Graph graph;
    int have_spec, have_hw, have_graph;
    /* device-memory's problems: diags.v[misfit_first .. misfit_first + n_misfits); warnings
     * when the compile succeeded with allow_misfit, else errors. */
    int misfit_first, n_misfits;
} Compilation;

void compile_options_init(CompileOptions *o);
/* 0 on success (warnings may be in c->diags); otherwise the exit status: 1 user error,
 * 2 internal error, with every diagnostic in c->diags. Free with compile_free either way. */
int compile_spec(const CompileOptions *o, Compilation *c);
void compile_free(Compilation *c);
/* The plan of a compiled graph, with the cost pass's per-op estimates attached and, when
 * device-memory's problems were let through (allow_misfit), the record that it does not fit.
 * 0, or -1 when out of memory (then *plan is left empty). */
int compile_plan_of(const Compilation *c, const char *producer, TtcPlan *plan);
/* The in-memory compile: compile_spec, then compile_plan_of, with nothing written or printed.
 * Behind `ttc compile` and run/generate/profile of a SPEC; whoever wants to know whether a
 * configuration fits, or what it costs, can call it with their own options. Returns 0 (the plan
 * is in *plan, warnings may be in c->diags) or the exit status (1 user error, e.g. does not fit;
 * 2 internal), every diagnostic in c->diags. Free c with compile_free either way. */
int compile_to_plan(const CompileOptions *o, const char *producer, Compilation *c, TtcPlan *plan);
/* compile_to_plan in one call (what tests, benchmarks and embedders want). Prints the
 * diagnostics to `diag_out` (may be NULL) on failure; returns 0 or the exit status. */
int compile_spec_to_plan(const CompileOptions *o, TtcPlan *plan, FILE *diag_out);

/* Records in plan->source how `o` compiled it (the SRCE chunk: spec as given and absolute,
 * overlays, --set, the plan's batch/seq/context bounds, disabled passes), for recompiling it
 * later (ttc profile checks its suggestions that way). 0, or -1 when out of memory. */
int compile_plan_source(const CompileOptions *o, TtcPlan *plan);

#endif
