/* test_fusion_numerics.c: fusion changes speed and memory, never results.
 *   - fused vs unfused plans (the same spec compiled twice, once without the `fuse` pass) under
 *     specs/hw/reference.yaml: tiny BERT (batch 2, one sequence padded) and each decoder variant
 *     (GQA, MQA, sliding window, qkv bias, tied head, GeGLU) in prefill and in decode;
 *   - the ATTENTION kernel, fast (tiled, online softmax) vs reference, on awkward sizes with
 *     causal, window and padding masks, GQA, column offsets, cache views and leading dims;
 *   - a prompt long enough (S = T = 4096) that the unfused score matrix does not fit L1 while the
 *     fused plan does (the device-memory pass's verdict).
 *
 * Bounds: with reference.yaml both plans compute in fp32 with the same weights, so they differ
 * only in summation order: the flash kernel sums exp(s - m) v block by block and divides once,
 * the unfused path normalizes first and sums after; the row max and sum are the same numbers.
 * Each reordering moves a sum of O(1) terms by a few fp32 ulps (~1e-7 relative), and a few
 * layers of matmuls and norms amplify that by at most ~10x on O(1) logits: 1e-5 absolute is a
 * bound with margin, while a real mistake (a mask off by one position, a wrong RoPE column) moves
 * results by 1e-3 or more, as test_decoder_numerics' window and scaling checks show. In practice
 * the plans agree exactly on these sizes: the next matmul cuts its fp32 input to tf32 (DEVICE.md
 * §3), which absorbs ulp-level differences; scaling the flash output by 1 + 1e-4 is caught. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "kernels.h"
#include "safetensors.h"
#include "ttc_runtime.h"
#include "unit.h"

enum { VOCAB = 96, SEQ = 12, MAX_CTX = 24, PROMPT = 5, STEPS = 8 };
#define MAX_ABS 1e-5

static int compile_plan(const char *spec, int fuse, int batch, int seq, int max_seq, TtcModel *m) {
    char hw[512];
    snprintf(hw, sizeof hw, "%s/specs/hw/reference.yaml", unit_source_dir());
    const char *hws[1] = {hw};
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.hw = hws;
    o.n_hw = 1;
    o.batch = batch;
    o.seq = seq;
    o.max_seq = max_seq;
    if (!fuse) o.disabled[o.n_disabled++] = PASS_FUSE;
    TtcPlan plan;
    int rc = compile_spec_to_plan(&o, &plan, stderr);
    if (rc == 0) ttc_model_from_plan(m, &plan);
    return rc;
}

static int count_kind(const TtcPlan *p, int kind) {
    int n = 0;
    for (int k = 0; k < p->n_ops; k++) n += p->ops[k].kind == kind;
    return n;
}

static void compare(const char *what, const float *a, const float *b, int64_t n, double *worst_pcc, double *worst_abs) {
    double pcc = unit_pcc(a, b, n), mx = unit_max_abs(a, b, n);
    if (pcc < *worst_pcc) *worst_pcc = pcc;
    if (mx > *worst_abs) *worst_abs = mx;
    if (pcc < 0.9999 || mx > MAX_ABS) printf("\n    %s: PCC %.7f, max abs %.3g", what, pcc, mx);
}

/* ---- the encoder ---- */

