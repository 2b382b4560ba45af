/* test_nonfinite_e2e.c: a broken checkpoint is never hidden. specs/tiny-bert.yaml and
 * specs/tiny-llama.yaml are compiled with the built-in defaults (bf16, flash attention), their
 * seeded weights are written to a safetensors file with one NaN in one weight, and the file is
 * loaded the normal way (formats, preparation). Then:
 *   - the emulated output holds NaN exactly where the fp32 reference path's does;
 *   - a --nan-check session stops at the first op with a non-finite output, a user error naming
 *     the module, the op and the weight that was already NaN;
 *   - generation refuses the NaN logits, naming the step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "compile.h"
#include "generate.h"
#include "safetensors.h"
#include "ttc_runtime.h"
#include "unit.h"

enum { SEQ = 8 };

/* The value build() writes into the poisoned weight: NaN unless a test asks otherwise. */
static float poison_value = NAN;

/* Writes the twin's fp32 weights to `name` with w[at] of the first weight whose name holds
 * `poison` set to poison_value; *poisoned gets that weight's file name. */
typedef struct Poison {
    const char *in_name; /* the first weight whose name holds this */
    int64_t at;
    char *poisoned;      /* gets that weight's name */
    int done;
} Poison;

static void poison_one(const char *name, float *w, int64_t n, void *user) {
    Poison *p = user;
    if (p->done || !strstr(name, p->in_name) || p->at >= n) return;
    w[p->at] = poison_value;
    snprintf(p->poisoned, TTC_NAME_MAX, "%s", name);
    p->done = 1;
}

static const char *weights_with_nan(TtcModel *twin, const char *name, const char *poison, int64_t at, char *poisoned) {
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_model_random_weights(twin, 11, 1, &err) == TTC_OK);
    Poison p = {poison, at, poisoned, 0};
    const char *path = unit_tmp_path(name);
    CU_ASSERT_FATAL(ttc_model_write_weights(twin, path, poison_one, &p, &err) == TTC_OK);
    CU_ASSERT_FATAL(p.done);
    return path;
}

/* The safetensors file the last build wrote */
static char weights_path[1024];

/* Compiles specs/SPEC with the built-in defaults and loads weights with one NaN. */
static void build(TtcModel *m, const char *spec, const char *poison, int64_t at, char *poisoned) {
    char path[512];
    snprintf(path, sizeof path, "%s/specs/%s", unit_source_dir(), spec);
    CompileOptions o;
    compile_options_init(&o);
    o.spec = path;
    o.batch = 2;
    o.seq = SEQ;
    o.max_seq = 2 * SEQ;
    TtcPlan plan;
    CU_ASSERT_FATAL(compile_spec_to_plan(&o, &plan, stderr) == 0);
    ttc_model_from_plan(m, &plan);
    TtcModel twin;
    TtcPlan copy;
    uint8_t *buf;
    size_t len;
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_plan_serialize(&m->plan, &buf, &len, &err) == TTC_OK &&
                    ttc_plan_parse(&copy, buf, len, "copy", &err) == TTC_OK);
    free(buf);
    ttc_model_from_plan(&twin, &copy);
    char name[TTC_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s-nan.safetensors", m->plan.model_name);
    const char *weights = weights_with_nan(&twin, name, poison, at, poisoned);
    snprintf(weights_path, sizeof weights_path, "%s", weights);
    ttc_model_close(&twin);
    if (ttc_model_load_weights(m, weights, 1, &err) != TTC_OK) ttc_error_print(&err);
    CU_ASSERT_FATAL(err.status == TTC_OK);
}

/* Runs the default (emulated, flash attention) and the reference path on one prompt; the NaN
 * positions of output `role` must be the same, and there must be some, and some finite values
 * too when `some_finite` (a NaN that spreads everywhere proves little about where). */
