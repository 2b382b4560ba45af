/* test_shard_numerics.c: tensor-parallel plans (1x2, 2x4 and 4x8 meshes) against the single-chip
 * plan, compiled in-process with specs/hw/reference.yaml, on the same weights:
 *   - a 32-head encoder (the BERT layout) and decoders with 8, 2 and 1 KV heads (the last two
 *     fewer than the chips of every mesh but the smallest) and a tied head with qkv bias;
 *   - prefill logits, then decode steps (the stacked KV cache), fused and unfused attention;
 *   - per-chip weight elements fall as 1/N for every split weight, and llama-3.1-8b's per-chip
 *     DRAM on t3k is an eighth of n150's plus the replicated embedding.
 * Bounds. Two paths are compared, each sharded against single-chip:
 *   - the fp32 reference kernels (--check's golden): a sharded plan runs the same products on
 *     column slices and splits each row-parallel dot product into N partial sums added in chip
 *     order, so results differ only by fp32 reassociation, |error| <= K 2^-24 sum|terms| per dot
 *     product (K <= 128): we require max |diff| <= 1e-5 (1 + max |out|);
 *   - the emulated device with reference.yaml: its matrix unit truncates activation operands to
 *     the HiFi4 bits (DEVICE.md §4), a step function, so a reassociation difference of one fp32
 *     ulp upstream can move an operand across a truncation boundary and change a product by up
 *     to 2^-10 of itself: we require max |diff| <= 2^-10 (1 + max |out|) (measured: about 1e-4).
 * Both also need PCC >= 0.9999 (the bar). A wrong head, a KV head on the wrong chip or a
 * bias added N times breaks these by orders of magnitude (see the mutation in the closing note). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "safetensors.h"
#include "ttc_runtime.h"
#include "unit.h"

enum { BATCH = 2, SEQ = 8, MAX_CTX = 16, PROMPT = 5, STEPS = 4 };

static const struct Mesh {
    const char *device;
    int rows, cols;
} meshes[] = {{"wormhole_n300", 1, 2}, {"wormhole_t3k", 2, 4}, {"wormhole_galaxy", 4, 8}};

static const char *mesh_overlay(const struct Mesh *m, const char *variant) {
    char text[256], name[96];
    snprintf(text, sizeof text, "hw_version: 1\ndevice: %s\nmesh_shape: [%d, %d]\n%s", m->device, m->rows, m->cols,
             variant);
    snprintf(name, sizeof name, "mesh-%dx%d-%zu.yaml", m->rows, m->cols, strlen(variant));
    return unit_write_tmp(name, text, strlen(text));
}

/* 32 heads of 2 over hidden 64: every mesh up to 4x8 splits the query heads. */
static const char *decoder_spec(const char *name, int kv_heads, int qkv_bias, int tied) {
    char text[2048], file[96];
    snprintf(text, sizeof text,
             "spec_version: 1\n"
             "model: {name: %s, type: decoder, vocab_size: 96, max_sequence_length: 64}\n"
             "layers:\n"
             "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 64, position: none}\n"
             "  - id: layer_{i}\n    repeat: 2\n    type: transformer\n"
             "    params:\n      hidden_dim: 64\n      num_heads: 32\n      num_kv_heads: %d\n      head_dim: 2\n"
             "      ffn_dim: 128\n      ffn_type: gated\n      activation: silu\n      norm_type: rmsnorm\n"
             "      norm_eps: 1.0e-5\n      residual_pattern: pre_norm\n"
             "      attention: {causal: true, bias: false, qkv_bias: %s, rope: {theta: 10000.0}}\n"
             "  - id: final_norm\n    type: norm\n    params: {norm_type: rmsnorm, norm_eps: 1.0e-5}\n"
             "  - id: lm_head\n    type: linear\n    params: {input_dim: 64, output_dim: 96%s}\n",
             name, kv_heads, qkv_bias ? "true" : "false", tied ? ", tied_to: embedding" : "");
    snprintf(file, sizeof file, "%s.yaml", name);
    return unit_write_tmp(file, text, strlen(text));
}