static void test_encoder(void) {
    char spec[512];
    snprintf(spec, sizeof spec, "%s/specs/tiny-bert.yaml", unit_source_dir());
    TtcModel m[2];
    for (int f = 0; f < 2; f++) {
        CU_ASSERT_FATAL(compile_plan(spec, f, 2, 16, 0, &m[f]) == 0);
        TtcError err = {0};
        CU_ASSERT_FATAL(ttc_model_random_weights(&m[f], 3, 0, &err) == TTC_OK); /* same names: same values */
    }
    CU_ASSERT(count_kind(&m[1].plan, TTC_OP_ATTENTION) == 2 && count_kind(&m[0].plan, TTC_OP_ATTENTION) == 0);
    int32_t ids[32], tt[32], mask[32];
    for (int i = 0; i < 32; i++) {
        ids[i] = (int32_t)((i * 37 + 11) % 128);
        tt[i] = i % 16 >= 8;
        mask[i] = !(i >= 16 + 11); /* the second sequence is padded after 11 tokens */
    }
    TtcInputs in = {ids, tt, mask, 2, 16};
    TtcSession s[2];
    TtcError err = {0};
    for (int f = 0; f < 2; f++) {
        CU_ASSERT_FATAL(ttc_session_init(&s[f], &m[f], NULL, &err) == TTC_OK);
        CU_ASSERT_FATAL(ttc_forward(&s[f], &in, &err) == TTC_OK);
    }
    double pcc = 1, mx = 0;
    static const TtcRole roles[2] = {TTC_ROLE_HIDDEN, TTC_ROLE_POOLED};
    for (int r = 0; r < 2; r++) {
        RtTensor a, b;
        const float *x = ttc_session_output(&s[0], roles[r], &a), *y = ttc_session_output(&s[1], roles[r], &b);
        CU_ASSERT_FATAL(rt_tensor_elems(&a) == rt_tensor_elems(&b));
        compare(ttc_role_name(roles[r]), x, y, rt_tensor_elems(&a), &pcc, &mx);
    }
    printf("\n  tiny-bert batch 2 padded: fused vs unfused PCC %.8f, max abs %.2g", pcc, mx);
    CU_ASSERT(pcc >= 0.9999);
    CU_ASSERT(mx <= MAX_ABS);
    for (int f = 0; f < 2; f++) {
        ttc_session_free(&s[f]);
        ttc_model_close(&m[f]);
    }
}

/* ---- the decoders ---- */

typedef struct Variant {
    const char *name;
    int heads, kv_heads;
    const char *extra_attention;
    const char *activation;
    int tied;
} Variant;

static const Variant variants[] = {
    {"gqa", 4, 2, "", "silu", 0},           {"mqa", 4, 1, "", "silu", 0},
    {"sliding-window", 4, 2, ", sliding_window: 3", "silu", 0},
    {"qkv-bias", 4, 2, ", qkv_bias: true", "silu", 0}, {"tied-head", 4, 2, "", "silu", 1},
    {"geglu", 4, 2, "", "gelu", 0},
};

static const char *write_spec(const Variant *v) {
    char text[2048];
    snprintf(text, sizeof text,
             "spec_version: 1\n"
             "model: {name: fuse-%s, type: decoder, vocab_size: %d, max_sequence_length: 64}\n"
             "layers:\n"
             "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 32, position: none}\n"
             "  - id: layer_{i}\n    repeat: 2\n    type: transformer\n"
             "    params:\n      hidden_dim: 32\n      num_heads: %d\n      num_kv_heads: %d\n      head_dim: 8\n"
             "      ffn_dim: 48\n      ffn_type: gated\n      activation: %s\n      norm_type: rmsnorm\n"
             "      norm_eps: 1.0e-5\n      residual_pattern: pre_norm\n"
             "      attention: {causal: true, bias: false, rope: {theta: 10000.0}%s}\n"
             "  - id: final_norm\n    type: norm\n    params: {norm_type: rmsnorm, norm_eps: 1.0e-5}\n"
             "  - id: lm_head\n    type: linear\n    params: {input_dim: 32, output_dim: %d%s}\n",
             v->name, VOCAB, v->heads, v->kv_heads, v->activation, v->extra_attention, VOCAB,
             v->tied ? ", tied_to: embedding" : "");
    char name[64];
    snprintf(name, sizeof name, "fuse-%s.yaml", v->name);
    return unit_write_tmp(name, text, strlen(text));
}

/* The unfused model's seeded weights with q and k scaled by 8 (attention far from uniform, so
 * positions and masks matter), as safetensors under the Hugging Face names both plans read. */
static const char *sharp_weights(TtcModel *m, const char *name) {
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_model_random_weights(m, 5, 1, &err) == TTC_OK);
    const char *path = unit_tmp_path(name);
    CU_ASSERT_FATAL(ttc_model_write_weights(m, path, unit_sharpen_qk, NULL, &err) == TTC_OK);
    return path;
}

