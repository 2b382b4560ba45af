/* test_kv_dtype.c: `kv_cache.dtype` takes effect. A tiny decoder with fp32 activations
 * (specs/hw/reference.yaml), compiled in-process with the cache in each format:
 *   - no kv_cache.dtype: the cache is fp32, and decoding equals kv_cache.dtype fp32 bit for bit;
 *   - bf16: decoding equals the fp32-cache plan whose cache rows this test rounds to bf16 by hand
 *     (its own round-to-nearest-even) after every cache update, bit for bit;
 *   - bfp8: stays close to the fp32 reference path (PCC >= 0.999) and differs from the fp32 cache;
 *   - the memory plan and the cost model count the cache in the format's bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "compile.h"
#include "ttc_runtime.h"
#include "unit.h"

enum { VOCAB = 64, PROMPT = 6, STEPS = 6, MAX_CTX = 32 };

static const char *spec_path(void) {
    static const char text[] =
        "spec_version: 1\n"
        "model: {name: tiny-kv, type: decoder, vocab_size: 64, max_sequence_length: 8192}\n"
        "layers:\n"
        "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 64, position: none}\n"
        "  - id: layer_{i}\n    repeat: 2\n    type: transformer\n"
        "    params:\n      hidden_dim: 64\n      num_heads: 2\n      num_kv_heads: 1\n      head_dim: 32\n"
        "      ffn_dim: 96\n      ffn_type: gated\n      activation: silu\n      norm_type: rmsnorm\n"
        "      norm_eps: 1.0e-5\n      residual_pattern: pre_norm\n"
        "      attention: {causal: true, bias: false, rope: {theta: 10000.0}}\n"
        "  - id: final_norm\n    type: norm\n    params: {norm_type: rmsnorm, norm_eps: 1.0e-5}\n"
        "  - id: lm_head\n    type: linear\n    params: {input_dim: 64, output_dim: 64}\n";
    return unit_write_tmp("tiny-kv.yaml", text, strlen(text));
}

static void options(CompileOptions *o, const char **hw, const char **sets, const char *kv) {
    static char hwpath[512], set[64];
    compile_options_init(o);
    o->spec = spec_path();
    snprintf(hwpath, sizeof hwpath, "%s/specs/hw/reference.yaml", unit_source_dir());
    hw[0] = hwpath;
    o->hw = hw;
    o->n_hw = 1;
    if (kv) {
        snprintf(set, sizeof set, "attention.kv_cache.dtype=%s", kv);
        sets[0] = set;
        o->sets = sets;
        o->n_sets = 1;
    }
    o->batch = 2;
    o->seq = PROMPT;
    o->max_seq = MAX_CTX;
}

/* The plan for kv_cache.dtype `kv` (NULL: not given), with seeded random weights. */
static void build(TtcModel *m, const char *kv) {
    CompileOptions o;
    const char *hw[1], *sets[1];
    options(&o, hw, sets, kv);
    TtcPlan plan;
    CU_ASSERT_FATAL(compile_spec_to_plan(&o, &plan, stderr) == 0);
    ttc_model_from_plan(m, &plan);
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_model_random_weights(m, 11, 1, &err) == TTC_OK);
}

/* The format of the plan's cache (every state tensor must agree). */
static int cache_dtype(const TtcPlan *p) {
    int dt = -1;
    for (int t = 0; t < p->n_tensors; t++) {
        if (p->tensors[t].kind != TTC_TENSOR_STATE) continue;
        if (dt >= 0) CU_ASSERT_EQUAL(p->tensors[t].dtype, dt);
        dt = p->tensors[t].dtype;
    }
    return dt;
}

/* Round to nearest bf16, ties to even, written here rather than taken from the runtime. */
static float bf16_by_hand(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    memcpy(&x, &u, 4);
    return x;
}

/* Op hook: after each cache update, round every row of the cache view it outputs. */
static void round_cache_by_hand(void *user, int op, const RtTensor *out, double ms) {
    const TtcPlan *p = user;
    (void)ms;
    if (p->ops[op].kind != TTC_OP_KV_UPDATE) return;
    int64_t stride = out->stride0 ? out->stride0 : out->dims[1] * out->dims[2];
    for (int64_t b = 0; b < out->dims[0]; b++) {
        float *row = (float *)out->data + b * stride;
        for (int64_t i = 0; i < out->dims[1] * out->dims[2]; i++) row[i] = bf16_by_hand(row[i]);
    }
}

