/* count_str.h: counts for humans (parameters, elements): "999", "20.5K", "110.0M", "8.03B". */
#ifndef TTC_COUNT_STR_H
#define TTC_COUNT_STR_H

#include <stddef.h>
#include <stdint.h>

/* Writes n into buf (cap bytes) and returns buf: below 1000 as it is; else in thousands (K) or
 * millions (M) with one decimal, or billions (B) with two, rounded half up, in the smallest unit
 * whose rounded value stays below 1000 (999950 is "1.0M", not "1000.0K"). Negative n prints as
 * a plain number. */
char *ttc_count_str(int64_t n, char *buf, size_t cap);

#endif
