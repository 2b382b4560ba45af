/* spec_layers.c: the `params:` of each layer type (DESIGN.md §3): keys, defaults, ranges, and
 * the rules that concern one layer alone. Rules between layers live in spec_load.c. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_parse.h"

const char *const spec_layer_type_names[5] = {"embedding", "transformer", "pooler", "norm", "linear"};

/* Name tables indexed by the enums of spec.h. */
static const char *const spec_position_names[] = {"none", "learned"};
static const char *const spec_norm_names[] = {"none", "layernorm", "rmsnorm"};
static const char *const spec_activation_names[] = {"gelu", "gelu_tanh", "silu", "relu", "tanh"};
static const char *const spec_ffn_names[] = {"mlp", "gated"};
static const char *const spec_residual_names[] = {"post_norm", "pre_norm"};
static const char *const spec_scaling_names[] = {"llama3"}; /* SpecRopeScaling minus NONE */

const char *spec_layer_type_name(int t) { return t >= 0 && t < 5 ? spec_layer_type_names[t] : "?"; }
const char *spec_norm_name(int n) { return n >= 0 && n < 3 ? spec_norm_names[n] : "?"; }
const char *spec_activation_name(int a) { return a >= 0 && a < 5 ? spec_activation_names[a] : "?"; }

/* ---- getters over one mapping of one layer ---- */

/* A mapping inside a layer: `prefix` ("attention.") makes messages name the full key. */
typedef struct SpecMap {
    SpecParse *p;
    SpecEntry *e;
    yaml_node_t *m;
    const char *prefix;
} SpecMap;

/* The value of `key`, or NULL; a missing required key is reported against the layer. Each
 * getter below returns 1 when the value was given and is valid, 0 when absent, -1 on error. */
static yaml_node_t *spec_field(SpecMap *sm, const char *key, int required, char *label, size_t n) {
    snprintf(label, n, "%s%s", sm->prefix, key);
    yaml_node_t *v = yamlu_get(sm->p->y, sm->m, key, NULL);
    if (!v && required) yamlu_require(sm->p->y, sm->m, label, sm->e->ctx);
    return v;
}

int spec_limited_int(SpecParse *p, yaml_node_t *v, const char *ctx, const char *key, int64_t min, SpecLimitId id,
                     int64_t *out) {
    int rc = yamlu_int(p->y, v, ctx, key, min, spec_limit_max(id), out);
    if (rc == -2) diag_hint(&p->d->v[p->d->n - 1], "%s", spec_limit_hint(id)); /* past the row: its reason */
    return rc == 0 ? 0 : -1;
}

static int spec_int(SpecMap *sm, const char *key, int required, int64_t min, SpecLimitId id, int64_t *out,
                    DiagLoc *loc) {
    char label[64];
    yaml_node_t *v = spec_field(sm, key, required, label, sizeof label);
    if (!v) return required ? -1 : 0;
    if (loc) *loc = yamlu_loc(sm->p->y, v);
    return spec_limited_int(sm->p, v, sm->e->ctx, label, min, id, out) == 0 ? 1 : -1;
}

static int spec_double(SpecMap *sm, const char *key, int required, double min, int min_exclusive, double max,
                       double *out) {
    char label[64];
    yaml_node_t *v = spec_field(sm, key, required, label, sizeof label);
    if (!v) return required ? -1 : 0;
    return yamlu_double(sm->p->y, v, sm->e->ctx, label, min, min_exclusive, max, out) == 0 ? 1 : -1;
}

static int spec_bool(SpecMap *sm, const char *key, int *out) {
    char label[64];
    yaml_node_t *v = spec_field(sm, key, 0, label, sizeof label);
    if (!v) return 0;
    return yamlu_bool(sm->p->y, v, sm->e->ctx, label, out) == 0 ? 1 : -1;
}

static int spec_enum(SpecMap *sm, const char *key, int required, const char *noun, const char *const *names, int n,
                     int *out) {
    char label[64];
    yaml_node_t *v = spec_field(sm, key, required, label, sizeof label);
    if (!v) return required ? -1 : 0;
    return yamlu_enum(sm->p->y, v, sm->e->ctx, label, noun, names, n, out) == 0 ? 1 : -1;
}

/* norm_type of transformer and norm layers: layernorm | rmsnorm (SpecNorm without NONE). */
static int spec_norm_type(SpecMap *sm, const char *key, int required, int *out) {
    int i = 0, rc = spec_enum(sm, key, required, key, spec_norm_names + 1, 2, &i);
    if (rc == 1) *out = i + 1;
    return rc;
}