/* Prefill, then STEPS decode steps: every step's logits [2, VOCAB] into out[STEPS + 1]. */
static void decode(TtcModel *m, const TtcRunOptions *ro, float out[STEPS + 1][2 * VOCAB]) {
    int32_t ids[2 * PROMPT];
    for (int i = 0; i < 2 * PROMPT; i++) ids[i] = (int32_t)((i * 29 + 7) % VOCAB);
    TtcSession s;
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_session_init(&s, m, ro, &err) == TTC_OK);
    TtcInputs in = {ids, NULL, NULL, 2, PROMPT};
    CU_ASSERT_FATAL(ttc_forward(&s, &in, &err) == TTC_OK);
    RtTensor t;
    const float *l = ttc_session_output(&s, TTC_ROLE_LOGITS, &t);
    for (int b = 0; b < 2; b++) memcpy(out[0] + b * VOCAB, l + ((int64_t)b * PROMPT + PROMPT - 1) * VOCAB, VOCAB * 4);
    for (int step = 1; step <= STEPS; step++) {
        int32_t next[2] = {(int32_t)((step * 13) % VOCAB), (int32_t)((step * 5 + 1) % VOCAB)};
        CU_ASSERT_FATAL(ttc_decode_step(&s, next, &err) == TTC_OK);
        memcpy(out[step], ttc_session_output(&s, TTC_ROLE_LOGITS, &t), sizeof out[step]);
    }
    ttc_session_free(&s);
}

static float base[STEPS + 1][2 * VOCAB], other[STEPS + 1][2 * VOCAB];

static void test_default_is_fp32(void) {
    TtcModel a, b;
    build(&a, NULL);
    build(&b, "fp32");
    CU_ASSERT_EQUAL(cache_dtype(&a.plan), TTC_F32);
    TtcRunOptions ro = {0};
    decode(&a, &ro, base);
    decode(&b, &ro, other);
    CU_ASSERT(memcmp(base, other, sizeof base) == 0);
    ttc_model_close(&a);
    ttc_model_close(&b);
}

static void test_bf16_equals_rounding_by_hand(void) {
    TtcModel fp32, bf16;
    build(&fp32, NULL);
    build(&bf16, "bf16");
    CU_ASSERT_EQUAL(cache_dtype(&bf16.plan), TTC_BF16);
    TtcRunOptions plain = {0}, by_hand = {.on_op = round_cache_by_hand, .user = &fp32.plan};
    decode(&bf16, &plain, base);
    decode(&fp32, &by_hand, other);
    CU_ASSERT(memcmp(base, other, sizeof base) == 0);
    /* and the rounding is visible: an fp32 cache gives other logits */
    decode(&fp32, &plain, other);
    CU_ASSERT(memcmp(base, other, sizeof base) != 0);
    ttc_model_close(&fp32);
    ttc_model_close(&bf16);
}

static void test_bfp8_close_to_reference(void) {
    TtcModel m;
    build(&m, "bfp8");
    CU_ASSERT_EQUAL(cache_dtype(&m.plan), TTC_BFP8);
    TtcRunOptions emu = {0}, ref = {.reference = 1};
    decode(&m, &emu, base);
    decode(&m, &ref, other);
    double pcc = unit_pcc(base[0], other[0], (int64_t)(STEPS + 1) * 2 * VOCAB);
    printf("\n  bfp8 KV cache vs fp32 reference path: PCC %.6f over prefill + %d decode steps", pcc, STEPS);
    CU_ASSERT(pcc >= 0.999);
    CU_ASSERT(memcmp(base, other, sizeof base) != 0);
    ttc_model_close(&m);
}

/* DRAM peak of decode and its estimated time, for the cache in `kv`. */
static void figures(const char *kv, AdviceFigures *f) {
    CompileOptions o;
    const char *hw[1], *sets[1];
    options(&o, hw, sets, kv);
    o.max_seq = 4096; /* a cache large enough to dominate */
    CU_ASSERT_FATAL(advice_measure(&o, f) == 0);
}

static void test_bytes_follow_the_format(void) {
    AdviceFigures f32, b16, b8;
    figures("fp32", &f32);
    figures("bf16", &b16);
    figures("bfp8", &b8);
    /* the cache: 2 layers x (k, v) x [2, 4096, 32] values = 2 MiB in fp32, then 1 MiB, 544 KiB */
    int64_t cache_f32 = 2LL * 2 * 2 * 4096 * 32 * 4;
    CU_ASSERT(advice_dram_peak(&f32) - advice_dram_peak(&b16) >= cache_f32 / 2 - 4096);
    CU_ASSERT(advice_dram_peak(&b16) - advice_dram_peak(&b8) >= cache_f32 / 4 - cache_f32 / 4 * 1088 / 2048 - 4096);
    int d = 1; /* decode reads the whole cache every step: its time shrinks with the bytes */
    CU_ASSERT_STRING_EQUAL(f32.entry[d], "decode");
    CU_ASSERT(f32.ms[d] > b16.ms[d] && b16.ms[d] > b8.ms[d]);
}

static CU_TestInfo tests[] = {
    {"no kv_cache.dtype keeps an fp32 cache, bit for bit", test_default_is_fp32},
    {"bf16 cache equals rounding the fp32 cache by hand", test_bf16_equals_rounding_by_hand},
    {"bfp8 cache stays close to the fp32 reference", test_bfp8_close_to_reference},
    {"memory plan and cost count the cache's bytes", test_bytes_follow_the_format},
    CU_TEST_INFO_NULL,
};
static CU_SuiteInfo suites[] = {{"kv_cache.dtype", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