static const char *encoder_spec(void) {
    static const char text[] =
        "spec_version: 1\n"
        "model: {name: tiny-encoder-32h, type: encoder, vocab_size: 128, max_sequence_length: 64}\n"
        "layers:\n"
        "  - id: embedding\n    type: embedding\n"
        "    params: {hidden_dim: 64, position: learned, token_types: 2, norm: layernorm, norm_eps: 1.0e-12}\n"
        "  - id: layer_{i}\n    repeat: 2\n    type: transformer\n"
        "    params: {hidden_dim: 64, num_heads: 32, ffn_dim: 128, ffn_type: mlp, activation: gelu,\n"
        "             norm_type: layernorm, norm_eps: 1.0e-12, residual_pattern: post_norm,\n"
        "             attention: {causal: false, bias: true}}\n"
        "  - id: pooler\n    type: pooler\n    params: {hidden_dim: 64, activation: tanh}\n";
    return unit_write_tmp("tiny-encoder-32h.yaml", text, sizeof text - 1);
}

static int compile_plan(TtcPlan *plan, const char *spec, const char *mesh_hw, int no_fuse) {
    char ref[512];
    snprintf(ref, sizeof ref, "%s/specs/hw/reference.yaml", unit_source_dir());
    const char *hw[2] = {ref, mesh_hw};
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.hw = hw;
    o.n_hw = mesh_hw ? 2 : 1;
    o.batch = BATCH;
    o.seq = SEQ;
    o.max_seq = MAX_CTX;
    if (no_fuse) o.disabled[o.n_disabled++] = PASS_FUSE;
    return compile_spec_to_plan(&o, plan, stderr);
}

/* Weights shared by every plan of a spec: seeded random values of the unfused single-chip plan
 * (plain Hugging Face names), q and k scaled by 8 so that attention is far from uniform (a wrong
 * head or KV mapping must show), written as safetensors that each plan loads its own way. */
static const char *weights_for(const char *spec, const char *file) {
    TtcPlan plan;
    CU_ASSERT_FATAL(compile_plan(&plan, spec, NULL, 1) == 0);
    TtcModel m;
    ttc_model_from_plan(&m, &plan);
    TtcError err = {0};
    CU_ASSERT_FATAL(ttc_model_random_weights(&m, 7, 1, &err) == TTC_OK);
    const char *path = unit_tmp_path(file);
    CU_ASSERT_FATAL(ttc_model_write_weights(&m, path, unit_sharpen_qk, NULL, &err) == TTC_OK);
    ttc_model_close(&m);
    return path;
}

static void load(TtcModel *m, const char *spec, const char *mesh_hw, int no_fuse, const char *weights) {
    TtcPlan plan;
    CU_ASSERT_FATAL(compile_plan(&plan, spec, mesh_hw, no_fuse) == 0);
    ttc_model_from_plan(m, &plan);
    TtcError err = {0};
    if (ttc_model_load_weights(m, weights, 1, &err) != TTC_OK) ttc_error_print(&err);
    CU_ASSERT_FATAL(err.status == TTC_OK);
}

typedef struct Diff {
    double pcc, max_abs, bound;
} Diff;

static void compare(Diff *d, const float *got, const float *want, int64_t n, double rel) {
    double pcc = unit_pcc(got, want, n), mx = unit_max_abs(got, want, n), big = 0;
    for (int64_t i = 0; i < n; i++) big = fmax(big, fabs((double)want[i]));
    if (pcc < d->pcc) d->pcc = pcc;
    if (mx > d->max_abs) d->max_abs = mx;
    d->bound = fmax(d->bound, rel * (1 + big));
}

/* Runs the prompt (and, for decoders, STEPS decode tokens) through both models, comparing the
 * output of every step. */
