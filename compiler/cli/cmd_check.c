/* cmd_check.c: `ttc check`: hardware compatibility. Runs the whole pipeline for the spec and
 * overlays and reports every problem (module path, mode, what is wrong, what to change): errors
 * and warnings alike, since a plan that only runs on the emulator is a problem for hardware.
 * Exit status 1 when there is any, 0 with "no problems" otherwise. */
#include <stdio.h>
#include <string.h>

#include "advice.h"
#include "cli.h"
#include "cli_advice.h"
#include "dev_layout.h"
#include "dev_problems.h"

static const CliOpt check_opts[] = {
    {"--hw", "HW.yaml", 1, "hardware-config overlay, applied in order"},
    {"--set", "PATH=VALUE", 1, "override one config field, e.g. layer_3.ffn.memory=dram (applied last)"},
    {"--batch", "N", 0, "most sequences per run (default 1)"},
    {"--seq", "N", 0, "most tokens per sequence (default: the model's, at most 512)"},
    {"--max-seq", "N", 0, "most tokens of context, decoders (default: --seq)"},
    {"--verbose", NULL, 0, "also list the suggestions tried and dropped, and why"},
    {0},
};

/* One problem in the shape of DESIGN.md §7: located ones (overlay and spec errors) with their
 * source line, device problems with their suggestion. */
static void print_problem(const Diags *d, const Diag *dg) {
    if (dg->loc.file) {
        diag_print_one(d, dg, stderr);
        return;
    }
    fprintf(stderr, "%s: %s\n", dg->severity == DIAG_ERROR ? "error" : "warning", dg->msg);
    if (dg->hint) fprintf(stderr, "  suggestion: %s\n", dg->hint);
}

/* What fits, for the "no problems" verdict: per mode, peak L1 and DRAM against the device. */
static void print_fit(const Compilation *c) {
    const HwDevice *dev = &c->hw.device;
    for (int e = 0; e < c->graph.n_entries; e++) {
        const TtcEntry *en = &c->graph.entries[e];
        char a[32], b[32], x[32], y[32];
        printf("  %-8s L1 peak %s per core of %s; DRAM %s per chip of %s; %.3f ms per step (%s-bound)\n", en->name,
               dev_bytes_str(en->l1_peak_bytes, a, sizeof a), dev_bytes_str(dev->l1_bytes, b, sizeof b),
               dev_bytes_str(en->dram_peak_bytes, x, sizeof x), dev_bytes_str(dev->dram_bytes, y, sizeof y),
               en->clock_khz ? (double)en->device_cycles / (double)en->clock_khz : 0.0,
               ttc_bound_name(en->device_bound));
    }
}

int cmd_check(const CliCommand *cmd, const CliArgs *a) {
    CompileOptions o;
    if (cli_compile_options(cmd, a, &o)) return 1;
    int verbose = o.verbose;
    o.verbose = 0; /* the passes' own --verbose output is ttc compile's */
    Compilation c;
    int dm[2] = {-1, -1};
    int rc = advice_compile(&o, &c, dm);
    AdviceFigures before; /* what each suggestion is measured against: this very compile */
    advice_figures_of(&o, &c, rc, &before);
    int errors = 0, warnings = 0, internal = 0;
    for (int i = 0; i < c.diags.n; i++) {
        const Diag *dg = &c.diags.v[i];
        if (dg->severity == DIAG_NOTE) continue;
        errors += dg->severity == DIAG_ERROR;
        warnings += dg->severity == DIAG_WARNING;
        internal |= dg->severity == DIAG_ERROR && strncmp(dg->msg, "internal", 8) == 0;
        if (i >= dm[0] && i < dm[1] && !internal && strcmp(dg->msg, "out of memory") != 0) continue;
        print_problem(&c.diags, dg);
    }
    if (dm[1] > dm[0] && !internal) cli_print_device_problems(&o, &c, dm, &before, verbose);
    const char *model = c.have_spec ? c.spec.name : o.spec;
    const char *device = c.have_hw ? c.hw.device.name : "?";
    if (errors + warnings == 0) {
        printf("ttc check: %s on %s: no problems\n", model, device);
        print_fit(&c);
    } else {
        printf("ttc check: %s on %s: %d problem%s (%d error%s, %d warning%s)\n", model, device, errors + warnings,
               errors + warnings == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    }
    compile_free(&c);
    return internal ? 2 : errors + warnings ? 1 : 0;
}

const CliCommand cli_check = {
    "check",
    "hardware compatibility: report every problem with a suggestion",
    "SPEC.yaml",
    "Compiles for the device the overlays select (wormhole_n150 when none does) and reports every\n"
    "problem: overlay errors, modules whose L1 does not fit (per mode), a model that does not fit\n"
    "DRAM. Each names the module path and mode and the changes that fix it: each one is tried by\n"
    "recompiling with it before it is shown, with its effect (DRAM 13.6 GiB → 8.68 GiB per chip of\n"
    "12.0 GiB: fits). Exit status 1 when there is any problem, 0 (\"no problems\", with the peak L1\n"
    "and DRAM per mode) otherwise.",
    1,
    1,
    check_opts,
    cmd_check,
};
