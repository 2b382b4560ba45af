/* generate.c: prefill, then decode token by token (generate.h). */
#include "generate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_cli.h"

int ttc_sampler_from_flags(TtcSampler *smp, const char *temperature, const char *top_k, const char *top_p,
                           const char *seed) {
    double temp, p;
    int64_t k, s;
    if (ttc_flag_real("--temperature", temperature, 0, 100, 0, &temp) ||
        ttc_flag_real("--top-p", top_p, 1e-6, 1, 1, &p) || ttc_flag_int("--top-k", top_k, 0, 1 << 30, 0, &k) ||
        ttc_flag_int("--seed", seed, 0, INT64_MAX, 0, &s))
        return 1;
    /* Refused rather than ignored: a greedy run would look like a sampled one that "did nothing". */
    if (temp == 0 && (k || top_p))
        return ttc_print_error("add --temperature, e.g. --temperature 0.8", "--top-k and --top-p need sampling, which "
                               "--temperature turns on (without it generation is greedy)");
    ttc_sampler_init(smp, (float)temp, (int)k, (float)p, (uint64_t)s);
    return 0;
}

TtcStatus ttc_generation_fits(const TtcPlan *p, int64_t prompt_len, int64_t max_new, TtcError *err) {
    if (prompt_len + max_new <= p->max_ctx) return TTC_OK;
    ttc_fail(err, TTC_E_USER, "the prompt (%lld tokens) plus --max-new-tokens %lld exceed the plan's KV cache of "
             "%lld tokens", (long long)prompt_len, (long long)max_new, (long long)p->max_ctx);
    ttc_hint(err, "recompile with ttc compile --max-seq %lld, or ask for at most %lld new tokens",
             (long long)(prompt_len + max_new), (long long)(p->max_ctx - prompt_len));
    return TTC_E_USER;
}

void ttc_generate_print(void *user, int64_t step, const int32_t *tokens, int64_t batch) {
    FILE *f = user;
    if (tokens) {
        for (int64_t b = 0; b < batch; b++) fprintf(f, "%s%d", b ? " " : (batch > 1 ? "" : step ? " " : ""), tokens[b]);
        if (batch > 1) fputc('\n', f);
    } else if (batch == 1) {
        fputc('\n', f);
    }
    fflush(f);
}

/* A row of logits holding NaN or infinity: a user error (a broken checkpoint is the usual
 * cause), naming the step, the sequence and the token id, never a token picked from garbage. */
static TtcStatus nonfinite_logits(const float *row, int64_t b, int64_t id, int64_t step, TtcError *err) {
    char when[48];
    if (step == 0)
        snprintf(when, sizeof when, "after the prefill");
    else
        snprintf(when, sizeof when, "after decode step %lld", (long long)step);
    ttc_fail(err, TTC_E_USER, "%s the logits of sequence %lld hold %s at token id %lld; no token can be chosen", when,
             (long long)b, isnan(row[id]) ? "NaN" : row[id] > 0 ? "+inf" : "-inf", (long long)id);
    ttc_hint(err, "a weight or an op produced a non-finite value: run again with --nan-check to name the first op "
             "whose output holds one");
    return TTC_E_USER;
}

/* Picks each sequence's next token from the last position of the logits [B, S, V]; `step` is 0
 * for the prefill, then the decode step's number (for the error). */
static TtcStatus next_tokens(TtcSession *s, TtcSampler *smp, int32_t *next, int64_t step, TtcError *err) {
    RtTensor t;
    const float *logits = ttc_session_output(s, TTC_ROLE_LOGITS, &t);
    int64_t B = t.dims[0], S = t.dims[1], V = t.dims[2];
    for (int64_t b = 0; b < B; b++) {
        const float *row = logits + (b * S + S - 1) * V;
        int64_t bad = ttc_first_nonfinite(row, V);
        if (bad >= 0) return nonfinite_logits(row, b, bad, step, err);
        next[b] = ttc_sample(smp, row, V);
        if (next[b] < 0) return ttc_fail(err, TTC_E_INTERNAL, "out of memory while sampling");
    }
    return TTC_OK;
}

static TtcStatus run_prefill(TtcSession *s, const TtcGenerateSteps *steps, const TtcInputs *in, TtcError *err) {
    return steps && steps->prefill ? steps->prefill(steps->user, in, err) : ttc_forward(s, in, err);
}

static TtcStatus run_decode(TtcSession *s, const TtcGenerateSteps *steps, const int32_t *ids, TtcError *err) {
    return steps && steps->decode ? steps->decode(steps->user, ids, err) : ttc_decode_step(s, ids, err);
}

TtcStatus ttc_generate(TtcSession *s, const TtcGenerateSteps *steps, const TtcInputs *prompt, int64_t max_new,
                       TtcSampler *smp, int64_t eos, TtcGenerateHook on_step, void *user, TtcGenerateStats *stats,
                       TtcError *err) {
    int64_t B = prompt->batch;
    memset(stats, 0, sizeof *stats);
    stats->batch = B;
    stats->seq = prompt->seq;
    int32_t *next = calloc((size_t)B, sizeof *next);
    int *done = calloc((size_t)B, sizeof *done);
    TtcStatus rc = TTC_OK;
    if (!next || !done) {
        rc = ttc_fail(err, TTC_E_INTERNAL, "out of memory");
        goto out;
    }
    double t1 = ttc_now_ms();
    rc = run_prefill(s, steps, prompt, err);
    if (rc == TTC_OK) rc = next_tokens(s, smp, next, 0, err);
    if (rc != TTC_OK) goto out;
    stats->prefill_ms = ttc_now_ms() - t1;
    double t2 = ttc_now_ms();
    for (int64_t step = 0; step < max_new; step++) {
        if (on_step) on_step(user, step, next, B);
        int live = 0;
        for (int64_t b = 0; b < B; b++) {
            done[b] |= next[b] == eos;
            live |= !done[b];
        }
        stats->steps++;
        if (!live || step + 1 == max_new) break;
        rc = run_decode(s, steps, next, err);
        if (rc == TTC_OK) rc = next_tokens(s, smp, next, step + 1, err);
        if (rc != TTC_OK) break;
    }
    if (on_step) on_step(user, stats->steps, NULL, B);
    stats->decode_ms = ttc_now_ms() - t2;
out:
    free(next);
    free(done);
    return rc;
}

void ttc_generate_report(FILE *f, const char *model_name, double load_ms, const TtcGenerateStats *st) {
    int64_t later = st->steps - 1; /* the first token came with the prefill */
    fprintf(f, "%s: load %.1f ms; prefill %lld x %lld tokens in %.2f ms (%.1f tok/s); decode %lld steps in %.2f ms "
            "(%.1f tok/s per sequence)\n", model_name, load_ms, (long long)st->batch, (long long)st->seq,
            st->prefill_ms, st->batch * st->seq / (st->prefill_ms / 1e3), (long long)later, st->decode_ms,
            later > 0 ? later / (st->decode_ms / 1e3) : 0.0);
}
