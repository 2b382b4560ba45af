/* test_hf_import.c: `ttc import-hf`'s conversion (compiler/hf_import.c): the published
 * config.json of six models converted and compared, field by field and as text, with the
 * shipped specs; defaults, name, rope and window rules; every error class with its exact
 * message and line:col; the json_mini additions it needs; and no crash on damaged input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_import.h"
#include "json_mini.h"
#include "spec.h"
#include "unit.h"

static Diags D;
static char *Y;

static int conv_file(const char *text, const char *file) {
    diag_free(&D);
    free(Y);
    Y = NULL;
    return hf_import_string(text, strlen(text), file, &Y, &D);
}

static int conv(const char *text) { return conv_file(text, "hf/m/config.json"); }

/* ---- the published configs (Hugging Face hub, values as published) ---- */

static const char *const BERT_BASE =
    "{\n  \"architectures\": [\"BertForMaskedLM\"],\n  \"attention_probs_dropout_prob\": 0.1,\n"
    "  \"gradient_checkpointing\": false,\n  \"hidden_act\": \"gelu\",\n  \"hidden_dropout_prob\": 0.1,\n"
    "  \"hidden_size\": 768,\n  \"initializer_range\": 0.02,\n  \"intermediate_size\": 3072,\n"
    "  \"layer_norm_eps\": 1e-12,\n  \"max_position_embeddings\": 512,\n  \"model_type\": \"bert\",\n"
    "  \"num_attention_heads\": 12,\n  \"num_hidden_layers\": 12,\n  \"pad_token_id\": 0,\n"
    "  \"position_embedding_type\": \"absolute\",\n  \"transformers_version\": \"4.6.0.dev0\",\n"
    "  \"type_vocab_size\": 2,\n  \"use_cache\": true,\n  \"vocab_size\": 30522\n}\n";

static const char *const LLAMA_32_1B =
    "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"attention_bias\": false,\n  \"attention_dropout\": 0.0,\n"
    "  \"bos_token_id\": 128000,\n  \"eos_token_id\": 128001,\n  \"head_dim\": 64,\n  \"hidden_act\": \"silu\",\n"
    "  \"hidden_size\": 2048,\n  \"initializer_range\": 0.02,\n  \"intermediate_size\": 8192,\n"
    "  \"max_position_embeddings\": 131072,\n  \"mlp_bias\": false,\n  \"model_type\": \"llama\",\n"
    "  \"num_attention_heads\": 32,\n  \"num_hidden_layers\": 16,\n  \"num_key_value_heads\": 8,\n"
    "  \"pretraining_tp\": 1,\n  \"rms_norm_eps\": 1e-05,\n  \"rope_scaling\": {\n    \"factor\": 32.0,\n"
    "    \"high_freq_factor\": 4.0,\n    \"low_freq_factor\": 1.0,\n    \"original_max_position_embeddings\": 8192,\n"
    "    \"rope_type\": \"llama3\"\n  },\n  \"rope_theta\": 500000.0,\n  \"tie_word_embeddings\": true,\n"
    "  \"torch_dtype\": \"bfloat16\",\n  \"transformers_version\": \"4.45.0.dev0\",\n  \"use_cache\": true,\n"
    "  \"vocab_size\": 128256\n}\n";

static const char *const LLAMA_31_8B =
    "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"attention_bias\": false,\n  \"attention_dropout\": 0.0,\n"
    "  \"bos_token_id\": 128000,\n  \"eos_token_id\": 128001,\n  \"hidden_act\": \"silu\",\n  \"hidden_size\": 4096,\n"
    "  \"initializer_range\": 0.02,\n  \"intermediate_size\": 14336,\n  \"max_position_embeddings\": 131072,\n"
    "  \"mlp_bias\": false,\n  \"model_type\": \"llama\",\n  \"num_attention_heads\": 32,\n"
    "  \"num_hidden_layers\": 32,\n  \"num_key_value_heads\": 8,\n  \"pretraining_tp\": 1,\n"
    "  \"rms_norm_eps\": 1e-05,\n  \"rope_scaling\": {\n    \"factor\": 8.0,\n    \"low_freq_factor\": 1.0,\n"
    "    \"high_freq_factor\": 4.0,\n    \"original_max_position_embeddings\": 8192,\n    \"rope_type\": \"llama3\"\n"
    "  },\n  \"rope_theta\": 500000.0,\n  \"tie_word_embeddings\": false,\n  \"torch_dtype\": \"bfloat16\",\n"
    "  \"transformers_version\": \"4.43.0.dev0\",\n  \"use_cache\": true,\n  \"vocab_size\": 128256\n}\n";

