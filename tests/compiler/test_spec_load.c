/* test_spec_load.c: the ArchitectureSpec loader — the shipped specs, defaults, repeat
 * expansion, and every error class with its exact message, location and hint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "unit.h"

static Diags D;
static Spec S;

static int load(const char *text) {
    diag_free(&D);
    spec_free(&S);
    return spec_load_string(&S, text, "t.yaml", &D);
}

static void dump_diags(void) {
    fprintf(stderr, "\n--- diagnostics ---\n");
    diag_print(&D, stderr);
}


static const Diag *find(const char *msg) {
    for (int i = 0; i < D.n; i++)
        if (strcmp(D.v[i].msg, msg) == 0) return &D.v[i];
    return NULL;
}

/* Asserts an error with exactly `msg` at the place `needle`+`skip` names (needle NULL: no
 * location check), and the hint when `hint` is non-NULL ("" = no hint). */
static void expect_error(const char *text, const char *msg, const char *needle, int skip, const char *hint) {
    const Diag *dg = find(msg);
    CU_ASSERT_PTR_NOT_NULL(dg);
    if (!dg) {
        fprintf(stderr, "\nmissing error: %s", msg);
        dump_diags();
        return;
    }
    CU_ASSERT_EQUAL(dg->severity, DIAG_ERROR);
    CU_ASSERT_STRING_EQUAL(dg->loc.file, "t.yaml");
    if (needle) {
        int line, col;
        unit_line_col(text, needle, skip, &line, &col);
        CU_ASSERT_EQUAL(dg->loc.line, line);
        CU_ASSERT_EQUAL(dg->loc.col, col);
        if (dg->loc.line != line || dg->loc.col != col)
            fprintf(stderr, "\n'%s' at %d:%d, expected %d:%d", msg, dg->loc.line, dg->loc.col, line, col);
    }
    if (hint && !*hint) CU_ASSERT_PTR_NULL(dg->hint);
    if (hint && *hint) {
        CU_ASSERT_PTR_NOT_NULL(dg->hint);
        if (dg->hint) CU_ASSERT_STRING_EQUAL(dg->hint, hint);
        if (dg->hint && strcmp(dg->hint, hint) != 0) fprintf(stderr, "\n'%s': hint '%s'", msg, dg->hint);
    }
}

static const SpecLayer *layer(const char *id) {
    for (int i = 0; i < S.n_layers; i++)
        if (strcmp(S.layers[i].id, id) == 0) return &S.layers[i];
    return NULL;
}

/* ---- the shipped specs ---- */

static int load_shipped(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/specs/%s", unit_source_dir(), name);
    diag_free(&D);
    spec_free(&S);
    int rc = spec_load(&S, path, &D);
    if (rc) dump_diags();
    return rc;
}

static void check_bert(int64_t H, int n_blocks, int64_t heads, int64_t ffn, int64_t vocab, int64_t positions) {
    CU_ASSERT_EQUAL(S.type, SPEC_ENCODER);
    CU_ASSERT_EQUAL(S.vocab_size, vocab);
    CU_ASSERT_EQUAL(S.max_sequence_length, positions);
    CU_ASSERT_EQUAL(S.eos_token_id, -1);
    CU_ASSERT_EQUAL_FATAL(S.n_layers, n_blocks + 2);
    const SpecLayer *e = &S.layers[0];
    CU_ASSERT_STRING_EQUAL(e->id, "embedding");
    CU_ASSERT_EQUAL(e->type, SPEC_LAYER_EMBEDDING);
    CU_ASSERT_EQUAL(e->hidden_dim, H);
    CU_ASSERT_EQUAL(e->position, SPEC_POS_LEARNED);
    CU_ASSERT_EQUAL(e->token_types, 2);
    CU_ASSERT_EQUAL(e->norm, SPEC_NORM_LAYERNORM);
    CU_ASSERT_DOUBLE_EQUAL(e->norm_eps, 1e-12, 1e-20);
    for (int i = 0; i < n_blocks; i++) {
        const SpecLayer *t = &S.layers[1 + i];
        char id[32];
        snprintf(id, sizeof id, "layer_%d", i);
        CU_ASSERT_STRING_EQUAL(t->id, id);
        CU_ASSERT_EQUAL(t->index, i);
        CU_ASSERT_EQUAL(t->type, SPEC_LAYER_TRANSFORMER);
        CU_ASSERT_EQUAL(t->hidden_dim, H);
        CU_ASSERT_EQUAL(t->num_heads, heads);
        CU_ASSERT_EQUAL(t->num_kv_heads, heads);
        CU_ASSERT_EQUAL(t->head_dim, 64); /* every BERT size uses 64-wide heads */
        CU_ASSERT_EQUAL(t->ffn_dim, ffn);
        CU_ASSERT_EQUAL(t->ffn_type, SPEC_FFN_MLP);
        CU_ASSERT_EQUAL(t->activation, SPEC_ACT_GELU);
        CU_ASSERT_EQUAL(t->norm, SPEC_NORM_LAYERNORM);
        CU_ASSERT_DOUBLE_EQUAL(t->norm_eps, 1e-12, 1e-20);
        CU_ASSERT_EQUAL(t->residual, SPEC_POST_NORM);
        CU_ASSERT_EQUAL(t->attn.causal, 0);
        CU_ASSERT_EQUAL(t->attn.bias, 1);
        CU_ASSERT_EQUAL(t->attn.qkv_bias, 1);
        CU_ASSERT_EQUAL(t->attn.rope.present, 0);
        CU_ASSERT_EQUAL(t->attn.sliding_window, 0);
    }
    const SpecLayer *p = &S.layers[n_blocks + 1];
    CU_ASSERT_STRING_EQUAL(p->id, "pooler");
    CU_ASSERT_EQUAL(p->type, SPEC_LAYER_POOLER);
    CU_ASSERT_EQUAL(p->hidden_dim, H);
    CU_ASSERT_EQUAL(p->activation, SPEC_ACT_TANH);
}

