/* profile_check.c: the checker behind `ttc profile`'s suggestions (runtime/profile.h's
 * TtcSuggestionCheck). The plan's SRCE chunk says how it was compiled; the checker recompiles
 * that in memory with each suggested change (compiler/advice.c) and lets the report show only
 * what lowers the estimate, with the figures. When the spec is gone or no longer gives this
 * plan, nothing can be checked and the report shows no suggestion. */
#include "profile_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The plan's estimate of entry e, in ms per step. */
static double plan_ms(const TtcPlan *p, int e) {
    const TtcEntry *en = &p->entries[e];
    return en->clock_khz ? (double)en->device_cycles / (double)en->clock_khz : 0.0;
}

/* Fills pc->o from the SRCE items; 0, or -1 with the reason in pc->why. */
static int options_from_source(ProfileChecker *pc, const TtcPlan *p) {
    CompileOptions *o = &pc->o;
    compile_options_init(o);
    const char *spec = NULL, *spec_abs = NULL;
    for (int i = 0; i < p->n_source; i++) {
        const char *v;
        int64_t *size = NULL;
        if ((v = ttc_plan_source_value(p, i, "spec"))) spec = v;
        else if ((v = ttc_plan_source_value(p, i, "spec_abs"))) spec_abs = v;
        else if ((v = ttc_plan_source_value(p, i, "hw")) && o->n_hw < PROFILE_CHECK_MAX_ITEMS) pc->hw[o->n_hw++] = v;
        else if ((v = ttc_plan_source_value(p, i, "set")) && o->n_sets < PROFILE_CHECK_MAX_ITEMS)
            pc->sets[o->n_sets++] = v;
        else if ((v = ttc_plan_source_value(p, i, "batch"))) size = &o->batch;
        else if ((v = ttc_plan_source_value(p, i, "seq"))) size = &o->seq;
        else if ((v = ttc_plan_source_value(p, i, "max_seq"))) size = &o->max_seq;
        else if ((v = ttc_plan_source_value(p, i, "disable_pass")) && o->n_disabled < PASS_COUNT &&
                 pass_from_name(v) >= 0)
            o->disabled[o->n_disabled++] = pass_from_name(v);
        else {
            snprintf(pc->why, sizeof pc->why, "the plan records a compile input this ttc does not know ('%.60s')",
                     p->source[i]);
            return -1;
        }
        char *end = NULL;
        if (size && ((*size = strtoll(v, &end, 10)) <= 0 || *end)) {
            snprintf(pc->why, sizeof pc->why, "the plan records a bad size '%.60s'", p->source[i]);
            return -1;
        }
    }
    if (!spec && !spec_abs) {
        snprintf(pc->why, sizeof pc->why, "the plan does not record its spec (compiled by an older ttc)");
        return -1;
    }
    /* As given when it is there from here (a plan moved with its spec), else where it was. */
    o->spec = spec && access(spec, R_OK) == 0 ? spec : spec_abs && access(spec_abs, R_OK) == 0 ? spec_abs : NULL;
    if (!o->spec) {
        snprintf(pc->why, sizeof pc->why, "its spec %s is not found", spec_abs ? spec_abs : spec);
        return -1;
    }
    for (int i = 0; i < o->n_hw; i++)
        if (access(pc->hw[i], R_OK) != 0) {
            snprintf(pc->why, sizeof pc->why, "its overlay %s is not found", pc->hw[i]);
            return -1;
        }
    o->hw = pc->hw;
    o->sets = pc->sets;
    return 0;
}

int profile_checker_init(ProfileChecker *pc, const TtcPlan *p, int verbose) {
    memset(pc, 0, sizeof *pc);
    pc->verbose = verbose;
    if (options_from_source(pc, p) != 0) return -1;
    if (advice_measure(&pc->o, &pc->base) != 0 || !pc->base.compiled) {
        snprintf(pc->why, sizeof pc->why, "its spec %s no longer compiles with the recorded options", pc->o.spec);
        return -1;
    }
    /* The recompile must give this plan's estimates, or every comparison would be against
     * another plan. */
    for (int e = 0; e < p->n_entries; e++) {
        double want = plan_ms(p, e), got = advice_entry_ms(&pc->base, p->entries[e].name);
        if (fabs(got - want) > 1e-9 * (want > 1 ? want : 1)) {
            snprintf(pc->why, sizeof pc->why, "its spec %s now gives other estimates (%s %.3f ms, the plan %.3f ms): "
                     "it changed since", pc->o.spec, p->entries[e].name, got, want);
            return -1;
        }
    }
    pc->ok = 1;
    return 0;
}

int profile_check_suggestion(void *user, const TtcPlan *p, int entry, const TtcSuggestion *s, const char *device,
                             char *effect, size_t n) {
    ProfileChecker *pc = user;
    AdviceChange ch;
    memset(&ch, 0, sizeof ch);
    if (device) snprintf(ch.device, sizeof ch.device, "%s", device);
    else advice_change_set(&ch, "%s.%s=%s", s->module, s->key, s->value);
    AdviceFigures after;
    if (!pc->ok || entry < 0 || entry >= pc->base.n_entries) {
        snprintf(effect, n, "cannot be checked");
        return 0;
    }
    if (advice_try(&pc->o, &ch, &after) != 0 || !after.compiled) {
        snprintf(effect, n, "the spec does not compile with it");
        return 0;
    }
    if (advice_same(&pc->base, &after)) {
        snprintf(effect, n, "already in effect: the plan does not change");
        return 0;
    }
    advice_time_effect(&pc->base, &after, entry, effect, n);
    double before = pc->base.ms[entry], now = advice_entry_ms(&after, p->entries[entry].name);
    /* Against the plan as it is: one compiled with --allow-misfit already has errors. */
    if (after.errors > pc->base.errors && advice_l1_fits(&after) == advice_l1_fits(&pc->base) &&
        advice_dram_fits(&after) == advice_dram_fits(&pc->base)) {
        ttc_str_append(effect, n, ", but the compile reports errors with it (ttc check)");
        return 0;
    }
    if (advice_l1_fits(&pc->base) && !advice_l1_fits(&after)) {
        ttc_str_append(effect, n, ", but L1 no longer fits (ttc check)");
        return 0;
    }
    if (advice_dram_fits(&pc->base) && !advice_dram_fits(&after)) {
        ttc_str_append(effect, n, ", but DRAM no longer fits (ttc check)");
        return 0;
    }
    if (now < 0 || now >= before) {
        ttc_str_append(effect, n, ": no faster");
        return 0;
    }
    /* The other modes, when the change slows them down. */
    for (int e = 0; e < pc->base.n_entries; e++) {
        double other = advice_entry_ms(&after, pc->base.entry[e]);
        if (e == entry || other <= pc->base.ms[e]) continue;
        char more[96];
        advice_time_effect(&pc->base, &after, e, more, sizeof more);
        ttc_str_append(effect, n, " (%s)", more);
    }
    return 1;
}
