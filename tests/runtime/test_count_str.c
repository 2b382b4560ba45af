/* test_count_str.c: counts for humans (runtime/count_str.c): each unit's boundaries and the
 * rounding at them, worked out by hand. */
#include <string.h>

#include "count_str.h"
#include "unit.h"

static const char *fmt(int64_t n) {
    static char buf[32];
    return ttc_count_str(n, buf, sizeof buf);
}

static void test_plain_below_a_thousand(void) {
    CU_ASSERT_STRING_EQUAL(fmt(0), "0");
    CU_ASSERT_STRING_EQUAL(fmt(7), "7");
    CU_ASSERT_STRING_EQUAL(fmt(999), "999");
    CU_ASSERT_STRING_EQUAL(fmt(-5), "-5");
}

static void test_thousands(void) {
    CU_ASSERT_STRING_EQUAL(fmt(1000), "1.0K");
    CU_ASSERT_STRING_EQUAL(fmt(1049), "1.0K");
    CU_ASSERT_STRING_EQUAL(fmt(1050), "1.1K"); /* half up */
    CU_ASSERT_STRING_EQUAL(fmt(20500), "20.5K");
    CU_ASSERT_STRING_EQUAL(fmt(999949), "999.9K");
}

static void test_millions(void) {
    CU_ASSERT_STRING_EQUAL(fmt(999950), "1.0M"); /* 999.95K rounds to 1000.0K: the next unit */
    CU_ASSERT_STRING_EQUAL(fmt(1000000), "1.0M");
    CU_ASSERT_STRING_EQUAL(fmt(110000000), "110.0M");
    CU_ASSERT_STRING_EQUAL(fmt(124439808), "124.4M");
    CU_ASSERT_STRING_EQUAL(fmt(999949999), "999.9M");
}

static void test_billions(void) {
    CU_ASSERT_STRING_EQUAL(fmt(999950000), "1.00B");
    CU_ASSERT_STRING_EQUAL(fmt(8030000000), "8.03B");
    CU_ASSERT_STRING_EQUAL(fmt(8030261248), "8.03B");
    CU_ASSERT_STRING_EQUAL(fmt(8035000000), "8.04B"); /* half up */
    CU_ASSERT_STRING_EQUAL(fmt(8034999999), "8.03B");
    CU_ASSERT_STRING_EQUAL(fmt(1500000000000), "1500.00B"); /* no unit above B */
}

static void test_small_buffer(void) {
    char buf[4];
    ttc_count_str(20500, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "20."); /* cut, still terminated */
}

static CU_TestInfo count_tests[] = {
    {"below a thousand", test_plain_below_a_thousand},
    {"thousands", test_thousands},
    {"millions", test_millions},
    {"billions", test_billions},
    {"small buffer", test_small_buffer},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"count_str", NULL, NULL, NULL, NULL, count_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
