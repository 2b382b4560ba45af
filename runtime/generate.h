/* generate.h: generation with a decoder: prefill the prompt, then one decode step per new token,
 * each sequence's next token sampled from the last position's logits, until every sequence has
 * produced the end-of-sequence token or max_new tokens are out. `ttc generate` runs it on the
 * plan executor and generated programs on their generated entry points, with the same flags,
 * the same checks, the same streamed output and the same speed report. */
#ifndef TTC_GENERATE_H
#define TTC_GENERATE_H

#include <stdint.h>
#include <stdio.h>

#include "sampler.h"
#include "ttc_runtime.h"

/* The sampling flags (--temperature, --top-k, --top-p, --seed; NULL when absent) as a sampler.
 * 0 ok, 1 on a usage error (printed): a bad value, or --top-k/--top-p without --temperature. */
int ttc_sampler_from_flags(TtcSampler *smp, const char *temperature, const char *top_k, const char *top_p,
                           const char *seed);

/* A user error unless a prompt of `prompt_len` tokens plus `max_new` new ones fit the plan's KV
 * cache. Checked before loading weights, so that a request that cannot run fails at once. */
TtcStatus ttc_generation_fits(const TtcPlan *p, int64_t prompt_len, int64_t max_new, TtcError *err);

/* How the entry points run: NULL functions mean the plan executor (ttc_forward and
 * ttc_decode_step on the session). Either way the logits are read with ttc_session_output. */
typedef struct TtcGenerateSteps {
    TtcStatus (*prefill)(void *user, const TtcInputs *in, TtcError *err);
    TtcStatus (*decode)(void *user, const int32_t *ids, TtcError *err);
    void *user;
} TtcGenerateSteps;

/* Called after each step with the token each sequence got (tokens[b], b < batch), and once more
 * with tokens == NULL when generation ends (after the last step, or after a failed decode). */
typedef void (*TtcGenerateHook)(void *user, int64_t step, const int32_t *tokens, int64_t batch);

/* The hook of `ttc generate` and generated programs: streams the ids to the FILE * `user`, one
 * line of space-separated ids for batch 1, one line per step for larger batches; flushed after
 * every step so that they show as they come. */
void ttc_generate_print(void *user, int64_t step, const int32_t *tokens, int64_t batch);

typedef struct TtcGenerateStats {
    int64_t batch, seq;   /* the prompt's shape */
    int64_t steps;        /* tokens produced per sequence (the first comes from prefill) */
    double prefill_ms;    /* prefill and the first token's sampling */
    double decode_ms;     /* every later step */
} TtcGenerateStats;

/* Generates up to `max_new` (>= 1) tokens per sequence after `prompt` on session `s`. `eos` is
 * the token that ends a sequence, -1 for none; sequences that ended keep going (their tokens
 * mean nothing) while another is live. `steps` may be NULL (the plan executor). */
TtcStatus ttc_generate(TtcSession *s, const TtcGenerateSteps *steps, const TtcInputs *prompt, int64_t max_new,
                       TtcSampler *smp, int64_t eos, TtcGenerateHook on_step, void *user, TtcGenerateStats *stats,
                       TtcError *err);

/* The speed line printed after a generation: load time, prefill and decode throughput. */
void ttc_generate_report(FILE *f, const char *model_name, double load_ms, const TtcGenerateStats *stats);

#endif