static void test_bert_base(void) {
    CU_ASSERT_EQUAL_FATAL(load_shipped("bert-base.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(S.name, "bert-base-uncased");
    check_bert(768, 12, 12, 3072, 30522, 512);
    CU_ASSERT_EQUAL(D.n, 0);
    /* The file name in locations is the path as given. */
    CU_ASSERT_PTR_NOT_NULL(strstr(S.file, "specs/bert-base.yaml"));
    CU_ASSERT_EQUAL(S.layers[0].loc.line, 10); /* "  - id: embedding" */
    CU_ASSERT_EQUAL(S.layers[0].loc.col, 5);
}

static void test_bert_large(void) {
    CU_ASSERT_EQUAL_FATAL(load_shipped("bert-large.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(S.name, "bert-large-uncased");
    check_bert(1024, 24, 16, 4096, 30522, 512);
}

static void test_tiny_bert(void) {
    CU_ASSERT_EQUAL_FATAL(load_shipped("tiny-bert.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(S.name, "tiny-bert");
    CU_ASSERT_EQUAL(S.vocab_size, 128);
    CU_ASSERT_EQUAL(S.max_sequence_length, 64);
    CU_ASSERT_EQUAL_FATAL(S.n_layers, 4);
    CU_ASSERT_EQUAL(S.layers[1].hidden_dim, 32);
    CU_ASSERT_EQUAL(S.layers[1].num_heads, 4);
    CU_ASSERT_EQUAL(S.layers[1].head_dim, 8);
    CU_ASSERT_EQUAL(S.layers[1].ffn_dim, 64);
    CU_ASSERT_EQUAL(S.layers[0].token_types, 2);
    CU_ASSERT_STRING_EQUAL(S.layers[2].id, "layer_1");
}

static void test_missing_file(void) {
    diag_free(&D);
    spec_free(&S);
    CU_ASSERT_EQUAL(spec_load(&S, "/nonexistent/spec.yaml", &D), -1);
    CU_ASSERT_EQUAL(D.n_errors, 1);
    CU_ASSERT_STRING_EQUAL(D.v[0].msg, "cannot open '/nonexistent/spec.yaml': No such file or directory");
    CU_ASSERT_PTR_NULL(S.layers);
}

/* ---- a decoder, defaults, repeat ---- */

static const char llama[] = "spec_version: 1\n"
                            "model: {name: llama-3.2-1b, type: decoder, vocab_size: 128256, max_sequence_length: 131072,\n"
                            "        eos_token_id: 128001}\n"
                            "layers:\n"
                            "  - id: embedding\n"
                            "    type: embedding\n"
                            "    params: {hidden_dim: 2048}\n"
                            "  - id: layer_{i}\n"
                            "    repeat: 16\n"
                            "    type: transformer\n"
                            "    params:\n"
                            "      hidden_dim: 2048\n"
                            "      num_heads: 32\n"
                            "      num_kv_heads: 8\n"
                            "      head_dim: 64\n"
                            "      ffn_dim: 8192\n"
                            "      ffn_type: gated\n"
                            "      activation: silu\n"
                            "      norm_type: rmsnorm\n"
                            "      residual_pattern: pre_norm\n"
                            "      attention:\n"
                            "        causal: true\n"
                            "        bias: false\n"
                            "        rope: {theta: 500000.0, scaling: {type: llama3, factor: 32.0, low_freq_factor: 1.0,\n"
                            "               high_freq_factor: 4.0, original_max_position: 8192}}\n"
                            "        sliding_window: 4096\n"
                            "  - id: final_norm\n"
                            "    type: norm\n"
                            "    params: {norm_type: rmsnorm, norm_eps: 1.0e-5}\n"
                            "  - id: lm_head\n"
                            "    type: linear\n"
                            "    params: {input_dim: 2048, output_dim: 128256, tied_to: embedding}\n";

static void test_llama_decoder(void) {
    int rc = load(llama);
    if (rc) dump_diags();
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(S.type, SPEC_DECODER);
    CU_ASSERT_EQUAL(S.eos_token_id, 128001);
    CU_ASSERT_EQUAL_FATAL(S.n_layers, 19);
    CU_ASSERT_EQUAL(S.layers[0].position, SPEC_POS_NONE); /* decoders default to no learned positions */
    CU_ASSERT_EQUAL(S.layers[0].norm, SPEC_NORM_NONE);
    CU_ASSERT_EQUAL(S.layers[0].token_types, 0);
    const SpecLayer *t = layer("layer_15");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->index, 15);
    CU_ASSERT_EQUAL(t->num_kv_heads, 8);
    CU_ASSERT_EQUAL(t->head_dim, 64);
    CU_ASSERT_EQUAL(t->ffn_type, SPEC_FFN_GATED);
    CU_ASSERT_EQUAL(t->activation, SPEC_ACT_SILU);
    CU_ASSERT_EQUAL(t->norm, SPEC_NORM_RMSNORM);
    CU_ASSERT_DOUBLE_EQUAL(t->norm_eps, 1e-5, 1e-15); /* rmsnorm default */
    CU_ASSERT_EQUAL(t->residual, SPEC_PRE_NORM);
    CU_ASSERT_EQUAL(t->attn.causal, 1);
    CU_ASSERT_EQUAL(t->attn.bias, 0);
    CU_ASSERT_EQUAL(t->attn.qkv_bias, 0); /* follows bias */
    CU_ASSERT_EQUAL(t->attn.rope.present, 1);
    CU_ASSERT_DOUBLE_EQUAL(t->attn.rope.theta, 500000.0, 1e-9);
    CU_ASSERT_EQUAL(t->attn.rope.scaling, SPEC_ROPE_SCALING_LLAMA3);
    CU_ASSERT_DOUBLE_EQUAL(t->attn.rope.factor, 32.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(t->attn.rope.low_freq_factor, 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(t->attn.rope.high_freq_factor, 4.0, 1e-12);
    CU_ASSERT_EQUAL(t->attn.rope.original_max_position, 8192);
    CU_ASSERT_EQUAL(t->attn.sliding_window, 4096);
    const SpecLayer *n = layer("final_norm");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(n->hidden_dim, 2048); /* inferred from the layer before */
    const SpecLayer *h = layer("lm_head");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(h->tied_to, "embedding");
    CU_ASSERT_EQUAL(h->bias, 0);
    CU_ASSERT_EQUAL(h->output_dim, 128256);
}

#define HEAD "spec_version: 1\nmodel: {name: t, type: encoder, vocab_size: 100, max_sequence_length: 16}\nlayers:\n"
#define EMB "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 64}\n"
#define T_HEAD "  - id: layer_{i}\n    repeat: 2\n    type: transformer\n    params:\n"
#define T_DIMS "      hidden_dim: 64\n      num_heads: 4\n"
#define T_REST                                                                                                       \
    "      ffn_dim: 128\n      ffn_type: mlp\n      activation: gelu\n      norm_type: layernorm\n"                   \
    "      residual_pattern: post_norm\n"

static void test_defaults(void) {
    const char *text = HEAD EMB T_HEAD T_DIMS T_REST "  - id: pooler\n    type: pooler\n    params: {hidden_dim: 64}\n"
                                                     "  - id: head\n    type: linear\n    params: {input_dim: 64, output_dim: 3}\n";
    CU_ASSERT_EQUAL_FATAL(load(text), 0);
    CU_ASSERT_EQUAL(S.layers[0].position, SPEC_POS_LEARNED); /* encoder default */
    CU_ASSERT_EQUAL(S.layers[0].token_types, 0);
    CU_ASSERT_EQUAL(S.layers[0].norm, SPEC_NORM_NONE);
    const SpecLayer *t = layer("layer_1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_DOUBLE_EQUAL(t->norm_eps, 1e-12, 1e-20); /* layernorm default */
    CU_ASSERT_EQUAL(t->num_kv_heads, 4);
    CU_ASSERT_EQUAL(t->head_dim, 16);
    CU_ASSERT_EQUAL(t->attn.causal, 0);
    CU_ASSERT_EQUAL(t->attn.bias, 1);
    CU_ASSERT_EQUAL(t->attn.qkv_bias, 1);
    CU_ASSERT_EQUAL(t->attn.rope.present, 0);
    CU_ASSERT_EQUAL(layer("pooler")->activation, SPEC_ACT_TANH);
    CU_ASSERT_EQUAL(layer("head")->bias, 0);
    CU_ASSERT_PTR_NULL(layer("head")->tied_to);
    CU_ASSERT_EQUAL(S.eos_token_id, -1);

    /* Qwen2 style: no output bias but q,k,v biases; rope with the default base. */
    CU_ASSERT_EQUAL_FATAL(load(HEAD EMB T_HEAD T_DIMS T_REST
                               "      attention: {bias: false, qkv_bias: true, rope: {}}\n"),
                          0);
    t = layer("layer_0");
    CU_ASSERT_EQUAL(t->attn.bias, 0);
    CU_ASSERT_EQUAL(t->attn.qkv_bias, 1);
    CU_ASSERT_EQUAL(t->attn.rope.present, 1);
    CU_ASSERT_DOUBLE_EQUAL(t->attn.rope.theta, 10000.0, 1e-9);
    CU_ASSERT_EQUAL(t->attn.rope.scaling, SPEC_ROPE_SCALING_NONE);

    /* rmsnorm's own eps default, and an embedding norm with its default. */
    CU_ASSERT_EQUAL_FATAL(load(HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 64, norm: rmsnorm}\n"
                                    T_HEAD T_DIMS
                               "      ffn_dim: 128\n      ffn_type: gated\n      activation: gelu_tanh\n"
                               "      norm_type: rmsnorm\n      residual_pattern: pre_norm\n"),
                          0);
    CU_ASSERT_EQUAL(S.layers[0].norm, SPEC_NORM_RMSNORM);
    CU_ASSERT_DOUBLE_EQUAL(S.layers[0].norm_eps, 1e-5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(S.layers[1].norm_eps, 1e-5, 1e-15);
    CU_ASSERT_EQUAL(S.layers[1].activation, SPEC_ACT_GELU_TANH);
}

static void test_repeat_expansion(void) {
    const char *text = HEAD EMB "  - id: blk{i}_x{i}\n    repeat: 3\n    type: norm\n    params: {norm_type: layernorm}\n"
                                "  - id: out\n    type: linear\n    repeat: 2\n"
                                "    params: {input_dim: 64, output_dim: 64}\n";
    /* repeat without {i} is an error even for linear; check the expansion on a valid one. */
    CU_ASSERT_EQUAL(load(text), -1);
    text = HEAD EMB "  - id: blk{i}_x{i}\n    repeat: 3\n    type: norm\n    params: {norm_type: layernorm}\n"
                    "  - id: out_{i}\n    type: linear\n    repeat: 2\n"
                    "    params: {input_dim: 64, output_dim: 64, bias: true}\n";
    CU_ASSERT_EQUAL_FATAL(load(text), 0);
    CU_ASSERT_EQUAL_FATAL(S.n_layers, 6);
    static const char *const ids[] = {"embedding", "blk0_x0", "blk1_x1", "blk2_x2", "out_0", "out_1"};
    static const int idx[] = {0, 0, 1, 2, 0, 1};
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_STRING_EQUAL(S.layers[i].id, ids[i]);
        CU_ASSERT_EQUAL(S.layers[i].index, idx[i]);
    }
    CU_ASSERT_EQUAL(S.layers[2].hidden_dim, 64); /* inferred through the copies */
    CU_ASSERT_EQUAL(S.layers[5].bias, 1);
    /* Every copy points back at the entry's mapping. */
    int line, col;
    unit_line_col(text, "id: out_{i}", 0, &line, &col);
    CU_ASSERT_EQUAL(S.layers[5].loc.line, line);
    CU_ASSERT_EQUAL(S.layers[5].loc.col, col);
    /* repeat: 12 makes layer_11 as the last copy. */
    CU_ASSERT_EQUAL_FATAL(load(HEAD EMB "  - id: layer_{i}\n    repeat: 12\n    type: transformer\n    params:\n" T_DIMS T_REST), 0);
    CU_ASSERT_EQUAL(S.n_layers, 13);
    CU_ASSERT_STRING_EQUAL(S.layers[12].id, "layer_11");
    CU_ASSERT_STRING_EQUAL(S.layers[11].id, "layer_10");
}

/* ---- errors, one class per case ---- */

typedef struct ErrCase {
    const char *name, *text, *msg, *needle;
    int skip;
    const char *hint;
} ErrCase;

static const ErrCase err_cases[] = {
    {"spec_version", "spec_version: 2\nmodel: 7\n", "spec_version 2 is not supported", "2", 0,
     "this ttc reads spec_version 1"},
    {"missing spec_version", "model: {name: t, type: encoder, vocab_size: 100, max_sequence_length: 16}\nlayers:\n" EMB,
     "missing required key 'spec_version' in the spec", "model", 0, "add spec_version: 1 as the first line"},
    {"unknown top key", HEAD EMB "modle: {}\n", "unknown key 'modle' in the spec", "modle", 0, "did you mean 'model'?"},
    {"unknown model key",
     "spec_version: 1\nmodel: {name: t, type: encoder, vocab_size: 100, max_sequence_length: 16, eos: 2}\nlayers:\n" EMB,
     "unknown key 'eos' in model", "eos", 0, "expected one of: name, type, vocab_size, max_sequence_length, eos_token_id"},
    {"missing model key", "spec_version: 1\nmodel: {name: t, type: encoder, max_sequence_length: 16}\nlayers:\n" EMB,
     "missing required key 'vocab_size' in model", "{name", 0, NULL},
    {"model type", "spec_version: 1\nmodel: {name: t, type: encodr, vocab_size: 100, max_sequence_length: 16}\nlayers:\n" EMB,
     "model: unknown model type 'encodr'", "encodr", 0, "did you mean 'encoder'?"},
    {"missing num_heads", HEAD EMB T_HEAD "      hidden_dim: 64\n" T_REST,
     "missing required key 'num_heads' in layer 'layer_{i}'", "      hidden_dim: 64\n", 6, NULL},
    {"kv heads divide", HEAD EMB T_HEAD "      hidden_dim: 64\n      num_heads: 32\n      num_kv_heads: 5\n" T_REST,
     "layer 'layer_{i}': num_kv_heads (5) must divide num_heads (32)", "num_kv_heads: 5", 14,
     "each key/value head serves an equal group of query heads: use one of 1, 2, 4, 8, 16, 32"},
    {"heads divide hidden", HEAD EMB T_HEAD "      hidden_dim: 64\n      num_heads: 7\n" T_REST,
     "layer 'layer_{i}': num_heads (7) must divide hidden_dim (64)", "num_heads: 7", 11,
     "give head_dim explicitly when hidden_dim is not num_heads * head_dim"},
    {"eps zero", HEAD EMB T_HEAD T_DIMS T_REST "      norm_eps: 0\n", "layer 'layer_{i}': norm_eps must be positive, got 0",
     "norm_eps: 0", 10, ""},
    {"eps negative", HEAD EMB T_HEAD T_DIMS T_REST "      norm_eps: -1.0e-5\n",
     "layer 'layer_{i}': norm_eps must be positive, got -1.0e-5", "-1.0e-5", 0, ""},
    {"dim zero", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 0}\n",
     "layer 'embedding': hidden_dim must be positive, got 0", "0}", 0, ""},
    {"dim negative", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: -64}\n",
     "layer 'embedding': hidden_dim must be positive, got -64", "-64", 0, ""},
    {"dim not a number", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: abc}\n",
     "layer 'embedding': hidden_dim must be an integer, got 'abc'", "abc", 0, ""},
    {"dim fraction", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 7.5}\n",
     "layer 'embedding': hidden_dim must be an integer, got '7.5'", "7.5", 0,
     "write a whole number, without a decimal point or exponent"},
    {"dim quoted", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: \"64\"}\n",
     "layer 'embedding': hidden_dim must be an integer, got the string \"64\"", "\"64\"", 0, "write it without quotes"},
    {"dim huge", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 99999999999999999999}\n",
     "layer 'embedding': hidden_dim must be at most 131072, got 99999999999999999999", "9999", 0,
     "ttc accepts hidden_dim up to 131072: the widest public model has hidden_dim 16,384 (Llama 3.1 405B); is the "
     "value a typo?"},
    {"dim a billion", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 1000000000}\n",
     "layer 'embedding': hidden_dim must be at most 131072, got 1000000000", "1000000000", 0,
     "ttc accepts hidden_dim up to 131072: the widest public model has hidden_dim 16,384 (Llama 3.1 405B); is the "
     "value a typo?"},
    {"dim sequence", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: [1]}\n",
     "layer 'embedding': hidden_dim must be an integer, got a sequence", "[1]", 0, ""},
    {"dim empty", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: }\n",
     "layer 'embedding': hidden_dim must be an integer, got nothing", NULL, 0, "give a value or remove the key"},
    {"unknown layer type", HEAD EMB "  - id: layer_{i}\n    repeat: 2\n    type: transfomer\n    params: {}\n",
     "layer 'layer_{i}': unknown layer type 'transfomer'", "transfomer", 0, "did you mean 'transformer'?"},
    {"unknown param", HEAD EMB T_HEAD "      hidden_dim: 64\n      num_head: 4\n" T_REST,
     "unknown key 'num_head' in layer 'layer_{i}'", "num_head:", 0, "did you mean 'num_heads'?"},
    {"param of another type", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 64, num_heads: 4}\n",
     "unknown key 'num_heads' in layer 'embedding'", "num_heads", 0,
     "expected one of: hidden_dim, position, token_types, norm, norm_eps"},
    {"duplicate key", HEAD EMB T_HEAD T_DIMS T_REST "      hidden_dim: 64\n", "duplicate key 'hidden_dim' in layer 'layer_{i}'",
     "post_norm\n      hidden_dim", 16, "the first 'hidden_dim' is at line 11; keep one"},
    {"duplicate id", HEAD EMB "  - id: final\n    type: norm\n    params: {norm_type: layernorm}\n"
                              "  - id: final\n    type: norm\n    params: {norm_type: layernorm}\n",
     "duplicate layer id 'final'", "layernorm}\n  - id: final", 19, "layer 'final' at line 7 already has this id"},
    {"embedding first", HEAD T_HEAD T_DIMS T_REST EMB,
     "the first layer must be an embedding layer, but layer 'layer_{i}' is a transformer layer", "id: layer_{i}", 0,
     "token ids enter the model through an embedding: put a layer with type: embedding first"},
    {"embedding later", HEAD T_HEAD T_DIMS T_REST EMB, "layer 'embedding': embedding layers must come first",
     "id: embedding", 0, "move it to the top of layers:"},
    {"pooler in decoder",
     "spec_version: 1\nmodel: {name: t, type: decoder, vocab_size: 100, max_sequence_length: 16}\nlayers:\n" EMB
     "  - id: pooler\n    type: pooler\n    params: {hidden_dim: 64}\n"
     "  - id: lm_head\n    type: linear\n    params: {input_dim: 64, output_dim: 100}\n",
     "layer 'pooler': pooler layers belong to encoder models, this model is a decoder", "id: pooler", 0,
     "remove the pooler, or set model.type: encoder"},
    {"tied to a typo", HEAD EMB "  - id: head\n    type: linear\n    params: {input_dim: 64, output_dim: 100, tied_to: embeding}\n",
     "layer 'head': tied_to 'embeding' names no embedding layer", "embeding}", 0, "did you mean 'embedding'?"},
    {"tied to a norm", HEAD EMB "  - id: final_norm\n    type: norm\n    params: {norm_type: layernorm}\n"
                               "  - id: head\n    type: linear\n    params: {input_dim: 64, output_dim: 100, tied_to: final_norm}\n",
     "layer 'head': tied_to 'final_norm' is a norm layer, not an embedding", "final_norm}", 0,
     "tie the head to an embedding layer, e.g. tied_to: embedding"},
    {"tied output dim", HEAD EMB "  - id: head\n    type: linear\n    params: {input_dim: 64, output_dim: 50, tied_to: embedding}\n",
     "layer 'head': output_dim (50) must equal vocab_size (100) to reuse the table of 'embedding'", "50", 0,
     "set output_dim: 100"},
    {"tied input dim", HEAD EMB "  - id: head\n    type: linear\n    params: {input_dim: 32, output_dim: 100, tied_to: embedding}\n",
     "layer 'head': input_dim (32) must equal the hidden_dim (64) of tied embedding 'embedding'", "32", 0,
     "a tied head multiplies by the transposed [vocab_size, hidden_dim] table"},
    {"hidden mismatch", HEAD EMB T_HEAD "      hidden_dim: 32\n      num_heads: 4\n" T_REST,
     "layer 'layer_{i}': hidden_dim (32) does not match the output of layer 'embedding' (64)", "hidden_dim: 32", 12,
     "consecutive layers must agree on the hidden width"},
    {"linear input mismatch", HEAD EMB "  - id: head\n    type: linear\n    params: {input_dim: 48, output_dim: 3}\n",
     "layer 'head': input_dim (48) does not match the output of layer 'embedding' (64)", "48", 0, NULL},
    {"repeat without {i}", HEAD EMB "  - id: block\n    repeat: 2\n    type: norm\n    params: {norm_type: layernorm}\n",
     "layer 'block': repeat needs '{i}' in the id to name each copy", "repeat: 2", 8, "write the id as block_{i}"},
    {"{i} without repeat", HEAD EMB "  - id: block_{i}\n    type: norm\n    params: {norm_type: layernorm}\n",
     "layer 'block_{i}': '{i}' in the id needs repeat", "block_{i}", 0,
     "add repeat: N for N copies, or remove '{i}' from the id"},
    {"repeat zero", HEAD EMB "  - id: block_{i}\n    repeat: 0\n    type: norm\n    params: {norm_type: layernorm}\n",
     "layer 'block_{i}': repeat must be positive, got 0", "repeat: 0", 8, ""},
    {"repeat huge", HEAD EMB "  - id: block_{i}\n    repeat: 1000000\n    type: norm\n    params: {norm_type: layernorm}\n",
     "layer 'block_{i}': repeat must be at most 16384, got 1000000", "1000000", 0,
     "ttc accepts repeat up to 16384: the deepest public model has 126 layers (Llama 3.1 405B); compile-time benchmarks use 10,000; is the value a typo?"},
    {"bad id", HEAD EMB "  - id: my.block\n    type: norm\n    params: {norm_type: layernorm}\n",
     "layer 'my.block': the id may only contain letters, digits, '_' and '{i}'", "my.block", 0,
     "ids become module paths such as layer_3.attention, so '.' and spaces are not allowed"},
    {"missing id", HEAD EMB "  - type: norm\n    params: {norm_type: layernorm}\n", "missing required key 'id' in layer #2",
     "type: norm", 0, NULL},
    {"missing params", HEAD EMB "  - id: block\n    type: norm\n", "missing required key 'params' in layer 'block'",
     "id: block", 0, NULL},
    {"params not a mapping", HEAD EMB "  - id: block\n    type: norm\n    params: 5\n",
     "layer 'block': params must be a mapping, got a scalar", "5\n", 0, NULL},
    {"layer not a mapping", HEAD EMB "  - block\n", "layer #2 must be a mapping, got a scalar", "block", 0, NULL},
    {"layers empty", "spec_version: 1\nmodel: {name: t, type: encoder, vocab_size: 100, max_sequence_length: 16}\nlayers: []\n",
     "layers must not be empty", "[]", 0, "a model needs at least an embedding layer"},
    {"layers a mapping", "spec_version: 1\nmodel: {name: t, type: encoder, vocab_size: 100, max_sequence_length: 16}\nlayers: {a: 1}\n",
     "layers must be a sequence, got a mapping", "{a: 1}", 0, NULL},
    {"model a scalar", "spec_version: 1\nmodel: 5\nlayers:\n" EMB, "model must be a mapping, got a scalar", "5", 0, NULL},
    {"decoder without head",
     "spec_version: 1\nmodel: {name: t, type: decoder, vocab_size: 100, max_sequence_length: 16}\nlayers:\n" EMB T_HEAD T_DIMS T_REST,
     "a decoder must end with a linear layer producing vocab_size (100) logits; layer 'layer_{i}' is a transformer layer",
     "id: layer_{i}", 0, "add - {id: lm_head, type: linear, params: {input_dim: H, output_dim: 100, tied_to: embedding}}"},
    {"decoder head width",
     "spec_version: 1\nmodel: {name: t, type: decoder, vocab_size: 100, max_sequence_length: 16}\nlayers:\n" EMB
     "  - id: lm_head\n    type: linear\n    params: {input_dim: 64, output_dim: 50}\n",
     "layer 'lm_head': a decoder's last layer must produce vocab_size (100) logits, got output_dim 50", "50}", 0,
     "set output_dim: 100"},
    {"eos", "spec_version: 1\nmodel: {name: t, type: encoder, vocab_size: 100, max_sequence_length: 16, eos_token_id: 100}\nlayers:\n" EMB,
     "model: eos_token_id (100) must be less than vocab_size (100)", "100}", 0,
     "token ids index the embedding table, which has vocab_size rows"},
    {"rope factors", HEAD EMB T_HEAD T_DIMS T_REST
     "      attention: {rope: {scaling: {type: llama3, factor: 8, low_freq_factor: 4, high_freq_factor: 1, "
     "original_max_position: 8192}}}\n",
     "layer 'layer_{i}': attention.rope.scaling.high_freq_factor (1) must be greater than low_freq_factor (4)", "1, orig", 0,
     "Llama 3 uses low_freq_factor: 1.0, high_freq_factor: 4.0"},
    {"rope scaling incomplete", HEAD EMB T_HEAD T_DIMS T_REST "      attention: {rope: {scaling: {type: llama3, factor: 8}}}\n",
     "missing required key 'attention.rope.scaling.low_freq_factor' in layer 'layer_{i}'", "{type: llama3", 0, NULL},
    {"rope scaling type", HEAD EMB T_HEAD T_DIMS T_REST
     "      attention: {rope: {scaling: {type: yarn, factor: 8, low_freq_factor: 1, high_freq_factor: 4, "
     "original_max_position: 8192}}}\n",
     "layer 'layer_{i}': unknown rope scaling type 'yarn'", "yarn", 0, "expected one of: llama3"},
    {"rope odd head", HEAD "  - id: embedding\n    type: embedding\n    params: {hidden_dim: 12}\n" T_HEAD
                          "      hidden_dim: 12\n      num_heads: 4\n" T_REST "      attention: {rope: {}}\n",
     "layer 'layer_{i}': attention.rope needs an even head_dim, got 3", "{}}", 0,
     "rotary embeddings rotate pairs of dimensions"},
    {"bool", HEAD EMB T_HEAD T_DIMS T_REST "      attention: {causal: yes}\n",
     "layer 'layer_{i}': attention.causal must be true or false, got 'yes'", "yes", 0, "write true or false"},
    {"attention key", HEAD EMB T_HEAD T_DIMS T_REST "      attention: {casual: true}\n",
     "unknown key 'casual' in layer 'layer_{i}' attention", "casual", 0, "did you mean 'causal'?"},
    {"activation", HEAD EMB T_HEAD T_DIMS
     "      ffn_dim: 128\n      ffn_type: mlp\n      activation: swish\n      norm_type: layernorm\n"
     "      residual_pattern: post_norm\n",
     "layer 'layer_{i}': unknown activation 'swish'", "swish", 0, "expected one of: gelu, gelu_tanh, silu, relu"},
    {"theta not a number", HEAD EMB T_HEAD T_DIMS T_REST "      attention: {rope: {theta: 1e}}\n",
     "layer 'layer_{i}': attention.rope.theta must be a number, got '1e'", "1e}", 0, NULL},
    {"theta infinite", HEAD EMB T_HEAD T_DIMS T_REST "      attention: {rope: {theta: 1e999}}\n",
     "layer 'layer_{i}': attention.rope.theta must be at most 1e+12, got 1e999", "1e999", 0, NULL},
    {"empty", "", "the spec is empty", NULL, 0, "a spec starts with spec_version: 1, then model: and layers:"},
    {"scalar root", "hello\n", "a spec must be a mapping with spec_version, model and layers, got a scalar", "hello", 0, NULL},
    {"sequence root", "- 1\n- 2\n", "a spec must be a mapping with spec_version, model and layers, got a sequence", "- 1", 0,
     NULL},
    {"syntax", "spec_version: 1\nmodel: a: b\n", "invalid YAML: mapping values are not allowed in this context", "a: b", 1,
     NULL},
    {"two documents", HEAD EMB "---\nfoo: 1\n", "more than one YAML document in this file", "foo", 0,
     "keep one document: remove the '---' line and what follows it"},
    {"not UTF-8", "spec_version: 1\nmodel: \xff\n", "invalid YAML: invalid leading UTF-8 octet (byte 0xff)", "\xff", 0,
     "ttc reads UTF-8 (or UTF-16 with a byte order mark) text"},
};

