/* count_str.c: counts for humans (see count_str.h). */
#include "count_str.h"

#include <stdio.h>

/* A unit: its letter, its size, how many decimals it shows. Billions keep two decimals so that
 * 8B-class models still tell 8.03B from 8.00B. */
typedef struct CountUnit {
    char letter;
    int64_t size;
    int decimals;
} CountUnit;

static const CountUnit count_units[] = {{'K', 1000, 1}, {'M', 1000000, 1}, {'B', 1000000000, 2}};
enum { N_COUNT_UNITS = sizeof count_units / sizeof count_units[0] };

char *ttc_count_str(int64_t n, char *buf, size_t cap) {
    if (n < 1000) {
        snprintf(buf, cap, "%lld", (long long)n);
        return buf;
    }
    /* In integers, so that a count exactly halfway (999950 = 999.95K) rounds the same on every
     * machine: r is n in units of 10^-decimals of the unit, rounded half up. */
    for (int u = 0; u < N_COUNT_UNITS; u++) {
        const CountUnit *c = &count_units[u];
        int64_t scale = 1;
        for (int d = 0; d < c->decimals; d++) scale *= 10;
        int64_t step = c->size / scale, r = n / step + (n % step >= (step + 1) / 2);
        if (r < 1000 * scale || u == N_COUNT_UNITS - 1) {
            snprintf(buf, cap, "%lld.%0*lld%c", (long long)(r / scale), c->decimals, (long long)(r % scale), c->letter);
            return buf;
        }
    }
    return buf; /* not reached: the last unit always prints */
}
