/* front.c: the command-line side of compiling a spec: the common options, diagnostics, and the
 * compile to a plan in memory that `ttc compile` writes out and run/generate/profile execute. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_advice.h"

static int pass_option(const char *value, const char *flag, int *out) {
    int p = pass_from_name(value);
    if (p >= 0) {
        *out = p;
        return 0;
    }
    const char *names[PASS_COUNT];
    for (int i = 0; i < PASS_COUNT; i++) names[i] = pass_name((PassId)i);
    const char *close = diag_closest(value, names, PASS_COUNT);
    char hint[128];
    snprintf(hint, sizeof hint, close ? "did you mean '%s'? (ttc passes lists them)" : "ttc passes lists them%s",
             close ? close : "");
    return ttc_print_error(hint, "%s: unknown pass '%s'", flag, value);
}

int cli_compile_options(const CliCommand *cmd, const CliArgs *a, CompileOptions *o) {
    compile_options_init(o);
    o->spec = a->pos[0];
    const char **v;
    o->n_hw = cli_all(cmd, a, "--hw", &v);
    o->hw = v;
    o->n_sets = cli_all(cmd, a, "--set", &v);
    o->sets = v;
    if (cli_int(cmd, a, "--batch", 1, 1 << 16, 0, &o->batch) || cli_int(cmd, a, "--seq", 1, 1 << 24, 0, &o->seq) ||
        cli_int(cmd, a, "--max-seq", 1, 1 << 24, 0, &o->max_seq))
        return 1;
    const char *mode = cli_get(cmd, a, "--mode");
    if (mode && strcmp(mode, "prefill") != 0 && strcmp(mode, "decode") != 0)
        return ttc_print_error("use --mode prefill or --mode decode", "--mode: unknown mode '%s'", mode);
    o->mode = mode && strcmp(mode, "decode") == 0 ? HW_MODE_DECODE : HW_MODE_PREFILL;
    const char *after = cli_get(cmd, a, "--after");
    if (after && pass_option(after, "--after", &o->stop_after)) return 1;
    const char **disabled;
    int n = cli_all(cmd, a, "--disable-pass", &disabled);
    for (int i = 0; i < n; i++)
        if (pass_option(disabled[i], "--disable-pass", &o->disabled[o->n_disabled++])) return 1;
    o->time_passes = cli_flag(cmd, a, "--time-passes");
    o->verbose = cli_flag(cmd, a, "--verbose");
    o->allow_misfit = cli_flag(cmd, a, "--allow-misfit");
    return 0;
}

/* Every diagnostic, errors or warnings on success. What does not fit the device is printed as
 * `ttc check` prints it (each problem with the fixes that work when tried), so that every command
 * gives the same verdict in the same words. */
static void print_diags(const CompileOptions *o, Compilation *c) {
    for (int i = 0; i < c->diags.n; i++)
        if (i < c->misfit_first || i >= c->misfit_first + c->n_misfits) diag_print_one(&c->diags, &c->diags.v[i], stderr);
    const int dm[2] = {c->misfit_first, c->misfit_first + c->n_misfits};
    if (c->n_misfits > 0) cli_print_device_problems(o, c, dm, NULL, 0);
}

int cli_compile_spec(const CompileOptions *o, Compilation *c) {
    int rc = compile_spec(o, c);
    print_diags(o, c);
    return rc;
}

int cli_compile_plan(const CompileOptions *o, const char *producer, Compilation *c, TtcPlan *plan) {
    int rc = compile_to_plan(o, producer, c, plan);
    print_diags(o, c);
    if (rc) return rc;
    /* The loader's checks run on every plan the compiler hands on, written or run in memory: a
     * plan ttc cannot load is a bug. */
    TtcError err = {0};
    if (ttc_plan_validate(plan, o->spec, &err) != TTC_OK) {
        fprintf(stderr, "internal: ");
        ttc_error_print(&err);
        ttc_plan_free(plan);
        return 2;
    }
    return 0;
}