/* norm_eps with the default of its norm: BERT's 1e-12 for layernorm, Llama's 1e-5 for rmsnorm. */
static void spec_norm_eps(SpecMap *sm, int norm, double *eps) {
    *eps = norm == SPEC_NORM_RMSNORM ? 1e-5 : norm == SPEC_NORM_LAYERNORM ? 1e-12 : 0.0;
    spec_double(sm, "norm_eps", 0, 0.0, 1, 1.0, eps);
}

static int spec_check_keys(SpecMap *sm, const char *const *keys, int n, const char *context) {
    return yamlu_check_keys(sm->p->y, sm->m, keys, n, context);
}

/* ---- embedding ---- */

/* params: {hidden_dim: H, position?: learned|none, token_types?: N, norm?: layernorm|rmsnorm|none,
 *          norm_eps?: E}
 * position defaults to learned for encoders (BERT) and none for decoders (RoPE models). */
static void spec_parse_embedding(SpecMap *sm) {
    static const char *const keys[] = {"hidden_dim", "position", "token_types", "norm", "norm_eps"};
    SpecLayer *L = &sm->e->t;
    spec_check_keys(sm, keys, 5, sm->e->ctx);
    spec_int(sm, "hidden_dim", 1, 1, SPEC_LIMIT_HIDDEN, &L->hidden_dim, &sm->e->hidden_loc);
    L->position = sm->p->model_type == SPEC_ENCODER ? SPEC_POS_LEARNED : SPEC_POS_NONE;
    spec_enum(sm, "position", 0, "position", spec_position_names, 2, &L->position);
    spec_int(sm, "token_types", 0, 0, SPEC_LIMIT_TOKEN_TYPES, &L->token_types, NULL);
    L->norm = SPEC_NORM_NONE;
    spec_enum(sm, "norm", 0, "norm", spec_norm_names, 3, &L->norm);
    spec_norm_eps(sm, L->norm, &L->norm_eps);
}

/* ---- transformer ---- */

/* scaling: {type: llama3, factor: F, low_freq_factor: L, high_freq_factor: H, original_max_position: P} */
static void spec_parse_rope_scaling(SpecMap *parent, yaml_node_t *m, SpecRope *r) {
    static const char *const keys[] = {"type", "factor", "low_freq_factor", "high_freq_factor", "original_max_position"};
    SpecParse *p = parent->p;
    SpecEntry *e = parent->e;
    if (yamlu_expect_map(p->y, m, e->ctx, "attention.rope.scaling") < 0) return;
    SpecMap sm = {p, e, m, "attention.rope.scaling."};
    char *context = yamlu_printf("%s attention.rope.scaling", e->ctx);
    spec_check_keys(&sm, keys, 5, context);
    free(context);
    int type = 0;
    if (spec_enum(&sm, "type", 1, "rope scaling type", spec_scaling_names, 1, &type) == 1)
        r->scaling = SPEC_ROPE_SCALING_LLAMA3 + type;
    spec_double(&sm, "factor", 1, 0.0, 1, 1e6, &r->factor);
    int lo = spec_double(&sm, "low_freq_factor", 1, 0.0, 1, 1e6, &r->low_freq_factor);
    int hi = spec_double(&sm, "high_freq_factor", 1, 0.0, 1, 1e6, &r->high_freq_factor);
    spec_int(&sm, "original_max_position", 1, 1, SPEC_LIMIT_SEQ, &r->original_max_position, NULL);
    /* Llama 3 interpolates between the two wavelength bounds: it divides by their difference. */
    if (lo == 1 && hi == 1 && r->high_freq_factor <= r->low_freq_factor) {
        Diag *dg = diag_error(p->d, yamlu_loc(p->y, yamlu_get(p->y, m, "high_freq_factor", NULL)),
                              "%s: attention.rope.scaling.high_freq_factor (%g) must be greater than low_freq_factor (%g)",
                              e->ctx, r->high_freq_factor, r->low_freq_factor);
        diag_hint(dg, "Llama 3 uses low_freq_factor: 1.0, high_freq_factor: 4.0");
    }
}

/* rope: {theta?: T, scaling?: {...}}   (theta defaults to 10000, the RoPE paper's base) */
static void spec_parse_rope(SpecMap *parent, yaml_node_t *m, SpecRope *r) {
    static const char *const keys[] = {"theta", "scaling"};
    SpecParse *p = parent->p;
    SpecEntry *e = parent->e;
    r->present = 1;
    r->theta = 10000.0;
    if (yamlu_expect_map(p->y, m, e->ctx, "attention.rope") < 0) return;
    SpecMap sm = {p, e, m, "attention.rope."};
    char *context = yamlu_printf("%s attention.rope", e->ctx);
    spec_check_keys(&sm, keys, 2, context);
    free(context);
    spec_double(&sm, "theta", 0, 0.0, 1, 1e12, &r->theta);
    yaml_node_t *scaling = yamlu_get(p->y, m, "scaling", NULL);
    if (scaling) spec_parse_rope_scaling(&sm, scaling, r);
}

