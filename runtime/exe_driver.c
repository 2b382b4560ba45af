/* exe_driver.c: the part of a generated program that is not about the model (ttc_exe.h).
 *
 * It follows `ttc run` (compiler/cli/cmd_run.c) and `ttc generate` (cmd_generate.c) step by
 * step — the same order of loading, the same checks and messages, the same printing — but runs
 * the generated entry points instead of the plan executor. The memory (arena, KV cache) comes
 * from ttc_session_init, so it is the plan runtime's to the byte, and outputs are found and
 * written through the session as `ttc run` writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exe_args.h"
#include "npy.h"
#include "sampler.h"
#include "ttc_exe.h"

TtcStatus ttc_exe_plan(const TtcExeProgram *prog, TtcPlan *p, const char *what, TtcError *err) {
    memset(p, 0, sizeof *p);
    p->version = TTC_PLAN_VERSION;
    snprintf(p->model_name, sizeof p->model_name, "%s", prog->model_name);
    p->model_type = prog->model_type;
    snprintf(p->device, sizeof p->device, "%s", prog->device);
    snprintf(p->producer, sizeof p->producer, "%s", prog->producer ? prog->producer : "");
    p->vocab_size = prog->vocab_size;
    p->eos_token_id = prog->eos_token_id;
    p->max_batch = prog->max_batch;
    p->max_seq = prog->max_seq;
    p->max_ctx = prog->max_ctx;
    p->arena_bytes = prog->arena_bytes;
    if (prog->n_entries < 1 || prog->n_entries > TTC_MAX_ENTRIES)
        return ttc_fail(err, TTC_E_INTERNAL, "%s: %d entry points (1..%d supported)", what, prog->n_entries,
                        TTC_MAX_ENTRIES);
    p->n_entries = prog->n_entries;
    memcpy(p->entries, prog->entries, (size_t)prog->n_entries * sizeof *p->entries);
    p->tensors = malloc(((size_t)prog->n_tensors + 1) * sizeof *p->tensors);
    p->ops = malloc(((size_t)prog->n_ops + 1) * sizeof *p->ops);
    if (!p->tensors || !p->ops) {
        ttc_plan_free(p);
        return ttc_fail(err, TTC_E_INTERNAL, "out of memory");
    }
    memcpy(p->tensors, prog->tensors, (size_t)prog->n_tensors * sizeof *p->tensors);
    memcpy(p->ops, prog->ops, (size_t)prog->n_ops * sizeof *p->ops);
    p->n_tensors = prog->n_tensors;
    p->n_ops = prog->n_ops;
    /* The tables were validated when ttc compiled them; checking again costs microseconds and
     * turns a hand-edited file into a message rather than a crash. */
    if (ttc_plan_validate(p, what, err) != TTC_OK) {
        ttc_plan_free(p);
        return err->status;
    }
    return TTC_OK;
}

/* ---- one execution context: model, session, the generated code's own model struct ---- */

typedef struct Exe {
    const TtcExeProgram *prog;
    ExeArgs args;
    TtcModel m;
    TtcSession s;
    int have_model, have_session;
    void *model; /* the generated Model struct */
} Exe;

static void exe_close(Exe *x) {
    if (x->have_session) ttc_session_free(&x->s);
    if (x->have_model) ttc_model_close(&x->m);
    free(x->model);
    x->have_session = x->have_model = 0;
    x->model = NULL;
}

static TtcStatus exe_open_model(Exe *x, TtcError *err) {
    TtcPlan plan;
    if (ttc_exe_plan(x->prog, &plan, x->args.prog, err) != TTC_OK) return err->status;
    ttc_model_from_plan(&x->m, &plan);
    x->have_model = 1;
    return TTC_OK;
}

/* As cli_load_weights: exactly one of --weights and --random-weights. */
static TtcStatus exe_load_weights(Exe *x, TtcError *err) {
    const char *w = x->args.val[EXE_WEIGHTS], *seed = x->args.val[EXE_RANDOM_WEIGHTS];
    if (!!w == !!seed) {
        ttc_fail(err, TTC_E_USER, "%s: give exactly one of --weights and --random-weights", x->args.prog);
        ttc_hint(err, "--weights model.safetensors, or --random-weights 1 to try the plan without a checkpoint");
        return TTC_E_USER;
    }
    if (w) return ttc_model_load_weights(&x->m, w, 0, err);
    char *end;
    unsigned long long s = strtoull(seed, &end, 10);
    if (*end || end == seed || *seed == '-')
        return ttc_fail(err, TTC_E_USER, "--random-weights: '%s' is not a whole number", seed);
    return ttc_model_random_weights(&x->m, s, 0, err);
}