static void same_nan_positions(TtcModel *m, TtcRole role, const char *what, int some_finite) {
    int32_t ids[2 * SEQ];
    for (int i = 0; i < 2 * SEQ; i++) ids[i] = (int32_t)((i * 7 + 3) % 50);
    TtcInputs in = {ids, NULL, NULL, 2, SEQ};
    TtcSession emu, ref;
    TtcError err = {0};
    TtcRunOptions eo = {0}, ro = {.reference = 1};
    CU_ASSERT_FATAL(ttc_session_init(&emu, m, &eo, &err) == TTC_OK && ttc_session_init(&ref, m, &ro, &err) == TTC_OK);
    CU_ASSERT_FATAL(ttc_forward(&emu, &in, &err) == TTC_OK && ttc_forward(&ref, &in, &err) == TTC_OK);
    RtTensor a, b;
    const float *x = ttc_session_output(&emu, role, &a), *y = ttc_session_output(&ref, role, &b);
    int64_t n = rt_tensor_elems(&a), nan_ref = 0, differ = 0;
    for (int64_t i = 0; i < n; i++) {
        nan_ref += isnan(y[i]) != 0;
        differ += (isnan(x[i]) != 0) != (isnan(y[i]) != 0) || (isfinite(x[i]) != 0) != (isfinite(y[i]) != 0);
    }
    printf("\n  %s: %lld of %lld outputs NaN on the reference path, %lld placed differently by the default path",
           what, (long long)nan_ref, (long long)n, (long long)differ);
    CU_ASSERT(nan_ref > 0);
    if (some_finite) CU_ASSERT(nan_ref < n);
    CU_ASSERT_EQUAL(differ, 0);
    ttc_session_free(&emu);
    ttc_session_free(&ref);
}

/* A --nan-check session: the first op with a non-finite output is a user error naming it, and
 * `weight` as the input that already held the NaN. */
static void nan_check_names(TtcModel *m, const char *module, const char *weight) {
    int32_t ids[SEQ] = {1, 2, 3, 4, 5, 6, 7, 8};
    TtcInputs in = {ids, NULL, NULL, 1, SEQ};
    TtcSession s;
    TtcError err = {0};
    TtcRunOptions o = {.nan_check = 1};
    CU_ASSERT_FATAL(ttc_session_init(&s, m, &o, &err) == TTC_OK);
    CU_ASSERT_EQUAL(ttc_forward(&s, &in, &err), TTC_E_USER);
    printf("\n  --nan-check: %s\n    hint: %s", err.msg, err.hint);
    char want[128];
    snprintf(want, sizeof want, "module '%s", module);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, weight));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "holds NaN"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.hint, "checkpoint"));
    ttc_session_free(&s);
}

/* Token 24 is in the first prompt of same_nan_positions only. */
enum { POISON_TOKEN = 24 };

/* Runs `ttc ARGS` (the binary ctest names in TTC_BIN) with stderr merged; returns its exit
 * status and its output in out. */
static int run_ttc(const char *args, char *out, size_t n) {
    const char *bin = getenv("TTC_BIN");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin && *bin ? bin : "build/ttc", args);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t len = fread(out, 1, n - 1, f);
    out[len] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The command line: `ttc run --nan-check` exits 1 with the §7-shaped error naming the module and
 * the checkpoint's tensor, and leaves no output file; `ttc run --check` names the first
 * non-finite op in both paths; `ttc generate` refuses the NaN logits. */
static void cli_checks(TtcModel *m, const char *weight, int decoder) {
    TtcError err = {0};
    const char *plan = unit_tmp_path(decoder ? "nan-llama.plan" : "nan-bert.plan");
    const char *npy = unit_tmp_path("nan-out.npy");
    remove(npy);
    CU_ASSERT_FATAL(ttc_plan_write(&m->plan, plan, &err) == TTC_OK);
    char args[3072], out[16384];
    snprintf(args, sizeof args, "run %s --weights %s --input-ids 1,2,3,4 --nan-check --output %s", plan, weights_path,
             npy);
    CU_ASSERT_EQUAL(run_ttc(args, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "error: module 'layer_0."));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, weight));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  hint: "));
    CU_ASSERT_EQUAL(fopen(npy, "r"), NULL);
    snprintf(args, sizeof args, "run %s --weights %s --input-ids 1,2,3,4 --check", plan, weights_path);
    CU_ASSERT_EQUAL(run_ttc(args, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "check: emulated path: first non-finite output: module 'layer_0."));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "check: reference path: first non-finite output: module 'layer_0."));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "is the first whose output holds NaN or inf on the emulated device"));
    if (!decoder) return;
    snprintf(args, sizeof args, "generate %s --weights %s --prompt-ids 1,2,3 --max-new-tokens 4", plan, weights_path);
    CU_ASSERT_EQUAL(run_ttc(args, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "error: after the prefill the logits of sequence 0 hold NaN"));
    snprintf(args, sizeof args, "generate %s --weights %s --prompt-ids 1,2,3 --max-new-tokens 4 --nan-check", plan,
             weights_path);
    CU_ASSERT_EQUAL(run_ttc(args, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, weight));
}

