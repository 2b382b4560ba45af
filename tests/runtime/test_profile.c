/* test_profile.c: `ttc profile`'s helpers (runtime/profile.c, profile_advice.c): module names
 * from op paths, host-time medians, the suggestion rules, tables that add up, and the trace. */
#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "fixture_plan.h"
#include "json_mini.h"
#include "profile.h"
#include "unit.h"

static int contains(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

static void test_module_names(void) {
    char b[TTC_NAME_MAX];
    const char *cases[][2] = {
        {"layer_3.ffn.up", "layer_3.ffn"},
        {"layer_3.attention.sdpa", "layer_3.attention"},
        {"layer_3.attention_norm", "layer_3.attention_norm"}, /* a norm module of its own */
        {"embedding.word", "embedding"},
        {"pooler.dense", "pooler"},
        {"lm_head", "lm_head"},
        {"final_norm", "final_norm"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ttc_profile_module(cases[i][0], b, sizeof b);
        CU_ASSERT_STRING_EQUAL(b, cases[i][1]);
    }
    const char *globs[][2] = {
        {"layer_3.ffn", "layer_*.ffn"},         {"layer_12.attention_norm", "layer_*.attention_norm"},
        {"block_7.mlp_2", "block_*.mlp_*"},     {"lm_head", "lm_head"},
        {"v2.proj", "v2.proj"}, /* no "_<digits>": not a repeated layer */
        {"_3.x", "_3.x"},       {"layer_.x", "layer_.x"},
    };
    for (size_t i = 0; i < sizeof globs / sizeof globs[0]; i++) {
        ttc_profile_pattern(globs[i][0], b, sizeof b);
        CU_ASSERT_STRING_EQUAL(b, globs[i][1]);
    }
    char small[8];
    ttc_profile_pattern("layer_3.attention", small, sizeof small); /* truncated, still terminated */
    CU_ASSERT_EQUAL(strlen(small), 7);
}

static void test_medians(void) {
    TtcPlan p;
    TtcProfile pf;
    TtcError err = {0};
    make_plan(&p);
    CU_ASSERT_EQUAL_FATAL(ttc_profile_init(&pf, &p, 3, &err), TTC_OK);
    double ms[] = {3, 1, 2, 100}; /* the 4th is beyond the room and dropped */
    for (int i = 0; i < 4; i++) ttc_profile_on_op(&pf, 5, NULL, ms[i]);
    ttc_profile_on_op(&pf, 1, NULL, 0.5);
    ttc_profile_on_op(&pf, 99, NULL, 1); /* out of range: ignored */
    ttc_profile_finish(&pf);
    CU_ASSERT_DOUBLE_EQUAL(pf.host_ms[5], 2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pf.host_ms[1], 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pf.host_ms[0], 0, 1e-12);
    CU_ASSERT_EQUAL(pf.ran[0], 1);
    CU_ASSERT_EQUAL(pf.runs[0], 3);
    CU_ASSERT_FALSE(pf.per_op_cost);
    ttc_profile_free(&pf);
    ttc_plan_free(&p);
}

static void set_cost(TtcPlan *p, int k, int bound) {
    p->op_costs[k] = (TtcOpCost){.compute_cycles = 10, .noc_cycles = 10, .dram_cycles = 10, .cycles = 1000,
                                 .bound = bound, .cores = 1};
}

static void test_suggestions(void) {
    TtcPlan p;
    TtcSuggestion s;
    make_plan(&p);
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 0); /* no estimates, no advice */
    add_costs(&p, 1);
    /* op 5: linear layer_0.intermediate.dense, weight tensor 10, made large enough to dominate */
    p.tensors[10].shape.d[0].size = 4096;
    p.tensors[10].dtype = TTC_BF16;
    set_cost(&p, 5, TTC_BOUND_DRAM);
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 1);
    CU_ASSERT_STRING_EQUAL(s.module, "layer_*.intermediate");
    CU_ASSERT_STRING_EQUAL(s.key, "weight_dtype");
    CU_ASSERT_STRING_EQUAL(s.value, "bfp8");
    CU_ASSERT(contains(s.caveat, "--check"));
    p.tensors[10].dtype = TTC_BFP8;
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 1);
    CU_ASSERT_STRING_EQUAL(s.value, "bfp4");
    p.tensors[10].dtype = TTC_BFP4;
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 0);
    CU_ASSERT(contains(s.why, "roofline"));
    /* small weights: the activations are what it moves; they are in L1 (config `fast`) and bf16 */
    p.tensors[10].shape.d[0].size = 32;
    p.tensors[10].dtype = TTC_BF16;
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 0);
    p.ops[5].cfg.memory = TTC_MEM_DRAM;
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 1);
    CU_ASSERT_STRING_EQUAL(s.key, "memory");
    CU_ASSERT_STRING_EQUAL(s.value, "l1");
    /* compute-bound: one fidelity step down, with the caveat that fits the weights */
    set_cost(&p, 5, TTC_BOUND_COMPUTE);
    p.ops[5].cfg.fidelity = TTC_FIDELITY_HIFI4;
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 1);
    CU_ASSERT_STRING_EQUAL(s.key, "math_fidelity");
    CU_ASSERT_STRING_EQUAL(s.value, "HiFi2");
    CU_ASSERT(contains(s.caveat, "only at HiFi4"));
    p.ops[5].cfg.fidelity = TTC_FIDELITY_HIFI2;
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 1);
    CU_ASSERT_STRING_EQUAL(s.value, "LoFi");
    CU_ASSERT(contains(s.caveat, "accuracy"));
    p.ops[5].cfg.fidelity = TTC_FIDELITY_LOFI;
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 0);
    /* a compute-bound vector op has no config key that helps */
    set_cost(&p, 6, TTC_BOUND_COMPUTE);
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 6, &s), 0);
    /* unfused attention, whatever its bound */
    for (int k = 2; k <= 4; k++) {
        set_cost(&p, k, k == 3 ? TTC_BOUND_NOC : TTC_BOUND_COMPUTE);
        CU_ASSERT_EQUAL(ttc_profile_suggest(&p, k, &s), 1);
        CU_ASSERT_STRING_EQUAL(s.module, "layer_*.attention");
        CU_ASSERT_STRING_EQUAL(s.key, "kernel_variant");
        CU_ASSERT_STRING_EQUAL(s.value, "flash");
    }
    /* collectives on a 2x4 mesh: replicate, or fewer chips */
    snprintf(p.device, sizeof p.device, "wormhole_t3k");
    p.mesh_rows = 2;
    p.mesh_cols = 4;
    set_cost(&p, 5, TTC_BOUND_ETHERNET);
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 5, &s), 1);
    CU_ASSERT_STRING_EQUAL(s.key, "sharding");
    CU_ASSERT_STRING_EQUAL(s.value, "replicate");
    CU_ASSERT(contains(s.why, "8 chips"));
    CU_ASSERT_STRING_EQUAL(s.devices[0], "wormhole_n300");
    CU_ASSERT_STRING_EQUAL(s.devices[1], "wormhole_n150");
    CU_ASSERT_EQUAL(ttc_profile_suggest(&p, 99, &s), 0);
    ttc_plan_free(&p);
}

