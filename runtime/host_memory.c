/* host_memory.c: see host_memory.h. */
#include "host_memory.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int64_t ttc_host_memory_bytes(const char **what) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    int64_t bytes = pages > 0 && page > 0 && pages <= INT64_MAX / page ? (int64_t)pages * page : 0;
    *what = "physical memory";
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)INT64_MAX &&
        (bytes == 0 || (int64_t)rl.rlim_cur < bytes)) {
        bytes = (int64_t)rl.rlim_cur;
        *what = "the address space limit (ulimit -v)";
    }
    return bytes;
}

const char *ttc_bytes_text(int64_t bytes, char *buf, size_t n) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, n, "%lld bytes", (long long)bytes);
        return buf;
    }
    double v = (double)bytes / 1024;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, "%.1f %s", v, units[u]);
    return buf;
}

TtcStatus ttc_host_memory_check(int64_t need, const char *what, const char *hint, TtcError *err) {
    const char *source;
    int64_t have = ttc_host_memory_bytes(&source);
    /* Unknown: nothing to compare with, and the allocation itself still fails cleanly. */
    if (have <= 0 || need <= have) return TTC_OK;
    char a[32], b[32];
    int limited = source[0] != 'p';
    ttc_fail(err, TTC_E_USER, "%s need at least %s (%lld bytes) of host memory; %s %s %s", what,
             ttc_bytes_text(need, a, sizeof a), (long long)need, limited ? "this process may use" : "this machine has",
             ttc_bytes_text(have, b, sizeof b), limited ? "(ulimit -v)" : "of physical memory");
    ttc_hint(err, "%s", hint);
    return TTC_E_USER;
}