static const char *const QWEN2_05B =
    "{\n  \"architectures\": [\"Qwen2ForCausalLM\"],\n  \"attention_dropout\": 0.0,\n  \"bos_token_id\": 151643,\n"
    "  \"eos_token_id\": 151643,\n  \"hidden_act\": \"silu\",\n  \"hidden_size\": 896,\n"
    "  \"initializer_range\": 0.02,\n  \"intermediate_size\": 4864,\n  \"max_position_embeddings\": 131072,\n"
    "  \"max_window_layers\": 24,\n  \"model_type\": \"qwen2\",\n  \"num_attention_heads\": 14,\n"
    "  \"num_hidden_layers\": 24,\n  \"num_key_value_heads\": 2,\n  \"rms_norm_eps\": 1e-06,\n"
    "  \"rope_theta\": 1000000.0,\n  \"sliding_window\": 131072,\n  \"tie_word_embeddings\": true,\n"
    "  \"torch_dtype\": \"bfloat16\",\n  \"transformers_version\": \"4.40.1\",\n  \"use_cache\": true,\n"
    "  \"use_sliding_window\": false,\n  \"vocab_size\": 151936\n}\n";

static const char *const MISTRAL_7B =
    "{\n  \"architectures\": [\"MistralForCausalLM\"],\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n"
    "  \"hidden_act\": \"silu\",\n  \"hidden_size\": 4096,\n  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 14336,\n  \"max_position_embeddings\": 32768,\n  \"model_type\": \"mistral\",\n"
    "  \"num_attention_heads\": 32,\n  \"num_hidden_layers\": 32,\n  \"num_key_value_heads\": 8,\n"
    "  \"rms_norm_eps\": 1e-05,\n  \"rope_theta\": 10000.0,\n  \"sliding_window\": 4096,\n"
    "  \"tie_word_embeddings\": false,\n  \"torch_dtype\": \"bfloat16\",\n  \"transformers_version\": \"4.34.0.dev0\",\n"
    "  \"use_cache\": true,\n  \"vocab_size\": 32000\n}\n";

static const char *const TINYLLAMA =
    "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n"
    "  \"hidden_act\": \"silu\",\n  \"hidden_size\": 2048,\n  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 5632,\n  \"max_position_embeddings\": 2048,\n  \"model_type\": \"llama\",\n"
    "  \"num_attention_heads\": 32,\n  \"num_hidden_layers\": 22,\n  \"num_key_value_heads\": 4,\n"
    "  \"pretraining_tp\": 1,\n  \"rms_norm_eps\": 1e-05,\n  \"rope_scaling\": null,\n  \"rope_theta\": 10000.0,\n"
    "  \"tie_word_embeddings\": false,\n  \"torch_dtype\": \"float32\",\n  \"transformers_version\": \"4.31.0.dev0\",\n"
    "  \"use_cache\": true,\n  \"vocab_size\": 32000\n}\n";

/* ---- comparing with the shipped specs ---- */

static void same_layer(const SpecLayer *a, const SpecLayer *b) {
    CU_ASSERT_STRING_EQUAL(a->id, b->id);
    CU_ASSERT_EQUAL(a->type, b->type);
    CU_ASSERT_EQUAL(a->hidden_dim, b->hidden_dim);
    CU_ASSERT_EQUAL(a->position, b->position);
    CU_ASSERT_EQUAL(a->token_types, b->token_types);
    CU_ASSERT_EQUAL(a->norm, b->norm);
    CU_ASSERT_EQUAL(a->norm_eps, b->norm_eps);
    CU_ASSERT_EQUAL(a->num_heads, b->num_heads);
    CU_ASSERT_EQUAL(a->num_kv_heads, b->num_kv_heads);
    CU_ASSERT_EQUAL(a->head_dim, b->head_dim);
    CU_ASSERT_EQUAL(a->ffn_dim, b->ffn_dim);
    CU_ASSERT_EQUAL(a->ffn_type, b->ffn_type);
    CU_ASSERT_EQUAL(a->activation, b->activation);
    CU_ASSERT_EQUAL(a->residual, b->residual);
    CU_ASSERT_EQUAL(a->attn.causal, b->attn.causal);
    CU_ASSERT_EQUAL(a->attn.bias, b->attn.bias);
    CU_ASSERT_EQUAL(a->attn.qkv_bias, b->attn.qkv_bias);
    CU_ASSERT_EQUAL(a->attn.rope.present, b->attn.rope.present);
    CU_ASSERT_EQUAL(a->attn.rope.theta, b->attn.rope.theta);
    CU_ASSERT_EQUAL(a->attn.rope.scaling, b->attn.rope.scaling);
    CU_ASSERT_EQUAL(a->attn.rope.factor, b->attn.rope.factor);
    CU_ASSERT_EQUAL(a->attn.rope.low_freq_factor, b->attn.rope.low_freq_factor);
    CU_ASSERT_EQUAL(a->attn.rope.high_freq_factor, b->attn.rope.high_freq_factor);
    CU_ASSERT_EQUAL(a->attn.rope.original_max_position, b->attn.rope.original_max_position);
    CU_ASSERT_EQUAL(a->attn.sliding_window, b->attn.sliding_window);
    CU_ASSERT_EQUAL(a->input_dim, b->input_dim);
    CU_ASSERT_EQUAL(a->output_dim, b->output_dim);
    CU_ASSERT_EQUAL(a->bias, b->bias);
    CU_ASSERT_EQUAL(!a->tied_to, !b->tied_to);
    if (a->tied_to && b->tied_to) CU_ASSERT_STRING_EQUAL(a->tied_to, b->tied_to);
}

