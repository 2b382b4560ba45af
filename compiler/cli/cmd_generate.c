/* cmd_generate.c: `ttc generate`: prefill a prompt, then decode one token at a time from the KV
 * cache, streaming token ids to stdout; speeds to stderr at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"
#include "sampler.h"

static const CliOpt generate_opts[] = {
    {"--weights", "W.safetensors", 0, "weights with Hugging Face names"},
    {"--random-weights", "SEED", 0, "seeded random weights instead of a file"},
    {"--prompt-ids", "IDS", 0, "prompt token ids: a .npy [batch, seq] or [seq], or a list \"1,2,3\""},
    {"--max-new-tokens", "N", 0, "tokens to generate per sequence"},
    {"--temperature", "T", 0, "sample with this temperature (default 0: greedy)"},
    {"--top-k", "K", 0, "sample among the K most likely tokens only"},
    {"--top-p", "P", 0, "sample among the most likely tokens whose mass reaches P"},
    {"--seed", "S", 0, "sampling seed (default 0); the same seed gives the same tokens"},
    {"--ignore-eos", NULL, 0, "keep going after the end-of-sequence token"},
    {0},
};

static int parse_float(const char *s, const char *flag, double lo, double hi, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) {
        char hint[96];
        snprintf(hint, sizeof hint, "give a number from %g to %g", lo, hi);
        return cli_error(hint, "%s: '%s' is not a valid value", flag, s);
    }
    *out = v;
    return 0;
}

static int sampling_options(const CliCommand *cmd, const CliArgs *a, TtcSampler *smp) {
    double temp = 0, top_p = 1;
    int64_t top_k, seed;
    const char *t = cli_get(cmd, a, "--temperature"), *p = cli_get(cmd, a, "--top-p");
    if ((t && parse_float(t, "--temperature", 0, 100, &temp)) || (p && parse_float(p, "--top-p", 1e-6, 1, &top_p)) ||
        cli_int(cmd, a, "--top-k", 0, 1 << 30, 0, &top_k) || cli_int(cmd, a, "--seed", 0, INT64_MAX, 0, &seed))
        return 1;
    if (temp == 0 && (top_k || p))
        return cli_error("add --temperature, e.g. --temperature 0.8", "--top-k and --top-p need sampling, which "
                         "--temperature turns on (without it generation is greedy)");
    ttc_sampler_init(smp, (float)temp, (int)top_k, (float)top_p, (uint64_t)seed);
    return 0;
}

/* Picks each sequence's next token from the last position of `logits` [B, S, V]. */
static TtcStatus next_tokens(TtcSession *s, TtcSampler *smp, int32_t *next, TtcError *err) {
    RtTensor t;
    const float *logits = ttc_session_output(s, TTC_ROLE_LOGITS, &t);
    int64_t B = t.dims[0], S = t.dims[1], V = t.dims[2];
    for (int64_t b = 0; b < B; b++) {
        next[b] = ttc_sample(smp, logits + (b * S + S - 1) * V, V);
        if (next[b] < 0) return ttc_fail(err, TTC_E_INTERNAL, "out of memory while sampling");
    }
    return TTC_OK;
}

