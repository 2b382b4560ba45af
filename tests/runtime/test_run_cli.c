/* test_run_cli.c: the command-line side of running a plan (runtime/run_cli.c) and the weights
 * flags (ttc_model_load_weights_arg), which `ttc` and generated programs share. */
#include <string.h>

#include "run_cli.h"
#include "unit.h"

static int contains(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

static void test_flag_value(void) {
    char *argv[] = {"--seq=8", "--seq", "16", "--check", "--check=1", "--seq"};
    const char *val;
    int i = 0;
    CU_ASSERT_EQUAL(ttc_flag_value("ttc run", "--seq", "N", strchr(argv[0], '='), 6, argv, &i, &val), 0);
    CU_ASSERT_STRING_EQUAL(val, "8");
    CU_ASSERT_EQUAL(i, 0);
    i = 1;
    CU_ASSERT_EQUAL(ttc_flag_value("ttc run", "--seq", "N", NULL, 6, argv, &i, &val), 0);
    CU_ASSERT_STRING_EQUAL(val, "16");
    CU_ASSERT_EQUAL(i, 2); /* the value was consumed */
    i = 3;
    CU_ASSERT_EQUAL(ttc_flag_value("ttc run", "--check", NULL, NULL, 6, argv, &i, &val), 0);
    CU_ASSERT_PTR_NULL(val);
    i = 4;
    CU_ASSERT_EQUAL(ttc_flag_value("ttc run", "--check", NULL, strchr(argv[4], '='), 6, argv, &i, &val), 1);
    i = 5; /* the last argument: no value follows */
    CU_ASSERT_EQUAL(ttc_flag_value("ttc run", "--seq", "N", NULL, 6, argv, &i, &val), 1);
    CU_ASSERT_EQUAL(i, 5);
}

static void test_flag_numbers(void) {
    int64_t n;
    double x;
    CU_ASSERT_EQUAL(ttc_flag_int("--repeat", NULL, 1, 10, 7, &n), 0);
    CU_ASSERT_EQUAL(n, 7);
    CU_ASSERT_EQUAL(ttc_flag_int("--repeat", "10", 1, 10, 7, &n), 0);
    CU_ASSERT_EQUAL(n, 10);
    CU_ASSERT_EQUAL(ttc_flag_int("--repeat", "11", 1, 10, 7, &n), 1);
    CU_ASSERT_EQUAL(ttc_flag_int("--repeat", "0", 1, 10, 7, &n), 1);
    CU_ASSERT_EQUAL(ttc_flag_int("--repeat", "3x", 1, 10, 7, &n), 1);
    CU_ASSERT_EQUAL(ttc_flag_int("--repeat", "", 1, 10, 7, &n), 1);
    CU_ASSERT_EQUAL(ttc_flag_int("--seed", "99999999999999999999", 0, INT64_MAX, 0, &n), 1);
    CU_ASSERT_EQUAL(ttc_flag_real("--top-p", NULL, 1e-6, 1, 1, &x), 0);
    CU_ASSERT_EQUAL(x, 1);
    CU_ASSERT_EQUAL(ttc_flag_real("--top-p", "0.5", 1e-6, 1, 1, &x), 0);
    CU_ASSERT_EQUAL(x, 0.5);
    CU_ASSERT_EQUAL(ttc_flag_real("--top-p", "0", 1e-6, 1, 1, &x), 1);
    CU_ASSERT_EQUAL(ttc_flag_real("--top-p", "nan", 1e-6, 1, 1, &x), 1);
    CU_ASSERT_EQUAL(ttc_flag_real("--top-p", "0.5.", 1e-6, 1, 1, &x), 1);
}

/* A plan as far as input bounds go: vocabulary 10, and an embedding op that gathers rows of a
 * [2, 4] token type table with the token type ids (a decoder has no such op). */
static void small_plan(TtcPlan *p, TtcTensorDesc *t, TtcOpDesc *op, int token_types) {
    memset(p, 0, sizeof *p);
    memset(t, 0, 2 * sizeof *t);
    memset(op, 0, sizeof *op);
    p->vocab_size = 10;
    t[0].role = TTC_ROLE_TOKEN_TYPE_IDS;
    t[1].shape.rank = 2;
    t[1].shape.d[0].size = 2;
    t[1].shape.d[1].size = 4;
    *op = (TtcOpDesc){.kind = TTC_OP_EMBEDDING, .n_in = 2, .in = {0, 1}, .out = 0};
    p->tensors = t;
    p->n_tensors = 2;
    p->ops = op;
    p->n_ops = token_types ? 1 : 0;
}

static void test_input_bounds(void) {
    TtcPlan p;
    TtcTensorDesc t[2];
    TtcOpDesc op;
    small_plan(&p, t, &op, 1);
    CU_ASSERT_EQUAL(ttc_plan_input_bound(&p, TTC_ROLE_INPUT_IDS), 10);
    CU_ASSERT_EQUAL(ttc_plan_input_bound(&p, TTC_ROLE_TOKEN_TYPE_IDS), 2);
    CU_ASSERT_EQUAL(ttc_plan_input_bound(&p, TTC_ROLE_ATTENTION_MASK), 2);
    small_plan(&p, t, &op, 0);
    CU_ASSERT_EQUAL(ttc_plan_input_bound(&p, TTC_ROLE_TOKEN_TYPE_IDS), 1);
    p.vocab_size = (int64_t)1 << 40; /* ids are int32: the bound never exceeds 2^31 */
    CU_ASSERT_EQUAL(ttc_plan_input_bound(&p, TTC_ROLE_INPUT_IDS), (int64_t)1 << 31);
}

static void expect_inputs_error(const TtcPlan *p, const char *ids, const char *tt, const char *mask, const char *msg) {
    TtcInputFiles f;
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_inputs_load(&f, p, "prog", "", ids, tt, mask, &err), TTC_E_USER);
    if (!contains(err.msg, msg)) {
        fprintf(stderr, "\n  expected '%s' in: %s\n", msg, err.msg);
        CU_FAIL("input error lacks the expected phrase");
    }
    ttc_inputs_free(&f);
}