/* The report of a profiled fixture plan, as text. */
static char *report(TtcProfile *pf, int top) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    ttc_profile_report(f, pf, 0, top, 3);
    fclose(f);
    return text;
}

static void profile_fixture(TtcPlan *p, TtcProfile *pf) {
    TtcError err = {0};
    make_plan(p);
    add_costs(p, 1);
    CU_ASSERT_EQUAL_FATAL(ttc_profile_init(pf, p, 1, &err), TTC_OK);
    for (int k = 0; k < p->n_ops; k++) ttc_profile_on_op(pf, k, NULL, 0.25 * (k + 1));
    ttc_profile_finish(pf);
}

/* A stand-in for the CLI's recompiling checker: kernel_variant helps, everything else does not. */
static int checks;
static int check_stub(void *user, const TtcPlan *p, int entry, const TtcSuggestion *s, const char *device,
                      char *effect, size_t n) {
    (void)user, (void)p, (void)entry;
    checks++;
    int helps = !device && strcmp(s->key, "kernel_variant") == 0;
    snprintf(effect, n, "%s", helps ? "prefill 1.0 → 0.5 ms per step" : "prefill 1.0 → 1.2 ms per step");
    return helps;
}

static void test_report(void) {
    TtcPlan p;
    TtcProfile pf;
    profile_fixture(&p, &pf);
    /* without a checker nothing is suggested */
    char *unchecked = report(&pf, 0);
    CU_ASSERT(contains(unchecked, "bottlenecks (prefill)"));
    CU_ASSERT(!contains(unchecked, "--set"));
    free(unchecked);
    pf.check = check_stub;
    int64_t total = 0;
    for (int k = 0; k < p.n_ops; k++) total += p.op_costs[k].cycles;
    char want[64];
    snprintf(want, sizeof want, "device total: %lld cycles", (long long)total);
    char *all = report(&pf, 0), *two = report(&pf, 2);
    CU_ASSERT(contains(all, want));
    CU_ASSERT(contains(all, "layer_0.attention.softmax"));
    CU_ASSERT(contains(all, "modules across layers"));
    CU_ASSERT(contains(all, "layer_*.attention"));
    CU_ASSERT(contains(all, "bottlenecks (prefill)"));
    CU_ASSERT(contains(all, "--set 'layer_*.attention.kernel_variant=flash'"));
    CU_ASSERT(contains(all, "effect: prefill 1.0 → 0.5 ms per step"));
    CU_ASSERT(checks > 1);
    /* what the checker rejects is not suggested; --verbose shows it as dropped */
    CU_ASSERT(!contains(all, "1.2 ms"));
    CU_ASSERT(contains(all, "no config change found that lowers the estimate"));
    pf.verbose = 1;
    char *verbose = report(&pf, 0);
    CU_ASSERT(contains(verbose, "dropped "));
    CU_ASSERT(contains(verbose, "prefill 1.0 → 1.2 ms per step"));
    free(verbose);
    pf.verbose = 0;
    CU_ASSERT(!contains(all, "more ops"));
    CU_ASSERT(contains(two, "(5 more ops)"));
    CU_ASSERT(contains(two, want));
    /* the largest op first: op 6 (gelu) has the most cycles in the fixture */
    const char *first_row = all ? strstr(all, "config\n") : NULL;
    CU_ASSERT(first_row && contains(first_row, "layer_0.intermediate.act"));
    if (first_row) CU_ASSERT(strstr(first_row, "layer_0.intermediate.act") < strstr(first_row, "embeddings"));
    free(all);
    free(two);
    ttc_profile_free(&pf);
    /* without per-op estimates: host time only, and it says so */
    free(p.op_costs);
    p.op_costs = NULL;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_profile_init(&pf, &p, 1, &err), TTC_OK);
    ttc_profile_on_op(&pf, 0, NULL, 1);
    ttc_profile_finish(&pf);
    char *host = report(&pf, 0);
    CU_ASSERT(contains(host, "device estimates are unavailable"));
    CU_ASSERT(!contains(host, "--set"));
    free(host);
    ttc_profile_free(&pf);
    ttc_plan_free(&p);
}

