/* test_generate.c: the generation loop (runtime/generate.c) on specs/tiny-llama.yaml with random
 * weights, against prefill and decode steps driven by hand; its stopping rules, its streamed
 * output and its sampling flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "generate.h"
#include "unit.h"

#define MAX_CTX 24
#define NEW 6

static TtcModel model;
static TtcSession session;

static int setup(void) {
    char spec[512];
    snprintf(spec, sizeof spec, "%s/specs/tiny-llama.yaml", unit_source_dir());
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.batch = 2;
    o.seq = 8;
    o.max_seq = MAX_CTX;
    TtcPlan plan;
    if (compile_spec_to_plan(&o, &plan, stderr)) return 1;
    ttc_model_from_plan(&model, &plan);
    TtcError err = {0};
    if (ttc_model_random_weights(&model, 1, 0, &err) || ttc_session_init(&session, &model, NULL, &err)) {
        ttc_error_print(&err);
        return 1;
    }
    return 0;
}

static int teardown(void) {
    ttc_session_free(&session);
    ttc_model_close(&model);
    return 0;
}

static const int32_t prompt[2][3] = {{1, 2, 3}, {4, 5, 6}};

/* Greedy tokens by hand: prefill, then a decode step per token, argmax of the last logits. */
static void greedy_by_hand(int64_t batch, int32_t out[NEW][2]) {
    TtcError err = {0};
    TtcInputs in = {&prompt[0][0], NULL, NULL, batch, 3};
    CU_ASSERT_FATAL(ttc_forward(&session, &in, &err) == TTC_OK);
    for (int step = 0; step < NEW; step++) {
        RtTensor t;
        const float *logits = ttc_session_output(&session, TTC_ROLE_LOGITS, &t);
        for (int64_t b = 0; b < batch; b++) {
            const float *row = logits + (b * t.dims[1] + t.dims[1] - 1) * t.dims[2];
            int32_t best = 0;
            for (int32_t v = 1; v < t.dims[2]; v++)
                if (row[v] > row[best]) best = v;
            out[step][b] = best;
        }
        if (step + 1 < NEW) CU_ASSERT_FATAL(ttc_decode_step(&session, out[step], &err) == TTC_OK);
    }
}

/* A hook that keeps what it is given. */
typedef struct Seen {
    int32_t tokens[NEW][2];
    int64_t steps, ends, end_step;
} Seen;

static void keep(void *user, int64_t step, const int32_t *tokens, int64_t batch) {
    Seen *s = user;
    if (!tokens) {
        s->ends++;
        s->end_step = step;
        return;
    }
    CU_ASSERT_EQUAL(step, s->steps);
    for (int64_t b = 0; b < batch; b++) s->tokens[step][b] = tokens[b];
    s->steps++;
}

/* Entry points that count their calls and run the plan executor. */
typedef struct Counted {
    int prefills, decodes;
} Counted;

static TtcStatus counted_prefill(void *user, const TtcInputs *in, TtcError *err) {
    ((Counted *)user)->prefills++;
    return ttc_forward(&session, in, err);
}

static TtcStatus counted_decode(void *user, const int32_t *ids, TtcError *err) {
    ((Counted *)user)->decodes++;
    return ttc_decode_step(&session, ids, err);
}

static void test_greedy_matches_steps_by_hand(void) {
    for (int64_t batch = 1; batch <= 2; batch++) {
        int32_t want[NEW][2];
        greedy_by_hand(batch, want);
        TtcSampler smp;
        ttc_sampler_init(&smp, 0, 0, 1, 0);
        TtcInputs in = {&prompt[0][0], NULL, NULL, batch, 3};
        Seen seen = {0};
        Counted calls = {0};
        TtcGenerateSteps steps = {counted_prefill, counted_decode, &calls};
        TtcGenerateStats st;
        TtcError err = {0};
        CU_ASSERT_EQUAL(ttc_generate(&session, &steps, &in, NEW, &smp, -1, keep, &seen, &st, &err), TTC_OK);
        CU_ASSERT_EQUAL(seen.steps, NEW);
        CU_ASSERT_EQUAL(seen.ends, 1);
        CU_ASSERT_EQUAL(seen.end_step, NEW);
        for (int s = 0; s < NEW; s++)
            for (int64_t b = 0; b < batch; b++) CU_ASSERT_EQUAL(seen.tokens[s][b], want[s][b]);
        CU_ASSERT_EQUAL(calls.prefills, 1);
        CU_ASSERT_EQUAL(calls.decodes, NEW - 1); /* the first token comes from the prefill */
        CU_ASSERT_EQUAL(st.batch, batch);
        CU_ASSERT_EQUAL(st.seq, 3);
        CU_ASSERT_EQUAL(st.steps, NEW);
        ttc_sampler_free(&smp);
    }
}

