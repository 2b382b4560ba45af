/* test_diag.c: the diagnostics list — collecting, the printed shape (header, source line,
 * caret, hint), file interning, and the "did you mean" search. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "unit.h"

/* Everything diag_print writes, as a string (caller frees). */
static char *printed(const Diags *d) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print(d, f);
    fclose(f);
    return buf;
}

static void test_collect_and_count(void) {
    Diags d = {0};
    Diag *e = diag_error(&d, (DiagLoc){"a.yaml", 3, 7}, "bad %s (%d)", "thing", 42);
    diag_hint(e, "fix it with %d", 1);
    diag_warning(&d, (DiagLoc){0}, "only a warning");
    CU_ASSERT_EQUAL(d.n, 2);
    CU_ASSERT_EQUAL(d.n_errors, 1); /* warnings are not errors */
    CU_ASSERT_STRING_EQUAL(d.v[0].msg, "bad thing (42)");
    CU_ASSERT_STRING_EQUAL(d.v[0].hint, "fix it with 1");
    CU_ASSERT_EQUAL(d.v[0].loc.line, 3);
    CU_ASSERT_EQUAL(d.v[0].loc.col, 7);
    CU_ASSERT_EQUAL(d.v[0].severity, DIAG_ERROR);
    CU_ASSERT_EQUAL(d.v[1].severity, DIAG_WARNING);
    CU_ASSERT_PTR_NULL(d.v[1].hint);
    CU_ASSERT_PTR_NULL(d.v[1].loc.file);
    /* A second hint replaces the first. */
    diag_hint(&d.v[0], "better");
    CU_ASSERT_STRING_EQUAL(d.v[0].hint, "better");
    /* Many diagnostics: growth keeps earlier ones intact. */
    for (int i = 0; i < 100; i++) diag_error(&d, (DiagLoc){0}, "e%d", i);
    CU_ASSERT_EQUAL(d.n, 102);
    CU_ASSERT_EQUAL(d.n_errors, 101);
    CU_ASSERT_STRING_EQUAL(d.v[0].msg, "bad thing (42)");
    CU_ASSERT_STRING_EQUAL(d.v[101].msg, "e99");
    diag_free(&d);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_PTR_NULL(d.v);
}

static void test_file_interning(void) {
    Diags d = {0};
    char name[32];
    strcpy(name, "model.yaml");
    const char *a = diag_file(&d, name);
    const char *b = diag_file(&d, "model.yaml");
    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_PTR_NOT_EQUAL(a, name);
    CU_ASSERT_PTR_NULL(diag_file(&d, NULL));
    /* diag_error keeps its own copy of the file name: the caller's buffer may change. */
    strcpy(name, "other.yaml");
    diag_error(&d, (DiagLoc){name, 1, 1}, "x");
    strcpy(name, "changed!!");
    CU_ASSERT_STRING_EQUAL(d.v[0].loc.file, "other.yaml");
    CU_ASSERT_EQUAL(d.n_files, 2);
    diag_free(&d);
}

static void test_print_shape_with_source(void) {
    Diags d = {0};
    diag_source(&d, "t.yaml", "a: 0\n  b: 1\nc: 2\n");
    Diag *e = diag_error(&d, (DiagLoc){"t.yaml", 2, 3}, "bad b");
    diag_hint(e, "use a");
    diag_error(&d, (DiagLoc){0}, "no location");
    diag_warning(&d, (DiagLoc){"t.yaml", 3, 4}, "careful");
    char *out = printed(&d);
    CU_ASSERT_STRING_EQUAL(out, "t.yaml:2:3: error: bad b\n"
                                "  b: 1\n"
                                "  ^\n"
                                "  hint: use a\n"
                                "error: no location\n"
                                "t.yaml:3:4: warning: careful\n"
                                "c: 2\n"
                                "   ^\n");
    free(out);
    diag_free(&d);
}

static void test_print_caret_tabs_and_utf8(void) {
    Diags d = {0};
    /* Columns count characters: "é" is one column though two bytes; tabs are copied so the
     * caret lines up whatever the tab width. */
    diag_source(&d, "u.yaml", "k: \xc3\xa9\xc3\xa9 z\n\tkey: 1\n");
    diag_error(&d, (DiagLoc){"u.yaml", 1, 7}, "z");
    diag_error(&d, (DiagLoc){"u.yaml", 2, 2}, "key");
    char *out = printed(&d);
    CU_ASSERT_STRING_EQUAL(out, "u.yaml:1:7: error: z\n"
                                "k: \xc3\xa9\xc3\xa9 z\n"
                                "      ^\n"
                                "u.yaml:2:2: error: key\n"
                                "\tkey: 1\n"
                                "\t^\n");
    free(out);
    diag_free(&d);
}