static void test_errors(void) {
    int n = (int)(sizeof err_cases / sizeof err_cases[0]);
    for (int i = 0; i < n; i++) {
        const ErrCase *c = &err_cases[i];
        int rc = load(c->text);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT_PTR_NULL(S.layers); /* freed on failure */
        CU_ASSERT_PTR_NULL(S.name);
        if (!find(c->msg)) fprintf(stderr, "\ncase '%s':", c->name);
        expect_error(c->text, c->msg, c->needle, c->skip, c->hint);
    }
}

/* Some error classes are reported alone: anything more would be noise around the real cause. */
static void test_errors_alone(void) {
    load("spec_version: 2\nmodel: 7\nlayres: 3\n");
    CU_ASSERT_EQUAL(D.n_errors, 1);
    load(HEAD EMB "  - id: layer_{i}\n    repeat: 2\n    type: transfomer\n    params: {}\n");
    CU_ASSERT_EQUAL(D.n_errors, 1); /* params of an unknown type are not checked */
    load(HEAD EMB T_HEAD "      hidden_dim: 64\n      num_heads: 32\n      num_kv_heads: 5\n" T_REST);
    CU_ASSERT_EQUAL(D.n_errors, 1);
    /* An empty document has no location but the file. */
    load("");
    CU_ASSERT_EQUAL(D.v[0].loc.line, 0);
    CU_ASSERT_STRING_EQUAL(D.v[0].loc.file, "t.yaml");
}