static Diff run_pair(TtcModel *one, TtcModel *many, TtcRole role, int reference) {
    Diff d = {1, 0, 0};
    TtcSession a, b;
    TtcError err = {0};
    TtcRunOptions ro = {.reference = reference};
    CU_ASSERT_FATAL(ttc_session_init(&a, one, &ro, &err) == TTC_OK && ttc_session_init(&b, many, &ro, &err) == TTC_OK);
    int32_t ids[BATCH * PROMPT], mask[BATCH * PROMPT];
    for (int i = 0; i < BATCH * PROMPT; i++) {
        ids[i] = (i * 37 + 11) % 96;
        mask[i] = !(i / PROMPT == 1 && i % PROMPT == PROMPT - 1); /* one padded key (encoder) */
    }
    TtcInputs in = {ids, NULL, role == TTC_ROLE_HIDDEN ? mask : NULL, BATCH, PROMPT};
    CU_ASSERT_FATAL(ttc_forward(&a, &in, &err) == TTC_OK);
    if (ttc_forward(&b, &in, &err) != TTC_OK) ttc_error_print(&err);
    CU_ASSERT_FATAL(err.status == TTC_OK);
    for (int step = 0;; step++) {
        RtTensor ta, tb;
        const float *x = ttc_session_output(&a, role, &ta), *y = ttc_session_output(&b, role, &tb);
        CU_ASSERT_FATAL(x && y && rt_tensor_elems(&ta) == rt_tensor_elems(&tb));
        compare(&d, y, x, rt_tensor_elems(&ta), reference ? 1e-5 : 1.0 / 1024);
        if (role != TTC_ROLE_LOGITS || step == STEPS) break;
        int32_t next[BATCH] = {(step * 13 + 5) % 96, (step * 29 + 2) % 96};
        CU_ASSERT_FATAL(ttc_decode_step(&a, next, &err) == TTC_OK && ttc_decode_step(&b, next, &err) == TTC_OK);
    }
    ttc_session_free(&a);
    ttc_session_free(&b);
    return d;
}

static void check_spec(const char *label, const char *spec, TtcRole role) {
    char wname[96];
    snprintf(wname, sizeof wname, "%s-weights.safetensors", label);
    const char *weights = weights_for(spec, wname);
    for (int no_fuse = 0; no_fuse < 2; no_fuse++) {
        TtcModel one;
        load(&one, spec, NULL, no_fuse, weights);
        for (size_t i = 0; i < sizeof meshes / sizeof meshes[0]; i++) {
            TtcModel many;
            load(&many, spec, mesh_overlay(&meshes[i], ""), no_fuse, weights);
            CU_ASSERT_EQUAL(many.plan.mesh_rows * many.plan.mesh_cols, meshes[i].rows * meshes[i].cols);
            for (int reference = 0; reference < 2; reference++) {
                Diff d = run_pair(&one, &many, role, reference);
                printf("\n  %-10s %-7s %dx%d %-9s: PCC %.8f, max abs %.2g (bound %.2g)", label,
                       no_fuse ? "unfused" : "fused", meshes[i].rows, meshes[i].cols, reference ? "fp32 ref" : "emulated",
                       d.pcc, d.max_abs, d.bound);
                CU_ASSERT(d.pcc >= 0.9999);
                CU_ASSERT(d.max_abs <= d.bound);
            }
            ttc_model_close(&many);
        }
        ttc_model_close(&one);
    }
}

static void test_encoder(void) { check_spec("encoder", encoder_spec(), TTC_ROLE_HIDDEN); }
static void test_gqa8(void) { check_spec("gqa-8kv", decoder_spec("gqa-8kv", 8, 0, 0), TTC_ROLE_LOGITS); }
static void test_gqa2(void) { check_spec("gqa-2kv", decoder_spec("gqa-2kv", 2, 0, 0), TTC_ROLE_LOGITS); }
static void test_mqa_bias_tied(void) {
    check_spec("mqa-tied", decoder_spec("mqa-tied", 1, 1, 1), TTC_ROLE_LOGITS);
}

/* Every weight split over N chips holds 1/N of its elements per chip (KV weights replicated over
 * N/parts chips hold 1/parts), and nothing else is stacked. */