static void test_print_reads_file_lazily(void) {
    const char *path = unit_write_tmp("lazy.yaml", "first: 1\nsecond: oops\n", 22);
    Diags d = {0};
    diag_error(&d, (DiagLoc){path, 2, 9}, "oops");
    diag_error(&d, (DiagLoc){"/nonexistent/dir/x.yaml", 4, 2}, "unreadable");
    diag_error(&d, (DiagLoc){path, 0, 0}, "whole file");
    char *out = printed(&d);
    char expect[2048];
    snprintf(expect, sizeof expect,
             "%s:2:9: error: oops\n"
             "second: oops\n"
             "        ^\n"
             "/nonexistent/dir/x.yaml:4:2: error: unreadable\n" /* no source line, no failure */
             "%s: error: whole file\n",
             path, path);
    CU_ASSERT_STRING_EQUAL(out, expect);
    free(out);
    /* Lines past the end of the file: header only. */
    Diags d2 = {0};
    diag_error(&d2, (DiagLoc){path, 40, 1}, "far");
    out = printed(&d2);
    snprintf(expect, sizeof expect, "%s:40:1: error: far\n", path);
    CU_ASSERT_STRING_EQUAL(out, expect);
    free(out);
    diag_free(&d);
    diag_free(&d2);
}

static void test_print_one_and_source_replace(void) {
    Diags d = {0};
    diag_source(&d, "s.yaml", "old line\n");
    diag_source(&d, "s.yaml", "new line\n");
    CU_ASSERT_EQUAL(d.n_sources, 1);
    Diag *e = diag_error(&d, (DiagLoc){"s.yaml", 1, 5}, "m");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print_one(&d, e, f);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "s.yaml:1:5: error: m\nnew line\n    ^\n");
    free(buf);
    diag_free(&d);
}

static void test_closest(void) {
    static const char *const keys[] = {"hidden_dim", "num_heads", "num_kv_heads", "ffn_dim", "norm_eps"};
    CU_ASSERT_STRING_EQUAL(diag_closest("hiden_dim", keys, 5), "hidden_dim");
    CU_ASSERT_STRING_EQUAL(diag_closest("num_head", keys, 5), "num_heads");
    CU_ASSERT_STRING_EQUAL(diag_closest("num_kv_head", keys, 5), "num_kv_heads");
    CU_ASSERT_PTR_NULL(diag_closest("vocab", keys, 5));
    CU_ASSERT_PTR_NULL(diag_closest(NULL, keys, 5));
    /* The limit is max(1, len/3): three letters allow one edit, not two. */
    static const char *const three[] = {"abd", "xyz"};
    CU_ASSERT_STRING_EQUAL(diag_closest("abc", three, 2), "abd");
    static const char *const far[] = {"axy"};
    CU_ASSERT_PTR_NULL(diag_closest("abc", far, 1));
    /* Nine letters allow three edits, not four. */
    static const char *const nine[] = {"transformer"};
    CU_ASSERT_STRING_EQUAL(diag_closest("transfomr", nine, 1), "transformer"); /* 2 edits */
    CU_ASSERT_PTR_NULL(diag_closest("tranxxxxr", nine, 1));                     /* 6 edits */
    /* Case differences are free: hifi4 means HiFi4. */
    static const char *const fid[] = {"LoFi", "HiFi2", "HiFi3", "HiFi4"};
    CU_ASSERT_STRING_EQUAL(diag_closest("hifi4", fid, 4), "HiFi4");
    /* Two neighbouring letters swapped are one edit: "modle" is within reach of "model". */
    static const char *const top[] = {"spec_version", "model", "layers"};
    CU_ASSERT_STRING_EQUAL(diag_closest("modle", top, 3), "model");
    CU_ASSERT_PTR_NULL(diag_closest("mdloe", top, 3)); /* two swaps: two edits */
    /* The nearest wins, not the first within reach. */
    static const char *const acts[] = {"relu", "silu2"};
    CU_ASSERT_STRING_EQUAL(diag_closest("silu", acts, 2), "silu2");
    /* NULL entries are skipped. */
    static const char *const holes[] = {NULL, "decode"};
    CU_ASSERT_STRING_EQUAL(diag_closest("decod", holes, 2), "decode");
}

static CU_TestInfo diag_tests[] = {
    {"collect and count", test_collect_and_count},
    {"file interning", test_file_interning},
    {"print shape with source line", test_print_shape_with_source},
    {"caret under tabs and UTF-8", test_print_caret_tabs_and_utf8},
    {"print reads files lazily", test_print_reads_file_lazily},
    {"print one, source replaced", test_print_one_and_source_replace},
    {"did you mean", test_closest},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"diag", NULL, NULL, NULL, NULL, diag_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
