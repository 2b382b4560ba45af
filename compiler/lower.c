/* lower.c: ArchitectureSpec -> Graph IR.
 *
 * Module paths follow the spec's layer ids: `embedding.word`, `layer_3.attention.q`,
 * `layer_3.attention_norm`, `layer_3.ffn.up`, `pooler.dense`. Weight names are the Hugging Face
 * names without the model prefix (`bert.` / `model.`), so safetensors files bind directly. */
#include "lower.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hw.h"

typedef struct Lowering {
    const Spec *spec;
    Graph *g;
    TtcDim B, S; /* batch and step-token dims */
    int mask;    /* value id of attention_mask, -1 when none */
    int x;       /* the running hidden state */
    int pooled;  /* pooler output, -1 when none */
} Lowering;

static const TtcAttrs no_attrs;

static int weight(Lowering *L, TtcWeightInit init, TtcShape shape, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int weight(Lowering *L, TtcWeightInit init, TtcShape shape, const char *fmt, ...) {
    char name[TTC_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return ir_add_weight(L->g, name, shape, init);
}

/* snprintf into a TTC_NAME_MAX buffer; names are bounded by the spec parser's id limits. */
static void name_fmt(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void name_fmt(char *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, TTC_NAME_MAX, fmt, ap);
    va_end(ap);
}

static TtcShape vec(int64_t n) { return ir_shape(1, ir_dim(n)); }
static TtcShape mat(int64_t rows, int64_t cols) { return ir_shape(2, ir_dim(rows), ir_dim(cols)); }

/* Applies op `kind` to inputs; returns the output value. */
static int op(Lowering *L, TtcOpKind kind, const char *path, const char *type, TtcAttrs attrs, int n_in, ...) {
    int in[TTC_MAX_OP_INPUTS];
    va_list ap;
    va_start(ap, n_in);
    for (int i = 0; i < n_in; i++) in[i] = va_arg(ap, int);
    va_end(ap);
    int k = ir_add_op(L->g, kind, path, type, in, n_in, attrs);
    return L->g->ops[k].d.out;
}

static void path_of(char *buf, const SpecLayer *ly, const char *suffix) {
    snprintf(buf, TTC_NAME_MAX, "%s.%s", ly->id, suffix);
}

/* x W^T + b, with the Hugging Face weight names "<prefix>.weight" / "<prefix>.bias". */
static int linear(Lowering *L, int x, const char *path, const char *type, const char *hf, int64_t in_dim,
                  int64_t out_dim, int bias) {
    int w = weight(L, TTC_INIT_NORMAL, mat(out_dim, in_dim), "%s.weight", hf);
    if (!bias) return op(L, TTC_OP_LINEAR, path, type, no_attrs, 2, x, w);
    int b = weight(L, TTC_INIT_NORMAL, vec(out_dim), "%s.bias", hf);
    return op(L, TTC_OP_LINEAR, path, type, no_attrs, 3, x, w, b);
}

static int norm(Lowering *L, int x, int kind, double eps, int64_t dim, const char *path, const char *hf_w,
                const char *hf_b) {
    TtcAttrs a = no_attrs;
    a.eps = (float)eps;
    int gamma = ir_add_weight(L->g, hf_w, vec(dim), TTC_INIT_NORM_GAIN);
    if (kind == SPEC_NORM_RMSNORM) return op(L, TTC_OP_RMSNORM, path, "norm", a, 2, x, gamma);
    int beta = ir_add_weight(L->g, hf_b, vec(dim), TTC_INIT_NORM_BIAS);
    return op(L, TTC_OP_LAYERNORM, path, "norm", a, 3, x, gamma, beta);
}

static TtcOpKind activation_op(int act) {
    switch (act) {
    case SPEC_ACT_GELU: return TTC_OP_GELU;
    case SPEC_ACT_GELU_TANH: return TTC_OP_GELU_TANH;
    case SPEC_ACT_SILU: return TTC_OP_SILU;
    case SPEC_ACT_RELU: return TTC_OP_RELU;
    default: return TTC_OP_TANH;
    }
}

/* BERT embeddings: word + position + token type, then LayerNorm. */
static void lower_embedding(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX];
    const Spec *s = L->spec;
    int64_t H = ly->hidden_dim;
    int ids = ir_add_input(L->g, "input_ids", TTC_ROLE_INPUT_IDS, TTC_I32, ir_shape(2, L->B, L->S));
    int table = weight(L, TTC_INIT_NORMAL, mat(s->vocab_size, H), "embeddings.word_embeddings.weight");
    path_of(p, ly, "word");
    int x = op(L, TTC_OP_EMBEDDING, p, "embedding", no_attrs, 2, ids, table);
    if (ly->token_types > 0) {
        int tt = ir_add_input(L->g, "token_type_ids", TTC_ROLE_TOKEN_TYPE_IDS, TTC_I32, ir_shape(2, L->B, L->S));
        int tt_table = weight(L, TTC_INIT_NORMAL, mat(ly->token_types, H), "embeddings.token_type_embeddings.weight");
        path_of(p, ly, "token_type");
        int e = op(L, TTC_OP_EMBEDDING, p, "embedding", no_attrs, 2, tt, tt_table);
        path_of(p, ly, "add_token_type");
        x = op(L, TTC_OP_ADD, p, "embedding", no_attrs, 2, x, e);
    }
    if (ly->position == SPEC_POS_LEARNED) {
        int pos = weight(L, TTC_INIT_NORMAL, mat(s->max_sequence_length, H), "embeddings.position_embeddings.weight");
        path_of(p, ly, "position");
        int e = op(L, TTC_OP_POS_EMBEDDING, p, "embedding", no_attrs, 1, pos);
        path_of(p, ly, "add_position");
        x = op(L, TTC_OP_ADD, p, "embedding", no_attrs, 2, x, e);
    }
    if (ly->norm != SPEC_NORM_NONE) {
        path_of(p, ly, "norm");
        x = norm(L, x, ly->norm, ly->norm_eps, H, p, "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias");
    }
    L->mask = ir_add_input(L->g, "attention_mask", TTC_ROLE_ATTENTION_MASK, TTC_I32, ir_shape(2, L->B, L->S));
    L->x = x;
}

/* Self-attention: q/k/v projections, scores, masked softmax, context, output projection. */
static int lower_attention(Lowering *L, const SpecLayer *ly, int x, const char *hf) {
    char p[TTC_NAME_MAX], n[TTC_NAME_MAX];
    int64_t H = ly->hidden_dim, Hq = ly->num_heads;
    int64_t D = ly->head_dim ? ly->head_dim : H / Hq;       /* DESIGN.md §3: omitted = hidden / heads */
    int64_t Hkv = ly->num_kv_heads ? ly->num_kv_heads : Hq; /* omitted = num_heads */
    int qkv_bias = ly->attn.qkv_bias;
    int val[3];
    static const char *const qkv[3] = {"q", "k", "v"};
    static const char *const hf_qkv[3] = {"query", "key", "value"};
    for (int i = 0; i < 3; i++) {
        path_of(p, ly, "attention.");
        strncat(p, qkv[i], TTC_NAME_MAX - strlen(p) - 1);
        name_fmt(n, "%s.attention.self.%s", hf, hf_qkv[i]);
        val[i] = linear(L, x, p, "attention", n, H, (i == 0 ? Hq : Hkv) * D, qkv_bias);
    }
    TtcAttrs a = no_attrs;
    a.heads = (int32_t)Hq;
    a.kv_heads = (int32_t)Hkv;
    a.head_dim = (int32_t)D;
    a.scale = (float)(1.0 / sqrt((double)D));
    path_of(p, ly, "attention.scores");
    int scores = op(L, TTC_OP_ATTN_SCORES, p, "attention", a, 2, val[0], val[1]);
    TtcAttrs sm = no_attrs;
    sm.causal = ly->attn.causal;
    sm.window = (int32_t)ly->attn.sliding_window;
    path_of(p, ly, "attention.softmax");
    int probs;
    if (L->mask >= 0) {
        sm.has_mask = 1;
        probs = op(L, TTC_OP_SOFTMAX, p, "attention", sm, 2, scores, L->mask);
    } else {
        probs = op(L, TTC_OP_SOFTMAX, p, "attention", sm, 1, scores);
    }
    path_of(p, ly, "attention.context");
    int ctx = op(L, TTC_OP_ATTN_CONTEXT, p, "attention", a, 2, probs, val[2]);
    path_of(p, ly, "attention.out");
    name_fmt(n, "%s.attention.output.dense", hf);
    return linear(L, ctx, p, "attention", n, Hq * D, H, ly->attn.bias);
}

static int lower_ffn(Lowering *L, const SpecLayer *ly, int x, const char *hf) {
    char p[TTC_NAME_MAX], n[TTC_NAME_MAX];
    path_of(p, ly, "ffn.up");
    name_fmt(n, "%s.intermediate.dense", hf);
    int up = linear(L, x, p, "ffn", n, ly->hidden_dim, ly->ffn_dim, 1);
    path_of(p, ly, "ffn.act");
    int act = op(L, activation_op(ly->activation), p, "ffn", no_attrs, 1, up);
    path_of(p, ly, "ffn.down");
    name_fmt(n, "%s.output.dense", hf);
    return linear(L, act, p, "ffn", n, ly->ffn_dim, ly->hidden_dim, 1);
}

/* A post-norm (BERT) transformer layer:
 *   x = norm(x + attention(x));  x = norm(x + ffn(x)) */
static void lower_post_norm_layer(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX], hf[TTC_NAME_MAX], w[TTC_NAME_MAX], b[TTC_NAME_MAX];
    name_fmt(hf, "encoder.layer.%d", ly->index);
    int64_t H = ly->hidden_dim;
    int attn = lower_attention(L, ly, L->x, hf);
    path_of(p, ly, "attention.residual");
    int r = op(L, TTC_OP_ADD, p, "attention", no_attrs, 2, attn, L->x);
    path_of(p, ly, "attention_norm");
    name_fmt(w, "%s.attention.output.LayerNorm.weight", hf);
    name_fmt(b, "%s.attention.output.LayerNorm.bias", hf);
    int x = norm(L, r, ly->norm, ly->norm_eps, H, p, w, b);
    int f = lower_ffn(L, ly, x, hf);
    path_of(p, ly, "ffn.residual");
    r = op(L, TTC_OP_ADD, p, "ffn", no_attrs, 2, f, x);
    path_of(p, ly, "ffn_norm");
    name_fmt(w, "%s.output.LayerNorm.weight", hf);
    name_fmt(b, "%s.output.LayerNorm.bias", hf);
    L->x = norm(L, r, ly->norm, ly->norm_eps, H, p, w, b);
}

