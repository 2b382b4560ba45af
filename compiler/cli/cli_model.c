/* cli_model.c: what the commands that execute a model (run, generate, profile) share: the model
 * their PLAN argument names, a plan file or a spec compiled in memory (DESIGN.md §2), with the
 * one verdict on what does not fit the device; and its weights. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The rows a command adds for a SPEC; all but --allow-misfit configure the compile, and a plan's
 * configuration and bounds were fixed by its own. */
static const CliOpt spec_opts[] = {CLI_SPEC_AS_PLAN_OPTS, {0}};

/* A plan file starts with the magic; a file holding only part of it (a truncated plan) counts too,
 * so that the plan loader names what is wrong. Anything else is a spec, whose loader does the
 * same. A file that cannot be opened goes to the plan loader, which says why. */
static int is_plan_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 1;
    char head[8];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n > 0 && memcmp(head, TTC_PLAN_MAGIC, n) == 0;
}

static int open_plan(const CliCommand *cmd, const CliArgs *a, const char *path, TtcModel *m) {
    for (int i = 0; spec_opts[i].name; i++) {
        const char *flag = spec_opts[i].name;
        if (strcmp(flag, "--allow-misfit") == 0 || !cli_get(cmd, a, flag)) continue;
        char hint[320];
        snprintf(hint, sizeof hint, "give the spec instead of the plan, or recompile the plan with it (ttc compile "
                 "SPEC.yaml %s ... -o %s)", flag, path);
        return ttc_print_error(hint, "ttc %s: %s applies when compiling a spec, and %s is a plan (its configuration "
                               "and bounds were fixed when it was compiled)", cmd->name, flag, path);
    }
    TtcError err = {0};
    if (ttc_model_open(m, path, &err) != TTC_OK) {
        ttc_error_print(&err);
        return err.status;
    }
    const TtcPlan *p = &m->plan;
    if (p->n_misfits == 0 || cli_flag(cmd, a, "--allow-misfit")) return 0;
    char more[64] = "";
    if (p->n_misfits > 1)
        snprintf(more, sizeof more, " (and %d more problem%s)", (int)p->n_misfits - 1, p->n_misfits > 2 ? "s" : "");
    return ttc_print_error("it was compiled with --allow-misfit, for its estimates: give --allow-misfit to run it on "
                           "the emulator anyway, or recompile it with the fixes `ttc check SPEC.yaml` suggests",
                           "%s does not fit %s: %s%s", path, p->device, p->misfit, more);
}

static int compile_model(const CliCommand *cmd, const CliArgs *a, const char *path, const CliBounds *dflt,
                         TtcModel *m) {
    CompileOptions o;
    if (cli_compile_options(cmd, a, &o)) return 1;
    if (!o.batch) o.batch = dflt->batch;
    if (!o.seq) o.seq = dflt->seq;
    if (!o.max_seq && dflt->max_seq) {
        o.max_seq = dflt->max_seq > o.seq ? dflt->max_seq : o.seq;
        o.max_seq_is_wish = 1; /* generate and profile say when the cache is too small */
    }
    char producer[256];
    snprintf(producer, sizeof producer, "ttc %s: %s %s (compiled in memory)", cli_version(), cmd->name, path);
    Compilation c;
    TtcPlan plan;
    int rc = cli_compile_plan(&o, producer, &c, &plan);
    compile_free(&c);
    if (rc == 0) ttc_model_from_plan(m, &plan);
    return rc;
}

int cli_open_model(const CliCommand *cmd, const CliArgs *a, const CliBounds *dflt, TtcModel *m) {
    memset(m, 0, sizeof *m);
    const char *path = a->pos[0];
    return is_plan_file(path) ? open_plan(cmd, a, path, m) : compile_model(cmd, a, path, dflt, m);
}

TtcStatus cli_load_weights(const CliCommand *cmd, const CliArgs *a, TtcModel *m, int keep_fp32, TtcError *err) {
    char who[64];
    snprintf(who, sizeof who, "ttc %s", cmd->name);
    return ttc_model_load_weights_arg(m, cli_get(cmd, a, "--weights"), cli_get(cmd, a, "--random-weights"), keep_fp32,
                                      who, err);
}

TtcStatus cli_inputs_load(const CliCommand *cmd, const CliArgs *a, TtcInputFiles *r, TtcError *err) {
    char who[64];
    snprintf(who, sizeof who, "ttc %s", cmd->name);
    return ttc_inputs_load(r, NULL, who, "", cli_get(cmd, a, "--input-ids"), cli_get(cmd, a, "--token-type-ids"),
                           cli_get(cmd, a, "--attention-mask"), err);
}

TtcStatus cli_inputs_check(const CliCommand *cmd, const CliArgs *a, const TtcPlan *p, const TtcInputFiles *r,
                           TtcError *err) {
    return ttc_inputs_check(r, p, cli_get(cmd, a, "--input-ids"), cli_get(cmd, a, "--token-type-ids"),
                            cli_get(cmd, a, "--attention-mask"), err);
}
