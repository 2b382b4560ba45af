/* cmd_profile.c: `ttc profile`: run a plan (decoders: prefill, then a few decode steps) and print
 * per op, module and op kind the emulated device time next to the host time, then the
 * bottlenecks with the configuration change to try for each (DESIGN.md §1, step 2). The tables,
 * suggestions and trace live in runtime/profile.c; this file is the command line around them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "generate.h"
#include "profile.h"
#include "profile_check.h"
#include "run_cli.h"

#define DEFAULT_DECODE_STEPS 8
#define DEFAULT_TOP 10

static const CliOpt profile_opts[] = {
    {"--weights", "W.safetensors", 0, "weights with Hugging Face names"},
    {"--random-weights", "SEED", 0, "seeded random weights instead of a file"},
    {"--input-ids", "IDS", 0, "token ids: a .npy [batch, seq] or [seq], or a list \"101,2023,102\""},
    {"--token-type-ids", "IDS", 0, "segment ids, same shape as the input ids (default zeros)"},
    {"--attention-mask", "MASK", 0, "1 = attend, 0 = padding, same shape (default all ones)"},
    {"--decode-steps", "N", 0, "decoders: decode steps after the prompt (default 8; 0: prefill only)"},
    {"--repeat", "N", 0, "run N times; host times are each op's median (default 1)"},
    {"--top", "N", 0, "rows per table and bottlenecks shown (default 10; 0: all)"},
    {"--trace", "OUT.json", 0, "write a Chrome/Perfetto trace: device-estimate and host tracks"},
    {"--verbose", NULL, 0, "also list the suggestions tried and dropped, and why"},
    CLI_SPEC_AS_PLAN_OPTS,
    {0},
};

/* One repeat: the forward, or for a decoder prefill plus `steps` greedy decode steps. */
static TtcStatus run_once(TtcSession *s, const TtcInputs *in, int64_t steps, TtcError *err) {
    if (steps == 0) return ttc_forward(s, in, err);
    TtcSampler smp;
    TtcGenerateStats st;
    ttc_sampler_init(&smp, 0, 0, 1, 0); /* greedy: the tokens do not change the timings */
    TtcStatus rc = ttc_generate(s, NULL, in, steps + 1, &smp, -1, NULL, NULL, &st, err);
    ttc_sampler_free(&smp);
    return rc;
}

/* The decode steps to run: --decode-steps as given (an error when the KV cache cannot hold them),
 * or the default cut to what the cache holds; none for encoders. */
static TtcStatus decode_steps(const TtcPlan *p, int given, int64_t prompt_len, int64_t *steps, TtcError *err) {
    if (p->model_type != TTC_MODEL_DECODER) {
        *steps = 0;
        if (!given) return TTC_OK;
        ttc_fail(err, TTC_E_USER, "ttc profile: --decode-steps needs a decoder plan; %s is an encoder", p->model_name);
        ttc_hint(err, "leave --decode-steps out for encoders");
        return TTC_E_USER;
    }
    int64_t room = p->max_ctx - prompt_len; /* each decode step adds one token to the KV cache */
    if (room < 0) room = 0;
    if (*steps <= room) return TTC_OK;
    if (!given) {
        *steps = room;
        return TTC_OK;
    }
    ttc_fail(err, TTC_E_USER, "the prompt (%lld tokens) plus --decode-steps %lld exceed the plan's KV cache of %lld tokens",
             (long long)prompt_len, (long long)*steps, (long long)p->max_ctx);
    ttc_hint(err, "ask for at most --decode-steps %lld, or recompile with ttc compile --max-seq %lld", (long long)room,
             (long long)(prompt_len + *steps));
    return TTC_E_USER;
}

static void print_header(const TtcModel *m, const char *plan_path, const TtcInputs *in, int64_t steps,
                         int64_t repeat) {
    const TtcPlan *p = &m->plan;
    printf("profile of %s (%s) on %s, %dx%d mesh: %s\n", p->model_name,
           p->model_type == TTC_MODEL_DECODER ? "decoder" : "encoder", p->device, p->mesh_rows, p->mesh_cols,
           plan_path);
    printf("ran: batch %lld, %lld tokens", (long long)in->batch, (long long)in->seq);
    if (p->model_type == TTC_MODEL_DECODER) printf(", then %lld decode steps", (long long)steps);
    printf("; %lld run%s\n", (long long)repeat, repeat == 1 ? "" : "s");
    if (p->op_costs)
        printf("device: the cost model's estimate per chip at the plan's bounds (batch %lld, seq %lld%s%lld), "
               "whatever the input; host: this machine's emulation, median per op\n",
               (long long)p->max_batch, (long long)p->max_seq, p->model_type == TTC_MODEL_DECODER ? ", context " : "",
               (long long)(p->model_type == TTC_MODEL_DECODER ? p->max_ctx : p->max_seq));
    else
        printf("device estimates are unavailable: this plan has no per-op cost chunk (compiled with --disable-pass "
               "cost, or by an older ttc); recompile it with ttc compile to get them. Host times only.\n");
}

