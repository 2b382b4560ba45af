/* test_live_index.c: LiveIndex (passes/live_index.c) finds what a scan of every slot finds. */
#include <stdlib.h>

#include "live_index.h"
#include "unit.h"

/* The lowest slot in [from, end) whose value is >= time, by a scan. */
static int scan_next(const int *val, int n, int from, int end, int time) {
    if (from < 0) from = 0;
    for (int s = from; s < end && s < n; s++)
        if (val[s] >= time) return s;
    return -1;
}

static void test_matches_a_scan(void) {
    enum { N = 777 }; /* not a power of two: the tree has slots past N */
    int val[N];
    LiveIndex x;
    CU_ASSERT_FATAL(live_index_init(&x, N) == 0);
    for (int s = 0; s < N; s++) val[s] = LIVE_INDEX_EMPTY;
    srand(7);
    int checked = 0, found = 0;
    for (int round = 0; round < 4000; round++) {
        int s = rand() % N, v = rand() % 5 == 0 ? LIVE_INDEX_EMPTY : rand() % 1000;
        val[s] = v; /* set, overwrite, lower, and empty again */
        live_index_set(&x, s, v);
        int from = rand() % (N + 10) - 5, end = rand() % (N + 10), time = rand() % 1100 - 50;
        int want = scan_next(val, N, from, end, time), got = live_index_next(&x, from, end, time);
        CU_ASSERT_EQUAL(got, want);
        checked++;
        found += want >= 0;
    }
    CU_ASSERT(found > 100 && found < checked - 100); /* both outcomes were exercised */
    /* Walking every match in turn, as the allocators do. */
    int n = 0;
    for (int s = live_index_next(&x, 0, N, 500); s >= 0; s = live_index_next(&x, s + 1, N, 500)) {
        CU_ASSERT(val[s] >= 500);
        n++;
    }
    int want_n = 0;
    for (int s = 0; s < N; s++) want_n += val[s] >= 500;
    CU_ASSERT_EQUAL(n, want_n);
    live_index_free(&x);
}

static void test_empty_and_single(void) {
    LiveIndex x;
    CU_ASSERT_FATAL(live_index_init(&x, 1) == 0);
    CU_ASSERT_EQUAL(live_index_next(&x, 0, 1, 0), -1);
    live_index_set(&x, 0, 3);
    CU_ASSERT_EQUAL(live_index_next(&x, 0, 1, 3), 0);
    CU_ASSERT_EQUAL(live_index_next(&x, 0, 1, 4), -1);
    CU_ASSERT_EQUAL(live_index_next(&x, 0, 0, 0), -1); /* an empty range */
    live_index_free(&x);
}

static CU_TestInfo tests[] = {
    {"next slot at or after a time, as a scan", test_matches_a_scan},
    {"one slot, empty ranges", test_empty_and_single},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"live-index", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
