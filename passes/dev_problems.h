/* dev_problems.h: what the `device-memory` pass found not to fit, collected per module and mode,
 * then reported merged: the same problem in every layer (layer_0.ffn ... layer_31.ffn, equal
 * but for the layer number) and in both modes becomes one message about 'layer_*.ffn' in
 * (prefill, decode), whose suggestion (--set layer_*.ffn.memory=dram) then fixes all of them. */
#ifndef TTC_DEV_PROBLEMS_H
#define TTC_DEV_PROBLEMS_H

#include "advice_change.h"
#include "diag.h"
#include "hw.h"
#include "ir.h"

#define DEV_MAX_FIXES 8

typedef struct DevProblem {
    int entry_mask;    /* entry points it occurs in */
    int dram;          /* DRAM per chip (1) or L1 per core (0): problems of one kind merge */
    char module[TTC_NAME_MAX]; /* "" for the whole model */
    char *text, *hint; /* after "module 'M' (mode): " */
    int count;         /* 0 once merged into an earlier problem */
    /* The changes that may fix it, each to be tried before it is suggested (compiler/advice.c);
     * the hint says the same in words. Merged problems name modules as globs (layer_*.ffn). */
    AdviceChange fixes[DEV_MAX_FIXES];
    int n_fixes;
    char who[3 * TTC_NAME_MAX + 64]; /* after dev_problems_merge: "module 'layer_*.ffn' (32 of them, ...)" */
    char modes[64];                  /* after dev_problems_merge: "prefill, decode" */
} DevProblem;

typedef struct DevProblems {
    DevProblem *v;
    int n, cap;
    int oom; /* a problem could not be recorded: the pass must fail rather than pass silently */
} DevProblems;

/* Records a problem of module `module` ("" = the model) in entry point `entry`; returns it (to
 * attach fixes) or NULL when out of memory (then ps->oom is set). */
DevProblem *dev_problem_add(DevProblems *ps, int entry, int dram, const char *module, const char *text,
                            const char *hint);
/* Adds a candidate fix to p (ignored beyond DEV_MAX_FIXES). */
AdviceChange *dev_problem_fix(DevProblem *p);
/* Merges problems that differ only in the layer number (and then in the mode): the first of each
 * group keeps count > 0, generic texts, fixes, `who` and `modes`; the others get count 0. */
void dev_problems_merge(const Graph *g, DevProblems *ps);
/* Merges, then reports every problem in `d` with its suggestion as hint: as an error (the plan
 * does not fit), or as a warning when `as_warnings` (--allow-misfit). */
void dev_problems_report(const Graph *g, DevProblems *ps, int as_warnings, Diags *d);
/* What the device-memory pass finds, merged, without reporting it (for `ttc check`, which tries
 * each fix before it prints it). Also sets the entries' L1 and DRAM peaks. 0, or -1 when out of
 * memory. Free ps with dev_problems_free. */
int dev_memory_problems(Graph *g, const HwConfig *hw, int verbose, DevProblems *ps);
void dev_problems_free(DevProblems *ps);

#endif