/* The arena and KV cache of the plan runtime, then the generated code's pointers into them. */
static TtcStatus exe_start_session(Exe *x, TtcError *err) {
    if (ttc_session_init(&x->s, &x->m, NULL, err) != TTC_OK) return err->status;
    x->have_session = 1;
    x->model = calloc(1, x->prog->model_size ? x->prog->model_size : 1);
    if (!x->model) return ttc_fail(err, TTC_E_INTERNAL, "out of memory");
    x->prog->bind(x->model, &x->m, x->s.state);
    return TTC_OK;
}

/* ---- the entry points, with exec.c's checks in front (same rules, same messages) ---- */

static TtcStatus check_ids(const TtcPlan *p, const int32_t *ids, int64_t n, int64_t seq, TtcError *err) {
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= p->vocab_size) {
            ttc_fail(err, TTC_E_USER, "input id %d at [%lld, %lld] is outside the vocabulary [0, %lld)", ids[i],
                     (long long)(i / seq), (long long)(i % seq), (long long)p->vocab_size);
            ttc_hint(err, "were the ids made by this model's tokenizer?");
            return TTC_E_USER;
        }
    return TTC_OK;
}

static TtcStatus check_inputs(const TtcPlan *p, const TtcInputs *in, TtcError *err) {
    if (!in->input_ids) return ttc_fail(err, TTC_E_USER, "no input ids given");
    if (in->batch < 1 || in->seq < 1) return ttc_fail(err, TTC_E_USER, "the input is empty");
    if (in->batch > p->max_batch) {
        ttc_fail(err, TTC_E_USER, "the input has %lld sequences; the plan was compiled for at most %lld",
                 (long long)in->batch, (long long)p->max_batch);
        ttc_hint(err, "recompile with ttc compile --batch %lld", (long long)in->batch);
        return TTC_E_USER;
    }
    if (in->seq > p->entries[0].max_seq) {
        ttc_fail(err, TTC_E_USER, "the input has %lld tokens per sequence; the plan was compiled for at most %lld",
                 (long long)in->seq, (long long)p->entries[0].max_seq);
        ttc_hint(err, "recompile with ttc compile --seq %lld", (long long)in->seq);
        return TTC_E_USER;
    }
    return check_ids(p, in->input_ids, in->batch * in->seq, in->seq, err);
}

/* Sets the session's view of the step (for ttc_session_output) and returns the generated
 * code's: the same arena and sizes. */
static TtcStep begin_step(Exe *x, int entry, int64_t batch, int64_t seq, TtcError *err) {
    TtcSession *s = &x->s;
    s->entry = entry;
    memset(&s->bind, 0, sizeof s->bind);
    s->bind.v[TTC_SYM_BATCH] = batch;
    s->bind.v[TTC_SYM_SEQ] = seq;
    s->bind.v[TTC_SYM_CTX] = s->past + seq;
    TtcStep st = {s->arena, batch, seq, s->past + seq, err};
    return st;
}

static TtcStatus exe_forward(Exe *x, const TtcInputs *in, TtcError *err) {
    if (check_inputs(&x->m.plan, in, err) != TTC_OK) return err->status;
    x->s.past = 0; /* a new prompt starts a new cache */
    x->s.batch = in->batch;
    TtcStep st = begin_step(x, 0, in->batch, in->seq, err);
    TtcStatus rc = x->prog->prefill(x->model, &st, in);
    if (rc == TTC_OK) x->s.past = in->seq;
    return rc;
}