/* The spec text after its header comment. */
static const char *body(const char *text) {
    while (*text == '#') {
        const char *nl = strchr(text, '\n');
        if (!nl) return "";
        text = nl + 1;
    }
    return text;
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

/* Converts `config` (in directory `name`, which names the model) and checks it against
 * specs/<shipped>: field by field, and as text after the header comment (the importer writes
 * the shipped layout). `max_seq`, when positive, is the config's own context length where the
 * shipped spec chose another. */
static void check_against(const char *config, const char *name, const char *shipped, int64_t max_seq) {
    char file[256], path[512];
    snprintf(file, sizeof file, "hf/%s/config.json", name);
    int rc = conv_file(config, file);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    if (rc) {
        diag_print(&D, stderr);
        return;
    }
    Diags d2 = {0};
    Spec a = {0}, b = {0};
    int64_t shipped_max_seq = 0;
    snprintf(path, sizeof path, "%s/specs/%s", unit_source_dir(), shipped);
    int ra = spec_load_string(&a, Y, "imported.yaml", &d2);
    int rb = spec_load(&b, path, &d2);
    CU_ASSERT_EQUAL(ra, 0);
    CU_ASSERT_EQUAL(rb, 0);
    if (ra || rb) diag_print(&d2, stderr);
    if (ra == 0 && rb == 0) {
        CU_ASSERT_STRING_EQUAL(a.name, b.name);
        CU_ASSERT_EQUAL(a.type, b.type);
        CU_ASSERT_EQUAL(a.vocab_size, b.vocab_size);
        CU_ASSERT_EQUAL(a.max_sequence_length, max_seq > 0 ? max_seq : b.max_sequence_length);
        CU_ASSERT_EQUAL(a.eos_token_id, b.eos_token_id);
        CU_ASSERT_EQUAL_FATAL(a.n_layers, b.n_layers);
        for (int k = 0; k < a.n_layers; k++) same_layer(&a.layers[k], &b.layers[k]);
    }
    shipped_max_seq = b.max_sequence_length;
    if (ra == 0) spec_free(&a);
    if (rb == 0) spec_free(&b);
    diag_free(&d2);

    char *text = read_all(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char want[1 << 14];
    snprintf(want, sizeof want, "%s", body(text));
    if (max_seq > 0) { /* the one value where shipped spec and config differ, put back */
        char from[64], to[64], *at;
        snprintf(from, sizeof from, "max_sequence_length: %lld", (long long)shipped_max_seq);
        snprintf(to, sizeof to, "max_sequence_length: %lld", (long long)max_seq);
        at = strstr(want, from);
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        memmove(at + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
        memcpy(at, to, strlen(to));
    }
    CU_ASSERT_STRING_EQUAL(body(Y), want);
    if (strcmp(body(Y), want) != 0) fprintf(stderr, "\n--- imported ---\n%s--- shipped ---\n%s", body(Y), want);
    free(text);
}

static void test_bert_base(void) { check_against(BERT_BASE, "bert-base-uncased", "bert-base.yaml", 0); }
static void test_llama_32_1b(void) { check_against(LLAMA_32_1B, "llama-3.2-1b", "llama-3.2-1b.yaml", 0); }
static void test_llama_31_8b(void) { check_against(LLAMA_31_8B, "llama-3.1-8b", "llama-3.1-8b.yaml", 0); }
/* Qwen/Qwen2-0.5B's config.json says max_position_embeddings 131072 (use_sliding_window false,
 * so its 131072 window is off); the shipped spec keeps the 32768 of the model card. */
static void test_qwen2_05b(void) { check_against(QWEN2_05B, "qwen2-0.5b", "qwen2-0.5b.yaml", 131072); }
static void test_mistral_7b(void) { check_against(MISTRAL_7B, "mistral-7b", "mistral-7b.yaml", 0); }
static void test_tinyllama(void) { check_against(TINYLLAMA, "tinyllama-1.1b", "tinyllama-1.1b.yaml", 0); }

static void test_header(void) {
    CU_ASSERT_EQUAL_FATAL(conv_file(LLAMA_32_1B, "models/Llama-3.2-1B/config.json"), 0);
    CU_ASSERT_STRING_EQUAL(strstr(Y, "spec_version") ? "" : "no spec_version", "");
    static const char want[] = "# Llama-3.2-1B: imported from models/Llama-3.2-1B/config.json (model_type llama)\n"
                               "# by ttc import-hf " TTC_VERSION_STRING ". Weights and tokenizer are not read.\n"
                               "spec_version: 1\n";
    CU_ASSERT_EQUAL(strncmp(Y, want, strlen(want)), 0);
    if (strncmp(Y, want, strlen(want)) != 0) fprintf(stderr, "\n%s", Y);
}

/* ---- reading one converted value back ---- */

static Spec S;

static int load_yaml(void) {
    spec_free(&S);
    memset(&S, 0, sizeof S);
    Diags d2 = {0};
    int rc = Y ? spec_load_string(&S, Y, "imported.yaml", &d2) : -1;
    if (rc) diag_print(&d2, stderr);
    diag_free(&d2);
    return rc;
}

static const SpecLayer *layer0(void) {
    for (int i = 0; i < S.n_layers; i++)
        if (strcmp(S.layers[i].id, "layer_0") == 0) return &S.layers[i];
    return NULL;
}

#define MINI_LLAMA                                                                                                    \
    "\"model_type\": \"llama\", \"vocab_size\": 96, \"hidden_size\": 32, \"num_hidden_layers\": 2, "                  \
    "\"num_attention_heads\": 4, \"intermediate_size\": 48"

static void test_decoder_defaults(void) {
    CU_ASSERT_EQUAL_FATAL(conv("{" MINI_LLAMA "}"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    const SpecLayer *L = layer0();
    CU_ASSERT_PTR_NOT_NULL_FATAL(L);
    CU_ASSERT_STRING_EQUAL(S.name, "m");                  /* the config's directory */
    CU_ASSERT_EQUAL(S.max_sequence_length, 2048);         /* LlamaConfig's default */
    CU_ASSERT_EQUAL(S.eos_token_id, -1);
    CU_ASSERT_EQUAL(L->num_kv_heads, 4);
    CU_ASSERT_EQUAL(L->head_dim, 8);
    CU_ASSERT_EQUAL(L->norm_eps, 1e-6);
    CU_ASSERT_EQUAL(L->activation, SPEC_ACT_SILU);
    CU_ASSERT_EQUAL(L->attn.rope.theta, 10000.0);
    CU_ASSERT_EQUAL(L->attn.rope.scaling, SPEC_ROPE_SCALING_NONE);
    CU_ASSERT_EQUAL(L->attn.sliding_window, 0);
    CU_ASSERT_EQUAL(L->attn.bias, 0);
    CU_ASSERT_EQUAL(L->attn.qkv_bias, 0);
    CU_ASSERT_PTR_NULL(S.layers[S.n_layers - 1].tied_to);
}

static void test_decoder_variants(void) {
    /* attention_bias, gelu_pytorch_tanh, eos list, integral floats, rope_scaling "type" spelling */
    CU_ASSERT_EQUAL_FATAL(conv("{" MINI_LLAMA ", \"attention_bias\": true, \"hidden_act\": \"gelu_pytorch_tanh\", "
                               "\"eos_token_id\": [7, 8, 9], \"max_position_embeddings\": 64.0, "
                               "\"rope_scaling\": {\"type\": \"llama3\", \"factor\": 2, \"low_freq_factor\": 1, "
                               "\"high_freq_factor\": 4, \"original_max_position_embeddings\": 32}}"),
                          0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    const SpecLayer *L = layer0();
    CU_ASSERT_EQUAL(L->attn.bias, 1);
    CU_ASSERT_EQUAL(L->activation, SPEC_ACT_GELU_TANH);
    CU_ASSERT_EQUAL(S.eos_token_id, 7);
    CU_ASSERT_EQUAL(S.max_sequence_length, 64);
    CU_ASSERT_EQUAL(L->attn.rope.scaling, SPEC_ROPE_SCALING_LLAMA3);
    CU_ASSERT_EQUAL(L->attn.rope.factor, 2.0);
    CU_ASSERT_EQUAL(L->attn.rope.original_max_position, 32);

    /* transformers 5: rope_parameters holds theta and the scaling */
    CU_ASSERT_EQUAL_FATAL(conv("{" MINI_LLAMA ", \"rope_parameters\": {\"rope_theta\": 500000.0, \"rope_type\": "
                               "\"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                               "\"original_max_position_embeddings\": 8192}}"),
                          0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(layer0()->attn.rope.theta, 500000.0);
    CU_ASSERT_EQUAL(layer0()->attn.rope.factor, 8.0);
    CU_ASSERT_EQUAL(conv("{" MINI_LLAMA ", \"rope_parameters\": {\"rope_theta\": 1e6, \"rope_type\": \"default\"}}"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(layer0()->attn.rope.theta, 1e6);
    CU_ASSERT_EQUAL(layer0()->attn.rope.scaling, SPEC_ROPE_SCALING_NONE);

    /* sliding windows: Mistral's on; Qwen2's off by default, on for every layer with max_window_layers 0 */
    CU_ASSERT_EQUAL(conv("{" MINI_LLAMA ", \"sliding_window\": 16}"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(layer0()->attn.sliding_window, 16);
    CU_ASSERT_EQUAL(conv("{" MINI_LLAMA ", \"sliding_window\": null}"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(layer0()->attn.sliding_window, 0);
    static const char qwen[] = "{\"model_type\": \"qwen2\", \"vocab_size\": 96, \"hidden_size\": 32, "
                               "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 48, "
                               "\"sliding_window\": 16";
    char buf[512];
    snprintf(buf, sizeof buf, "%s}", qwen);
    CU_ASSERT_EQUAL(conv(buf), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(layer0()->attn.sliding_window, 0);
    CU_ASSERT_EQUAL(layer0()->attn.qkv_bias, 1);
    CU_ASSERT_EQUAL(layer0()->attn.bias, 0);
    CU_ASSERT_EQUAL(S.max_sequence_length, 32768);
    snprintf(buf, sizeof buf, "%s, \"use_sliding_window\": true, \"max_window_layers\": 0}", qwen);
    CU_ASSERT_EQUAL(conv(buf), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(layer0()->attn.sliding_window, 16);
    snprintf(buf, sizeof buf, "%s, \"use_sliding_window\": true, \"max_window_layers\": 2}", qwen);
    CU_ASSERT_EQUAL(conv(buf), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(layer0()->attn.sliding_window, 0);
}

static void test_bert_variants(void) {
    CU_ASSERT_EQUAL_FATAL(conv("{\"model_type\": \"bert\", \"vocab_size\": 128, \"hidden_size\": 32, "
                               "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 64, "
                               "\"hidden_act\": \"gelu_new\", \"type_vocab_size\": 1, \"layer_norm_eps\": 1e-5}"),
                          0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_EQUAL(S.type, SPEC_ENCODER);
    CU_ASSERT_EQUAL(S.max_sequence_length, 512);
    CU_ASSERT_EQUAL(S.layers[0].token_types, 1);
    CU_ASSERT_EQUAL(S.layers[0].norm_eps, 1e-5);
    CU_ASSERT_EQUAL(layer0()->activation, SPEC_ACT_GELU_TANH);
    CU_ASSERT_EQUAL(layer0()->residual, SPEC_POST_NORM);
    CU_ASSERT_EQUAL(S.layers[S.n_layers - 1].type, SPEC_LAYER_POOLER);
}

static void test_names(void) {
    CU_ASSERT_EQUAL(conv("{" MINI_LLAMA ", \"_name_or_path\": \"meta-llama/Llama-3.2-1B\"}"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_STRING_EQUAL(S.name, "Llama-3.2-1B");
    /* characters a file name or a C comment would not take ('*', ' ', ':') become '-'; a name
     * starting with a digit is quoted, or YAML would not read it as a string */
    CU_ASSERT_EQUAL(conv("{" MINI_LLAMA ", \"_name_or_path\": \"org/7b *x:y\"}"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_STRING_EQUAL(S.name, "7b--x-y");
    CU_ASSERT_EQUAL(conv("{" MINI_LLAMA ", \"_name_or_path\": \"\"}"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_STRING_EQUAL(S.name, "m");
    CU_ASSERT_EQUAL(conv_file("{" MINI_LLAMA "}", "/config.json"), 0);
    CU_ASSERT_EQUAL_FATAL(load_yaml(), 0);
    CU_ASSERT_STRING_EQUAL(S.name, "imported-model");
}

/* ---- errors ---- */


/* Converting `text` fails with exactly `msg` among its errors, at `needle`+`skip` (NULL: no
 * line, just the file), with `hint` when not NULL; and no YAML. */
static void expect_error(const char *text, const char *msg, const char *needle, int skip, const char *hint) {
    CU_ASSERT_EQUAL(conv(text), -1);
    CU_ASSERT_PTR_NULL(Y);
    const Diag *dg = NULL;
    for (int i = 0; i < D.n && !dg; i++)
        if (strcmp(D.v[i].msg, msg) == 0) dg = &D.v[i];
    CU_ASSERT_PTR_NOT_NULL(dg);
    if (!dg) {
        fprintf(stderr, "\nmissing error: %s\n", msg);
        diag_print(&D, stderr);
        return;
    }
    CU_ASSERT_EQUAL(dg->severity, DIAG_ERROR);
    CU_ASSERT_STRING_EQUAL(dg->loc.file, "hf/m/config.json");
    int line = 0, col = 0;
    if (needle) unit_line_col(text, needle, skip, &line, &col);
    CU_ASSERT_EQUAL(dg->loc.line, line);
    CU_ASSERT_EQUAL(dg->loc.col, col);
    if (dg->loc.line != line || dg->loc.col != col)
        fprintf(stderr, "\n'%s' at %d:%d, expected %d:%d\n", msg, dg->loc.line, dg->loc.col, line, col);
    if (hint) {
        CU_ASSERT_PTR_NOT_NULL(dg->hint);
        if (dg->hint) CU_ASSERT_STRING_EQUAL(dg->hint, hint);
    }
}

static void test_errors_json(void) {
    expect_error("{\"model_type\": \"llama\",}", "trailing ',' before '}'", ",}", 1,
                 "config.json must be one JSON object (RFC 8259: no comments, no trailing commas)");
    expect_error("{\"model_type\": \"llama\"\n \"x\": 1}", "expected ',' or '}'", "\"x\"", 0, NULL);
    expect_error("{\"a\": tru}", "expected a value", "tru", 0, NULL);
    expect_error("{\"a\": 1e999}", "number out of range", "1e999", 0, NULL);
    expect_error("{\"a\": \"\xff\"}", "invalid UTF-8", "\xff", 0, NULL);
    expect_error("{\"a\": 1} x", "unexpected text after the end of the JSON value", "x", 0, NULL);
    expect_error("", "expected a JSON object ('{') with the model's configuration, the file is empty", "", 0, NULL);
    expect_error("[1]", "expected a JSON object ('{') with the model's configuration", "[", 0, NULL);
    expect_error("{\"model_type\": \"llama\", \"model_type\": \"bert\"}", "key 'model_type' appears twice",
                 "\"bert\"", 0, NULL);
    expect_error("{\"rope_scaling\": {\"factor\": 1, \"factor\": 2}}", "key 'factor' appears twice", "2}", 0, NULL);
}

static void test_errors_model_type(void) {
    expect_error("{\"hidden_size\": 8}", "missing required key 'model_type'", NULL, 0,
                 "is this a Hugging Face config.json? supported model types: bert, llama, mistral, qwen2");
    expect_error("{\"model_type\": \"gpt2\"}", "key 'model_type': model type 'gpt2' is not supported", "\"gpt2", 0,
                 "supported: bert, llama, mistral, qwen2");
    expect_error("{\"model_type\": \"gemma\"}", "key 'model_type': model type 'gemma' is not supported yet", "\"gemma",
                 0, NULL);
    expect_error("{\"model_type\": 3}", "key 'model_type': expected a string, got an integer", "3", 0, NULL);
}

static void test_errors_values(void) {
    static const char base[] = "{\"model_type\": \"llama\", \"vocab_size\": 96, \"num_hidden_layers\": 2, "
                               "\"intermediate_size\": 48, ";
    char t[1024];
#define CASE(extra, msg, needle, skip)                                                                                \
    do {                                                                                                               \
        snprintf(t, sizeof t, "%s%s}", base, extra);                                                                   \
        expect_error(t, msg, needle, skip, NULL);                                                                      \
    } while (0)
    CASE("\"num_attention_heads\": 4", "missing required key 'hidden_size'", NULL, 0);
    CASE("\"hidden_size\": \"32\", \"num_attention_heads\": 4", "key 'hidden_size': expected an integer, got a string",
         "\"32\"", 0);
    CASE("\"hidden_size\": 32.5, \"num_attention_heads\": 4", "key 'hidden_size': expected an integer, got a number",
         "32.5", 0);
    CASE("\"hidden_size\": null, \"num_attention_heads\": 4", "key 'hidden_size': expected an integer, got null",
         "null", 0);
    CASE("\"hidden_size\": 0, \"num_attention_heads\": 4", "key 'hidden_size': 0 is out of range (1 to 131072)",
         "0,", 0);
    CASE("\"hidden_size\": 99999999999999999999999, \"num_attention_heads\": 4",
         "key 'hidden_size': 1e+23 is out of range (1 to 131072)", "999", 0);
    snprintf(t, sizeof t, "%s%s}", base, "\"hidden_size\": 1000000000, \"num_attention_heads\": 4");
    expect_error(t, "key 'hidden_size': 1000000000 is out of range (1 to 131072)", "1000000000", 0,
                 "ttc accepts hidden_dim up to 131072: the widest public model has hidden_dim 16,384 (Llama 3.1 "
                 "405B); is the value a typo?");
    CASE("\"hidden_size\": -9223372036854775808, \"num_attention_heads\": 4",
         "key 'hidden_size': -9223372036854775808 is out of range (1 to 131072)", "-9", 0);
    CASE("\"hidden_size\": 30, \"num_attention_heads\": 4",
         "key 'num_attention_heads': 4 does not divide hidden_size (30)", "4}", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"num_key_value_heads\": 3",
         "key 'num_key_value_heads': 3 does not divide num_attention_heads (4)", "3}", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"head_dim\": 7",
         "key 'head_dim': RoPE needs an even head_dim, got 7", "7}", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"hidden_act\": \"quick_gelu\"",
         "key 'hidden_act': activation 'quick_gelu' is not supported", "\"quick", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"rms_norm_eps\": 0",
         "key 'rms_norm_eps': 0 is out of range (above 0 to 1)", "0}", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"rope_theta\": \"big\"",
         "key 'rope_theta': expected a number, got a string", "\"big", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"tie_word_embeddings\": 1",
         "key 'tie_word_embeddings': expected true or false, got an integer", "1}", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"eos_token_id\": 96",
         "key 'eos_token_id': 96 is not below vocab_size (96)", "96}", 0);
    CASE("\"hidden_size\": 32, \"num_attention_heads\": 4, \"eos_token_id\": [\"a\"]",
         "key 'eos_token_id[0]': expected an integer, got a string", "\"a\"", 0);
    /* every problem at once */
    snprintf(t, sizeof t, "%s\"hidden_size\": 30, \"num_attention_heads\": 4, \"hidden_act\": \"tanh\", "
                          "\"mlp_bias\": true}", base);
    CU_ASSERT_EQUAL(conv(t), -1);
    CU_ASSERT_EQUAL(D.n_errors, 3);
#undef CASE
}

static void test_errors_features(void) {
    static const char base[] = "{" MINI_LLAMA ", ";
    char t[1024];
#define CASE(extra, msg, needle, skip)                                                                                \
    do {                                                                                                               \
        snprintf(t, sizeof t, "%s%s}", base, extra);                                                                   \
        expect_error(t, msg, needle, skip, NULL);                                                                      \
    } while (0)
    snprintf(t, sizeof t, "%s\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}}", base);
    expect_error(t, "key 'rope_scaling.rope_type': RoPE scaling 'yarn' is not supported yet", "\"yarn", 0,
                 "supported: llama3; without rope_scaling the model runs with plain RoPE, exact up to its original "
                 "context length");
    CASE("\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 4.0}",
         "key 'rope_scaling.type': RoPE scaling 'dynamic' is not supported yet", "\"dynamic", 0);
    CASE("\"rope_scaling\": {\"factor\": 4.0}", "missing required key 'rope_scaling.rope_type'", "{\"factor", 0);
    CASE("\"rope_scaling\": \"llama3\"", "key 'rope_scaling': expected an object or null, got a string", "\"llama3",
         0);
    CASE("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, "
         "\"high_freq_factor\": 4}",
         "missing required key 'rope_scaling.original_max_position_embeddings'", NULL, 0);
    CASE("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 4, "
         "\"high_freq_factor\": 1, \"original_max_position_embeddings\": 8192}",
         "key 'rope_scaling.high_freq_factor': 1 must be above low_freq_factor (4)", "1, \"orig", 0);
    CASE("\"mlp_bias\": true", "key 'mlp_bias': biases on the feed-forward projections are not supported yet", "true",
         0);
    CASE("\"attn_logit_softcapping\": 50.0",
         "key 'attn_logit_softcapping': attention logit soft-capping (Gemma 2) is not supported yet", "50.0", 0);
    CASE("\"hidden_activation\": \"gelu_pytorch_tanh\"",
         "key 'hidden_activation': Gemma's hidden_activation is not supported yet", "\"gelu_py", 0);
    CASE("\"partial_rotary_factor\": 0.5",
         "key 'partial_rotary_factor': rotary embeddings on part of each head are not supported yet", "0.5", 0);
    CASE("\"num_local_experts\": 8", "key 'num_local_experts': mixture-of-experts layers are not supported yet", "8}",
         0);
#undef CASE
    /* set to their neutral values, the same keys are fine */
    snprintf(t, sizeof t, "%s\"mlp_bias\": false, \"attn_logit_softcapping\": null, \"partial_rotary_factor\": 1.0, "
                          "\"num_local_experts\": 0}", base);
    CU_ASSERT_EQUAL(conv(t), 0);
    expect_error("{\"model_type\": \"qwen2\", \"vocab_size\": 96, \"hidden_size\": 32, \"num_hidden_layers\": 4, "
                 "\"num_attention_heads\": 4, \"intermediate_size\": 48, \"sliding_window\": 16, "
                 "\"use_sliding_window\": true, \"max_window_layers\": 2}",
                 "key 'max_window_layers': a sliding window on layers 2 to 3 only is not supported yet", "2}", 0, NULL);
    static const char bert[] = "{\"model_type\": \"bert\", \"vocab_size\": 128, \"hidden_size\": 32, "
                               "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 64, ";
    snprintf(t, sizeof t, "%s\"position_embedding_type\": \"relative_key\"}", bert);
    expect_error(t, "key 'position_embedding_type': 'relative_key' position embeddings are not supported yet",
                 "\"relative", 0, NULL);
    snprintf(t, sizeof t, "%s\"is_decoder\": true}", bert);
    expect_error(t, "key 'is_decoder': a BERT used as a decoder is not supported yet", "true", 0, NULL);
    snprintf(t, sizeof t, "%s\"hidden_act\": \"silu\"}", bert);
    expect_error(t, "key 'hidden_act': activation 'silu' is not supported", "\"silu", 0,
                 "supported for bert: gelu, gelu_new, gelu_pytorch_tanh, relu");
}

static void test_file(void) {
    const char *path = unit_write_tmp("config.json", TINYLLAMA, strlen(TINYLLAMA));
    Diags d = {0};
    char *y = NULL;
    CU_ASSERT_EQUAL(hf_import_file(path, &y, &d), 0);
    CU_ASSERT_PTR_NOT_NULL(y);
    CU_ASSERT_PTR_NOT_NULL(y ? strstr(y, "num_kv_heads: 4\n") : NULL);
    free(y);
    y = NULL;
    CU_ASSERT_EQUAL(hf_import_file("/nonexistent/config.json", &y, &d), -1);
    CU_ASSERT_PTR_NULL(y);
    CU_ASSERT_EQUAL(d.n_errors, 1);
    diag_free(&d);
}

/* Every prefix of a real config, and the config with each byte replaced in turn, must fail or
 * succeed cleanly (the sanitizer build checks "cleanly"). */
static void test_damaged_input(void) {
    size_t n = strlen(LLAMA_32_1B);
    char *buf = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    int ok = 0;
    for (size_t k = 0; k < n; k++) {
        memcpy(buf, LLAMA_32_1B, k);
        buf[k] = 0;
        ok += conv(buf) == 0;
    }
    CU_ASSERT_EQUAL(ok, 1); /* only the one without the final newline is a whole object */
    static const char subst[] = {'"', '}', '0', '-', 'x', '\0', '\x80', '['};
    for (size_t k = 0; k < n; k++)
        for (size_t s = 0; s < sizeof subst; s++) {
            memcpy(buf, LLAMA_32_1B, n + 1);
            buf[k] = subst[s];
            diag_free(&D);
            free(Y);
            Y = NULL;
            int rc = hf_import_string(buf, n, "hf/m/config.json", &Y, &D);
            CU_ASSERT_TRUE(rc == 0 ? Y != NULL && D.n_errors == 0 : Y == NULL && D.n_errors > 0);
        }
    free(buf);
}

/* ---- json_mini additions ---- */

static void test_json_additions(void) {
    TtcJson j;
    TtcError err = {0};
    static const char text[] = "[1e-05, -0.5, 12, true, false, null, 1e400]";
    CU_ASSERT_EQUAL_FATAL(ttc_json_init(&j, text, strlen(text), "t.json", &err), TTC_OK);
    CU_ASSERT_EQUAL(ttc_json_array_begin(&j), TTC_OK);
    double v = 0;
    int b = -1;
    CU_ASSERT_EQUAL(ttc_json_array_next(&j), 1);
    CU_ASSERT_EQUAL(ttc_json_double(&j, &v), TTC_OK);
    CU_ASSERT_EQUAL(v, 1e-5);
    CU_ASSERT_EQUAL(ttc_json_array_next(&j), 1);
    CU_ASSERT_EQUAL(ttc_json_double(&j, &v), TTC_OK);
    CU_ASSERT_EQUAL(v, -0.5);
    CU_ASSERT_EQUAL(ttc_json_array_next(&j), 1);
    CU_ASSERT_EQUAL(ttc_json_double(&j, &v), TTC_OK);
    CU_ASSERT_EQUAL(v, 12.0);
    CU_ASSERT_EQUAL(ttc_json_array_next(&j), 1);
    CU_ASSERT_EQUAL(ttc_json_bool(&j, &b), TTC_OK);
    CU_ASSERT_EQUAL(b, 1);
    CU_ASSERT_EQUAL(ttc_json_array_next(&j), 1);
    CU_ASSERT_EQUAL(ttc_json_bool(&j, &b), TTC_OK);
    CU_ASSERT_EQUAL(b, 0);
    CU_ASSERT_EQUAL(ttc_json_array_next(&j), 1);
    CU_ASSERT_EQUAL(ttc_json_bool(&j, &b), TTC_E_USER); /* null is not a boolean */
    CU_ASSERT_STRING_EQUAL(ttc_json_error_text(&j, &err), "expected true or false");
    CU_ASSERT_EQUAL(ttc_json_null(&j), TTC_OK);
    CU_ASSERT_EQUAL(ttc_json_array_next(&j), 1);
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_json_double(&j, &v), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.json, byte 37: number out of range");
    CU_ASSERT_STRING_EQUAL(ttc_json_error_text(&j, &err), "number out of range");
    int line, col;
    static const char two[] = "{\n  \"a\": 1\n}";
    CU_ASSERT_EQUAL(ttc_json_init(&j, two, strlen(two), "t.json", &err), TTC_OK);
    ttc_json_line_col(&j, 9, &line, &col);
    CU_ASSERT_EQUAL(line, 2);
    CU_ASSERT_EQUAL(col, 8);
    ttc_json_line_col(&j, 0, &line, &col);
    CU_ASSERT_EQUAL(line, 1);
    CU_ASSERT_EQUAL(col, 1);
    /* the old integer reader is unchanged: fractions stay refused there */
    static const char frac[] = "4.5";
    CU_ASSERT_EQUAL(ttc_json_init(&j, frac, 3, "t.json", &err), TTC_OK);
    int64_t i64;
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_json_int64(&j, &i64), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(ttc_json_error_text(&j, &err), "expected an integer, found a fraction or exponent");
}

static int cleanup(void) {
    diag_free(&D);
    free(Y);
    Y = NULL;
    spec_free(&S);
    return 0;
}

static CU_TestInfo shipped_tests[] = {
    {"bert-base-uncased", test_bert_base}, {"Llama-3.2-1B", test_llama_32_1b}, {"Llama-3.1-8B", test_llama_31_8b},
    {"Qwen2-0.5B", test_qwen2_05b},        {"Mistral-7B-v0.1", test_mistral_7b}, {"TinyLlama-1.1B", test_tinyllama},
    {"header comment", test_header},       CU_TEST_INFO_NULL,
};
static CU_TestInfo rule_tests[] = {
    {"decoder defaults", test_decoder_defaults}, {"decoder variants", test_decoder_variants},
    {"bert variants", test_bert_variants},       {"model names", test_names},
    {"reads a file", test_file},                 CU_TEST_INFO_NULL,
};
static CU_TestInfo error_tests[] = {
    {"JSON syntax", test_errors_json},       {"model_type", test_errors_model_type},
    {"values", test_errors_values},          {"unsupported features", test_errors_features},
    {"damaged input", test_damaged_input},   CU_TEST_INFO_NULL,
};
static CU_TestInfo json_tests[] = {{"double, bool, null, positions", test_json_additions}, CU_TEST_INFO_NULL};

int main(void) {
    CU_SuiteInfo suites[] = {
        {"hf_import: published configs vs shipped specs", NULL, cleanup, NULL, NULL, shipped_tests},
        {"hf_import: rules", NULL, cleanup, NULL, NULL, rule_tests},
        {"hf_import: errors", NULL, cleanup, NULL, NULL, error_tests},
        {"json_mini additions", NULL, NULL, NULL, NULL, json_tests},
        CU_SUITE_INFO_NULL,
    };
    return unit_main(suites);
}
