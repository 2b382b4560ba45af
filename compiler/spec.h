/* spec.h: the ArchitectureSpec (DESIGN.md §3, spec_version: 1) as the compiler sees it after
 * parsing and validation. Every value here has been range-checked by spec_load(); the lowering
 * can trust it. Layers with `repeat` are already expanded (`layer_{i}` -> layer_0, layer_1, ...). */
#ifndef TTC_SPEC_H
#define TTC_SPEC_H

#include <stdint.h>
#include "diag.h"

typedef enum { SPEC_ENCODER = 0, SPEC_DECODER = 1 } SpecModelType;
typedef enum { SPEC_LAYER_EMBEDDING, SPEC_LAYER_TRANSFORMER, SPEC_LAYER_POOLER, SPEC_LAYER_NORM, SPEC_LAYER_LINEAR } SpecLayerType;
typedef enum { SPEC_POS_NONE, SPEC_POS_LEARNED } SpecPosition;
typedef enum { SPEC_NORM_NONE, SPEC_NORM_LAYERNORM, SPEC_NORM_RMSNORM } SpecNorm;
typedef enum { SPEC_ACT_GELU, SPEC_ACT_GELU_TANH, SPEC_ACT_SILU, SPEC_ACT_RELU, SPEC_ACT_TANH } SpecActivation;
typedef enum { SPEC_FFN_MLP, SPEC_FFN_GATED } SpecFfnType;
typedef enum { SPEC_POST_NORM, SPEC_PRE_NORM } SpecResidual;
typedef enum { SPEC_ROPE_SCALING_NONE, SPEC_ROPE_SCALING_LLAMA3 } SpecRopeScaling;

typedef struct SpecRope {
    int present;                  /* attention.rope given */
    double theta;                 /* default 10000.0 */
    int scaling;                  /* SpecRopeScaling */
    double factor, low_freq_factor, high_freq_factor;
    int64_t original_max_position;
} SpecRope;

typedef struct SpecAttention {
    int causal;             /* default false */
    int bias;               /* biases on q,k,v,o projections; default true */
    int qkv_bias;           /* Qwen2: biases on q,k,v only; default = bias */
    SpecRope rope;
    int64_t sliding_window; /* 0 = none */
} SpecAttention;

typedef struct SpecLayer {
    char *id;       /* expanded id: "layer_3", "embedding" */
    int index;      /* position in the repeat (0 when not repeated) */
    int type;       /* SpecLayerType */
    DiagLoc loc;    /* the layer's mapping in the spec file */

    /* embedding: hidden_dim, position, token_types, norm, norm_eps
     * transformer: hidden_dim, num_heads, num_kv_heads, head_dim, ffn_dim, ffn_type, activation,
     *              norm_type (in `norm`), norm_eps, residual_pattern, attention
     * pooler: hidden_dim, activation (default tanh)
     * norm: norm (layernorm|rmsnorm), norm_eps, hidden_dim (0 = inferred from the layer before)
     * linear: input_dim, output_dim, bias, tied_to */
    int64_t hidden_dim;
    int position;      /* SpecPosition */
    int64_t token_types; /* 0 = no token type embedding */
    int norm;          /* SpecNorm */
    double norm_eps;
    int64_t num_heads, num_kv_heads, head_dim, ffn_dim;
    int ffn_type;      /* SpecFfnType */
    int activation;    /* SpecActivation */
    int residual;      /* SpecResidual */
    SpecAttention attn;
    int64_t input_dim, output_dim;
    int bias;          /* linear */
    char *tied_to;     /* linear: id of the embedding layer whose table it reuses, or NULL */
} SpecLayer;

typedef struct Spec {
    char *file;        /* path as given */
    char *name;
    int type;          /* SpecModelType */
    int64_t vocab_size;
    int64_t max_sequence_length;
    int64_t eos_token_id; /* -1 when absent */
    SpecLayer *layers;
    int n_layers;
} Spec;

/* Parses and validates; every problem goes to `d` (all of them, not just the first).
 * Returns 0 when the spec is usable, -1 otherwise (then `s` is freed already). */
int spec_load(Spec *s, const char *path, Diags *d);
/* The same from a string (tests); `name` stands for the file in diagnostics. */
int spec_load_string(Spec *s, const char *text, const char *name, Diags *d);
void spec_free(Spec *s);

/* The YAML spelling of enum values ("transformer", "rmsnorm", "gelu_tanh"); "?" when out of range. */
const char *spec_layer_type_name(int t);
const char *spec_norm_name(int n);
const char *spec_activation_name(int a);

#endif