/* Prefill of PROMPT tokens, then STEPS decode steps, on both models; compares all logits. */
static void run_variant(const Variant *v) {
    const char *spec = write_spec(v);
    TtcModel m[2];
    for (int f = 0; f < 2; f++) CU_ASSERT_FATAL(compile_plan(spec, f, 2, SEQ, MAX_CTX, &m[f]) == 0);
    CU_ASSERT(count_kind(&m[1].plan, TTC_OP_ATTENTION) == 4 && count_kind(&m[1].plan, TTC_OP_ROPE) == 0);
    char name[96];
    snprintf(name, sizeof name, "fuse-%s.safetensors", v->name);
    TtcModel twin;
    CU_ASSERT_FATAL(compile_plan(spec, 0, 2, SEQ, MAX_CTX, &twin) == 0);
    const char *weights = sharp_weights(&twin, name);
    ttc_model_close(&twin);
    TtcSession s[2];
    TtcError err = {0};
    for (int f = 0; f < 2; f++) {
        CU_ASSERT_FATAL(ttc_model_load_weights(&m[f], weights, 0, &err) == TTC_OK);
        CU_ASSERT_FATAL(ttc_session_init(&s[f], &m[f], NULL, &err) == TTC_OK);
    }
    int32_t ids[2 * PROMPT];
    for (int i = 0; i < 2 * PROMPT; i++) ids[i] = (int32_t)((i * 17 + 3) % VOCAB);
    TtcInputs in = {ids, NULL, NULL, 2, PROMPT};
    double pre_pcc = 1, pre_abs = 0, dec_pcc = 1, dec_abs = 0;
    for (int f = 0; f < 2; f++) CU_ASSERT_FATAL(ttc_forward(&s[f], &in, &err) == TTC_OK);
    for (int step = 0; step <= STEPS; step++) {
        if (step > 0) {
            int32_t next[2] = {(int32_t)((step * 29 + 1) % VOCAB), (int32_t)((step * 13 + 7) % VOCAB)};
            for (int f = 0; f < 2; f++) CU_ASSERT_FATAL(ttc_decode_step(&s[f], next, &err) == TTC_OK);
        }
        RtTensor a, b;
        const float *x = ttc_session_output(&s[0], TTC_ROLE_LOGITS, &a), *y = ttc_session_output(&s[1], TTC_ROLE_LOGITS, &b);
        CU_ASSERT_FATAL(rt_tensor_elems(&a) == rt_tensor_elems(&b));
        compare(step ? "decode" : "prefill", x, y, rt_tensor_elems(&a), step ? &dec_pcc : &pre_pcc,
                step ? &dec_abs : &pre_abs);
    }
    printf("\n  %-15s fused vs unfused: prefill PCC %.8f (max abs %.2g), decode PCC %.8f (max abs %.2g)", v->name,
           pre_pcc, pre_abs, dec_pcc, dec_abs);
    CU_ASSERT(pre_pcc >= 0.9999 && dec_pcc >= 0.9999);
    CU_ASSERT(pre_abs <= MAX_ABS && dec_abs <= MAX_ABS);
    for (int f = 0; f < 2; f++) {
        ttc_session_free(&s[f]);
        ttc_model_close(&m[f]);
    }
}

static void test_decoders(void) {
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) run_variant(&variants[i]);
}

/* ---- the attention kernel ---- */

typedef struct AttnCase {
    const char *what;
    int lead, b, s, t, hq, hkv, d; /* lead: a leading chip dim (0: rank 3) */
    int causal, window, masked;
    int q_col, k_col, v_col, extra; /* extra: floats of row beyond the heads (widths) */
    int cache;                      /* k, v as views of a cache with this many rows per sequence */
} AttnCase;

static float frand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 11) * 0x1.0p-53 * 4.0 - 2.0);
}

