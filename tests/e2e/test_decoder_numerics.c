/* test_decoder_numerics.c: tiny Llama-style decoders, each feature on its own (GQA, MQA, sliding
 * window, qkv bias, tied head, Llama-3 RoPE scaling, GeGLU), compiled in-process:
 *   - decode after prefill equals a full prefill of the longer sequence, at every step;
 *   - the emulated plan matches the fp32 reference path;
 *   - bad inputs (prompt too long, context beyond --max-seq, ids outside the vocabulary) are errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "safetensors.h"
#include "compile.h"
#include "ttc_runtime.h"
#include "unit.h"

enum { VOCAB = 96, SEQ = 12, MAX_CTX = 24, PROMPT = 5, STEPS = 8 };

typedef struct Variant {
    const char *name;
    int heads, kv_heads;
    const char *extra_attention; /* appended inside attention: {...} */
    const char *activation;
    int tied;
} Variant;

static const Variant variants[] = {
    {"gqa", 4, 2, "", "silu", 0},
    {"mha", 4, 4, "", "silu", 0},
    {"mqa", 4, 1, "", "silu", 0},
    {"sliding-window", 4, 2, ", sliding_window: 3", "silu", 0},
    {"qkv-bias", 4, 2, ", qkv_bias: true", "silu", 0},
    {"tied-head", 4, 2, "", "silu", 1},
    {"geglu", 4, 2, "", "gelu", 0},
};

/* Writes a tiny decoder spec for variant v; `rope` is the rope mapping. Returns its path. */
static const char *write_spec(const Variant *v, const char *rope, const char *extra_attention) {
    char text[2048];
    snprintf(text, sizeof text,
             "spec_version: 1\n"
             "model: {name: tiny-%s, type: decoder, vocab_size: %d, max_sequence_length: 64}\n"
             "layers:\n"
             "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 32, position: none}\n"
             "  - id: layer_{i}\n    repeat: 2\n    type: transformer\n"
             "    params:\n      hidden_dim: 32\n      num_heads: %d\n      num_kv_heads: %d\n      head_dim: 8\n"
             "      ffn_dim: 48\n      ffn_type: gated\n      activation: %s\n      norm_type: rmsnorm\n"
             "      norm_eps: 1.0e-5\n      residual_pattern: pre_norm\n"
             "      attention: {causal: true, bias: false, rope: %s%s}\n"
             "  - id: final_norm\n    type: norm\n    params: {norm_type: rmsnorm, norm_eps: 1.0e-5}\n"
             "  - id: lm_head\n    type: linear\n    params: {input_dim: 32, output_dim: %d%s}\n",
             v->name, VOCAB, v->heads, v->kv_heads, v->activation, rope, extra_attention, VOCAB,
             v->tied ? ", tied_to: embedding" : "");
    char name[64];
    snprintf(name, sizeof name, "%s.yaml", v->name);
    return unit_write_tmp(name, text, strlen(text));
}

/* Seeded random weights with q and k projections scaled by 8, written as safetensors: with the
 * plain N(0, 0.02) init attention is nearly uniform and positions hardly matter, which would let
 * a RoPE or cache-position bug through. Loading the file takes the normal path (formats, prep). */
static const char *sharp_weights(TtcModel *m, const char *name) {
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_model_random_weights(m, 5, 1, &err) == TTC_OK);
    const char *path = unit_tmp_path(name);
    CU_ASSERT_FATAL(ttc_model_write_weights(m, path, unit_sharpen_qk, NULL, &err) == TTC_OK);
    return path;
}

static int build(TtcModel *m, const char *spec, const char *hw) {
    char hwpath[512];
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    const char *hws[1] = {hwpath};
    if (hw) {
        snprintf(hwpath, sizeof hwpath, "%s/specs/hw/%s", unit_source_dir(), hw);
        o.hw = hws;
        o.n_hw = 1;
    }
    o.batch = 2;
    o.seq = SEQ;
    o.max_seq = MAX_CTX;
    TtcPlan plan;
    int rc = compile_spec_to_plan(&o, &plan, stderr);
    if (rc) return rc;
    ttc_model_from_plan(m, &plan);
    /* The weights file is made from a twin of the model, so that this one loads it fresh. */
    TtcModel twin;
    TtcPlan copy;
    uint8_t *buf;
    size_t len;
    TtcError err = {0};
    if (ttc_plan_serialize(&m->plan, &buf, &len, &err) != TTC_OK || ttc_plan_parse(&copy, buf, len, "copy", &err) != TTC_OK)
        return 1;
    free(buf);
    ttc_model_from_plan(&twin, &copy);
    char name[TTC_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s-weights.safetensors", m->plan.model_name);
    const char *weights = sharp_weights(&twin, name);
    ttc_model_close(&twin);
    if (ttc_model_load_weights(m, weights, 1, &err) != TTC_OK) {
        ttc_error_print(&err);
        return 1;
    }
    return 0;
}

/* Two sequences of PROMPT + STEPS tokens. */
static void make_tokens(int32_t tok[2][PROMPT + STEPS]) {
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < PROMPT + STEPS; i++) tok[b][i] = (int32_t)((b * 31 + i * 17 + 3) % VOCAB);
}

