/* weights.c: binds a plan's weight tensors to values, from safetensors or seeded random, and
 * converts them once into the device format their consumers asked for (DESIGN.md §6: never per
 * call). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_memory.h"
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
 * asked; the loader then converts it to its device format (rt_prepare_weight). */
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

/* Where weight values come from: one Hugging Face tensor at a time, by name and expected shape. */
typedef struct Source {
    TtcStatus (*fill)(struct Source *src, const char *name, TtcWeightInit init, const int64_t *dims, int rank,
                      float *dst, TtcError *err);
    const TtcSafetensors *st; /* file */
    const char *path;
    const char *const *prefixes;
    uint64_t seed; /* random */
} Source;

static TtcStatus fill_from_file(Source *src, const char *name, TtcWeightInit init, const int64_t *dims, int rank,
                                float *dst, TtcError *err) {
    (void)init;
    const TtcStEntry *e = NULL;
    char full[TTC_NAME_MAX + 16];
    for (int p = 0; p < 2 && !e; p++) {
        snprintf(full, sizeof full, "%s%s", src->prefixes[p], name);
        e = ttc_st_find(src->st, full);
    }
    if (!e) {
        ttc_fail(err, TTC_E_USER, "%s: missing tensor '%s' (also looked for '%s%s')", src->path, name, src->prefixes[1],
                 name);
        ttc_hint(err, "check that the file holds this model's weights (same layer count and Hugging Face names)");
        return TTC_E_USER;
    }
    int ok = e->rank == rank;
    for (int i = 0; ok && i < rank; i++) ok = e->shape[i] == dims[i];
    if (!ok) {
        char want[96], got[96];
        shape_text(dims, rank, want, sizeof want);
        shape_text(e->shape, e->rank, got, sizeof got);
        ttc_fail(err, TTC_E_USER, "%s: tensor '%s' has shape %s, the plan expects %s", src->path, e->name, got, want);
        ttc_hint(err, "the spec's dimensions (hidden_dim, ffn_dim, vocab_size, ...) must match the checkpoint");
        return TTC_E_USER;
    }
    return ttc_st_read_f32(src->st, e, dst, err);
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

/* Values are a function of (seed, Hugging Face name) only, so a fused or per-chip weight holds
 * exactly the values of the tensors it is made of. Hugging Face initializes matrices with
 * N(0, 0.02) and norms at 1/0; norms get some noise here so tests notice a swapped gain and bias.
 * A standard normal is approximated by the sum of 8 uniform 16-bit draws (two 64-bit words),
 * centred and scaled to unit variance (Irwin-Hall): bell-shaped to within a few percent, bounded
 * at 4.9 sigma, and an order of magnitude cheaper than Box-Muller's log and sincos, which made
 * loading a billion random weights take most of a minute. */
static TtcStatus fill_random(Source *src, const char *name, TtcWeightInit init, const int64_t *dims, int rank,
                             float *dst, TtcError *err) {
    (void)err;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    uint64_t state = src->seed * 0x9E3779B97F4A7C15ull ^ fnv1a(name);
    /* sum of 8 U{0..65535}: mean 8 * 32767.5, variance 8 * (65536^2 - 1) / 12 */
    const double mean = 8 * 32767.5, inv_sd = 1.0 / sqrt(8.0 * (65536.0 * 65536.0 - 1.0) / 12.0);
    const double scale = (init == TTC_INIT_NORMAL ? 0.02 : 0.1) * inv_sd, offset = init == TTC_INIT_NORM_GAIN ? 1.0 : 0.0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t a = splitmix64(&state), b = splitmix64(&state);
        uint64_t sum = (a & 0xFFFF) + ((a >> 16) & 0xFFFF) + ((a >> 32) & 0xFFFF) + (a >> 48) + (b & 0xFFFF) +
                       ((b >> 16) & 0xFFFF) + ((b >> 32) & 0xFFFF) + (b >> 48);
        dst[i] = (float)(offset + scale * ((double)sum - mean));
    }
    return TTC_OK;
}

int ttc_weight_name_parts(const char *name, char parts[][TTC_NAME_MAX], int64_t *rows, int max) {
    int n = 0;
    for (const char *p = name; *p; n++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (n < max) {
            snprintf(parts[n], TTC_NAME_MAX, "%.*s", (int)len, p);
            char *colon = strchr(parts[n], ':');
            rows[n] = 0;
            if (colon) {
                rows[n] = strtoll(colon + 1, NULL, 10);
                *colon = 0;
            }
        }
        p = bar ? bar + 1 : p + len;
    }
    return n;
}

