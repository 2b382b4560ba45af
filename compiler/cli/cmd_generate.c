/* cmd_generate.c: `ttc generate`: prefill a prompt, then decode one token at a time from the KV
 * cache, streaming token ids to stdout; speeds to stderr at the end. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "generate.h"
#include "npy.h"
#include "run_cli.h"

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
    {"--nan-check", NULL, 0, "stop at the first op whose output holds NaN or inf, naming it and its inputs"},
    CLI_SPEC_AS_PLAN_OPTS,
    {0},
};

int cmd_generate(const CliCommand *cmd, const CliArgs *a) {
    TtcError err = {0};
    TtcModel m;
    TtcSession s;
    TtcNpyArray prompt;
    TtcSampler smp;
    int have_session = 0, open_rc = 0;
    int64_t max_new;
    memset(&s, 0, sizeof s);
    memset(&prompt, 0, sizeof prompt);
    memset(&m, 0, sizeof m);
    const char *ids = cli_get(cmd, a, "--prompt-ids");
    if (!ids) return ttc_print_error("e.g. --prompt-ids \"1,2,3\"", "ttc generate: --prompt-ids is required");
    if (!cli_get(cmd, a, "--max-new-tokens"))
        return ttc_print_error("e.g. --max-new-tokens 32", "ttc generate: --max-new-tokens is required");
    if (cli_int(cmd, a, "--max-new-tokens", 1, 1 << 24, 0, &max_new) ||
        ttc_sampler_from_flags(&smp, cli_get(cmd, a, "--temperature"), cli_get(cmd, a, "--top-k"),
                               cli_get(cmd, a, "--top-p"), cli_get(cmd, a, "--seed")))
        return 1;
    double t0 = ttc_now_ms();
    /* the ids give the shape a spec is compiled for; then their values meet the plan's vocabulary */
    if (ttc_ids_load(ids, "--prompt-ids", TTC_ROLE_INPUT_IDS, ttc_plan_input_bound(NULL, TTC_ROLE_INPUT_IDS), &prompt,
                     &err) != TTC_OK)
        goto done;
    /* a spec is compiled for this prompt, with a KV cache for the tokens asked for */
    CliBounds bounds = {.batch = prompt.shape[0], .seq = prompt.shape[1], .max_seq = prompt.shape[1] + max_new};
    if ((open_rc = cli_open_model(cmd, a, &bounds, &m)) != 0) goto done;
    if (ttc_ids_check(&prompt, ids, "--prompt-ids", TTC_ROLE_INPUT_IDS,
                      ttc_plan_input_bound(&m.plan, TTC_ROLE_INPUT_IDS), &err) != TTC_OK)
        goto done;
    if (m.plan.model_type != TTC_MODEL_DECODER) {
        ttc_fail(&err, TTC_E_USER, "%s is an encoder plan; generate needs a decoder", a->pos[0]);
        ttc_hint(&err, "use ttc run for encoders");
        goto done;
    }
    if (ttc_generation_fits(&m.plan, prompt.shape[1], max_new, &err) != TTC_OK) goto done;
    TtcRunOptions ro = {.nan_check = cli_flag(cmd, a, "--nan-check")};
    if (cli_load_weights(cmd, a, &m, 0, &err) != TTC_OK || ttc_session_init(&s, &m, &ro, &err) != TTC_OK) goto done;
    have_session = 1;
    double t_load = ttc_now_ms() - t0;
    TtcInputs in = {prompt.i32, NULL, NULL, prompt.shape[0], prompt.shape[1]};
    TtcGenerateStats stats;
    if (ttc_generate(&s, NULL, &in, max_new, &smp, cli_flag(cmd, a, "--ignore-eos") ? -1 : m.plan.eos_token_id,
                     ttc_generate_print, stdout, &stats, &err) == TTC_OK)
        ttc_generate_report(stderr, m.plan.model_name, t_load, &stats);
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
    ttc_sampler_free(&smp);
    if (have_session) ttc_session_free(&s);
    ttc_npy_free(&prompt);
    ttc_model_close(&m);
    return open_rc ? open_rc : (int)err.status;
}

const CliCommand cli_generate = {
    "generate",
    "generate tokens with a decoder plan or spec (prefill, then decode from the KV cache)",
    "(PLAN | SPEC.yaml) (--weights W.safetensors | --random-weights SEED) --prompt-ids IDS --max-new-tokens N",
    "Token ids stream to stdout as they are produced (one line per step when batch > 1); prefill and\n"
    "decode speeds go to stderr. Greedy unless --temperature is given; reproducible for a --seed.\n"
    "A spec is compiled in memory for the prompt and --max-new-tokens; what does not fit the device\n"
    "is refused, as by ttc compile and ttc check, unless --allow-misfit is given.",
    1,
    1,
    generate_opts,
    cmd_generate,
};
