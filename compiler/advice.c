/* advice.c: trying a suggested change by recompiling in memory (advice.h). */
#include "advice.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dev_layout.h"
#include "dev_problems.h"

/* Passes whose failure only reports (the graph stays whole): the compile goes on after them, so
 * that the figures of a plan that does not fit still exist. */
static int reporting_only(PassId p) { return p == PASS_PRECISION || p == PASS_DEVICE_MEMORY; }

static const PassFn pass_fns[PASS_COUNT] = {
#define PASS(id, name, fn, summary) [PASS_##id] = fn,
#include "passes.def"
#undef PASS
};

static int disabled(const CompileOptions *o, PassId p) {
    for (int i = 0; i < o->n_disabled; i++)
        if (o->disabled[i] == (int)p) return 1;
    return 0;
}

/* compile_spec up to `verify` (which stops at the first error, right for compiling), then the
 * rest of the default pipeline one pass at a time, going on after a reporting-only failure. */
int advice_compile(const CompileOptions *o, Compilation *c, int dm_diags[2]) {
    CompileOptions front = *o;
    front.stop_after = PASS_VERIFY;
    int rc = compile_spec(&front, c);
    if (rc != 0) return rc;
    PassCtx cx = {.diags = &c->diags, .hw = &c->hw, .verbose = o->verbose};
    int after_verify = 0;
    for (int i = 0; i < pass_default_pipeline_len; i++) {
        PassId p = pass_default_pipeline[i];
        if (!after_verify) {
            after_verify = p == PASS_VERIFY;
            continue;
        }
        if (disabled(o, p)) continue;
        if (dm_diags && p == PASS_DEVICE_MEMORY) dm_diags[0] = c->diags.n;
        int failed = pass_fns[p](&c->graph, &cx) != 0;
        if (dm_diags && p == PASS_DEVICE_MEMORY) dm_diags[1] = c->diags.n;
        if (failed && !reporting_only(p)) return 1;
    }
    return 0;
}

void advice_figures_of(const CompileOptions *o, Compilation *c, int rc, AdviceFigures *f) {
    memset(f, 0, sizeof *f);
    f->errors = c->diags.n_errors;
    f->max_seq = o->max_seq;
    if (rc != 0 || !c->have_hw || !c->have_graph) return;
    f->compiled = 1;
    f->l1_bytes = c->hw.device.l1_bytes;
    f->dram_bytes = c->hw.device.dram_bytes;
    snprintf(f->device, sizeof f->device, "%s", c->hw.device.name);
    f->n_entries = c->graph.n_entries < TTC_MAX_ENTRIES ? c->graph.n_entries : TTC_MAX_ENTRIES;
    for (int e = 0; e < f->n_entries; e++) {
        const TtcEntry *en = &c->graph.entries[e];
        snprintf(f->entry[e], sizeof f->entry[e], "%s", en->name);
        f->ms[e] = en->clock_khz ? (double)en->device_cycles / (double)en->clock_khz : 0.0;
        f->l1[e] = en->l1_peak_bytes;
        f->dram[e] = en->dram_peak_bytes;
    }
    DevProblems ps;
    if (dev_memory_problems(&c->graph, &c->hw, 0, &ps) == 0)
        for (int i = 0; i < ps.n; i++)
            if (ps.v[i].count && !ps.v[i].dram && f->n_l1_misfits < ADVICE_MAX_MISFITS)
                snprintf(f->l1_misfit[f->n_l1_misfits++], TTC_NAME_MAX, "%s", ps.v[i].module);
    dev_problems_free(&ps);
}

int advice_measure(const CompileOptions *o, AdviceFigures *f) {
    Compilation c;
    int rc = advice_compile(o, &c, NULL);
    advice_figures_of(o, &c, rc, f);
    compile_free(&c);
    return rc;
}

int advice_try(const CompileOptions *base, const AdviceChange *ch, AdviceFigures *after) {
    const char *sets[64 + ADVICE_MAX_SETS + 1];
    int n = 0;
    if (base->n_sets > 64) return 2;
    for (int i = 0; i < base->n_sets; i++) sets[n++] = base->sets[i];
    char device_set[96];
    if (ch->device[0]) {
        snprintf(device_set, sizeof device_set, "device=%s", ch->device);
        sets[n++] = device_set; /* last: beats any overlay's device */
    }
    for (int i = 0; i < ch->n_sets; i++) sets[n++] = ch->sets[i];
    CompileOptions o = *base;
    o.sets = sets;
    o.n_sets = n;
    o.verbose = 0;
    o.time_passes = 0;
    if (ch->max_seq > 0) o.max_seq = ch->max_seq;
    int rc = advice_measure(&o, after);
    after->max_seq = o.max_seq;
    return rc;
}

int advice_l1_fits(const AdviceFigures *f) { return f->compiled && advice_l1_peak(f) <= f->l1_bytes; }
int advice_dram_fits(const AdviceFigures *f) { return f->compiled && advice_dram_peak(f) <= f->dram_bytes; }

