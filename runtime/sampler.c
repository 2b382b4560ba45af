/* sampler.c: next-token selection. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ttc_sampler_init(TtcSampler *s, float temperature, int top_k, float top_p, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->rng = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}

void ttc_sampler_free(TtcSampler *s) {
    free(s->prob);
    free(s->idx);
    memset(s, 0, sizeof *s);
}

/* xorshift64*: small, fast, and good enough to pick tokens. Uniform in [0, 1). */
static double next_uniform(TtcSampler *s) {
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

static int32_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i; /* ties keep the lowest id, like torch.argmax */
    return (int32_t)best;
}

int64_t ttc_first_nonfinite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

/* Probability-descending order for the candidates (ties by id, so the order is deterministic). */
static const float *sort_prob;
static int by_prob_desc(const void *a, const void *b) {
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    if (sort_prob[i] != sort_prob[j]) return sort_prob[i] > sort_prob[j] ? -1 : 1;
    return (i > j) - (i < j);
}

int32_t ttc_sample(TtcSampler *s, const float *logits, int64_t n) {
    if (s->temperature <= 0) return argmax(logits, n);
    if (s->cap < n) {
        free(s->prob);
        free(s->idx);
        s->prob = malloc((size_t)n * sizeof *s->prob);
        s->idx = malloc((size_t)n * sizeof *s->idx);
        if (!s->prob || !s->idx) {
            s->cap = 0;
            return -1;
        }
        s->cap = n;
    }
    float mx = logits[argmax(logits, n)];
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        s->prob[i] = expf((logits[i] - mx) / s->temperature);
        sum += s->prob[i];
        s->idx[i] = (int32_t)i;
    }
    int64_t keep = n;
    if (s->top_k > 0 || s->top_p < 1) {
        sort_prob = s->prob;
        qsort(s->idx, (size_t)n, sizeof *s->idx, by_prob_desc);
        if (s->top_k > 0 && s->top_k < keep) keep = s->top_k;
        if (s->top_p < 1) { /* the smallest prefix whose mass reaches top_p */
            double mass = 0, total = 0;
            for (int64_t i = 0; i < keep; i++) total += s->prob[s->idx[i]];
            for (int64_t i = 0; i < keep; i++) {
                mass += s->prob[s->idx[i]];
                if (mass >= s->top_p * total) {
                    keep = i + 1;
                    break;
                }
            }
        }
        sum = 0;
        for (int64_t i = 0; i < keep; i++) sum += s->prob[s->idx[i]];
    }
    double r = next_uniform(s) * sum, acc = 0;
    for (int64_t i = 0; i < keep; i++) {
        acc += s->prob[s->idx[i]];
        if (r < acc) return s->idx[i];
    }
    return s->idx[keep - 1];
}
