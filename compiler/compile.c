/* compile.c: spec + overlays -> lowered graph -> pass pipeline, collecting every diagnostic. */
#include "compile.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "cost.h"
#include "lower.h"
#include "spec_limits.h"

void compile_options_init(CompileOptions *o) {
    memset(o, 0, sizeof *o);
    o->stop_after = -1;
}

/* 2 when any diagnostic is an internal error (a bug in ttc), else 1. */
static int status_of(const Compilation *c) {
    for (int i = 0; i < c->diags.n; i++)
        if (c->diags.v[i].severity == DIAG_ERROR && strncmp(c->diags.v[i].msg, "internal", 8) == 0) return 2;
    return 1;
}

int compile_spec(const CompileOptions *o, Compilation *c) {
    memset(c, 0, sizeof *c);
    if (spec_load(&c->spec, o->spec, &c->diags) != 0) return status_of(c);
    c->have_spec = 1;
    if (hw_config_init(&c->hw, &c->diags) != 0) return status_of(c);
    c->have_hw = 1;
    int bad = 0;
    for (int i = 0; i < o->n_hw; i++) bad |= hw_config_load(&c->hw, o->hw[i], &c->diags) != 0;
    for (int i = 0; i < o->n_sets; i++) bad |= hw_config_set(&c->hw, o->sets[i], &c->diags) != 0;
    if (bad || c->diags.n_errors) return status_of(c);

    LowerOptions lo = {.batch = o->batch ? o->batch : 1};
    /* Without --seq a plan covers the model's whole context, capped where activations would get
     * large for no benefit to a first run. */
    lo.seq = o->seq ? o->seq : (c->spec.max_sequence_length < 512 ? c->spec.max_sequence_length : 512);
    lo.max_seq = o->max_seq ? o->max_seq : lo.seq;
    if (o->max_seq_is_wish && lo.max_seq > c->spec.max_sequence_length)
        lo.max_seq = lo.seq > c->spec.max_sequence_length ? lo.seq : c->spec.max_sequence_length;
    ir_init(&c->graph);
    c->have_graph = 1;
    snprintf(c->graph.device, sizeof c->graph.device, "%s", c->hw.device.name);
    c->graph.mesh_rows = c->hw.device.mesh_rows > 0 ? c->hw.device.mesh_rows : 1;
    c->graph.mesh_cols = c->hw.device.mesh_cols > 0 ? c->hw.device.mesh_cols : 1;
    if (lower_spec(&c->spec, &lo, &c->graph, &c->diags) != 0) return status_of(c);
    /* Before any pass multiplies the bounds into byte counts and cycle estimates. */
    if (spec_check_sizes(&c->spec, lo.batch, lo.seq, lo.max_seq, &c->diags) != 0) return status_of(c);

    PassCtx cx = {.diags = &c->diags, .hw = &c->hw, .verbose = o->verbose, .verify_each = 1,
                  .allow_misfit = o->allow_misfit};
    int failed = pass_run_pipeline(&c->graph, &cx, pass_default_pipeline, pass_default_pipeline_len, o->disabled,
                                   o->n_disabled, o->stop_after, o->time_passes) != 0;
    c->misfit_first = cx.misfit_first;
    c->n_misfits = cx.n_misfits;
    return failed ? status_of(c) : 0;
}

void compile_free(Compilation *c) {
    if (c->have_graph) ir_free(&c->graph);
    if (c->have_hw) hw_config_free(&c->hw);
    if (c->have_spec) spec_free(&c->spec);
    diag_free(&c->diags);
}

int compile_plan_of(const Compilation *c, const char *producer, TtcPlan *plan) {
    if (cg_plan_from_graph(&c->graph, plan, producer) != 0) return -1;
    if (cost_attach_plan(&c->graph, &c->hw, plan) != 0) {
        ttc_plan_free(plan);
        return -1;
    }
    /* A plan let through with problems says so, so that `ttc run` can refuse it in turn. */
    plan->n_misfits = c->n_misfits;
    if (c->n_misfits > 0) snprintf(plan->misfit, sizeof plan->misfit, "%s", c->diags.v[c->misfit_first].msg);
    return 0;
}

int compile_to_plan(const CompileOptions *o, const char *producer, Compilation *c, TtcPlan *plan) {
    memset(plan, 0, sizeof *plan);
    int rc = compile_spec(o, c);
    if (rc == 0 && (compile_plan_of(c, producer, plan) != 0 || compile_plan_source(o, plan) != 0)) {
        diag_error(&c->diags, (DiagLoc){0}, "internal: out of memory building the plan of '%s'", c->graph.model_name);
        rc = 2;
    }
    return rc;
}

int compile_spec_to_plan(const CompileOptions *o, TtcPlan *plan, FILE *diag_out) {
    Compilation c;
    int rc = compile_to_plan(o, "ttc (in-process)", &c, plan);
    if (rc && diag_out) diag_print(&c.diags, diag_out);
    compile_free(&c);
    return rc;
}

/* An absolute form of `path` (realpath; the path as given when it cannot be resolved). */
static const char *absolute(const char *path, char *buf) {
    return realpath(path, buf) ? buf : path;
}

int compile_plan_source(const CompileOptions *o, TtcPlan *plan) {
    char abs[PATH_MAX], num[32];
    int bad = ttc_plan_add_source(plan, "spec", o->spec) | ttc_plan_add_source(plan, "spec_abs", absolute(o->spec, abs));
    for (int i = 0; i < o->n_hw; i++) bad |= ttc_plan_add_source(plan, "hw", absolute(o->hw[i], abs));
    for (int i = 0; i < o->n_sets; i++) bad |= ttc_plan_add_source(plan, "set", o->sets[i]);
    /* The bounds the plan has, not the flags: defaults and cuts then reproduce exactly. */
    const struct { const char *key; int64_t v; } sizes[] = {
        {"batch", plan->max_batch}, {"seq", plan->max_seq},
        {"max_seq", plan->model_type == TTC_MODEL_DECODER ? plan->max_ctx : 0}};
    for (int i = 0; i < 3; i++) {
        if (sizes[i].v <= 0) continue;
        snprintf(num, sizeof num, "%lld", (long long)sizes[i].v);
        bad |= ttc_plan_add_source(plan, sizes[i].key, num);
    }
    for (int i = 0; i < o->n_disabled; i++) bad |= ttc_plan_add_source(plan, "disable_pass", pass_name(o->disabled[i]));
    return bad ? -1 : 0;
}