int advice_l1_fits_module(const AdviceFigures *f, const char *module) {
    if (!f->compiled) return 0;
    for (int i = 0; i < f->n_l1_misfits; i++)
        if (strcmp(f->l1_misfit[i], module) == 0) return 0;
    return f->n_l1_misfits < ADVICE_MAX_MISFITS;
}

int64_t advice_l1_peak(const AdviceFigures *f) {
    int64_t m = 0;
    for (int e = 0; e < f->n_entries; e++) m = f->l1[e] > m ? f->l1[e] : m;
    return m;
}

int64_t advice_dram_peak(const AdviceFigures *f) {
    int64_t m = 0;
    for (int e = 0; e < f->n_entries; e++) m = f->dram[e] > m ? f->dram[e] : m;
    return m;
}

int advice_same(const AdviceFigures *a, const AdviceFigures *b) {
    if (a->n_entries != b->n_entries || strcmp(a->device, b->device) != 0) return 0;
    for (int e = 0; e < a->n_entries; e++)
        if (a->ms[e] != b->ms[e] || a->l1[e] != b->l1[e] || a->dram[e] != b->dram[e]) return 0;
    return 1;
}

int advice_change_set(AdviceChange *ch, const char *fmt, ...) {
    if (ch->n_sets >= ADVICE_MAX_SETS) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ch->sets[ch->n_sets++], ADVICE_SET_MAX, fmt, ap);
    va_end(ap);
    return 0;
}

void advice_change_str(const AdviceChange *ch, char *buf, size_t n) {
    size_t at = 0;
    buf[0] = 0;
#define ADD(...) (at += (size_t)snprintf(buf + at, at < n ? n - at : 0, __VA_ARGS__), at = at < n ? at : n)
    if (ch->device[0]) ADD("device: %s in an overlay (or --set device=%s)", ch->device, ch->device);
    if (ch->max_seq > 0) ADD("%s--max-seq %lld", at ? " " : "", (long long)ch->max_seq);
    for (int i = 0; i < ch->n_sets; i++) ADD("%s--set %s", at ? " " : "", ch->sets[i]);
    if (ch->note[0]) ADD(" (%s)", ch->note);
#undef ADD
}

/* " (12884372480 of 12884901888 bytes)" when the need and the capacity print alike, else "". */
static void exact(int64_t need, int64_t cap, const char *need_s, const char *cap_s, char *buf, size_t n) {
    buf[0] = 0;
    if (strcmp(need_s, cap_s) == 0) snprintf(buf, n, " (%lld of %lld bytes)", (long long)need, (long long)cap);
}

void advice_dram_effect(const AdviceFigures *a, const AdviceFigures *b, char *buf, size_t n) {
    char x[32], y[32], cap[32], e[64];
    dev_bytes_pair_str(advice_dram_peak(a), advice_dram_peak(b), x, y, sizeof x);
    dev_bytes_str(b->dram_bytes, cap, sizeof cap);
    exact(advice_dram_peak(b), b->dram_bytes, y, cap, e, sizeof e);
    snprintf(buf, n, "DRAM %s → %s per chip of %s%s%s%s: %s", x, y, cap, e, strcmp(a->device, b->device) ? " on " : "",
             strcmp(a->device, b->device) ? b->device : "", advice_dram_fits(b) ? "fits" : "still does not fit");
}

void advice_l1_effect(const AdviceFigures *a, const AdviceFigures *b, char *buf, size_t n) {
    char x[32], y[32], cap[32], e[64];
    dev_bytes_pair_str(advice_l1_peak(a), advice_l1_peak(b), x, y, sizeof x);
    dev_bytes_str(b->l1_bytes, cap, sizeof cap);
    exact(advice_l1_peak(b), b->l1_bytes, y, cap, e, sizeof e);
    snprintf(buf, n, "L1 %s → %s per core of %s%s: %s", x, y, cap, e, advice_l1_fits(b) ? "fits" : "still does not fit");
}

double advice_entry_ms(const AdviceFigures *b, const char *entry) {
    for (int e = 0; e < b->n_entries; e++)
        if (strcmp(b->entry[e], entry) == 0) return b->ms[e];
    return -1;
}

void advice_time_effect(const AdviceFigures *a, const AdviceFigures *b, int e, char *buf, size_t n) {
    double after = advice_entry_ms(b, a->entry[e]);
    /* As many decimals as it takes for a change to show (small models run in microseconds). */
    int digits = a->ms[e] < 1 || after < 1 ? 3 : 1;
    char x[32], y[32];
    do {
        snprintf(x, sizeof x, "%.*f", digits, a->ms[e]);
        snprintf(y, sizeof y, "%.*f", digits, after);
    } while (strcmp(x, y) == 0 && a->ms[e] != after && ++digits <= 6);
    snprintf(buf, n, "%s %s → %s ms per step", a->entry[e], x, y);
}
