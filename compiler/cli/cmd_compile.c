/* cmd_compile.c: `ttc compile`: spec + overlays -> plan file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const CliOpt compile_opts[] = {
    {"--hw", "HW.yaml", 1, "hardware-config overlay, applied in order"},
    {"--set", "PATH=VALUE", 1, "override one config field, e.g. layer_3.ffn.weight_dtype=bf16 (applied last)"},
    {"--batch", "N", 0, "most sequences per run (default 1)"},
    {"--seq", "N", 0, "most tokens per sequence (default: the model's, at most 512)"},
    {"--max-seq", "N", 0, "most tokens of context, decoders (default: --seq)"},
    {"--emit", "KIND", 0, "what to write: plan (default), c (C source) or exe (C compiled to a program)"},
    {"-o", "OUT", 0, "output file (default: MODEL.plan)"},
    {"--disable-pass", "NAME", 1, "skip an optional pass (ttc passes lists them)"},
    {"--time-passes", NULL, 0, "print the time each pass took"},
    {"--verbose", NULL, 0, "print the memory plan and other pass details"},
    {0},
};

int cmd_compile(const CliCommand *cmd, const CliArgs *a) {
    CompileOptions o;
    if (cli_compile_options(cmd, a, &o)) return 1;
    const char *emit = cli_get(cmd, a, "--emit");
    if (emit && strcmp(emit, "plan") != 0 && strcmp(emit, "c") != 0 && strcmp(emit, "exe") != 0)
        return ttc_print_error("use --emit plan, --emit c or --emit exe", "--emit: unknown kind '%s'", emit);
    Compilation f;
    int rc = cli_compile_spec(&o, &f);
    if (rc) {
        compile_free(&f);
        return rc;
    }
    char out[TTC_NAME_MAX + 8];
    const char *path = cli_get(cmd, a, "-o");
    if (!path) { /* MODEL.plan, MODEL.c, or the program MODEL */
        int c_src = emit && strcmp(emit, "c") == 0, exe = emit && strcmp(emit, "exe") == 0;
        snprintf(out, sizeof out, "%s%s", f.graph.model_name, c_src ? ".c" : exe ? "" : ".plan");
        path = out;
    }
    char producer[256];
    snprintf(producer, sizeof producer, "ttc %s: compile %s", TTC_VERSION_STRING, o.spec);
    TtcPlan plan;
    TtcError err = {0};
    if (compile_plan_of(&f, producer, &plan) != 0 || compile_plan_source(&o, &plan) != 0) {
        compile_free(&f);
        return ttc_print_error(NULL, "out of memory");
    }
    /* The loader's checks run on what we are about to write: a plan ttc cannot load is a bug. */
    if (ttc_plan_validate(&plan, path, &err) != TTC_OK) {
        fprintf(stderr, "internal: ");
        ttc_error_print(&err);
        rc = 2;
    } else if (emit && strcmp(emit, "plan") != 0) {
        rc = cli_emit_c(&plan, &o, strcmp(emit, "exe") == 0, path);
        if (rc == 0) cli_print_compile_summary(&f.graph, path);
    } else if (ttc_plan_write(&plan, path, &err) != TTC_OK) {
        ttc_error_print(&err);
        rc = err.status;
    } else {
        cli_print_compile_summary(&f.graph, path);
    }
    ttc_plan_free(&plan);
    compile_free(&f);
    return rc;
}

const CliCommand cli_compile = {
    "compile",
    "compile an ArchitectureSpec and hardware overlays into a plan",
    "SPEC.yaml [--hw HW.yaml]... [--set PATH=VALUE]... [--batch N] [--seq N] [-o OUT]",
    "--batch and --seq are upper bounds: the plan runs any input up to them.\n"
    "Overlays apply in order, --set last; with no device anywhere the target is wormhole_n150.",
    1,
    1,
    compile_opts,
    cmd_compile,
};
