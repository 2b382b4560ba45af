/* profile.h: what `ttc profile` reports about one run of a plan: per op, per module and per op
 * kind, the emulated device time (the plan's COST chunk: the cost model of DEVICE.md §6) next to
 * the host time the emulator actually spent; the bottlenecks with the configuration change to
 * try for each; and a Chrome/Perfetto trace of both.
 *
 *   TtcProfile pf;  ttc_profile_init(&pf, &m.plan, samples_per_op, &err);
 *   TtcRunOptions ro = {.on_op = ttc_profile_on_op, .user = &pf};   // then run the plan
 *   ttc_profile_finish(&pf);                 // per-op median host times
 *   ttc_profile_report(stdout, &pf, entry, top);
 *   ttc_profile_write_trace(&pf, "trace.json", &err);
 *
 * Host times are collected through the executor's per-op hook, so the figures are the kernels'
 * own time, without the executor's bookkeeping between ops. */
#ifndef TTC_PROFILE_H
#define TTC_PROFILE_H

#include <stdio.h>

#include "plan.h"
#include "ttc_runtime.h"

typedef struct TtcSuggestion TtcSuggestion;

/* Checks a suggestion before it is shown: the CLI recompiles the plan's spec with the change (the
 * --set of s, or with `device` non-NULL the overlay's device instead) and compares the estimates.
 * Returns 1 when it helps entry `entry`, with its effect in `effect` ("decode 50.4 → 31.2 ms per
 * step"); 0 when it does not, with why in `effect`. The runtime never compiles: this is how the
 * report gets checked suggestions without depending on the compiler. */
typedef int (*TtcSuggestionCheck)(void *user, const TtcPlan *p, int entry, const TtcSuggestion *s,
                                  const char *device, char *effect, size_t n);

typedef struct TtcProfile {
    const TtcPlan *plan;
    int per_op_cost; /* the plan carries per-op device estimates (op_costs) */
    int cap;         /* host samples an op may hold */
    double *samples; /* [n_ops][cap] host ms, as the hook delivered them */
    int *n_samples;  /* per op */
    double *host_ms; /* per op: the median of its samples (after ttc_profile_finish), 0 when it never ran */
    int ran[TTC_MAX_ENTRIES]; /* entries whose ops ran at least once */
    int runs[TTC_MAX_ENTRIES]; /* samples per op of each entry (repeats x steps), for the report */
    /* Set by the caller before ttc_profile_report: every suggestion goes through `check` and only
     * those that help are printed (with `verbose`, the dropped ones too, with why). NULL: no
     * suggestion is printed (they could not be checked). */
    TtcSuggestionCheck check;
    void *check_user;
    int verbose;
} TtcProfile;

/* Room for `samples_per_op` host timings per op (repeats, times decode steps for decode ops). */
TtcStatus ttc_profile_init(TtcProfile *pf, const TtcPlan *p, int samples_per_op, TtcError *err);
/* The TtcOpHook: `user` is the TtcProfile. Samples beyond the room are dropped. */
void ttc_profile_on_op(void *user, int op, const RtTensor *out, double ms);
void ttc_profile_finish(TtcProfile *pf);
void ttc_profile_free(TtcProfile *pf);

/* The module an op belongs to, from its path: the path without its last component
 * ("layer_3.ffn.up" -> "layer_3.ffn", "embedding.word" -> "embedding"), except that a path of a
 * repeated layer and one name is a module of its own ("layer_3.attention_norm"), as is a
 * one-component path ("lm_head"). */
void ttc_profile_module(const char *op_path, char *buf, size_t n);
/* The glob that names a module in every repeated layer: each component ending in "_<digits>"
 * gets "*" for the digits ("layer_3.ffn" -> "layer_*.ffn"); other paths are returned as given. */
void ttc_profile_pattern(const char *path, char *buf, size_t n);
/* Estimated device microseconds of `cycles` in entry `e`; 0 without a clock. */
double ttc_profile_device_us(const TtcPlan *p, int e, int64_t cycles);

/* A configuration change for an op (or, with `note` set, an observation without one). */
struct TtcSuggestion {
    char module[TTC_NAME_MAX]; /* the module path the change binds to, as a glob over layers */
    char key[32];              /* overlay key under modules: "weight_dtype"; "" for none */
    char value[32];            /* "bfp8" */
    char why[256];             /* what it changes in the cost model */
    char caveat[256];          /* what it may cost (accuracy), "" for nothing */
    char devices[2][32];       /* alternatives --set of a key cannot make: an overlay's `device:` ("" none) */
};

/* The change to try for op `k` given its kind, configuration and binding bound; 0 when the op has
 * no device estimate or nothing in its configuration would make it cheaper (the text in
 * s->why then says why). */
int ttc_profile_suggest(const TtcPlan *p, int k, TtcSuggestion *s);

/* Prints the tables and bottlenecks of entry `e`; `top` > 0 keeps that many rows of each table
 * (the rest summed in one row, so that every table adds up to the entry's total), 0 all. */
void ttc_profile_report(FILE *f, const TtcProfile *pf, int e, int top, int n_bottlenecks);

/* Chrome trace event format: per entry that ran, one "X" event per op on a device track
 * (estimated, when the plan has per-op costs) and one on a host track (median host time), laid
 * back to back; the op path as the name, kind/bound/config/cycles as args. Written atomically. */
TtcStatus ttc_profile_write_trace(const TtcProfile *pf, const char *path, TtcError *err);

/* "a=bf16 w=bfp8 HiFi2 fp32acc dram": the parts of op k's configuration that matter for its kind. */
void ttc_profile_config_str(const TtcPlan *p, int k, char *buf, size_t n);

#endif