/* attention: {causal?: bool, bias?: bool, qkv_bias?: bool, rope?: {...}, sliding_window?: N}
 * Defaults: not causal, biases on (BERT), qkv_bias follows bias, no rope, no window. */
static void spec_parse_attention(SpecMap *parent, yaml_node_t *m, SpecAttention *a) {
    static const char *const keys[] = {"causal", "bias", "qkv_bias", "rope", "sliding_window"};
    SpecParse *p = parent->p;
    SpecEntry *e = parent->e;
    if (yamlu_expect_map(p->y, m, e->ctx, "attention") < 0) return;
    SpecMap sm = {p, e, m, "attention."};
    char *context = yamlu_printf("%s attention", e->ctx);
    spec_check_keys(&sm, keys, 5, context);
    free(context);
    spec_bool(&sm, "causal", &a->causal);
    spec_bool(&sm, "bias", &a->bias);
    a->qkv_bias = a->bias;
    spec_bool(&sm, "qkv_bias", &a->qkv_bias);
    yaml_node_t *rope = yamlu_get(p->y, m, "rope", NULL);
    if (rope) spec_parse_rope(&sm, rope, &a->rope);
    spec_int(&sm, "sliding_window", 0, 0, SPEC_LIMIT_SEQ, &a->sliding_window, NULL);
}

/* "1, 2, 4, 8" for a hint about what divides n. */
static char *spec_divisors(int64_t n) {
    char buf[256] = "";
    size_t len = 0;
    for (int64_t k = 1; k <= n && len < sizeof buf - 24; k++)
        if (n % k == 0) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld", len ? ", " : "", (long long)k);
    return yamlu_strdup(buf);
}

/* params: {hidden_dim: H, num_heads: N, num_kv_heads?: K, head_dim?: D, ffn_dim: F,
 *          ffn_type: mlp|gated, activation: gelu|gelu_tanh|silu|relu, norm_type: layernorm|rmsnorm,
 *          norm_eps?: E, residual_pattern: post_norm|pre_norm, attention?: {...}}
 * The choices that change the math (ffn_type, activation, norm_type, residual_pattern) have no
 * default: guessing BERT's for a Llama would run and be silently wrong. */
static void spec_parse_transformer(SpecMap *sm) {
    static const char *const keys[] = {"hidden_dim", "num_heads",  "num_kv_heads", "head_dim",         "ffn_dim",
                                       "ffn_type",   "activation", "norm_type",    "norm_eps",         "residual_pattern",
                                       "attention"};
    SpecParse *p = sm->p;
    SpecEntry *e = sm->e;
    SpecLayer *L = &e->t;
    spec_check_keys(sm, keys, 11, e->ctx);
    int hid = spec_int(sm, "hidden_dim", 1, 1, SPEC_LIMIT_HIDDEN, &L->hidden_dim, &e->hidden_loc);
    DiagLoc heads_loc = {0}, kv_loc = {0};
    int heads = spec_int(sm, "num_heads", 1, 1, SPEC_LIMIT_HEADS, &L->num_heads, &heads_loc);
    int kv = spec_int(sm, "num_kv_heads", 0, 1, SPEC_LIMIT_HEADS, &L->num_kv_heads, &kv_loc);
    int hd = spec_int(sm, "head_dim", 0, 1, SPEC_LIMIT_HEAD_DIM, &L->head_dim, NULL);
    spec_int(sm, "ffn_dim", 1, 1, SPEC_LIMIT_FFN, &L->ffn_dim, NULL);
    spec_enum(sm, "ffn_type", 1, "ffn_type", spec_ffn_names, 2, &L->ffn_type);
    spec_enum(sm, "activation", 1, "activation", spec_activation_names, 4, &L->activation);
    int norm = 0;
    if (spec_norm_type(sm, "norm_type", 1, &norm) == 1) L->norm = norm;
    spec_norm_eps(sm, L->norm, &L->norm_eps);
    spec_enum(sm, "residual_pattern", 1, "residual_pattern", spec_residual_names, 2, &L->residual);

    L->attn.bias = 1;
    L->attn.qkv_bias = 1;
    yaml_node_t *attn = yamlu_get(p->y, sm->m, "attention", NULL);
    if (attn) spec_parse_attention(sm, attn, &L->attn);

    if (hid == 1 && heads == 1 && hd == 0) {
        if (L->hidden_dim % L->num_heads != 0) {
            Diag *dg = diag_error(p->d, heads_loc, "%s: num_heads (%lld) must divide hidden_dim (%lld)", e->ctx,
                                  (long long)L->num_heads, (long long)L->hidden_dim);
            diag_hint(dg, "give head_dim explicitly when hidden_dim is not num_heads * head_dim");
        } else {
            L->head_dim = L->hidden_dim / L->num_heads;
        }
    }
    if (heads == 1 && kv == 0) L->num_kv_heads = L->num_heads;
    if (heads == 1 && kv == 1 && L->num_heads % L->num_kv_heads != 0) {
        Diag *dg = diag_error(p->d, kv_loc, "%s: num_kv_heads (%lld) must divide num_heads (%lld)", e->ctx,
                              (long long)L->num_kv_heads, (long long)L->num_heads);
        char *divs = spec_divisors(L->num_heads);
        diag_hint(dg, "each key/value head serves an equal group of query heads: use one of %s", divs);
        free(divs);
    }
    /* Rotate-half pairs dimension i with i + head_dim/2. */
    if (L->attn.rope.present && L->head_dim > 0 && L->head_dim % 2 != 0) {
        Diag *dg = diag_error(p->d, yamlu_loc(p->y, yamlu_get(p->y, attn, "rope", NULL)),
                              "%s: attention.rope needs an even head_dim, got %lld", e->ctx, (long long)L->head_dim);
        diag_hint(dg, "rotary embeddings rotate pairs of dimensions");
    }
}