static TtcStatus exe_decode_step(Exe *x, const int32_t *ids, TtcError *err) {
    const TtcPlan *p = &x->m.plan;
    int e = ttc_plan_find_entry(p, 1);
    if (e < 0 || !x->prog->decode)
        return ttc_fail(err, TTC_E_USER, "plan '%s' has no decode entry point (is it a decoder?)", p->model_name);
    if (x->s.past < 1) return ttc_fail(err, TTC_E_INTERNAL, "decode step before any prompt was run");
    if (x->s.past + 1 > p->max_ctx) {
        ttc_fail(err, TTC_E_USER, "sequences would reach %lld tokens; the plan's KV cache holds %lld (--max-seq)",
                 (long long)(x->s.past + 1), (long long)p->max_ctx);
        ttc_hint(err, "recompile with a larger --max-seq, or ask for fewer new tokens");
        return TTC_E_USER;
    }
    if (check_ids(p, ids, x->s.batch, 1, err) != TTC_OK) return err->status;
    TtcStep st = begin_step(x, e, x->s.batch, 1, err);
    TtcStatus rc = x->prog->decode(x->model, &st, ids);
    if (rc == TTC_OK) x->s.past++;
    return rc;
}

/* ---- run: like `ttc run` ---- */

typedef struct RunInputs {
    TtcNpyArray ids, tt, mask;
    TtcInputs in;
} RunInputs;

static void free_inputs(RunInputs *r) {
    ttc_npy_free(&r->ids);
    ttc_npy_free(&r->tt);
    ttc_npy_free(&r->mask);
}

static TtcStatus load_companion(const char *arg, const char *flag, const TtcNpyArray *ids, TtcNpyArray *out,
                                const int32_t **dst, TtcError *err) {
    if (!arg) return TTC_OK;
    if (ttc_ids_load(arg, flag, out, err) != TTC_OK) return err->status;
    if (out->shape[0] != ids->shape[0] || out->shape[1] != ids->shape[1]) {
        ttc_fail(err, TTC_E_USER, "%s has shape [%lld, %lld], the input ids have [%lld, %lld]", flag,
                 (long long)out->shape[0], (long long)out->shape[1], (long long)ids->shape[0], (long long)ids->shape[1]);
        return TTC_E_USER;
    }
    *dst = out->i32;
    return TTC_OK;
}

static TtcStatus load_inputs(const Exe *x, RunInputs *r, TtcError *err) {
    const ExeArgs *a = &x->args;
    if (!a->val[EXE_INPUT_IDS]) {
        ttc_fail(err, TTC_E_USER, "%s: --input-ids is required", a->prog);
        ttc_hint(err, "e.g. --input-ids \"101,7592,2088,102\" or --input-ids ids.npy%s",
                 x->prog->model_type == TTC_MODEL_DECODER ? " (or --prompt-ids with --max-new-tokens to generate)" : "");
        return TTC_E_USER;
    }
    if (ttc_ids_load(a->val[EXE_INPUT_IDS], "--input-ids", &r->ids, err) != TTC_OK) return err->status;
    r->in.input_ids = r->ids.i32;
    r->in.batch = r->ids.shape[0];
    r->in.seq = r->ids.shape[1];
    if (load_companion(a->val[EXE_TOKEN_TYPE_IDS], "--token-type-ids", &r->ids, &r->tt, &r->in.token_type_ids, err))
        return err->status;
    if (load_companion(a->val[EXE_ATTENTION_MASK], "--attention-mask", &r->ids, &r->mask, &r->in.attention_mask, err))
        return err->status;
    return TTC_OK;
}

static TtcStatus write_output(TtcSession *s, TtcRole role, const char *path, const char *flag, TtcError *err) {
    if (!path) return TTC_OK;
    RtTensor t;
    const float *data = ttc_session_output(s, role, &t);
    if (!data) {
        ttc_fail(err, TTC_E_USER, "%s: this model has no %s output", flag, ttc_role_name(role));
        if (role == TTC_ROLE_POOLED) ttc_hint(err, "the spec has no pooler layer");
        return TTC_E_USER;
    }
    return ttc_npy_write_f32(path, data, t.dims, t.rank, err);
}

static void print_output(TtcSession *s, TtcRole role) {
    RtTensor t;
    const float *data = ttc_session_output(s, role, &t);
    if (!data) return;
    printf("%-7s [", ttc_role_name(role));
    for (int i = 0; i < t.rank; i++) printf("%s%lld", i ? ", " : "", (long long)t.dims[i]);
    printf("]  first values:");
    int64_t n = rt_tensor_elems(&t);
    for (int64_t i = 0; i < n && i < 6; i++) printf(" %.6f", data[i]);
    printf("\n");
}