static void test_weight_memory_per_chip(void) {
    const char *spec = decoder_spec("mem", 2, 0, 0);
    TtcPlan one, many;
    CU_ASSERT_FATAL(compile_plan(&one, spec, NULL, 1) == 0);
    CU_ASSERT_FATAL(compile_plan(&many, spec, mesh_overlay(&meshes[1], ""), 1) == 0);
    int64_t whole = 0, per_chip = 0, split = 0;
    for (int t = 0; t < one.n_tensors; t++) {
        const TtcTensorDesc *a = &one.tensors[t];
        if (a->kind != TTC_TENSOR_WEIGHT) continue;
        const TtcTensorDesc *b = NULL;
        for (int u = 0; u < many.n_tensors && !b; u++)
            if (many.tensors[u].kind == TTC_TENSOR_WEIGHT && !strcmp(many.tensors[u].name, a->name)) b = &many.tensors[u];
        CU_ASSERT_FATAL(b != NULL);
        int64_t n = ttc_shape_max_elems(&a->shape), chip = b->shard_chips ? ttc_shape_max_elems(&b->shape) / 8 : n;
        whole += n;
        per_chip += chip;
        if (b->shard_chips) {
            split++;
            int kv = strstr(a->name, "k_proj") || strstr(a->name, "v_proj");
            CU_ASSERT_EQUAL(b->shard_parts, kv ? 2 : 8);
            CU_ASSERT_EQUAL(chip * b->shard_parts, n);
        }
    }
    CU_ASSERT_EQUAL(split, 2 * 7 + 1); /* q k v o up gate down per layer, and lm_head */
    /* whole: the embedding (96x64) and five norm vectors; k and v (4x64 each, 4 of them) at 1/2 */
    int64_t replicated = 96 * 64 + 5 * 64, kv = 4 * 4 * 64;
    CU_ASSERT_EQUAL(per_chip, replicated + kv / 2 + (whole - replicated - kv) / 8);
    ttc_plan_free(&one);
    ttc_plan_free(&many);
}

/* The device-memory pass on the real model: per-chip DRAM on t3k is n150's split eight ways, plus
 * the replicated 128256 x 4096 bf16 embedding table (1.05 GB). */
static void test_llama_8b_dram_per_chip(void) {
    char spec[512], t3k[512];
    snprintf(spec, sizeof spec, "%s/specs/llama-3.1-8b.yaml", unit_source_dir());
    snprintf(t3k, sizeof t3k, "%s/specs/hw/wormhole_t3k.yaml", unit_source_dir());
    Compilation a, b;
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.allow_misfit = 1; /* 15 GiB do not fit one n150 chip: the estimate is what is compared */
    CU_ASSERT_FATAL(compile_spec(&o, &a) == 0);
    const char *hw[1] = {t3k};
    o.hw = hw;
    o.n_hw = 1;
    CU_ASSERT_FATAL(compile_spec(&o, &b) == 0);
    double embed = 128256.0 * 4096 * 2, n150 = (double)a.graph.entries[1].dram_peak_bytes,
           t3k_peak = (double)b.graph.entries[1].dram_peak_bytes;
    printf("\n  llama-3.1-8b decode DRAM per chip: n150 %.2f GiB, t3k %.2f GiB", n150 / (1 << 30), t3k_peak / (1 << 30));
    CU_ASSERT(t3k_peak < (n150 - embed) / 8 + embed + 0.05 * n150 / 8);
    CU_ASSERT(t3k_peak > (n150 - embed) / 8);
    compile_free(&a);
    compile_free(&b);
}

static CU_TestInfo tests[] = {
    {"encoder, 32 heads", test_encoder},
    {"decoder, 8 KV heads", test_gqa8},
    {"decoder, 2 KV heads (fewer than chips)", test_gqa2},
    {"decoder, MQA + qkv bias + tied head", test_mqa_bias_tied},
    {"per-chip weight elements fall as 1/N", test_weight_memory_per_chip},
    {"llama-3.1-8b DRAM per chip on t3k", test_llama_8b_dram_per_chip},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"shard numerics", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
