/* test_weights.c: how weights are built from Hugging Face tensors: as is, fused (parts stacked
 * along dim 0), and stacked per chip (tensor parallelism), from a file and from seeded random. */
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "ttc_runtime.h"
#include "unit.h"

/* a [2,4] = 0..7, b [3,4] = 100..111, c [6,4] = 200..223 */
static const char *write_file(void) {
    static float a[8], b[12], c[24];
    for (int i = 0; i < 8; i++) a[i] = (float)i;
    for (int i = 0; i < 12; i++) b[i] = 100.0f + (float)i;
    for (int i = 0; i < 24; i++) c[i] = 200.0f + (float)i;
    TtcStTensorOut t[3] = {{"a", a, 2, {2, 4}}, {"b", b, 2, {3, 4}}, {"c", c, 2, {6, 4}}};
    const char *path = unit_tmp_path("w.safetensors");
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_st_write_f32(path, t, 3, &err) == TTC_OK);
    return path;
}

static void add_weight(TtcPlan *p, const char *name, int rank, const int64_t *dims, int chips, int dim, int parts) {
    TtcTensorDesc *d = &p->tensors[p->n_tensors++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->kind = TTC_TENSOR_WEIGHT;
    d->dtype = TTC_F32;
    d->entry = d->alias = -1;
    d->shape.rank = rank;
    for (int i = 0; i < rank; i++) d->shape.d[i] = (TtcDim){TTC_SYM_NONE, dims[i]};
    d->shard_chips = chips;
    d->shard_dim = dim;
    d->shard_parts = parts;
}

static void make_model(TtcModel *m) {
    TtcPlan p;
    memset(&p, 0, sizeof p);
    p.tensors = calloc(8, sizeof *p.tensors);
    add_weight(&p, "a:2|b:3", 2, (int64_t[]){5, 4}, 0, 0, 0);       /* fused */
    add_weight(&p, "c", 3, (int64_t[]){2, 3, 4}, 2, 0, 2);          /* rows split over 2 chips */
    add_weight(&p, "c", 3, (int64_t[]){4, 3, 4}, 4, 0, 2);          /* 2 parts replicated on 4 chips */
    add_weight(&p, "c", 3, (int64_t[]){2, 6, 2}, 2, 1, 2);          /* columns split over 2 chips */
    add_weight(&p, "a", 2, (int64_t[]){2, 4}, 0, 0, 0);
    add_weight(&p, "b", 2, (int64_t[]){3, 4}, 0, 0, 0);
    ttc_model_from_plan(m, &p);
}

static void test_fused_and_stacked_from_file(void) {
    const char *path = write_file();
    TtcModel m;
    make_model(&m);
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_model_load_weights(&m, path, 0, &err) == TTC_OK);
    const float *f = m.weights[0];
    CU_ASSERT(f[0] == 0.0f && f[7] == 7.0f && f[8] == 100.0f && f[19] == 111.0f); /* a then b */
    const float *s = m.weights[1]; /* chip 0: rows 0-2 (200..211), chip 1: rows 3-5 (212..223) */
    CU_ASSERT(s[0] == 200.0f && s[11] == 211.0f && s[12] == 212.0f && s[23] == 223.0f);
    const float *r = m.weights[2]; /* chips 0,1 hold part 0; chips 2,3 part 1 */
    CU_ASSERT(r[0] == 200.0f && r[12] == 200.0f && r[24] == 212.0f && r[36] == 212.0f);
    const float *col = m.weights[3]; /* chip 0: columns 0-1 of each row; chip 1: columns 2-3 */
    CU_ASSERT(col[0] == 200.0f && col[1] == 201.0f && col[2] == 204.0f && col[12] == 202.0f && col[13] == 203.0f);
    ttc_model_close(&m);
}

/* Random values depend on the Hugging Face name only: a fused weight equals its parts. */
static void test_random_fused_equals_parts(void) {
    TtcModel m;
    make_model(&m);
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_model_random_weights(&m, 9, 0, &err) == TTC_OK);
    CU_ASSERT(memcmp(m.weights[0], m.weights[4], 8 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(m.weights[0] + 8, m.weights[5], 12 * sizeof(float)) == 0);
    ttc_model_close(&m);
}

static void test_missing_part_names_the_tensor(void) {
    const char *path = write_file();
    TtcModel m;
    TtcPlan p;
    memset(&p, 0, sizeof p);
    p.tensors = calloc(1, sizeof *p.tensors);
    add_weight(&p, "a:2|zz:3", 2, (int64_t[]){5, 4}, 0, 0, 0);
    ttc_model_from_plan(&m, &p);
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_model_load_weights(&m, path, 0, &err), TTC_E_USER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing tensor 'zz'"));
    ttc_model_close(&m);
}

/* A plan the host cannot hold fails before any weight is allocated, with the figures: an arena
 * of 2^62 bytes, and a weight of 2^40 elements (4 TiB as fp32). */
static void test_too_large_for_the_host(void) {
    TtcModel m;
    TtcPlan p;
    memset(&p, 0, sizeof p);
    p.tensors = calloc(1, sizeof *p.tensors);
    snprintf(p.model_name, sizeof p.model_name, "big");
    add_weight(&p, "a", 2, (int64_t[]){2, 4}, 0, 0, 0);
    p.arena_bytes = (int64_t)1 << 62;
    ttc_model_from_plan(&m, &p);
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_model_random_weights(&m, 1, 0, &err), TTC_E_USER);
    CU_ASSERT_PTR_NULL(m.weights);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "model 'big': its weights, KV cache and activations need at least 4.0 EiB"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "of host memory; this "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.hint, "--seq/--max-seq/--batch"));
    ttc_model_close(&m);

    memset(&p, 0, sizeof p);
    p.tensors = calloc(1, sizeof *p.tensors);
    add_weight(&p, "a", 2, (int64_t[]){(int64_t)1 << 20, (int64_t)1 << 20}, 0, 0, 0);
    ttc_model_from_plan(&m, &p);
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_model_random_weights(&m, 1, 1, &err), TTC_E_USER);
    CU_ASSERT_PTR_NULL(m.weights);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "need at least 12.0 TiB")); /* fp32 held + fp32 copy + conversion */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.hint, "without --check"));
    ttc_model_close(&m);
}

static CU_TestInfo tests[] = {
    {"a model too large for the host fails before loading", test_too_large_for_the_host},
    {"fused and per-chip weights from a file", test_fused_and_stacked_from_file},
    {"random fused weight equals its parts", test_random_fused_equals_parts},
    {"a missing part is named", test_missing_part_names_the_tensor},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"weights", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
