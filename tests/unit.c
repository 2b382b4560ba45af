/* unit.c: the shared CUnit driver and helpers for the test programs. */
#include "unit.h"

#include "compare.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char *program_invocation_short_name;

int unit_main(CU_SuiteInfo *suites) {
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        fprintf(stderr, "cannot register suites: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    /* A program that ran no test has proven nothing. */
    return (failed == 0 && ran > 0) ? 0 : 1;
}

static const char *tmp_dir(void) {
    static char dir[512];
    if (dir[0]) return dir;
    const char *base = getenv("TTC_TEST_TMP");
    if (!base || !*base) base = "/tmp/ttc-test";
    snprintf(dir, sizeof dir, "%s", base);
    /* mkdir -p for the one or two levels we need */
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0777);
            *p = '/';
        }
    }
    mkdir(tmp, 0777);
    return dir;
}

const char *unit_tmp_path(const char *name) {
    static char paths[16][768];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof paths[0], "%s/%s-%d-%s", tmp_dir(), program_invocation_short_name, (int)getpid(), name);
    return p;
}

const char *unit_write_tmp(const char *name, const void *data, size_t len) {
    const char *path = unit_tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        return path;
    }
    if (len) fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

const char *unit_source_dir(void) {
    const char *s = getenv("TTC_SOURCE_DIR");
    return (s && *s) ? s : TTC_SOURCE_DIR;
}

double unit_pcc(const float *a, const float *b, int64_t n) { return ttc_compare(a, b, n).pcc; }

double unit_max_abs(const float *a, const float *b, int64_t n) { return ttc_compare(a, b, n).max_abs; }

void unit_line_col(const char *text, const char *needle, int skip, int *line, int *col) {
    const char *at = strstr(text, needle);
    *line = *col = -1;
    if (!at) return;
    at += skip;
    *line = *col = 1;
    for (const char *c = text; c < at; c++) {
        if (*c == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

void unit_sharpen_qk(const char *name, float *w, int64_t n, void *user) {
    (void)user;
    if (!strstr(name, "q_proj.weight") && !strstr(name, "k_proj.weight") && !strstr(name, "query.weight") &&
        !strstr(name, "key.weight"))
        return;
    for (int64_t i = 0; i < n; i++) w[i] *= 8.0f;
}