static void test_several_errors(void) {
    static const char text[] = "spec_version: 1\n"
                               "model: {name: t, type: encoder, vocab_size: 0, max_sequence_length: 16}\n"
                               "layers:\n"
                               "  - id: embedding\n"
                               "    type: embedding\n"
                               "    params: {hidden_dim: 64, positon: learned}\n"
                               "  - id: layer_{i}\n"
                               "    repeat: 2\n"
                               "    type: transformer\n"
                               "    params:\n"
                               "      hidden_dim: 64\n"
                               "      num_heads: 32\n"
                               "      num_kv_heads: 5\n"
                               "      ffn_dim: 128\n"
                               "      ffn_type: mlp\n"
                               "      activation: gelu\n"
                               "      norm_type: layernorm\n"
                               "      norm_eps: 0\n"
                               "      residual_pattern: post_norm\n"
                               "  - id: pooler\n"
                               "    type: poler\n"
                               "    params: {hidden_dim: 64}\n";
    CU_ASSERT_EQUAL(load(text), -1);
    CU_ASSERT_EQUAL(D.n_errors, 5);
    expect_error(text, "model: vocab_size must be positive, got 0", "0,", 0, "");
    expect_error(text, "unknown key 'positon' in layer 'embedding'", "positon", 0, "did you mean 'position'?");
    expect_error(text, "layer 'layer_{i}': num_kv_heads (5) must divide num_heads (32)", "5\n", 0, NULL);
    expect_error(text, "layer 'layer_{i}': norm_eps must be positive, got 0", "eps: 0", 5, NULL);
    expect_error(text, "layer 'pooler': unknown layer type 'poler'", "poler", 0, "did you mean 'pooler'?");
    /* The literal numbers, checked once by hand: line 13 "      num_kv_heads: 5", column 21. */
    const Diag *dg = find("layer 'layer_{i}': num_kv_heads (5) must divide num_heads (32)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dg);
    CU_ASSERT_EQUAL(dg->loc.line, 13);
    CU_ASSERT_EQUAL(dg->loc.col, 21);
}

static void test_duplicate_copies_reported_once(void) {
    const char *text = HEAD EMB T_HEAD T_DIMS T_REST T_HEAD T_DIMS T_REST;
    CU_ASSERT_EQUAL(load(text), -1);
    CU_ASSERT_EQUAL(D.n_errors, 1); /* layer_0 and layer_1 both collide: one report for the pair */
    CU_ASSERT_STRING_EQUAL(D.v[0].msg, "duplicate layer id 'layer_0'");
}

static void test_printed_diagnostic(void) {
    const char *text = HEAD EMB T_HEAD "      hidden_dim: 64\n      num_heads: 32\n      num_kv_heads: 5\n" T_REST;
    load(text);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print(&D, f);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "t.yaml:13:21: error: layer 'layer_{i}': num_kv_heads (5) must divide num_heads (32)\n"
                                "      num_kv_heads: 5\n"
                                "                    ^\n"
                                "  hint: each key/value head serves an equal group of query heads: use one of 1, 2, 4, "
                                "8, 16, 32\n");
    free(buf);
}

