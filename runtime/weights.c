/* weights.c: binds a plan's weight tensors to values, from safetensors or seeded random, and
 * converts them once into the device format their consumers asked for (DESIGN.md §6: never per
 * call). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numerics.h"
#include "safetensors.h"
#include "ttc_runtime.h"
#include "weight_prep.h"

static int is_weight(const TtcModel *m, int t) { return m->plan.tensors[t].kind == TTC_TENSOR_WEIGHT; }

static TtcStatus alloc_tables(TtcModel *m, int keep_fp32, TtcError *err) {
    int n = m->plan.n_tensors;
    m->weights = calloc((size_t)n + 1, sizeof *m->weights);
    if (keep_fp32) m->ref_weights = calloc((size_t)n + 1, sizeof *m->ref_weights);
    if (!m->weights || (keep_fp32 && !m->ref_weights)) return ttc_fail(err, TTC_E_INTERNAL, "out of memory");
    return TTC_OK;
}

static void free_tables(TtcModel *m) {
    rt_free_prepared(m);
    for (int t = 0; m->weights && t < m->plan.n_tensors; t++) free(m->weights[t]);
    for (int t = 0; m->ref_weights && t < m->plan.n_tensors; t++) free(m->ref_weights[t]);
    free(m->weights);
    free(m->ref_weights);
    m->weights = m->ref_weights = NULL;
}

/* Takes fp32 values for tensor t (ownership moves) and keeps a copy for the reference path when
 * asked; rt_prepare_weights converts them to device formats once all are loaded. */
static TtcStatus adopt(TtcModel *m, int t, float *vals, TtcError *err) {
    const TtcTensorDesc *d = &m->plan.tensors[t];
    int64_t n = ttc_shape_max_elems(&d->shape);
    if (m->ref_weights) {
        m->ref_weights[t] = malloc((size_t)n * sizeof(float));
        if (!m->ref_weights[t]) {
            free(vals);
            return ttc_fail(err, TTC_E_INTERNAL, "out of memory for weight '%s'", d->name);
        }
        memcpy(m->ref_weights[t], vals, (size_t)n * sizeof(float));
    }
    m->weights[t] = vals;
    return TTC_OK;
}

static const char *const encoder_prefixes[] = {"", "bert."};
static const char *const decoder_prefixes[] = {"", "model."};