/* Last-position logits of a full prefill of the first n tokens of each sequence, into out[2][VOCAB]. */
static TtcStatus full_prefill_last(TtcSession *s, int32_t tok[2][PROMPT + STEPS], int n, float *out, TtcError *err) {
    int32_t ids[2 * (PROMPT + STEPS)];
    for (int b = 0; b < 2; b++) memcpy(ids + b * n, tok[b], (size_t)n * sizeof *ids);
    TtcInputs in = {ids, NULL, NULL, 2, n};
    if (ttc_forward(s, &in, err) != TTC_OK) return err->status;
    RtTensor t;
    const float *l = ttc_session_output(s, TTC_ROLE_LOGITS, &t);
    for (int b = 0; b < 2; b++) memcpy(out + b * VOCAB, l + ((int64_t)b * n + n - 1) * VOCAB, VOCAB * sizeof *out);
    return TTC_OK;
}

/* Decode after prefill equals full recompute at every step; returns the worst PCC. */
static double decode_vs_recompute(TtcModel *m, double *worst_abs) {
    int32_t tok[2][PROMPT + STEPS];
    make_tokens(tok);
    TtcSession inc, full;
    TtcError err = {0};
    TtcRunOptions ro = {0};
    CU_ASSERT_FATAL(ttc_session_init(&inc, m, &ro, &err) == TTC_OK && ttc_session_init(&full, m, &ro, &err) == TTC_OK);
    float want[2 * VOCAB], got[2 * VOCAB];
    CU_ASSERT_FATAL(full_prefill_last(&inc, tok, PROMPT, got, &err) == TTC_OK);
    double worst = 1;
    *worst_abs = 0;
    for (int step = 0; step < STEPS; step++) {
        if (step > 0) {
            int32_t next[2] = {tok[0][PROMPT + step - 1], tok[1][PROMPT + step - 1]};
            CU_ASSERT_FATAL(ttc_decode_step(&inc, next, &err) == TTC_OK);
            RtTensor t;
            const float *l = ttc_session_output(&inc, TTC_ROLE_LOGITS, &t);
            CU_ASSERT_EQUAL(t.dims[1], 1);
            memcpy(got, l, sizeof got);
        }
        int n = PROMPT + step;
        if (n > SEQ) break; /* a full prefill beyond --seq is not possible */
        CU_ASSERT_FATAL(full_prefill_last(&full, tok, n, want, &err) == TTC_OK);
        double pcc = unit_pcc(got, want, 2 * VOCAB), mx = unit_max_abs(got, want, 2 * VOCAB);
        if (pcc < worst) worst = pcc;
        if (mx > *worst_abs) *worst_abs = mx;
    }
    ttc_session_free(&inc);
    ttc_session_free(&full);
    return worst;
}

/* Prefill logits of the emulated plan vs the fp32 reference path. */
static double emulated_vs_reference(TtcModel *m, double *max_abs) {
    int32_t tok[2][PROMPT + STEPS];
    make_tokens(tok);
    TtcSession emu, ref;
    TtcError err = {0};
    TtcRunOptions eo = {0}, ro = {.reference = 1};
    CU_ASSERT_FATAL(ttc_session_init(&emu, m, &eo, &err) == TTC_OK && ttc_session_init(&ref, m, &ro, &err) == TTC_OK);
    int32_t ids[2 * SEQ];
    for (int b = 0; b < 2; b++) memcpy(ids + b * SEQ, tok[b], SEQ * sizeof *ids);
    TtcInputs in = {ids, NULL, NULL, 2, SEQ};
    CU_ASSERT_FATAL(ttc_forward(&emu, &in, &err) == TTC_OK && ttc_forward(&ref, &in, &err) == TTC_OK);
    RtTensor a, b;
    const float *x = ttc_session_output(&emu, TTC_ROLE_LOGITS, &a), *y = ttc_session_output(&ref, TTC_ROLE_LOGITS, &b);
    int64_t n = rt_tensor_elems(&a);
    double pcc = unit_pcc(x, y, n);
    *max_abs = unit_max_abs(x, y, n);
    ttc_session_free(&emu);
    ttc_session_free(&ref);
    return pcc;
}

static void test_variants(void) {
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        const Variant *v = &variants[i];
        const char *spec = write_spec(v, "{theta: 10000.0}", v->extra_attention);
        TtcModel ref_cfg, bf16;
        CU_ASSERT_FATAL(build(&ref_cfg, spec, "reference.yaml") == 0);
        CU_ASSERT_FATAL(build(&bf16, spec, NULL) == 0);
        double abs_inc, abs_ref, abs_bf16;
        double pcc_inc = decode_vs_recompute(&ref_cfg, &abs_inc);
        double pcc_ref = emulated_vs_reference(&ref_cfg, &abs_ref);
        double pcc_bf16 = emulated_vs_reference(&bf16, &abs_bf16);
        printf("\n  %-15s decode vs recompute PCC %.7f (max abs %.2g); reference.yaml vs fp32 PCC %.7f (%.2g); "
               "bf16 default PCC %.5f", v->name, pcc_inc, abs_inc, pcc_ref, abs_ref, pcc_bf16);
        CU_ASSERT(pcc_inc >= 0.99999);
        CU_ASSERT(abs_inc <= 1e-4); /* the same kernels on the same rows: equal up to summation order */
        CU_ASSERT(pcc_ref >= 0.9999);
        CU_ASSERT(pcc_bf16 >= 0.99);
        ttc_model_close(&ref_cfg);
        ttc_model_close(&bf16);
    }
}

