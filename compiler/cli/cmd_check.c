/* cmd_check.c: `ttc check`: hardware compatibility. Runs the whole pipeline for the spec and
 * overlays and reports every problem (module path, mode, what is wrong, what to change): errors
 * and warnings alike, since a plan that only runs on the emulator is a problem for hardware.
 * Exit status 1 when there is any, 0 with "no problems" otherwise. */
#include <stdio.h>
#include <string.h>

#include "advice.h"
#include "cli.h"
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

/* Whether `after` fixes problem p: its module's L1 fits (L1 problems), or DRAM does. */
static int fixes(const DevProblem *p, const AdviceFigures *after) {
    return p->dram ? advice_dram_fits(after) : advice_l1_fits_module(after, p->module);
}

static void effect_str(const DevProblem *p, const AdviceFigures *before, const AdviceFigures *after, char *buf,
                       size_t n) {
    if (p->dram || advice_l1_fits(after)) {
        (p->dram ? advice_dram_effect : advice_l1_effect)(before, after, buf, n);
        return;
    }
    snprintf(buf, n, "'%s' fits L1; other modules still do not", p->module[0] ? p->module : "the model");
}

/* Tries ch; 1 when it compiles, changes something and fixes p. */
static int try_fix(const CompileOptions *o, const DevProblem *p, const AdviceFigures *before, const AdviceChange *ch,
                   AdviceFigures *after, int *compiled) {
    *compiled = advice_try(o, ch, after) == 0;
    return *compiled && !advice_same(before, after) && fixes(p, after);
}

/* A --max-seq estimate (caches grow linearly with the context; activations grow too) that does
 * not fit is searched down: an eighth shorter until one fits, then halving the gap, in steps of
 * 32 tokens, so that the context offered is the largest that fits within the tries left. */
static int search_max_seq(const CompileOptions *o, const DevProblem *p, const AdviceFigures *before, AdviceChange *ch,
                          AdviceFigures *after, int *compiled, int *tries) {
    int64_t bad = ch->max_seq, good = 0;
    AdviceFigures fig;
    while (*tries < ADVICE_MAX_TRIES && ch->max_seq >= 32) {
        ++*tries;
        int ok = try_fix(o, p, before, ch, &fig, compiled);
        if (ok) {
            good = ch->max_seq;
            *after = fig;
        } else {
            bad = ch->max_seq;
        }
        int64_t next = good ? (good + bad) / 2 / 32 * 32 : ch->max_seq * 7 / 8 / 32 * 32;
        if (next == good || next == bad || next < 32) break;
        ch->max_seq = next;
    }
    if (good) ch->max_seq = good;
    *compiled = *compiled || good;
    return good > 0;
}

/* Whether every part of `small` is in `big` (then `big` is not worth showing after `small`). */
static int contains_change(const AdviceChange *big, const AdviceChange *small) {
    if ((small->max_seq && small->max_seq != big->max_seq) || (small->device[0] && strcmp(small->device, big->device)))
        return 0;
    for (int i = 0; i < small->n_sets; i++) {
        int found = 0;
        for (int j = 0; j < big->n_sets && !found; j++) found = strcmp(small->sets[i], big->sets[j]) == 0;
        if (!found) return 0;
    }
    return 1;
}

/* Why fix i is not worth trying after those already shown, or NULL: a larger mesh once a smaller
 * one fits, or a change that includes one that fixes it alone. */
static const char *redundant(const AdviceChange *ch, const AdviceChange *shown, int n_shown) {
    for (int i = 0; i < n_shown; i++) {
        if (ch->device[0] && shown[i].device[0]) return "a smaller mesh above fits";
        if (contains_change(ch, &shown[i])) return "a part of it above is enough";
    }
    return NULL;
}

/* Tries the fixes of p (at most ADVICE_MAX_TRIES compiles) and prints those that fix it, with
 * their effect; the others only under --verbose. */
static int print_checked_fixes(const CompileOptions *o, const DevProblem *p, const AdviceFigures *before,
                               int verbose) {
    int tries = 0, shown = 0;
    AdviceChange shown_fixes[DEV_MAX_FIXES];
    for (int i = 0; i < p->n_fixes && tries < ADVICE_MAX_TRIES; i++) {
        AdviceChange ch = p->fixes[i];
        AdviceFigures after;
        char what[4 * ADVICE_SET_MAX], effect[256];
        int compiled = 0, ok;
        const char *skip = redundant(&ch, shown_fixes, shown);
        if (skip) {
            advice_change_str(&ch, what, sizeof what);
            if (verbose) fprintf(stderr, "  dropped: %s: %s\n", what, skip);
            continue;
        }
        if (ch.max_seq > 0 && !ch.device[0]) {
            ok = search_max_seq(o, p, before, &ch, &after, &compiled, &tries);
        } else {
            tries++;
            ok = try_fix(o, p, before, &ch, &after, &compiled);
        }
        advice_change_str(&ch, what, sizeof what);
        if (ok) {
            effect_str(p, before, &after, effect, sizeof effect);
            fprintf(stderr, "  suggestion: %s: %s\n", what, effect);
            shown_fixes[shown++] = ch;
        } else if (verbose) {
            if (!compiled) snprintf(effect, sizeof effect, "the spec does not compile with it");
            else if (advice_same(before, &after)) snprintf(effect, sizeof effect, "already in effect");
            else effect_str(p, before, &after, effect, sizeof effect);
            fprintf(stderr, "  dropped: %s: %s\n", what, effect);
        }
    }
    if (!shown)
        fprintf(stderr, "  suggestion: none of the %d change%s tried fixes it%s\n", tries, tries == 1 ? "" : "s",
                verbose || !tries ? "" : " (--verbose lists them)");
    return shown;
}

/* The device-memory problems, each with the fixes that were tried and work. The pass reported
 * them, merged, as diagnostics dm[0] .. dm[1] - 1 in the same order: their severity is its. */
static void print_device_problems(const CompileOptions *o, Compilation *c, const int dm[2], int verbose) {
    DevProblems ps;
    AdviceFigures before;
    advice_figures_of(c, &before);
    if (dev_memory_problems(&c->graph, &c->hw, 0, &ps) != 0) {
        fprintf(stderr, "error: out of memory while checking the suggestions\n");
        dev_problems_free(&ps);
        return;
    }
    for (int i = 0, k = dm[0]; i < ps.n; i++) {
        const DevProblem *p = &ps.v[i];
        if (!p->count) continue;
        int error = k < dm[1] ? c->diags.v[k++].severity == DIAG_ERROR : !p->dram;
        fprintf(stderr, "%s: %s (%s): %s\n", error ? "error" : "warning", p->who, p->modes, p->text);
        print_checked_fixes(o, p, &before, verbose);
    }
    dev_problems_free(&ps);
}

int cmd_check(const CliCommand *cmd, const CliArgs *a) {
    CompileOptions o;
    if (cli_compile_options(cmd, a, &o)) return 1;
    int verbose = o.verbose;
    o.verbose = 0; /* the passes' own --verbose output is ttc compile's */
    Compilation c;
    int dm[2] = {-1, -1};
    int rc = advice_compile(&o, &c, dm);
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
    if (dm[1] > dm[0] && !internal) print_device_problems(&o, &c, dm, verbose);
    (void)rc;
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
    "SPEC.yaml [--hw HW.yaml]... [--set PATH=VALUE]... [--batch N] [--seq N] [--max-seq N]",
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
