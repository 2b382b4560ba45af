/* dev_problems.h: what the `device-memory` pass found not to fit, collected per module and mode,
 * then reported merged: the same problem in every layer (layer_0.ffn ... layer_31.ffn, equal
 * but for the layer number) and in both modes becomes one message about 'layer_*.ffn' in
 * (prefill, decode), whose suggestion (--set layer_*.ffn.memory=dram) then fixes all of them. */
#ifndef TTC_DEV_PROBLEMS_H
#define TTC_DEV_PROBLEMS_H

#include "diag.h"
#include "ir.h"

typedef struct DevProblem {
    int entry_mask;    /* entry points it occurs in */
    int dram;          /* DRAM per chip (1) or L1 per core (0): problems of one kind merge */
    char module[TTC_NAME_MAX]; /* "" for the whole model */
    char *text, *hint; /* after "module 'M' (mode): " */
    int count;         /* 0 once merged into an earlier problem */
} DevProblem;

typedef struct DevProblems {
    DevProblem *v;
    int n, cap;
    int oom; /* a problem could not be recorded: the pass must fail rather than pass silently */
} DevProblems;

/* Records a problem of module `module` ("" = the model) in entry point `entry`. */
void dev_problem_add(DevProblems *ps, int entry, int dram, const char *module, const char *text, const char *hint);
/* Merges and reports every problem in `d` with its suggestion as hint: as an error (the plan
 * does not fit), or as a warning when `as_warnings` (--allow-misfit). */
void dev_problems_report(const Graph *g, DevProblems *ps, int as_warnings, Diags *d);
void dev_problems_free(DevProblems *ps);

#endif
