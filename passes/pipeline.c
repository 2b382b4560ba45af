/* pipeline.c: pass registry and the pipeline runner. */
#include "pass.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct { const char *name, *summary; PassFn fn; } passes[PASS_COUNT] = {
#define PASS(id, name, fn, summary) [PASS_##id] = {name, summary, fn},
#include "passes.def"
#undef PASS
};

const PassId pass_default_pipeline[] = {PASS_SPECIALIZE, PASS_SHAPE_INFER, PASS_VERIFY,      PASS_PRECISION,
                                        PASS_FUSE,       PASS_SHARD,       PASS_CORE_SHARD,  PASS_MEMORY_PLAN,
                                        PASS_DEVICE_MEMORY, PASS_COST};
const int pass_default_pipeline_len = (int)(sizeof pass_default_pipeline / sizeof pass_default_pipeline[0]);

/* Passes whose output later passes and the runtime cannot do without. */
static int pass_required(PassId p) {
    return p == PASS_SPECIALIZE || p == PASS_SHAPE_INFER || p == PASS_PRECISION || p == PASS_MEMORY_PLAN;
}

const char *pass_name(PassId p) { return (unsigned)p < PASS_COUNT ? passes[p].name : "?"; }
const char *pass_summary(PassId p) { return (unsigned)p < PASS_COUNT ? passes[p].summary : "?"; }

int pass_from_name(const char *name) {
    for (int i = 0; i < PASS_COUNT; i++)
        if (strcmp(passes[i].name, name) == 0) return i;
    return -1;
}

int pass_run_pipeline(Graph *g, PassCtx *cx, const PassId *pipeline, int n, const int *disabled, int n_disabled,
                      int stop_after, int time_passes) {
    DiagLoc none = {0};
    for (int j = 0; j < n_disabled; j++) {
        if (pass_required((PassId)disabled[j])) {
            Diag *e = diag_error(cx->diags, none, "pass '%s' cannot be disabled", pass_name((PassId)disabled[j]));
            diag_hint(e, "later passes and the runtime depend on its results");
            return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        PassId p = pipeline[i];
        int skip = 0;
        for (int j = 0; j < n_disabled; j++) skip |= disabled[j] == (int)p;
        if (!skip) {
            double t0 = ttc_now_ms();
            int rc = passes[p].fn(g, cx);
            if (time_passes) fprintf(stderr, "  pass %-12s %8.3f ms\n", passes[p].name, ttc_now_ms() - t0);
            if (rc != 0 || cx->diags->n_errors) return -1;
            /* A pass that breaks an invariant is caught at the pass, not three passes later. */
            if (cx->verify_each && p != PASS_VERIFY && pass_verify(g, cx) != 0) {
                Diag *e = diag_error(cx->diags, none, "internal: the IR is invalid after pass '%s'", passes[p].name);
                diag_hint(e, "this is a bug in ttc; `ttc compile --disable-pass %s` may work around it", passes[p].name);
                return -1;
            }
        }
        if ((int)p == stop_after) break;
    }
    return 0;
}