static int exe_run(Exe *x) {
    TtcError err = {0};
    RunInputs r;
    memset(&r, 0, sizeof r);
    int64_t repeat;
    if (exe_int_arg(&x->args, EXE_REPEAT, 1, 1000000, 1, &repeat)) return 1;
    double *times = calloc((size_t)repeat, sizeof *times);
    if (!times) {
        ttc_fail(&err, TTC_E_INTERNAL, "out of memory");
        goto done;
    }
    double t0 = ttc_now_ms();
    if (exe_open_model(x, &err) || load_inputs(x, &r, &err) || exe_load_weights(x, &err)) goto done;
    double t_load = ttc_now_ms() - t0;
    if (exe_start_session(x, &err)) goto done;
    for (int64_t i = 0; i < repeat && err.status == TTC_OK; i++) {
        double t1 = ttc_now_ms();
        exe_forward(x, &r.in, &err);
        times[i] = ttc_now_ms() - t1;
    }
    if (err.status != TTC_OK) goto done;
    const TtcPlan *p = &x->m.plan;
    ttc_sort_doubles(times, (size_t)repeat);
    printf("%s on %s: batch %lld, seq %lld\n", p->model_name, p->device, (long long)r.in.batch, (long long)r.in.seq);
    print_output(&x->s, TTC_ROLE_HIDDEN);
    print_output(&x->s, TTC_ROLE_POOLED);
    print_output(&x->s, TTC_ROLE_LOGITS);
    printf("time: load %.1f ms, forward %.2f ms (host)", t_load, times[0]);
    if (repeat > 1) printf(", median %.2f ms over %lld runs", times[repeat / 2], (long long)repeat);
    printf("\n");
    if (write_output(&x->s, p->model_type == TTC_MODEL_DECODER ? TTC_ROLE_LOGITS : TTC_ROLE_HIDDEN,
                     x->args.val[EXE_OUTPUT], "--output", &err) != TTC_OK)
        goto done;
    write_output(&x->s, TTC_ROLE_POOLED, x->args.val[EXE_OUTPUT_POOLED], "--output-pooled", &err);
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
    free(times);
    free_inputs(&r);
    return err.status;
}

/* ---- generate: like `ttc generate` ---- */

static int sampling_options(const ExeArgs *a, TtcSampler *smp) {
    double temp, top_p;
    int64_t top_k, seed;
    if (exe_float_arg(a, EXE_TEMPERATURE, 0, 100, 0, &temp) || exe_float_arg(a, EXE_TOP_P, 1e-6, 1, 1, &top_p) ||
        exe_int_arg(a, EXE_TOP_K, 0, 1 << 30, 0, &top_k) || exe_int_arg(a, EXE_SEED, 0, INT64_MAX, 0, &seed))
        return 1;
    if (temp == 0 && (top_k || a->val[EXE_TOP_P]))
        return exe_usage_error("add --temperature, e.g. --temperature 0.8", "--top-k and --top-p need sampling, which "
                               "--temperature turns on (without it generation is greedy)");
    ttc_sampler_init(smp, (float)temp, (int)top_k, (float)top_p, (uint64_t)seed);
    return 0;
}

/* Picks each sequence's next token from the last position of the logits [B, S, V]. */
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