static void test_eos_stops_every_sequence(void) {
    int32_t want[NEW][2];
    greedy_by_hand(1, want);
    TtcSampler smp;
    ttc_sampler_init(&smp, 0, 0, 1, 0);
    TtcInputs in = {&prompt[0][0], NULL, NULL, 1, 3};
    /* eos = the third greedy token: generation stops where it first appears (step 2 or before). */
    int32_t eos = want[2][0];
    int first = 0;
    while (want[first][0] != eos) first++;
    Seen seen = {0};
    TtcGenerateStats st;
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_generate(&session, NULL, &in, NEW, &smp, eos, keep, &seen, &st, &err), TTC_OK);
    CU_ASSERT_EQUAL(st.steps, first + 1);
    CU_ASSERT_EQUAL(seen.steps, first + 1);
    for (int step = 0; step <= first; step++) CU_ASSERT_EQUAL(seen.tokens[step][0], want[step][0]);
    CU_ASSERT_EQUAL(seen.ends, 1);
    ttc_sampler_free(&smp);
}

static char *printed(int64_t batch, int steps) {
    FILE *f = tmpfile();
    int32_t tok[2] = {7, 8};
    for (int s = 0; s < steps; s++) {
        ttc_generate_print(f, s, tok, batch);
        tok[0] += 10;
        tok[1] += 10;
    }
    ttc_generate_print(f, steps, NULL, batch);
    static char buf[256];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_print_format(void) {
    CU_ASSERT_STRING_EQUAL(printed(1, 3), "7 17 27\n");
    CU_ASSERT_STRING_EQUAL(printed(2, 2), "7 8\n17 18\n");
    CU_ASSERT_STRING_EQUAL(printed(1, 1), "7\n");
}

static void test_fits_and_flags(void) {
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_generation_fits(&model.plan, 20, 4, &err), TTC_OK);
    CU_ASSERT_EQUAL(ttc_generation_fits(&model.plan, 20, 5, &err), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(err.msg, "the prompt (20 tokens) plus --max-new-tokens 5 exceed the plan's KV cache of 24 "
                                    "tokens");
    CU_ASSERT(strstr(err.hint, "--max-seq 25, or ask for at most 4 new tokens") != NULL);

    TtcSampler smp;
    CU_ASSERT_EQUAL(ttc_sampler_from_flags(&smp, NULL, "5", NULL, NULL), 1);
    CU_ASSERT_EQUAL(ttc_sampler_from_flags(&smp, NULL, NULL, "0.9", NULL), 1);
    CU_ASSERT_EQUAL(ttc_sampler_from_flags(&smp, "-1", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(ttc_sampler_from_flags(&smp, "0.8", "5", "0.9", "7"), 0);
    CU_ASSERT(smp.temperature > 0.79f && smp.temperature < 0.81f);
    CU_ASSERT_EQUAL(smp.top_k, 5);
    CU_ASSERT(smp.top_p > 0.89f && smp.top_p < 0.91f);
    ttc_sampler_free(&smp);
    CU_ASSERT_EQUAL(ttc_sampler_from_flags(&smp, NULL, "0", NULL, NULL), 0); /* top-k 0: no limit, greedy is fine */
    CU_ASSERT_EQUAL(smp.temperature, 0);
    ttc_sampler_free(&smp);
}

static CU_TestInfo generate_tests[] = {
    {"greedy tokens equal prefill and decode steps by hand", test_greedy_matches_steps_by_hand},
    {"eos ends generation", test_eos_stops_every_sequence},
    {"streamed ids: one line for batch 1, a line per step otherwise", test_print_format},
    {"KV cache room and sampling flags", test_fits_and_flags},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"generate", setup, teardown, NULL, NULL, generate_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
