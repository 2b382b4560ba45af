/* compare.c: PCC and max abs error. */
#include "compare.h"

#include <math.h>

TtcCompare ttc_compare(const float *a, const float *b, int64_t n) {
    TtcCompare c = {1.0, 0.0};
    double ma = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(d)) d = INFINITY;
        if (d > c.max_abs) c.max_abs = d;
    }
    if (n == 0) return c;
    if (isinf(c.max_abs)) {
        c.pcc = 0.0;
        return c;
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++) {
        double da = a[i] - ma, db = b[i] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    /* Constant data has no correlation to speak of: call it a match only when it is the same. */
    if (saa == 0 || sbb == 0)
        c.pcc = c.max_abs == 0 ? 1.0 : 0.0;
    else
        c.pcc = sab / sqrt(saa * sbb);
    return c;
}
