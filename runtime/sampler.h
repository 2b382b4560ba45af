/* sampler.h: choosing the next token from logits: greedy, or temperature / top-k / top-p
 * sampling with a seeded generator, reproducible for a given seed. */
#ifndef TTC_SAMPLER_H
#define TTC_SAMPLER_H

#include <stdint.h>

typedef struct TtcSampler {
    float temperature; /* <= 0: greedy (argmax) */
    int top_k;         /* 0: no limit */
    float top_p;       /* 1: no limit */
    uint64_t rng;      /* generator state */
    /* scratch, sized to the vocabulary on first use */
    int64_t cap;
    float *prob;
    int32_t *idx;
} TtcSampler;

/* greedy when temperature <= 0 */
void ttc_sampler_init(TtcSampler *s, float temperature, int top_k, float top_p, uint64_t seed);
/* The index of the first NaN or infinite value of x[0..n), -1 when all are finite. No token can
 * be chosen honestly from a row of logits holding one (argmax would quietly pick id 0 past a NaN,
 * and sampling would divide by a NaN sum): callers refuse it first, naming the step (generate.c).
 * nonfinite.c scans tensors with it too. */
int64_t ttc_first_nonfinite(const float *x, int64_t n);
/* The next token for one row of `n` finite logits; -1 only when out of memory. */
int32_t ttc_sample(TtcSampler *s, const float *logits, int64_t n);
void ttc_sampler_free(TtcSampler *s);

#endif