/* The window must change results once the context is longer than it, and Llama-3 scaling must
 * change RoPE: a feature that silently does nothing would pass the tests above. */
static void test_features_take_effect(void) {
    static const Variant base = {"base", 4, 2, "", "silu", 0}, windowed = {"windowed", 4, 2, "", "silu", 0};
    TtcModel a, b, c;
    CU_ASSERT_FATAL(build(&a, write_spec(&base, "{theta: 10000.0}", ""), "reference.yaml") == 0);
    CU_ASSERT_FATAL(build(&b, write_spec(&windowed, "{theta: 10000.0}", ", sliding_window: 3"), "reference.yaml") == 0);
    CU_ASSERT_FATAL(build(&c, write_spec(&base, "{theta: 10000.0, scaling: {type: llama3, factor: 8.0, "
                                                "low_freq_factor: 1.0, high_freq_factor: 4.0, "
                                                "original_max_position: 4}}", ""), "reference.yaml") == 0);
    int32_t tok[2][PROMPT + STEPS];
    make_tokens(tok);
    float la[2 * VOCAB], lb[2 * VOCAB], lc[2 * VOCAB];
    TtcSession sa, sb, sc;
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_session_init(&sa, &a, NULL, &err) == TTC_OK && ttc_session_init(&sb, &b, NULL, &err) == TTC_OK &&
                    ttc_session_init(&sc, &c, NULL, &err) == TTC_OK);
    /* 3 tokens: every key is inside the window, so windowed and full attention agree ... */
    CU_ASSERT_FATAL(full_prefill_last(&sa, tok, 3, la, &err) == TTC_OK && full_prefill_last(&sb, tok, 3, lb, &err) == TTC_OK);
    CU_ASSERT(unit_max_abs(la, lb, 2 * VOCAB) <= 1e-6);
    /* ... 8 tokens: the window hides the first five. */
    CU_ASSERT_FATAL(full_prefill_last(&sa, tok, 8, la, &err) == TTC_OK && full_prefill_last(&sb, tok, 8, lb, &err) == TTC_OK);
    CU_ASSERT(unit_max_abs(la, lb, 2 * VOCAB) > 1e-3);
    CU_ASSERT_FATAL(full_prefill_last(&sc, tok, 8, lc, &err) == TTC_OK);
    CU_ASSERT(unit_max_abs(la, lc, 2 * VOCAB) > 1e-4);
    ttc_session_free(&sa);
    ttc_session_free(&sb);
    ttc_session_free(&sc);
    ttc_model_close(&a);
    ttc_model_close(&b);
    ttc_model_close(&c);
}

static void test_bad_inputs(void) {
    TtcModel m;
    CU_ASSERT_FATAL(build(&m, write_spec(&variants[0], "{theta: 10000.0}", ""), NULL) == 0);
    TtcSession s;
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_session_init(&s, &m, NULL, &err) == TTC_OK);
    int32_t ids[2 * (SEQ + 1)];
    for (int i = 0; i < 2 * (SEQ + 1); i++) ids[i] = i % VOCAB;
    TtcInputs too_long = {ids, NULL, NULL, 1, SEQ + 1};
    CU_ASSERT_EQUAL(ttc_forward(&s, &too_long, &err), TTC_E_USER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.hint, "--seq 13"));
    ttc_error_clear(&err);
    /* fill the cache to MAX_CTX, then one more step must be refused */
    TtcInputs prompt = {ids, NULL, NULL, 1, SEQ};
    CU_ASSERT_FATAL(ttc_forward(&s, &prompt, &err) == TTC_OK);
    int32_t next[1] = {7};
    for (int i = SEQ; i < MAX_CTX; i++) CU_ASSERT_FATAL(ttc_decode_step(&s, next, &err) == TTC_OK);
    CU_ASSERT_EQUAL(ttc_decode_step(&s, next, &err), TTC_E_USER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "would reach 25 tokens; the plan's KV cache holds 24"));
    ttc_error_clear(&err);
    CU_ASSERT_FATAL(ttc_forward(&s, &prompt, &err) == TTC_OK); /* a new prompt starts a new cache */
    next[0] = VOCAB;
    CU_ASSERT_EQUAL(ttc_decode_step(&s, next, &err), TTC_E_USER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "outside the vocabulary [0, 96)"));
    ttc_session_free(&s);
    ttc_model_close(&m);
}

static CU_TestInfo tests[] = {
    {"variants: decode = recompute, emulated = reference", test_variants},
    {"sliding window and llama3 scaling take effect", test_features_take_effect},
    {"bad inputs are user errors", test_bad_inputs},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"tiny decoders end to end", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
