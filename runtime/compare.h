/* compare.h: how ttc compares tensors (tests, `ttc run --check`): Pearson correlation (PCC) and
 * max absolute error, computed in double. */
#ifndef TTC_COMPARE_H
#define TTC_COMPARE_H

#include <stdint.h>

typedef struct TtcCompare {
    double pcc;     /* 1.0 for identical data (also when both are constant and equal) */
    double max_abs; /* INFINITY when either side has a NaN */
} TtcCompare;

TtcCompare ttc_compare(const float *a, const float *b, int64_t n);

#endif
