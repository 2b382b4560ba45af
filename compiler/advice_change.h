/* advice_change.h: one candidate change to a compilation's inputs, as a suggestion carries it
 * (the device-memory pass proposes them, compiler/advice.c tries them). Plain data, so that a
 * pass can fill one without depending on the compile driver. */
#ifndef TTC_ADVICE_CHANGE_H
#define TTC_ADVICE_CHANGE_H

#include <stdint.h>

#define ADVICE_MAX_SETS 6
#define ADVICE_SET_MAX 160

/* One candidate change: every part given is applied together. */
typedef struct AdviceChange {
    char sets[ADVICE_MAX_SETS][ADVICE_SET_MAX]; /* "layer_*.ffn.memory=dram", as after --set */
    int n_sets;
    int64_t max_seq; /* > 0: recompile with this --max-seq */
    char device[64]; /* "": the same device; else an overlay's `device: NAME` */
    char note[160];  /* what it does, in words: "the weights then stream from DRAM" ("" for none) */
} AdviceChange;

/* Adds one --set item (0, or -1 when full). */
int advice_change_set(AdviceChange *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