static int exe_generate(Exe *x) {
    TtcError err = {0};
    const ExeArgs *a = &x->args;
    TtcNpyArray prompt;
    TtcSampler smp;
    int32_t *next = NULL;
    int *done_seq = NULL;
    int64_t max_new;
    memset(&prompt, 0, sizeof prompt);
    if (!a->val[EXE_MAX_NEW_TOKENS])
        return exe_usage_error("e.g. --max-new-tokens 32", "%s: --max-new-tokens is required", a->prog);
    if (a->val[EXE_INPUT_IDS] || a->val[EXE_OUTPUT] || a->val[EXE_OUTPUT_POOLED] || a->val[EXE_REPEAT])
        return exe_usage_error("--input-ids, --output and --repeat run a forward; --prompt-ids generates",
                               "%s: give either --input-ids or --prompt-ids", a->prog);
    if (exe_int_arg(a, EXE_MAX_NEW_TOKENS, 1, 1 << 24, 0, &max_new) || sampling_options(a, &smp)) return 1;
    double t0 = ttc_now_ms();
    if (exe_open_model(x, &err) || ttc_ids_load(a->val[EXE_PROMPT_IDS], "--prompt-ids", &prompt, &err)) goto done;
    const TtcPlan *p = &x->m.plan;
    if (p->model_type != TTC_MODEL_DECODER) {
        ttc_fail(&err, TTC_E_USER, "%s is an encoder; generation needs a decoder", a->prog);
        ttc_hint(&err, "use --input-ids to run the encoder");
        goto done;
    }
    int64_t B = prompt.shape[0], S = prompt.shape[1];
    if (S + max_new > p->max_ctx) {
        ttc_fail(&err, TTC_E_USER, "the prompt (%lld tokens) plus --max-new-tokens %lld exceed the plan's KV cache of "
                 "%lld tokens", (long long)S, (long long)max_new, (long long)p->max_ctx);
        ttc_hint(&err, "recompile with ttc compile --max-seq %lld, or ask for at most %lld new tokens",
                 (long long)(S + max_new), (long long)(p->max_ctx - S));
        goto done;
    }
    if (exe_load_weights(x, &err) || exe_start_session(x, &err)) goto done;
    next = calloc((size_t)B, sizeof *next);
    done_seq = calloc((size_t)B, sizeof *done_seq);
    if (!next || !done_seq) {
        ttc_fail(&err, TTC_E_INTERNAL, "out of memory");
        goto done;
    }
    double t_load = ttc_now_ms() - t0, t1 = ttc_now_ms();
    TtcInputs in = {prompt.i32, NULL, NULL, B, S};
    int64_t produced = 0;
    if (exe_forward(x, &in, &err) != TTC_OK || next_tokens(&x->s, &smp, next, &err) != TTC_OK) goto done;
    double t_prefill = ttc_now_ms() - t1, t2 = ttc_now_ms();
    int eos = a->val[EXE_IGNORE_EOS] ? -1 : (int)p->eos_token_id;
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
        if (exe_decode_step(x, next, &err) != TTC_OK || next_tokens(&x->s, &smp, next, &err) != TTC_OK) break;
    }
    if (B == 1) putchar('\n');
    fflush(stdout);
    double t_decode = ttc_now_ms() - t2;
    if (err.status == TTC_OK)
        fprintf(stderr, "%s: load %.1f ms; prefill %lld x %lld tokens in %.2f ms (%.1f tok/s); decode %lld steps "
                "in %.2f ms (%.1f tok/s per sequence)\n", p->model_name, t_load, (long long)B, (long long)S,
                t_prefill, B * S / (t_prefill / 1e3), (long long)(produced - 1), t_decode,
                produced > 1 ? (produced - 1) / (t_decode / 1e3) : 0.0);
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
    free(next);
    free(done_seq);
    ttc_sampler_free(&smp);
    ttc_npy_free(&prompt);
    return err.status;
}

int ttc_exe_main(const TtcExeProgram *prog, int argc, char **argv) {
    Exe x;
    memset(&x, 0, sizeof x);
    x.prog = prog;
    int rc = exe_parse_args(prog, argc, argv, &x.args);
    if (rc) return rc < 0 ? 0 : rc;
    const ExeOptId generation_only[] = {EXE_MAX_NEW_TOKENS, EXE_TEMPERATURE, EXE_TOP_K, EXE_TOP_P, EXE_SEED,
                                        EXE_IGNORE_EOS};
    if (x.args.val[EXE_PROMPT_IDS]) {
        rc = exe_generate(&x);
    } else {
        for (size_t i = 0; i < sizeof generation_only / sizeof generation_only[0]; i++)
            if (x.args.val[generation_only[i]])
                return exe_usage_error("e.g. --prompt-ids \"1,2,3\" --max-new-tokens 16",
                                       "%s: %s is for generation, which needs --prompt-ids", x.args.prog,
                                       exe_opt_name(generation_only[i]));
        rc = exe_run(&x);
    }
    exe_close(&x);
    return rc;
}
