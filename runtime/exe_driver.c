/* exe_driver.c: the part of a generated program that is not about the model (ttc_exe.h).
 *
 * It follows `ttc run` (compiler/cli/cmd_run.c) and `ttc generate` (cmd_generate.c) step by
 * step — the same order of loading, the same checks and messages, the same printing — but runs
 * the generated entry points instead of the plan executor. What the steps do is the same code
 * as ttc's: flag values, inputs and outputs (run_cli.c), weights (ttc_model_load_weights_arg),
 * the input checks (exec.c), the generation loop (generate.c). The memory (arena, KV cache)
 * comes from ttc_session_init, so it is the plan runtime's to the byte, and outputs are found and
 * written through the session as `ttc run` writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exe_args.h"
#include "generate.h"
#include "run_cli.h"
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
    p->mesh_rows = prog->mesh_rows;
    p->mesh_cols = prog->mesh_cols;
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

static TtcStatus exe_load_weights(Exe *x, TtcError *err) {
    return ttc_model_load_weights_arg(&x->m, x->args.val[EXE_WEIGHTS], x->args.val[EXE_RANDOM_WEIGHTS], 0,
                                      x->args.prog, err);
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

/* ---- the entry points, with exec.c's checks in front (the same functions, so the same rules
 * and messages) ---- */

/* Sets the session's view of the step (for ttc_session_output) and returns the generated
 * code's: the same arena and sizes. */
static TtcStep begin_step(Exe *x, int entry, int64_t batch, int64_t seq, TtcError *err) {
    TtcSession *s = &x->s;
    s->entry = entry;
    ttc_session_begin_step(s, batch, seq);
    TtcStep st = {s->arena, batch, seq, s->past + seq, err};
    return st;
}

/* Both take the Exe as `user`, as generation calls them (TtcGenerateSteps). */
static TtcStatus exe_forward(void *user, const TtcInputs *in, TtcError *err) {
    Exe *x = user;
    if (ttc_check_inputs(&x->m.plan, in, err) != TTC_OK) return err->status;
    x->s.past = 0; /* a new prompt starts a new cache */
    x->s.batch = in->batch;
    TtcStep st = begin_step(x, 0, in->batch, in->seq, err);
    TtcStatus rc = x->prog->prefill(x->model, &st, in);
    if (rc == TTC_OK) x->s.past = in->seq;
    return rc;
}

static TtcStatus exe_decode_step(void *user, const int32_t *ids, TtcError *err) {
    Exe *x = user;
    if (!x->prog->decode)
        return ttc_fail(err, TTC_E_USER, "plan '%s' has no decode entry point (is it a decoder?)",
                        x->m.plan.model_name);
    if (ttc_check_decode_step(&x->s, ids, err) != TTC_OK) return err->status;
    int e = ttc_plan_find_entry(&x->m.plan, 1);
    TtcStep st = begin_step(x, e, x->s.batch, 1, err);
    TtcStatus rc = x->prog->decode(x->model, &st, ids);
    if (rc == TTC_OK) x->s.past++;
    return rc;
}

/* ---- run: like `ttc run` ---- */