static void shape_text(const int64_t *dims, int rank, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

TtcStatus ttc_model_load_weights(TtcModel *m, const char *path, int keep_fp32, TtcError *err) {
    TtcSafetensors st;
    memset(&st, 0, sizeof st);
    if (ttc_st_open(&st, path, err) != TTC_OK) return err->status;
    TtcStatus rc = alloc_tables(m, keep_fp32, err);
    const char *const *prefixes = m->plan.model_type == TTC_MODEL_DECODER ? decoder_prefixes : encoder_prefixes;
    for (int t = 0; rc == TTC_OK && t < m->plan.n_tensors; t++) {
        if (!is_weight(m, t)) continue;
        const TtcTensorDesc *d = &m->plan.tensors[t];
        const TtcStEntry *e = NULL;
        char name[TTC_NAME_MAX + 16];
        for (int p = 0; p < 2 && !e; p++) {
            snprintf(name, sizeof name, "%s%s", prefixes[p], d->name);
            e = ttc_st_find(&st, name);
        }
        if (!e) {
            rc = ttc_fail(err, TTC_E_USER, "%s: missing tensor '%s' (also looked for '%s%s')", path, d->name,
                          prefixes[1], d->name);
            ttc_hint(err, "check that the file holds this model's weights (same layer count and Hugging Face names)");
            break;
        }
        int ok = e->rank == d->shape.rank;
        for (int i = 0; ok && i < e->rank; i++) ok = e->shape[i] == d->shape.d[i].size;
        if (!ok) {
            char want[96], got[96];
            int64_t dims[TTC_MAX_RANK];
            for (int i = 0; i < d->shape.rank; i++) dims[i] = d->shape.d[i].size;
            shape_text(dims, d->shape.rank, want, sizeof want);
            shape_text(e->shape, e->rank, got, sizeof got);
            rc = ttc_fail(err, TTC_E_USER, "%s: tensor '%s' has shape %s, the plan expects %s", path, e->name, got, want);
            ttc_hint(err, "the spec's dimensions (hidden_dim, ffn_dim, vocab_size, ...) must match the checkpoint");
            break;
        }
        int64_t n = ttc_shape_max_elems(&d->shape);
        float *vals = malloc((size_t)n * sizeof(float));
        if (!vals) {
            rc = ttc_fail(err, TTC_E_INTERNAL, "out of memory for weight '%s'", d->name);
            break;
        }
        rc = ttc_st_read_f32(&st, e, vals, err);
        if (rc != TTC_OK) {
            free(vals);
            break;
        }
        rc = adopt(m, t, vals, err);
    }
    ttc_st_close(&st);
    if (rc == TTC_OK) rc = rt_prepare_weights(m, err);
    if (rc != TTC_OK) free_tables(m);
    return rc;
}

/* splitmix64: a small, well-mixed generator; one stream per tensor, seeded by name. */
static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* Standard normal by Box-Muller from two uniforms in (0, 1]. */
static double normal(uint64_t *s) {
    double u1 = ((splitmix64(s) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = (splitmix64(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

TtcStatus ttc_model_random_weights(TtcModel *m, uint64_t seed, int keep_fp32, TtcError *err) {
    TtcStatus rc = alloc_tables(m, keep_fp32, err);
    for (int t = 0; rc == TTC_OK && t < m->plan.n_tensors; t++) {
        if (!is_weight(m, t)) continue;
        const TtcTensorDesc *d = &m->plan.tensors[t];
        int64_t n = ttc_shape_max_elems(&d->shape);
        float *vals = malloc((size_t)n * sizeof(float));
        if (!vals) {
            rc = ttc_fail(err, TTC_E_INTERNAL, "out of memory for weight '%s'", d->name);
            break;
        }
        uint64_t state = seed * 0x9E3779B97F4A7C15ull ^ fnv1a(d->name);
        /* Hugging Face initializes matrices with N(0, 0.02) and norms at 1/0; norms get some noise
         * here so that tests notice a swapped gain and bias. */
        for (int64_t i = 0; i < n; i++) {
            double z = normal(&state);
            vals[i] = d->init == TTC_INIT_NORM_GAIN ? (float)(1.0 + 0.1 * z)
                      : d->init == TTC_INIT_NORM_BIAS ? (float)(0.1 * z)
                                                      : (float)(0.02 * z);
        }
        rc = adopt(m, t, vals, err);
    }
    if (rc == TTC_OK) rc = rt_prepare_weights(m, err);
    if (rc != TTC_OK) free_tables(m);
    return rc;
}

/* --weights and --random-weights are alternatives: with both, which one ran would be a guess. */
TtcStatus ttc_model_load_weights_arg(TtcModel *m, const char *weights_path, const char *seed_text, int keep_fp32,
                                     const char *who, TtcError *err) {
    if (!!weights_path == !!seed_text) {
        ttc_fail(err, TTC_E_USER, "%s: give exactly one of --weights and --random-weights", who);
        ttc_hint(err, "--weights model.safetensors, or --random-weights 1 to try the plan without a checkpoint");
        return TTC_E_USER;
    }
    if (weights_path) return ttc_model_load_weights(m, weights_path, keep_fp32, err);
    char *end;
    unsigned long long seed = strtoull(seed_text, &end, 10);
    if (*end || end == seed_text || *seed_text == '-')
        return ttc_fail(err, TTC_E_USER, "--random-weights: '%s' is not a whole number", seed_text);
    return ttc_model_random_weights(m, seed, keep_fp32, err);
}

void ttc_model_close(TtcModel *m) {
    free_tables(m);
    ttc_plan_free(&m->plan);
}
