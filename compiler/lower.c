/* lower.c: ArchitectureSpec -> Graph IR: the dispatcher and the pieces every model uses.
 *
 * Module paths follow the spec's layer ids: `embedding.word`, `layer_3.attention.q`,
 * `layer_3.attention_norm`, `layer_3.ffn.up`, `pooler.dense`, `lm_head`. Weight names are the
 * Hugging Face names without the model prefix (`bert.` / `model.`), so safetensors files bind
 * directly. Lowering builds the prefill entry point; the `specialize` pass derives decode. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hw.h"
#include "lower_internal.h"

const TtcAttrs lw_no_attrs;

void lw_name(char *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, TTC_NAME_MAX, fmt, ap);
    va_end(ap);
}

void lw_path(char *buf, const SpecLayer *ly, const char *suffix) { lw_name(buf, "%s.%s", ly->id, suffix); }
TtcShape lw_vec(int64_t n) { return ir_shape(1, ir_dim(n)); }
TtcShape lw_mat(int64_t rows, int64_t cols) { return ir_shape(2, ir_dim(rows), ir_dim(cols)); }

int lw_op(Lowering *L, TtcOpKind kind, const char *path, const char *type, TtcAttrs attrs, int n_in, ...) {
    int in[TTC_MAX_OP_INPUTS];
    va_list ap;
    va_start(ap, n_in);
    for (int i = 0; i < n_in; i++) in[i] = va_arg(ap, int);
    va_end(ap);
    int k = ir_add_op(L->g, kind, path, type, in, n_in, attrs);
    return L->g->ops[k].d.out;
}

int lw_linear(Lowering *L, int x, const char *path, const char *type, const char *hf, int64_t in_dim, int64_t out_dim,
              int bias) {
    char n[TTC_NAME_MAX];
    lw_name(n, "%s.weight", hf);
    int w = ir_add_weight(L->g, n, lw_mat(out_dim, in_dim), TTC_INIT_NORMAL);
    if (!bias) return lw_op(L, TTC_OP_LINEAR, path, type, lw_no_attrs, 2, x, w);
    lw_name(n, "%s.bias", hf);
    int b = ir_add_weight(L->g, n, lw_vec(out_dim), TTC_INIT_NORMAL);
    return lw_op(L, TTC_OP_LINEAR, path, type, lw_no_attrs, 3, x, w, b);
}

int lw_norm(Lowering *L, int x, int kind, double eps, int64_t dim, const char *path, const char *hf_w,
            const char *hf_b) {
    TtcAttrs a = lw_no_attrs;
    a.eps = (float)eps;
    int gamma = ir_add_weight(L->g, hf_w, lw_vec(dim), TTC_INIT_NORM_GAIN);
    if (kind == SPEC_NORM_RMSNORM) return lw_op(L, TTC_OP_RMSNORM, path, "norm", a, 2, x, gamma);
    int beta = ir_add_weight(L->g, hf_b, lw_vec(dim), TTC_INIT_NORM_BIAS);
    return lw_op(L, TTC_OP_LAYERNORM, path, "norm", a, 3, x, gamma, beta);
}

TtcOpKind lw_activation_op(int act) {
    switch (act) {
    case SPEC_ACT_GELU: return TTC_OP_GELU;
    case SPEC_ACT_GELU_TANH: return TTC_OP_GELU_TANH;
    case SPEC_ACT_SILU: return TTC_OP_SILU;
    case SPEC_ACT_RELU: return TTC_OP_RELU;
    default: return TTC_OP_TANH;
    }
}

int64_t lw_head_dim(const SpecLayer *ly) { return ly->head_dim ? ly->head_dim : ly->hidden_dim / ly->num_heads; }
int64_t lw_kv_heads(const SpecLayer *ly) { return ly->num_kv_heads ? ly->num_kv_heads : ly->num_heads; }

int lw_attention_core(Lowering *L, const SpecLayer *ly, int q, int k, int v) {
    char p[TTC_NAME_MAX];
    TtcAttrs a = lw_no_attrs;
    a.heads = (int32_t)ly->num_heads;
    a.kv_heads = (int32_t)lw_kv_heads(ly);
    a.head_dim = (int32_t)lw_head_dim(ly);
    a.scale = (float)(1.0 / sqrt((double)a.head_dim));
    lw_path(p, ly, "attention.scores");
    int scores = lw_op(L, TTC_OP_ATTN_SCORES, p, "attention", a, 2, q, k);
    TtcAttrs sm = lw_no_attrs;
    sm.causal = ly->attn.causal;
    sm.window = (int32_t)ly->attn.sliding_window;
    lw_path(p, ly, "attention.softmax");
    int probs;
    if (L->mask >= 0) {
        sm.has_mask = 1;
        probs = lw_op(L, TTC_OP_SOFTMAX, p, "attention", sm, 2, scores, L->mask);
    } else {
        probs = lw_op(L, TTC_OP_SOFTMAX, p, "attention", sm, 1, scores);
    }
    lw_path(p, ly, "attention.context");
    return lw_op(L, TTC_OP_ATTN_CONTEXT, p, "attention", a, 2, probs, v);
}

int lower_spec(const Spec *s, const LowerOptions *o, Graph *g, Diags *d) {
    DiagLoc none = {s->file, 0, 0};
    int decoder = s->type == SPEC_DECODER;
    if (o->seq > s->max_sequence_length) {
        Diag *e = diag_error(d, none, "--seq %lld exceeds the model's max_sequence_length (%lld)", (long long)o->seq,
                             (long long)s->max_sequence_length);
        diag_hint(e, "use --seq %lld or less", (long long)s->max_sequence_length);
        return -1;
    }
    if (decoder && (o->max_seq < o->seq || o->max_seq > s->max_sequence_length)) {
        Diag *e = diag_error(d, none, "--max-seq %lld must be at least --seq (%lld) and at most the model's "
                             "max_sequence_length (%lld)", (long long)o->max_seq, (long long)o->seq,
                             (long long)s->max_sequence_length);
        diag_hint(e, "the KV cache holds --max-seq tokens per sequence: prompt plus generated tokens");
        return -1;
    }
    snprintf(g->model_name, sizeof g->model_name, "%s", s->name);
    g->model_type = s->type;
    g->vocab_size = s->vocab_size;
    g->eos_token_id = s->eos_token_id;
    g->max_batch = o->batch;
    g->max_seq = o->seq;
    g->max_ctx = decoder ? o->max_seq : o->seq;
    ir_begin_entry(g, "prefill", 0, o->seq);

    Lowering L = {.spec = s, .opt = o, .g = g, .d = d, .mask = -1, .x = -1, .pooled = -1, .embed_table = -1};
    L.B = ir_sym(TTC_SYM_BATCH, o->batch);
    L.S = ir_sym(TTC_SYM_SEQ, o->seq);
    int errors = d->n_errors;
    for (int i = 0; i < s->n_layers && d->n_errors == errors; i++) {
        const SpecLayer *ly = &s->layers[i];
        switch (ly->type) {
        case SPEC_LAYER_EMBEDDING:
            (decoder ? lw_lower_decoder_embedding : lw_lower_encoder_embedding)(&L, ly);
            break;
        case SPEC_LAYER_TRANSFORMER: (decoder ? lw_lower_decoder_layer : lw_lower_encoder_layer)(&L, ly); break;
        case SPEC_LAYER_POOLER: lw_lower_pooler(&L, ly); break;
        case SPEC_LAYER_NORM: lw_lower_final_norm(&L, ly); break;
        case SPEC_LAYER_LINEAR: lw_lower_lm_head(&L, ly); break;
        default: diag_error(d, ly->loc, "layer '%s': unknown layer type", ly->id); break;
        }
    }
    ir_end_entry(g);
    if (d->n_errors != errors) return -1;
    if (!decoder) ir_mark_output(g, L.x, TTC_ROLE_HIDDEN);
    if (L.pooled >= 0) ir_mark_output(g, L.pooled, TTC_ROLE_POOLED);
    return 0;
}