/* BERT pooler: act(dense(hidden[:, 0])). */
static void lower_pooler(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX];
    path_of(p, ly, "first_token");
    int first = op(L, TTC_OP_FIRST_TOKEN, p, "pooler", no_attrs, 1, L->x);
    path_of(p, ly, "dense");
    int d = linear(L, first, p, "pooler", "pooler.dense", ly->hidden_dim, ly->hidden_dim, 1);
    path_of(p, ly, "act");
    L->pooled = op(L, activation_op(ly->activation), p, "pooler", no_attrs, 1, d);
}

int lower_spec(const Spec *s, const LowerOptions *o, Graph *g, Diags *d) {
    DiagLoc none = {s->file, 0, 0};
    if (s->type != SPEC_ENCODER) {
        Diag *e = diag_error(d, none, "model '%s': decoder models cannot be compiled by this ttc yet", s->name);
        diag_hint(e, "decoder support (prefill/decode with a KV cache) is the next capability being built");
        return -1;
    }
    if (o->seq > s->max_sequence_length) {
        Diag *e = diag_error(d, none, "--seq %lld exceeds the model's max_sequence_length (%lld)", (long long)o->seq,
                             (long long)s->max_sequence_length);
        diag_hint(e, "use --seq %lld or less", (long long)s->max_sequence_length);
        return -1;
    }
    snprintf(g->model_name, sizeof g->model_name, "%s", s->name);
    g->model_type = s->type;
    g->vocab_size = s->vocab_size;
    g->max_batch = o->batch;
    g->max_seq = o->seq;
    g->max_ctx = o->seq;
    g->mode = o->mode;

    Lowering L = {.spec = s, .g = g, .mask = -1, .x = -1, .pooled = -1};
    L.B = ir_sym(TTC_SYM_BATCH, o->batch);
    L.S = ir_sym(TTC_SYM_SEQ, o->seq);
    for (int i = 0; i < s->n_layers; i++) {
        const SpecLayer *ly = &s->layers[i];
        switch (ly->type) {
        case SPEC_LAYER_EMBEDDING: lower_embedding(&L, ly); break;
        case SPEC_LAYER_TRANSFORMER:
            if (ly->residual != SPEC_POST_NORM) {
                diag_error(d, ly->loc, "layer '%s': pre_norm encoders cannot be compiled by this ttc yet", ly->id);
                return -1;
            }
            lower_post_norm_layer(&L, ly);
            break;
        case SPEC_LAYER_POOLER: lower_pooler(&L, ly); break;
        default:
            diag_error(d, ly->loc, "layer '%s': this layer type is not supported in encoders yet", ly->id);
            return -1;
        }
    }
    ir_mark_output(g, L.x, TTC_ROLE_HIDDEN);
    if (L.pooled >= 0) ir_mark_output(g, L.pooled, TTC_ROLE_POOLED);
    return 0;
}
