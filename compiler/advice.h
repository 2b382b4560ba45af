/* advice.h: suggestions that are checked before they are given. A suggestion is a change to the
 * compile inputs (--set items, a --max-seq, a device); advice_try recompiles the spec in memory
 * with the change applied and measures what it does, so that `ttc check` and `ttc profile`
 * print only what fixes or improves something, with the figures before and after.
 *
 *   AdviceFigures before, after;
 *   advice_measure(&opts, &before);
 *   AdviceChange ch = {0}; advice_change_set(&ch, "layer_*.ffn.memory=dram");
 *   if (advice_try(&opts, &ch, &after) == 0 && advice_fits(&after) && !advice_fits(&before)) ...
 *
 * Compiling an 8B spec takes milliseconds (--time-passes), so a few candidates per problem are
 * cheap; callers cap them at ADVICE_MAX_TRIES. */
#ifndef TTC_ADVICE_H
#define TTC_ADVICE_H

#include <stddef.h>
#include <stdint.h>

#include "advice_change.h"
#include "compile.h"

#define ADVICE_MAX_TRIES 16 /* compiles per problem: its candidates (at most 8), a --max-seq searched down */
#define ADVICE_MAX_MISFITS 32

/* What a compile gives, per entry point (mode), at the plan's bounds. */
typedef struct AdviceFigures {
    int compiled; /* the spec loaded, lowered and went through every pass that must succeed */
    int errors;   /* error diagnostics of the compile (L1 misfits, bad --set, ...) */
    int n_entries;
    char entry[TTC_MAX_ENTRIES][16];
    double ms[TTC_MAX_ENTRIES];        /* estimated device time per step */
    int64_t l1[TTC_MAX_ENTRIES];       /* peak L1 per core */
    int64_t dram[TTC_MAX_ENTRIES];     /* peak DRAM per chip */
    int64_t l1_bytes, dram_bytes;      /* the device's */
    char device[64];
    int64_t max_seq;                   /* the context the plan was compiled for */
    /* What the device-memory pass still finds: modules (as merged, "" = the model) whose L1
     * does not fit (the first ADVICE_MAX_MISFITS), and whether DRAM does not. */
    char l1_misfit[ADVICE_MAX_MISFITS][TTC_NAME_MAX];
    int n_l1_misfits;
} AdviceFigures;

/* Compiles `o` as `ttc check` does (every reporting pass runs, so the figures exist even when
 * something does not fit). `c` gets the compilation (free with compile_free). 0, or the status.
 * dm_diags (may be NULL) gets the range [first, end) of c->diags the device-memory pass added. */
int advice_compile(const CompileOptions *o, Compilation *c, int dm_diags[2]);
/* The figures of compilation c, made by advice_compile(o, c, ...) with result rc (none but the
 * error count when it failed). */
void advice_figures_of(const CompileOptions *o, Compilation *c, int rc, AdviceFigures *f);
/* advice_compile + advice_figures_of, diagnostics dropped. 0 when it compiled. */
int advice_measure(const CompileOptions *o, AdviceFigures *f);
/* Recompiles `base` with `ch` applied and measures it into *after. 0 when it compiled. */
int advice_try(const CompileOptions *base, const AdviceChange *ch, AdviceFigures *after);

int advice_l1_fits(const AdviceFigures *f);
/* Module `module` (as a merged problem names it) has no L1 problem left in f. */
int advice_l1_fits_module(const AdviceFigures *f, const char *module);
int advice_dram_fits(const AdviceFigures *f);
/* Peak over entries. */
int64_t advice_l1_peak(const AdviceFigures *f);
int64_t advice_dram_peak(const AdviceFigures *f);
/* The two compiles are the same on every figure (the change was already in effect). */
int advice_same(const AdviceFigures *a, const AdviceFigures *b);

/* "--set a=b --set c=d", "--max-seq 4096", "device: wormhole_n300 in an overlay (--set device=...)". */
void advice_change_str(const AdviceChange *ch, char *buf, size_t n);
/* Effects as text: "DRAM 15.7 GiB -> 10.2 GiB per chip of 12.0 GiB: fits" and the like. */
void advice_dram_effect(const AdviceFigures *a, const AdviceFigures *b, char *buf, size_t n);
void advice_l1_effect(const AdviceFigures *a, const AdviceFigures *b, char *buf, size_t n);
/* "decode 50.4 -> 31.2 ms per step" for entry e (matched by name in b). */
void advice_time_effect(const AdviceFigures *a, const AdviceFigures *b, int e, char *buf, size_t n);
/* Entry e's time in b (by name), or -1. */
double advice_entry_ms(const AdviceFigures *b, const char *entry);

#endif
