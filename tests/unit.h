/* unit.h: what every CUnit test program shares. A test file defines its suites and calls
 * unit_main(suites) from main(); helpers here build temp paths and compare floats. */
#ifndef TTC_UNIT_H
#define TTC_UNIT_H

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>

/* Runs the suites with the basic (verbose) runner; returns 0 only when every assertion passed. */
int unit_main(CU_SuiteInfo *suites);
/* A fresh path under $TTC_TEST_TMP (or /tmp) for this test program: "<dir>/<prog>-<name>". */
const char *unit_tmp_path(const char *name);
/* A TtcWeightEdit (ttc_runtime.h) for ttc_model_write_weights: scales the query and key weights
 * (q_proj, k_proj, query, key) by 8, so that attention is far from uniform and positions, masks
 * and head mappings matter in a comparison. */
void unit_sharpen_qk(const char *name, float *w, int64_t n, void *user);
/* Writes `len` bytes to a temp file and returns its path. */
const char *unit_write_tmp(const char *name, const void *data, size_t len);
/* The source tree (for shipped specs and test data). */
const char *unit_source_dir(void);
/* 1-based line and column of `skip` characters into the first occurrence of `needle` in `text`
 * (-1, -1 when absent): expected diagnostic locations, worked out from the text itself. */
void unit_line_col(const char *text, const char *needle, int skip, int *line, int *col);
/* Pearson correlation and max abs difference of two float arrays. */
double unit_pcc(const float *a, const float *b, int64_t n);
double unit_max_abs(const float *a, const float *b, int64_t n);

#endif