/* Runs fast and reference ATTENTION on one case; returns the max abs difference. */
static double attention_case(const AttnCase *c, double *max_ref) {
    int nb = (c->lead ? c->lead : 1) * c->b, wq = c->q_col + c->hq * c->d + c->extra;
    int wk = c->k_col + c->hkv * c->d + c->extra, wv = c->v_col + c->hkv * c->d + c->extra;
    int rows = c->cache ? c->cache : c->t;
    float *q = malloc(sizeof(float) * (size_t)nb * c->s * wq), *k = malloc(sizeof(float) * (size_t)nb * rows * wk);
    float *v = malloc(sizeof(float) * (size_t)nb * rows * wv);
    float *o1 = malloc(sizeof(float) * (size_t)nb * c->s * c->hq * c->d), *o2 = malloc(sizeof(float) * (size_t)nb * c->s * c->hq * c->d);
    int32_t *mask = malloc(sizeof(int32_t) * (size_t)c->b * c->t);
    uint64_t seed = 7;
    for (int64_t i = 0; i < (int64_t)nb * c->s * wq; i++) q[i] = frand(&seed);
    for (int64_t i = 0; i < (int64_t)nb * rows * wk; i++) k[i] = frand(&seed);
    for (int64_t i = 0; i < (int64_t)nb * rows * wv; i++) v[i] = frand(&seed);
    for (int i = 0; i < c->b * c->t; i++) mask[i] = (i * 7) % 5 != 0; /* scattered padding */
    if (c->b > 1)
        for (int j = 0; j < c->t; j++) mask[c->t + j] = 0; /* sequence 1 sees nothing: uniform rows */
    TtcOpDesc op;
    memset(&op, 0, sizeof op);
    op.kind = TTC_OP_ATTENTION;
    snprintf(op.path, sizeof op.path, "test.attention");
    op.n_in = c->masked ? 4 : 3;
    op.attrs = (TtcAttrs){.heads = c->hq, .kv_heads = c->hkv, .head_dim = c->d, .scale = 1.0f / sqrtf((float)c->d),
                          .causal = c->causal, .window = c->window, .has_mask = c->masked, .q_col = c->q_col,
                          .k_col = c->k_col, .v_col = c->v_col};
    RtOpArgs a;
    memset(&a, 0, sizeof a);
    a.op = &op;
    a.n_in = op.n_in;
    TtcError err = {0};
    a.err = &err;
    int r = c->lead ? 4 : 3;
    RtTensor *ts[3] = {&a.in[0], &a.in[1], &a.in[2]};
    float *data[3] = {q, k, v};
    int widths[3] = {wq, wk, wv}, lens[3] = {c->s, c->t, c->t};
    for (int i = 0; i < 3; i++) {
        *ts[i] = (RtTensor){.data = data[i], .rank = r};
        if (c->lead) ts[i]->dims[0] = c->lead;
        ts[i]->dims[r - 3] = c->b;
        ts[i]->dims[r - 2] = lens[i];
        ts[i]->dims[r - 1] = widths[i];
        if (i && c->cache) ts[i]->stride0 = (int64_t)rows * widths[i] * (c->lead ? c->b : 1);
    }
    if (c->masked) a.in[3] = (RtTensor){.data = mask, .rank = 2, .dims = {c->b, c->t}};
    a.out = (RtTensor){.data = o1, .rank = r};
    if (c->lead) a.out.dims[0] = c->lead;
    a.out.dims[r - 3] = c->b;
    a.out.dims[r - 2] = c->s;
    a.out.dims[r - 1] = c->hq * c->d;
    CU_ASSERT(rt_fast_kernels[TTC_OP_ATTENTION](&a) == TTC_OK);
    a.out.data = o2;
    CU_ASSERT(rt_ref_kernels[TTC_OP_ATTENTION](&a) == TTC_OK);
    if (err.status) ttc_error_print(&err);
    int64_t n = (int64_t)nb * c->s * c->hq * c->d;
    double mx = unit_max_abs(o1, o2, n);
    *max_ref = 0;
    for (int64_t i = 0; i < n; i++) *max_ref = fmax(*max_ref, fabs(o2[i]));
    free(q);
    free(k);
    free(v);
    free(o1);
    free(o2);
    free(mask);
    return mx;
}