/* A weight's name and shape come from the plan file: when they disagree, the file is at fault. */
static TtcStatus damaged(TtcError *err, TtcStatus st) {
    ttc_hint(err, "the plan file is damaged or was edited; compile it again with ttc compile");
    return st;
}

/* The values of weight `d` into `dst` (its elements, in its plan shape):
 *  - one Hugging Face tensor: as is;
 *  - "q:ROWS|k:ROWS|v:ROWS": the parts stacked along dim 0 (a fused projection);
 *  - stacked per chip [chips, slice]: the full tensor, split into shard_parts along shard_dim,
 *    chip c getting part c * shard_parts / chips. */
static TtcStatus build_weight(Source *src, const TtcTensorDesc *d, float *dst, TtcError *err) {
    char parts[TTC_WEIGHT_MAX_PARTS][TTC_NAME_MAX];
    int64_t rows[TTC_WEIGHT_MAX_PARTS], dims[TTC_MAX_RANK];
    int n_parts = ttc_weight_name_parts(d->name, parts, rows, TTC_WEIGHT_MAX_PARTS), rank = d->shape.rank;
    for (int i = 0; i < rank; i++) dims[i] = d->shape.d[i].size;
    if (n_parts > TTC_WEIGHT_MAX_PARTS)
        return damaged(err, ttc_fail(err, TTC_E_USER, "weight '%s': %d fused parts, at most %d", d->name, n_parts,
                                     TTC_WEIGHT_MAX_PARTS));
    if (d->shard_chips > 0) {
        if (n_parts != 1) return damaged(err, ttc_fail(err, TTC_E_USER, "weight '%s': a fused weight cannot also be split per chip", d->name));
        int64_t chips = d->shard_chips, nparts = d->shard_parts, r = dims[1], c = rank > 2 ? dims[2] : 1;
        int64_t full_dims[2] = {d->shard_dim == 0 ? r * nparts : r, d->shard_dim == 1 ? c * nparts : c};
        int full_rank = rank - 1;
        float *full = malloc((size_t)(full_dims[0] * full_dims[1]) * sizeof *full);
        if (!full) return ttc_fail(err, TTC_E_INTERNAL, "out of memory for weight '%s'", d->name);
        TtcStatus rc = src->fill(src, parts[0], (TtcWeightInit)d->init, full_dims, full_rank, full, err);
        for (int64_t chip = 0; rc == TTC_OK && chip < chips; chip++) {
            int64_t part = chip * nparts / chips;
            float *out = dst + chip * r * c;
            for (int64_t i = 0; i < r; i++) /* dim 0: rows part*r..; dim 1: columns part*c.. */
                memcpy(out + i * c, full + (d->shard_dim == 0 ? (part * r + i) * c : i * full_dims[1] + part * c),
                       (size_t)c * sizeof *out);
        }
        free(full);
        return rc;
    }
    if (n_parts == 1) return src->fill(src, parts[0], (TtcWeightInit)d->init, dims, rank, dst, err);
    int64_t row_elems = 1, done = 0;
    for (int i = 1; i < rank; i++) row_elems *= dims[i];
    for (int k = 0; k < n_parts; k++) {
        int64_t part_dims[TTC_MAX_RANK];
        memcpy(part_dims, dims, sizeof part_dims);
        part_dims[0] = rows[k];
        if (rows[k] <= 0 || done + rows[k] > dims[0])
            return damaged(err, ttc_fail(err, TTC_E_USER, "weight '%s': part %d has %lld rows of %lld", d->name, k,
                                         (long long)rows[k], (long long)dims[0]));
        TtcStatus rc = src->fill(src, parts[k], (TtcWeightInit)d->init, part_dims, rank, dst + done * row_elems, err);
        if (rc != TTC_OK) return rc;
        done += rows[k];
    }
    if (done != dims[0])
        return damaged(err, ttc_fail(err, TTC_E_USER, "weight '%s': parts cover %lld of %lld rows", d->name,
                                     (long long)done, (long long)dims[0]));
    return TTC_OK;
}

/* A lower bound of the host memory a loaded model holds once a session runs: each weight in its
 * held form (a LINEAR weight in bf16 or a bfp format as bf16 pairs, 2 bytes an element; every
 * other weight fp32), its fp32 copy for --check, the fp32 values of the largest weight while it
 * is converted, the state (KV cache) and the activation arena. Sums saturate: the plan's sizes
 * are each checked to fit int64, their sum is not. */