static void test_bert(void) {
    TtcModel m;
    char poisoned[TTC_NAME_MAX];
    /* one value of a key-projection row: NaN scores, which flash attention's running max and
     * sum turned into a finite uniform average */
    build(&m, "tiny-bert.yaml", "attention.self.key.weight", 5, poisoned);
    same_nan_positions(&m, TTC_ROLE_HIDDEN, "tiny-bert hidden state, NaN key weight", 0);
    same_nan_positions(&m, TTC_ROLE_POOLED, "tiny-bert pooled, NaN key weight", 0);
    nan_check_names(&m, "layer_0", poisoned);
    cli_checks(&m, poisoned, 0);
    ttc_model_close(&m);
    /* one value of one embedding row: only the sequence holding that token turns NaN */
    build(&m, "tiny-bert.yaml", "word_embeddings.weight", POISON_TOKEN * 32 + 5, poisoned);
    same_nan_positions(&m, TTC_ROLE_HIDDEN, "tiny-bert hidden state, NaN embedding row", 1);
    ttc_model_close(&m);
}

/* A finite weight that the reference path overflows with (FLT_MAX times an activation above 1)
 * and the device's bf16 turns into +inf already at load: the reference names the op with
 * "inputs were finite", the emulated path names the weight as +inf. */
static void test_overflow(void) {
    TtcModel m;
    char poisoned[TTC_NAME_MAX];
    poison_value = 3.4028235e38f;
    build(&m, "tiny-bert.yaml", "attention.self.key.weight", 5, poisoned);
    poison_value = NAN;
    int32_t ids[SEQ] = {1, 2, 3, 4, 5, 6, 7, 8};
    TtcInputs in = {ids, NULL, NULL, 1, SEQ};
    TtcSession s;
    TtcError err = {0};
    TtcRunOptions ref = {.reference = 1, .nan_check = 1}, emu = {.nan_check = 1};
    CU_ASSERT_FATAL(ttc_session_init(&s, &m, &ref, &err) == TTC_OK);
    CU_ASSERT_EQUAL(ttc_forward(&s, &in, &err), TTC_E_USER);
    printf("\n  reference --nan-check: %s\n    hint: %s", err.msg, err.hint);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "module 'layer_0.attention.qkv' (prefill): op linear output holds +inf"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "inputs were finite"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.hint, "overflows fp32"));
    ttc_session_free(&s);
    ttc_error_clear(&err);
    CU_ASSERT_FATAL(ttc_session_init(&s, &m, &emu, &err) == TTC_OK);
    CU_ASSERT_EQUAL(ttc_forward(&s, &in, &err), TTC_E_USER);
    printf("\n  emulated --nan-check: %s", err.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "encoder.layer.0.attention.self.key.weight', holds +inf at [0, 5]"));
    ttc_session_free(&s);
    ttc_model_close(&m);
}

static void test_llama(void) {
    TtcModel m;
    char poisoned[TTC_NAME_MAX];
    build(&m, "tiny-llama.yaml", "embed_tokens.weight", POISON_TOKEN * 32 + 5, poisoned);
    same_nan_positions(&m, TTC_ROLE_LOGITS, "tiny-llama logits, NaN embedding row", 1);
    ttc_model_close(&m);
    build(&m, "tiny-llama.yaml", "k_proj.weight", 3, poisoned);
    same_nan_positions(&m, TTC_ROLE_LOGITS, "tiny-llama logits, NaN key weight", 0);
    nan_check_names(&m, "layer_0", poisoned);
    cli_checks(&m, poisoned, 1);
    /* generation: the NaN logits are refused, naming the step */
    TtcSession s;
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_session_init(&s, &m, NULL, &err) == TTC_OK);
    TtcSampler smp;
    ttc_sampler_init(&smp, 0, 0, 1, 0);
    int32_t ids[3] = {1, 2, 3};
    TtcInputs in = {ids, NULL, NULL, 1, 3};
    TtcGenerateStats st;
    CU_ASSERT_EQUAL(ttc_generate(&s, NULL, &in, 4, &smp, -1, NULL, NULL, &st, &err), TTC_E_USER);
    printf("\n  generate: %s", err.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "after the prefill"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hold NaN"));
    ttc_sampler_free(&smp);
    ttc_session_free(&s);
    ttc_model_close(&m);
}

static CU_TestInfo tests[] = {
    {"tiny-bert with one NaN weight", test_bert},
    {"tiny-llama with one NaN weight", test_llama},
    {"tiny-bert with one weight at FLT_MAX", test_overflow},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "broken checkpoints end to end", .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