static void test_inputs_load(void) {
    TtcPlan p;
    TtcTensorDesc t[2];
    TtcOpDesc op;
    small_plan(&p, t, &op, 1);
    TtcInputFiles f;
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_inputs_load(&f, &p, "prog", " (more)", NULL, NULL, NULL, &err), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(err.msg, "prog: --input-ids is required");
    CU_ASSERT(contains(err.hint, "--input-ids ids.npy (more)"));
    ttc_inputs_free(&f);

    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_inputs_load(&f, &p, "prog", "", "5,6,7", "0,0,1", "1,1,0", &err), TTC_OK);
    CU_ASSERT_EQUAL(f.in.batch, 1);
    CU_ASSERT_EQUAL(f.in.seq, 3);
    CU_ASSERT(f.in.input_ids && f.in.input_ids[2] == 7);
    CU_ASSERT(f.in.token_type_ids && f.in.token_type_ids[2] == 1);
    CU_ASSERT(f.in.attention_mask && f.in.attention_mask[2] == 0);
    ttc_inputs_free(&f);

    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_inputs_load(&f, &p, "prog", "", "5,6,7", NULL, "1,1", &err), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(err.msg, "--attention-mask has shape [1, 2], the input ids have [1, 3]");
    CU_ASSERT_PTR_NULL(f.in.token_type_ids); /* absent: the runtime's default */
    ttc_inputs_free(&f);

    /* every input is checked against the plan */
    expect_inputs_error(&p, "5,10,7", NULL, NULL, "--input-ids: token id 10 at [0, 1] is outside the vocabulary [0, 10)");
    expect_inputs_error(&p, "5,6,7", "0,2,0", NULL, "--token-type-ids: token type id 2 at [0, 1]");
    expect_inputs_error(&p, "5,6,7", NULL, "1,1,-1", "--attention-mask: attention mask value -1 at [0, 2]");
    small_plan(&p, t, &op, 0);
    expect_inputs_error(&p, "5,6,7", "0,1,0", NULL, "token type id 1 at [0, 1] is outside the token types [0, 1)");
}

static void test_weights_arg(void) {
    TtcModel m;
    memset(&m, 0, sizeof m);
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_model_load_weights_arg(&m, NULL, NULL, 0, "ttc run", &err), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(err.msg, "ttc run: give exactly one of --weights and --random-weights");
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_model_load_weights_arg(&m, "w.safetensors", "1", 0, "prog", &err), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(err.msg, "prog: give exactly one of --weights and --random-weights");
    const char *bad[] = {"-1", "abc", "", "1x"};
    for (int i = 0; i < 4; i++) {
        ttc_error_clear(&err);
        CU_ASSERT_EQUAL(ttc_model_load_weights_arg(&m, NULL, bad[i], 0, "prog", &err), TTC_E_USER);
        CU_ASSERT(contains(err.msg, "is not a whole number"));
    }
    CU_ASSERT_PTR_NULL(m.weights); /* nothing was loaded */
}

static CU_TestInfo run_cli_tests[] = {
    {"option values: =value, next argument, flags", test_flag_value},
    {"whole and real numbers in a range", test_flag_numbers},
    {"input bounds from the plan", test_input_bounds},
    {"--input-ids and its companions", test_inputs_load},
    {"--weights xor --random-weights", test_weights_arg},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"run_cli", NULL, NULL, NULL, NULL, run_cli_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