int cmd_profile(const CliCommand *cmd, const CliArgs *a) {
    TtcError err = {0};
    TtcModel m;
    TtcInputFiles r;
    TtcSession s;
    TtcProfile pf;
    int have_session = 0, have_profile = 0, open_rc = 0;
    int64_t repeat, top, steps = 0;
    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    memset(&r, 0, sizeof r);
    if (cli_int(cmd, a, "--repeat", 1, 10000, 1, &repeat) || cli_int(cmd, a, "--top", 0, 1000000, DEFAULT_TOP, &top) ||
        cli_int(cmd, a, "--decode-steps", 0, 1 << 20, DEFAULT_DECODE_STEPS, &steps))
        return 1;
    const char *trace = cli_get(cmd, a, "--trace");
    if (cli_inputs_load(cmd, a, &r, &err) != TTC_OK) goto done;
    /* a spec is compiled for this input, with a KV cache for the decode steps (decoders) */
    CliBounds bounds = {.batch = r.in.batch, .seq = r.in.seq, .max_seq = r.in.seq + steps};
    if ((open_rc = cli_open_model(cmd, a, &bounds, &m)) != 0) goto done;
    if (cli_inputs_check(cmd, a, &m.plan, &r, &err) != TTC_OK) goto done; /* ids against its vocabulary */
    if (decode_steps(&m.plan, cli_get(cmd, a, "--decode-steps") != NULL, r.in.seq, &steps, &err) != TTC_OK) goto done;
    if (cli_load_weights(cmd, a, &m, 0, &err) != TTC_OK) goto done;
    if (ttc_profile_init(&pf, &m.plan, (int)(repeat * (steps > 0 ? steps : 1)), &err) != TTC_OK) goto done;
    have_profile = 1;
    TtcRunOptions ro = {.on_op = ttc_profile_on_op, .user = &pf};
    if (ttc_session_init(&s, &m, &ro, &err) != TTC_OK) goto done;
    have_session = 1;
    for (int64_t i = 0; i < repeat; i++)
        if (run_once(&s, &r.in, steps, &err) != TTC_OK) goto done;
    ttc_profile_finish(&pf);
    print_header(&m, a->pos[0], &r.in, steps, repeat);
    ProfileChecker checker; /* every suggestion is tried on a recompile before it is shown */
    int checked = m.plan.op_costs && profile_checker_init(&checker, &m.plan, cli_flag(cmd, a, "--verbose")) == 0;
    pf.check = checked ? profile_check_suggestion : NULL;
    pf.check_user = &checker;
    pf.verbose = cli_flag(cmd, a, "--verbose");
    for (int e = 0; e < m.plan.n_entries; e++)
        if (pf.ran[e]) ttc_profile_report(stdout, &pf, e, (int)top, top > 0 ? (int)top : m.plan.n_ops);
    if (m.plan.op_costs && !checked)
        printf("\nno config suggestions: they could not be checked, because %s; recompile the plan from its spec "
               "(ttc compile SPEC.yaml ...) where this ttc can read it, then profile again\n", checker.why);
    if (trace) {
        if (ttc_profile_write_trace(&pf, trace, &err) != TTC_OK) goto done;
        printf("\nwrote %s (open in https://ui.perfetto.dev or chrome://tracing)\n", trace);
    }
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
    if (have_session) ttc_session_free(&s);
    if (have_profile) ttc_profile_free(&pf);
    ttc_inputs_free(&r);
    ttc_model_close(&m);
    return open_rc ? open_rc : (int)err.status;
}

const CliCommand cli_profile = {
    "profile",
    "run a plan or spec and report device-estimated and host time per op and module, with bottlenecks and fixes",
    "(PLAN | SPEC.yaml) (--weights W.safetensors | --random-weights SEED) --input-ids IDS",
    "Device times come from the plan's cost estimates (the `cost` pass, at the plan's --batch/--seq/--max-seq\n"
    "bounds); host times are measured per op. Each bottleneck names the overlay key and the --set path to try,\n"
    "once the change has been tried: the spec is recompiled in memory with it (a plan records how it was\n"
    "compiled) and only a change that lowers the estimate is shown, with its effect.\n"
    "A spec is compiled in memory for the input (and the decode steps); what does not fit the device is\n"
    "refused, as by ttc compile and ttc check, unless --allow-misfit is given.",
    1,
    1,
    profile_opts,
    cmd_profile,
};
