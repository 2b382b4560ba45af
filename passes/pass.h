/* pass.h: the pass interface and pipeline. Every pass has the same signature and lives in one
 * file named after its flag (passes/shape_infer.c <-> --after shape-infer). */
#ifndef TTC_PASS_H
#define TTC_PASS_H

#include "diag.h"
#include "hw.h"
#include "ir.h"

typedef struct PassCtx {
    Diags *diags;
    const HwConfig *hw; /* resolved overlays (precision) */
    int verbose;        /* print what each pass did (memory plan records, ...) to stderr */
    int verify_each;    /* run `verify` after every pass (tests and debug builds) */
    int allow_misfit;   /* device-memory: report what does not fit as warnings (--allow-misfit) */
    /* Out, device-memory: its problems are diags->v[misfit_first .. misfit_first + n_misfits),
     * errors, or warnings when allowed (then the plan records that it does not fit). */
    int misfit_first, n_misfits;
} PassCtx;

typedef int (*PassFn)(Graph *g, PassCtx *cx); /* 0 ok; -1 with diagnostics */

typedef enum {
#define PASS(id, name, fn, summary) PASS_##id,
#include "passes.def"
#undef PASS
    PASS_COUNT
} PassId;

#define PASS(id, name, fn, summary) int fn(Graph *g, PassCtx *cx);
#include "passes.def"
#undef PASS

/* shape-infer: whether an op kind has a shape rule (tests check every row of ops.def has one). */
int shape_infer_has_rule(TtcOpKind k);

const char *pass_name(PassId p);
const char *pass_summary(PassId p);
int pass_from_name(const char *name); /* -1 when unknown */

/* The default pipeline: a plain list of pass ids. */
extern const PassId pass_default_pipeline[];
extern const int pass_default_pipeline_len;

/* Runs `pipeline` in order, skipping any pass in `disabled` (required passes cannot be
 * disabled: an error), stopping after `stop_after` when it is >= 0. Timings to stderr when
 * `time_passes`. Returns 0 or -1 (diagnostics in cx). */
int pass_run_pipeline(Graph *g, PassCtx *cx, const PassId *pipeline, int n, const int *disabled, int n_disabled,
                      int stop_after, int time_passes);

#endif
