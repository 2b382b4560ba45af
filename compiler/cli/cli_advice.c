/* cli_advice.c: the device-memory problems as every command prints them (cli_advice.h): each
 * with the fixes that were tried by recompiling (compiler/advice.c) and work, and their effect. */
#include "cli_advice.h"

#include <stdio.h>
#include <string.h>

#include "dev_problems.h"

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

void cli_print_device_problems(const CompileOptions *o, Compilation *c, const int dm[2], const AdviceFigures *before,
                               int verbose) {
    DevProblems ps;
    AdviceFigures measured;
    if (!before) { /* measured like every candidate (the whole pipeline), whatever stage `c` stopped at */
        advice_measure(o, &measured);
        before = &measured;
    }
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
        print_checked_fixes(o, p, before, verbose);
    }
    dev_problems_free(&ps);
}