/* ---- pooler, norm, linear ---- */

/* params: {hidden_dim: H, activation?: tanh|gelu|gelu_tanh|silu|relu}   (BERT's pooler: tanh) */
static void spec_parse_pooler(SpecMap *sm) {
    static const char *const keys[] = {"hidden_dim", "activation"};
    SpecLayer *L = &sm->e->t;
    spec_check_keys(sm, keys, 2, sm->e->ctx);
    spec_int(sm, "hidden_dim", 1, 1, SPEC_LIMIT_HIDDEN, &L->hidden_dim, &sm->e->hidden_loc);
    L->activation = SPEC_ACT_TANH;
    spec_enum(sm, "activation", 0, "activation", spec_activation_names, 5, &L->activation);
}

/* params: {norm_type: layernorm|rmsnorm, norm_eps?: E, hidden_dim?: H}
 * hidden_dim may be left out: spec_load fills it from the layer before. */
static void spec_parse_norm(SpecMap *sm) {
    static const char *const keys[] = {"norm_type", "norm_eps", "hidden_dim"};
    SpecLayer *L = &sm->e->t;
    spec_check_keys(sm, keys, 3, sm->e->ctx);
    int norm = 0;
    if (spec_norm_type(sm, "norm_type", 1, &norm) == 1) L->norm = norm;
    spec_norm_eps(sm, L->norm, &L->norm_eps);
    spec_int(sm, "hidden_dim", 0, 1, SPEC_LIMIT_HIDDEN, &L->hidden_dim, &sm->e->hidden_loc);
}

/* params: {input_dim: I, output_dim: O, bias?: bool, tied_to?: EMBEDDING_LAYER_ID}
 * bias defaults to false: language-model heads have none. */
static void spec_parse_linear(SpecMap *sm) {
    static const char *const keys[] = {"input_dim", "output_dim", "bias", "tied_to"};
    SpecEntry *e = sm->e;
    SpecLayer *L = &e->t;
    spec_check_keys(sm, keys, 4, e->ctx);
    spec_int(sm, "input_dim", 1, 1, SPEC_LIMIT_LINEAR, &L->input_dim, &e->in_loc);
    spec_int(sm, "output_dim", 1, 1, SPEC_LIMIT_LINEAR, &L->output_dim, &e->out_loc);
    spec_bool(sm, "bias", &L->bias);
    yaml_node_t *tied = yamlu_get(sm->p->y, sm->m, "tied_to", NULL);
    if (tied && yamlu_string(sm->p->y, tied, e->ctx, "tied_to", &L->tied_to) == 0)
        e->tied_loc = yamlu_loc(sm->p->y, tied);
}

void spec_parse_params(SpecParse *p, SpecEntry *e, yaml_node_t *params) {
    static void (*const parse[5])(SpecMap *) = {
        [SPEC_LAYER_EMBEDDING] = spec_parse_embedding, [SPEC_LAYER_TRANSFORMER] = spec_parse_transformer,
        [SPEC_LAYER_POOLER] = spec_parse_pooler,       [SPEC_LAYER_NORM] = spec_parse_norm,
        [SPEC_LAYER_LINEAR] = spec_parse_linear,
    };
    if (yamlu_expect_map(p->y, params, e->ctx, "params") < 0) return;
    SpecMap sm = {p, e, params, ""};
    parse[e->t.type](&sm);
}