int cmd_generate(const CliCommand *cmd, const CliArgs *a) {
    TtcError err = {0};
    TtcModel m;
    TtcSession s;
    TtcNpyArray prompt;
    TtcSampler smp;
    int32_t *next = NULL;
    int have_session = 0;
    int64_t max_new;
    memset(&s, 0, sizeof s);
    memset(&prompt, 0, sizeof prompt);
    memset(&m, 0, sizeof m);
    const char *ids = cli_get(cmd, a, "--prompt-ids");
    if (!ids) return cli_error("e.g. --prompt-ids \"1,2,3\"", "ttc generate: --prompt-ids is required");
    if (!cli_get(cmd, a, "--max-new-tokens"))
        return cli_error("e.g. --max-new-tokens 32", "ttc generate: --max-new-tokens is required");
    if (cli_int(cmd, a, "--max-new-tokens", 1, 1 << 24, 0, &max_new) || sampling_options(cmd, a, &smp)) return 1;
    double t0 = ttc_now_ms();
    if (ttc_model_open(&m, a->pos[0], &err) != TTC_OK || ttc_ids_load(ids, "--prompt-ids", &prompt, &err) != TTC_OK)
        goto done;
    if (m.plan.model_type != TTC_MODEL_DECODER) {
        ttc_fail(&err, TTC_E_USER, "%s is an encoder plan; generate needs a decoder", a->pos[0]);
        ttc_hint(&err, "use ttc run for encoders");
        goto done;
    }
    int64_t B = prompt.shape[0], S = prompt.shape[1];
    if (S + max_new > m.plan.max_ctx) {
        ttc_fail(&err, TTC_E_USER, "the prompt (%lld tokens) plus --max-new-tokens %lld exceed the plan's KV cache of "
                 "%lld tokens", (long long)S, (long long)max_new, (long long)m.plan.max_ctx);
        ttc_hint(&err, "recompile with ttc compile --max-seq %lld, or ask for at most %lld new tokens",
                 (long long)(S + max_new), (long long)(m.plan.max_ctx - S));
        goto done;
    }
    if (cli_load_weights(cmd, a, &m, 0, &err) != TTC_OK || ttc_session_init(&s, &m, NULL, &err) != TTC_OK) goto done;
    have_session = 1;
    next = calloc((size_t)B, sizeof *next);
    int *done_seq = calloc((size_t)B, sizeof *done_seq);
    if (!next || !done_seq) {
        free(done_seq);
        ttc_fail(&err, TTC_E_INTERNAL, "out of memory");
        goto done;
    }
    double t_load = ttc_now_ms() - t0, t1 = ttc_now_ms();
    TtcInputs in = {prompt.i32, NULL, NULL, B, S};
    int64_t produced = 0;
    if (ttc_forward(&s, &in, &err) == TTC_OK && next_tokens(&s, &smp, next, &err) == TTC_OK) {
        double t_prefill = ttc_now_ms() - t1, t2 = ttc_now_ms();
        int eos = cli_flag(cmd, a, "--ignore-eos") ? -1 : (int)m.plan.eos_token_id;
        for (int64_t step = 0; step < max_new; step++) {
            int live = 0;
            for (int64_t b = 0; b < B; b++) {
                printf("%s%d", b ? " " : (B > 1 ? "" : step ? " " : ""), next[b]);
                done_seq[b] |= next[b] == eos;
                live |= !done_seq[b];
            }
            if (B > 1) putchar('\n');
            fflush(stdout);
            produced++;
            if (!live || step + 1 == max_new) break;
            if (ttc_decode_step(&s, next, &err) != TTC_OK || next_tokens(&s, &smp, next, &err) != TTC_OK) break;
        }
        if (B == 1) putchar('\n');
        fflush(stdout);
        double t_decode = ttc_now_ms() - t2;
        if (err.status == TTC_OK)
            fprintf(stderr, "%s: load %.1f ms; prefill %lld x %lld tokens in %.2f ms (%.1f tok/s); decode %lld steps "
                    "in %.2f ms (%.1f tok/s per sequence)\n", m.plan.model_name, t_load, (long long)B, (long long)S,
                    t_prefill, B * S / (t_prefill / 1e3), (long long)(produced - 1), t_decode,
                    produced > 1 ? (produced - 1) / (t_decode / 1e3) : 0.0);
    }
    free(done_seq);
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
    free(next);
    ttc_sampler_free(&smp);
    if (have_session) ttc_session_free(&s);
    ttc_npy_free(&prompt);
    ttc_model_close(&m);
    return err.status;
}

const CliCommand cli_generate = {
    "generate",
    "generate tokens with a decoder plan (prefill, then decode from the KV cache)",
    "PLAN (--weights W | --random-weights SEED) --prompt-ids IDS --max-new-tokens N [--temperature T] [--top-k K] "
    "[--top-p P] [--seed S]",
    "Token ids stream to stdout as they are produced (one line per step when batch > 1); prefill and\n"
    "decode speeds go to stderr. Greedy unless --temperature is given; reproducible for a --seed.",
    1,
    1,
    generate_opts,
    cmd_generate,
};