/* Counts "X" events per track in a trace file; 0 when it is valid JSON of the expected shape. */
static int count_events(const char *path, int *dev, int *host) {
    char *text;
    size_t len;
    TtcError err = {0};
    *dev = *host = 0;
    if (ttc_read_file(path, &text, &len, &err) != TTC_OK) return -1;
    TtcJson j;
    int rc = -1;
    char *key = NULL;
    if (ttc_json_init(&j, text, len, "trace", &err) || ttc_json_object_begin(&j)) goto out;
    int more;
    while ((more = ttc_json_object_next(&j, &key)) == 1) {
        int events = strcmp(key, "traceEvents") == 0;
        free(key);
        key = NULL;
        if (!events) {
            if (ttc_json_skip(&j)) goto out;
            continue;
        }
        if (ttc_json_array_begin(&j)) goto out;
        while (ttc_json_array_next(&j) == 1) {
            char *ph = NULL;
            int64_t tid = 0;
            if (ttc_json_object_begin(&j)) goto out;
            while (ttc_json_object_next(&j, &key) == 1) {
                if (strcmp(key, "ph") == 0) {
                    if (ttc_json_string(&j, &ph)) goto out;
                } else if (strcmp(key, "tid") == 0) {
                    if (ttc_json_int64(&j, &tid)) goto out;
                } else if (ttc_json_skip(&j)) {
                    goto out;
                }
                free(key);
                key = NULL;
            }
            if (ph && strcmp(ph, "X") == 0) (tid == 1 ? dev : host)[0]++;
            free(ph);
        }
    }
    rc = more == 0 && ttc_json_finish(&j) == TTC_OK ? 0 : -1;
out:
    free(key);
    free(text);
    return rc;
}

static void test_trace(void) {
    TtcPlan p;
    TtcProfile pf;
    TtcError err = {0};
    profile_fixture(&p, &pf);
    const char *path = unit_tmp_path("trace.json");
    CU_ASSERT_EQUAL(ttc_profile_write_trace(&pf, path, &err), TTC_OK);
    int dev, host;
    CU_ASSERT_EQUAL(count_events(path, &dev, &host), 0);
    CU_ASSERT_EQUAL(dev, BASE_OPS);
    CU_ASSERT_EQUAL(host, BASE_OPS);
    remove(path);
    /* an unwritable destination: an error, and nothing left behind */
    const char *bad = unit_tmp_path("no-such-dir/trace.json");
    CU_ASSERT_EQUAL(ttc_profile_write_trace(&pf, bad, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "no-such-dir"));
    FILE *f = fopen(bad, "r");
    CU_ASSERT_PTR_NULL(f);
    if (f) fclose(f);
    ttc_profile_free(&pf);
    ttc_plan_free(&p);
}

static CU_TestInfo profile_tests[] = {
    {"module and glob names from op paths", test_module_names},
    {"host samples: median, room, bounds", test_medians},
    {"a suggestion per bound and config", test_suggestions},
    {"tables add up, top N, no estimates", test_report},
    {"trace: valid JSON, one event per op per track", test_trace},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"profile", NULL, NULL, NULL, NULL, profile_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