static void test_attention_kernel(void) {
    static const AttnCase cases[] = {
        {"plain", 0, 1, 5, 5, 2, 2, 8, 0, 0, 0, 0, 0, 0, 0, 0},
        {"causal+window+padding, GQA, 2 blocks of queries, 2 of keys", 0, 2, 70, 300, 6, 2, 12, 1, 37, 1, 0, 0, 0, 0, 0},
        {"decode row over a cache view, MQA", 0, 2, 1, 257, 4, 1, 16, 1, 0, 1, 0, 0, 0, 3, 300},
        {"fused qkv columns, padding, odd head_dim", 0, 2, 33, 33, 3, 3, 7, 0, 0, 1, 0, 21, 42, 5, 0},
        {"per-chip stack [2,B,S,F], causal, cache views", 2, 2, 9, 40, 2, 1, 8, 1, 0, 1, 0, 0, 0, 0, 48},
        {"window only, no causal", 0, 1, 65, 65, 2, 2, 4, 0, 10, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double ref_mag, mx = attention_case(&cases[i], &ref_mag);
        printf("\n  attention fast vs ref: %-60s max abs %.2g (|ref| <= %.2f)", cases[i].what, mx, ref_mag);
        CU_ASSERT(mx <= 1e-5 * (ref_mag > 1 ? ref_mag : 1));
    }
}

/* ---- a prompt whose scores do not fit L1 ---- */

/* One post-norm layer, 2 heads of 32, S = T = 4096, attention in L1: the unfused plan keeps the
 * [1, 2, 4096, 4096] scores and probabilities as L1 tensors (2 x 32 MiB over 64 cores, 1 MiB per
 * core each, beyond the 1.39 MiB usable), the fused attention holds only blocks of them. */
static void test_long_prompt_fits_l1_only_fused(void) {
    const char *text = "spec_version: 1\n"
                       "model: {name: long-bert, type: encoder, vocab_size: 128, max_sequence_length: 4096}\n"
                       "layers:\n"
                       "  - id: embedding\n    type: embedding\n"
                       "    params: {hidden_dim: 64, position: learned, token_types: 2, norm: layernorm, norm_eps: 1.0e-12}\n"
                       "  - id: layer_{i}\n    repeat: 1\n    type: transformer\n"
                       "    params: {hidden_dim: 64, num_heads: 2, ffn_dim: 128, ffn_type: mlp, activation: gelu,\n"
                       "             norm_type: layernorm, norm_eps: 1.0e-12, residual_pattern: post_norm,\n"
                       "             attention: {causal: false, bias: true}}\n";
    const char *spec = unit_write_tmp("long-bert.yaml", text, strlen(text));
    const char *sets[1] = {"attention.memory=l1"};
    for (int fuse = 0; fuse < 2; fuse++) {
        CompileOptions o;
        compile_options_init(&o);
        o.spec = spec;
        o.sets = sets;
        o.n_sets = 1;
        o.seq = 4096;
        if (!fuse) o.disabled[o.n_disabled++] = PASS_FUSE;
        Compilation c;
        int rc = compile_spec(&o, &c);
        int l1_error = 0;
        for (int i = 0; i < c.diags.n; i++) l1_error |= strstr(c.diags.v[i].msg, "L1 needs") != NULL;
        if (fuse) {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT(!l1_error);
            CU_ASSERT(c.graph.entries[0].l1_peak_bytes > 0 && c.graph.entries[0].l1_peak_bytes <= c.hw.device.l1_bytes);
            printf("\n  S=T=4096, attention in L1: fused L1 peak %lld bytes per core of %lld", 
                   (long long)c.graph.entries[0].l1_peak_bytes, (long long)c.hw.device.l1_bytes);
        } else {
            CU_ASSERT_EQUAL(rc, 1);
            CU_ASSERT(l1_error);
            if (c.diags.n) printf("\n  unfused: %s", c.diags.v[0].msg);
        }
        compile_free(&c);
    }
}

static CU_TestInfo tests[] = {
    {"tiny BERT, batch 2 padded: fused = unfused", test_encoder},
    {"decoder variants, prefill and decode: fused = unfused", test_decoders},
    {"attention kernel: fast (flash) = reference on awkward sizes", test_attention_kernel},
    {"S=T=4096: unfused scores overflow L1, fused fits", test_long_prompt_fits_l1_only_fused},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"fusion numerics", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