/* Malformed input must never crash: every prefix of a valid spec, and byte flips. */
static void test_fuzz(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/specs/bert-base.yaml", unit_source_dir());
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char buf[8192];
    int loaded = 0;
    for (size_t cut = 0; cut <= n; cut += 3) {
        memcpy(buf, text, cut);
        buf[cut] = 0;
        int rc = load(buf);
        CU_ASSERT_EQUAL(rc == 0, D.n_errors == 0);
        loaded += rc == 0;
    }
    CU_ASSERT(loaded >= 1); /* the whole file, at least */
    unsigned seed = 12345;
    static const char junk[] = "{}[]:-,#&*!|>'\"%@`\t\n \xff\x80 0123456789.eE{i}";
    for (int round = 0; round < 300; round++) {
        memcpy(buf, text, n + 1);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            buf[at] = junk[(seed >> 8) % (sizeof junk - 1)];
        }
        int rc = load(buf);
        CU_ASSERT_EQUAL(rc == 0, D.n_errors == 0);
    }
    /* Deep nesting and aliases to a node's own ancestor. */
    char deep[20001];
    memset(deep, '[', 20000);
    deep[20000] = 0;
    CU_ASSERT_EQUAL(load(deep), -1);
    CU_ASSERT_EQUAL(load("spec_version: 1\nmodel: &m {name: *m}\nlayers: &l [*l]\n"), -1);
}

static int cleanup(void) {
    diag_free(&D);
    spec_free(&S);
    return 0;
}

static CU_TestInfo load_tests[] = {
    {"bert-base", test_bert_base},
    {"bert-large", test_bert_large},
    {"tiny-bert", test_tiny_bert},
    {"missing file", test_missing_file},
    {"llama decoder", test_llama_decoder},
    {"defaults", test_defaults},
    {"repeat expansion", test_repeat_expansion},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo error_tests[] = {
    {"each error class", test_errors},
    {"errors reported alone", test_errors_alone},
    {"several errors in one file", test_several_errors},
    {"colliding copies reported once", test_duplicate_copies_reported_once},
    {"printed diagnostic", test_printed_diagnostic},
    {"fuzz", test_fuzz},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"spec_load", NULL, cleanup, NULL, NULL, load_tests},
    {"spec_load errors", NULL, cleanup, NULL, NULL, error_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
