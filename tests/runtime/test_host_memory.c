/* test_host_memory.c: what the host can hold (runtime/host_memory.c): the figure, its source,
 * and the error past it. */
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_memory.h"
#include "unit.h"

static void test_bytes_text(void) {
    char b[32];
    CU_ASSERT_STRING_EQUAL(ttc_bytes_text(512, b, sizeof b), "512 bytes");
    CU_ASSERT_STRING_EQUAL(ttc_bytes_text(1536, b, sizeof b), "1.5 KiB");
    CU_ASSERT_STRING_EQUAL(ttc_bytes_text((int64_t)20 << 30, b, sizeof b), "20.0 GiB");
    CU_ASSERT_STRING_EQUAL(ttc_bytes_text(INT64_MAX, b, sizeof b), "8.0 EiB");
}

static void test_physical_memory(void) {
    const char *what = NULL;
    int64_t have = ttc_host_memory_bytes(&what);
    CU_ASSERT(have > ((int64_t)64 << 20)); /* any machine that builds ttc */
    CU_ASSERT_PTR_NOT_NULL(what);
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_host_memory_check(have / 2, "x", "h", &err), TTC_OK);
    CU_ASSERT_EQUAL(ttc_host_memory_check(INT64_MAX, "model 'm': its weights", "lower --seq", &err), TTC_E_USER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "model 'm': its weights need at least 8.0 EiB (9223372036854775807 bytes)"));
    CU_ASSERT_STRING_EQUAL(err.hint, "lower --seq");
}

/* Under ulimit -v (below physical memory) the limit is what counts, and the message says so. In a
 * child, since the limit cannot be raised again; nothing is mapped after it is lowered. */
static void test_address_space_limit(void) {
    const char *what;
    int64_t phys = ttc_host_memory_bytes(&what);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
        rl.rlim_cur = (rlim_t)(phys / 2);
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(4);
        int64_t have = ttc_host_memory_bytes(&what);
        TtcError err = {0};
        int ok = have == phys / 2 && strcmp(what, "the address space limit (ulimit -v)") == 0;
        ok &= ttc_host_memory_check(have + 1, "w", "h", &err) == TTC_E_USER;
        ok &= strstr(err.msg, "; this process may use ") != NULL && strstr(err.msg, "(ulimit -v)") != NULL;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static CU_TestInfo tests[] = {
    {"byte counts as text", test_bytes_text},
    {"physical memory and the error past it", test_physical_memory},
    {"the address space limit", test_address_space_limit},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"host_memory", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