static int exe_run(Exe *x) {
    TtcError err = {0};
    TtcInputFiles r;
    memset(&r, 0, sizeof r);
    int64_t repeat;
    if (exe_int_arg(&x->args, EXE_REPEAT, 1, 1000000, 1, &repeat)) return 1;
    double *times = calloc((size_t)repeat, sizeof *times);
    if (!times) {
        ttc_fail(&err, TTC_E_INTERNAL, "out of memory");
        goto done;
    }
    double t0 = ttc_now_ms();
    const ExeArgs *a = &x->args;
    const char *decoder_hint = x->prog->model_type == TTC_MODEL_DECODER
                                   ? " (or --prompt-ids with --max-new-tokens to generate)" : "";
    if (exe_open_model(x, &err) ||
        ttc_inputs_load(&r, &x->m.plan, a->prog, decoder_hint, a->val[EXE_INPUT_IDS], a->val[EXE_TOKEN_TYPE_IDS],
                        a->val[EXE_ATTENTION_MASK], &err) ||
        exe_load_weights(x, &err))
        goto done;
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
    ttc_output_print(&x->s, TTC_ROLE_HIDDEN);
    ttc_output_print(&x->s, TTC_ROLE_POOLED);
    ttc_output_print(&x->s, TTC_ROLE_LOGITS);
    printf("time: load %.1f ms, forward %.2f ms (host)", t_load, times[0]);
    if (repeat > 1) printf(", median %.2f ms over %lld runs", times[repeat / 2], (long long)repeat);
    printf("\n");
    if (ttc_output_write(&x->s, p->model_type == TTC_MODEL_DECODER ? TTC_ROLE_LOGITS : TTC_ROLE_HIDDEN,
                         a->val[EXE_OUTPUT], "--output", &err) != TTC_OK)
        goto done;
    ttc_output_write(&x->s, TTC_ROLE_POOLED, a->val[EXE_OUTPUT_POOLED], "--output-pooled", &err);
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
    free(times);
    ttc_inputs_free(&r);
    return err.status;
}

/* ---- generate: like `ttc generate` ---- */

static int exe_generate(Exe *x) {
    TtcError err = {0};
    const ExeArgs *a = &x->args;
    TtcNpyArray prompt;
    TtcSampler smp;
    int64_t max_new;
    memset(&prompt, 0, sizeof prompt);
    if (!a->val[EXE_MAX_NEW_TOKENS])
        return ttc_print_error("e.g. --max-new-tokens 32", "%s: --max-new-tokens is required", a->prog);
    if (a->val[EXE_INPUT_IDS] || a->val[EXE_OUTPUT] || a->val[EXE_OUTPUT_POOLED] || a->val[EXE_REPEAT])
        return ttc_print_error("--input-ids, --output and --repeat run a forward; --prompt-ids generates",
                               "%s: give either --input-ids or --prompt-ids", a->prog);
    if (exe_int_arg(a, EXE_MAX_NEW_TOKENS, 1, 1 << 24, 0, &max_new) ||
        ttc_sampler_from_flags(&smp, a->val[EXE_TEMPERATURE], a->val[EXE_TOP_K], a->val[EXE_TOP_P], a->val[EXE_SEED]))
        return 1;
    double t0 = ttc_now_ms();
    if (exe_open_model(x, &err) ||
        ttc_ids_load(a->val[EXE_PROMPT_IDS], "--prompt-ids", TTC_ROLE_INPUT_IDS,
                     ttc_plan_input_bound(&x->m.plan, TTC_ROLE_INPUT_IDS), &prompt, &err))
        goto done;
    const TtcPlan *p = &x->m.plan;
    if (p->model_type != TTC_MODEL_DECODER) {
        ttc_fail(&err, TTC_E_USER, "%s is an encoder; generation needs a decoder", a->prog);
        ttc_hint(&err, "use --input-ids to run the encoder");
        goto done;
    }
    if (ttc_generation_fits(p, prompt.shape[1], max_new, &err) || exe_load_weights(x, &err) ||
        exe_start_session(x, &err))
        goto done;
    double t_load = ttc_now_ms() - t0;
    TtcInputs in = {prompt.i32, NULL, NULL, prompt.shape[0], prompt.shape[1]};
    TtcGenerateSteps steps = {exe_forward, exe_decode_step, x};
    TtcGenerateStats stats;
    if (ttc_generate(&x->s, &steps, &in, max_new, &smp, a->val[EXE_IGNORE_EOS] ? -1 : p->eos_token_id,
                     ttc_generate_print, stdout, &stats, &err) == TTC_OK)
        ttc_generate_report(stderr, p->model_name, t_load, &stats);
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
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
                return ttc_print_error("e.g. --prompt-ids \"1,2,3\" --max-new-tokens 16",
                                       "%s: %s is for generation, which needs --prompt-ids", x.args.prog,
                                       exe_opt_name(generation_only[i]));
        rc = exe_run(&x);
    }
    exe_close(&x);
    return rc;
}