static int64_t host_bytes_needed(const TtcModel *m, int keep_fp32, const unsigned char *is_linear) {
    const TtcPlan *p = &m->plan;
    int64_t total = p->arena_bytes, largest = 0;
    for (int t = 0; t < p->n_tensors; t++) {
        const TtcTensorDesc *d = &p->tensors[t];
        int64_t n = ttc_shape_max_elems(&d->shape), held = is_linear[t] && d->dtype != TTC_F32 ? 2 : 4;
        if (d->kind == TTC_TENSOR_STATE) total = ttc_add_sat(total, ttc_mul_sat(n, 4));
        if (d->kind != TTC_TENSOR_WEIGHT) continue;
        total = ttc_add_sat(total, ttc_mul_sat(n, keep_fp32 ? held + 4 : held));
        if (n > largest) largest = n;
    }
    return ttc_add_sat(total, ttc_mul_sat(largest, 4));
}

/* Before the first weight is allocated: a model the host cannot hold fails here, with the
 * figures, rather than being killed part way through the load. */
static TtcStatus check_host_memory(const TtcModel *m, int keep_fp32, TtcError *err) {
    const TtcPlan *p = &m->plan;
    char what[TTC_NAME_MAX + 64];
    snprintf(what, sizeof what, "model '%s': its weights, KV cache and activations", p->model_name);
    char hint[256];
    snprintf(hint, sizeof hint,
             "recompile for less: a smaller --seq/--max-seq/--batch (now %lld/%lld/%lld), a narrower weight_dtype "
             "(bf16 or bfp8 rather than fp32), or more chips%s",
             (long long)p->max_seq, (long long)p->max_ctx, (long long)p->max_batch,
             keep_fp32 ? "; or run without --check, which keeps fp32 copies" : "");
    unsigned char *is_linear = calloc((size_t)p->n_tensors + 1, 1); /* weights read as a LINEAR's operand */
    if (!is_linear) return ttc_fail(err, TTC_E_INTERNAL, "out of memory");
    for (int k = 0; k < p->n_ops; k++)
        if (p->ops[k].kind == TTC_OP_LINEAR && p->ops[k].n_in > 1) is_linear[p->ops[k].in[1]] = 1;
    TtcStatus rc = ttc_host_memory_check(host_bytes_needed(m, keep_fp32, is_linear), what, hint, err);
    free(is_linear);
    return rc;
}

/* Builds every weight of the plan from `src`, then converts them to device formats. */
static TtcStatus load_all(TtcModel *m, Source *src, int keep_fp32, TtcError *err) {
    if (check_host_memory(m, keep_fp32, err) != TTC_OK) return err->status;
    TtcStatus rc = alloc_tables(m, keep_fp32, err);
    for (int t = 0; rc == TTC_OK && t < m->plan.n_tensors; t++) {
        if (!is_weight(m, t)) continue;
        const TtcTensorDesc *d = &m->plan.tensors[t];
        float *vals = malloc((size_t)ttc_shape_max_elems(&d->shape) * sizeof(float));
        if (!vals) {
            rc = ttc_fail(err, TTC_E_INTERNAL, "out of memory for weight '%s'", d->name);
            break;
        }
        rc = build_weight(src, d, vals, err);
        if (rc != TTC_OK) {
            free(vals);
            break;
        }
        rc = adopt(m, t, vals, err);
        if (rc == TTC_OK) rc = rt_prepare_weight(m, t, err);
        if (rc == TTC_OK) rt_release_prepared_source(m, t);
    }
    if (rc != TTC_OK) free_tables(m);
    return rc;
}

TtcStatus ttc_model_load_weights(TtcModel *m, const char *path, int keep_fp32, TtcError *err) {
    TtcSafetensors st;
    memset(&st, 0, sizeof st);
    if (ttc_st_open(&st, path, err) != TTC_OK) return err->status;
    Source src = {.fill = fill_from_file, .st = &st, .path = path,
                  .prefixes = m->plan.model_type == TTC_MODEL_DECODER ? decoder_prefixes : encoder_prefixes};
    TtcStatus rc = load_all(m, &src, keep_fp32, err);
    ttc_st_close(&st);
    return rc;
}

TtcStatus ttc_model_random_weights(TtcModel *m, uint64_t seed, int keep_fp32, TtcError *err) {
    Source src = {.fill = fill_random, .seed = seed};
    return load_all(m, &src, keep_fp32, err);
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
