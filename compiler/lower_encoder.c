/* lower_encoder.c: BERT-style encoders: learned positions, token types, post-norm layers with
 * biased multi-head attention and an MLP, an optional pooler. Hugging Face BertModel names. */
#include <stdio.h>
#include <string.h>

#include "lower_internal.h"

/* embeddings = LayerNorm(word + token type + position) */
void lw_lower_encoder_embedding(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX];
    const Spec *s = L->spec;
    int64_t H = ly->hidden_dim;
    int ids = ir_add_input(L->g, "input_ids", TTC_ROLE_INPUT_IDS, TTC_I32, ir_shape(2, L->B, L->S));
    int table = ir_add_weight(L->g, "embeddings.word_embeddings.weight", lw_mat(s->vocab_size, H), TTC_INIT_NORMAL);
    lw_path(p, ly, "word");
    int x = lw_op(L, TTC_OP_EMBEDDING, p, "embedding", lw_no_attrs, 2, ids, table);
    if (ly->token_types > 0) {
        int tt = ir_add_input(L->g, "token_type_ids", TTC_ROLE_TOKEN_TYPE_IDS, TTC_I32, ir_shape(2, L->B, L->S));
        int tt_table = ir_add_weight(L->g, "embeddings.token_type_embeddings.weight", lw_mat(ly->token_types, H),
                                     TTC_INIT_NORMAL);
        lw_path(p, ly, "token_type");
        int e = lw_op(L, TTC_OP_EMBEDDING, p, "embedding", lw_no_attrs, 2, tt, tt_table);
        lw_path(p, ly, "add_token_type");
        x = lw_op(L, TTC_OP_ADD, p, "embedding", lw_no_attrs, 2, x, e);
    }
    if (ly->position == SPEC_POS_LEARNED) {
        int pos = ir_add_weight(L->g, "embeddings.position_embeddings.weight", lw_mat(s->max_sequence_length, H),
                                TTC_INIT_NORMAL);
        lw_path(p, ly, "position");
        int e = lw_op(L, TTC_OP_POS_EMBEDDING, p, "embedding", lw_no_attrs, 1, pos);
        lw_path(p, ly, "add_position");
        x = lw_op(L, TTC_OP_ADD, p, "embedding", lw_no_attrs, 2, x, e);
    }
    if (ly->norm != SPEC_NORM_NONE) {
        lw_path(p, ly, "norm");
        x = lw_norm(L, x, ly->norm, ly->norm_eps, H, p, "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias");
    }
    L->mask = ir_add_input(L->g, "attention_mask", TTC_ROLE_ATTENTION_MASK, TTC_I32, ir_shape(2, L->B, L->S));
    L->x = x;
}

/* q/k/v projections, attention core, output projection (BertSelfAttention + BertSelfOutput.dense). */
static int encoder_attention(Lowering *L, const SpecLayer *ly, int x, const char *hf) {
    char p[TTC_NAME_MAX], n[TTC_NAME_MAX];
    int64_t H = ly->hidden_dim, D = lw_head_dim(ly);
    int64_t widths[3] = {ly->num_heads * D, lw_kv_heads(ly) * D, lw_kv_heads(ly) * D};
    static const char *const qkv[3] = {"q", "k", "v"};
    static const char *const hf_qkv[3] = {"query", "key", "value"};
    int val[3];
    for (int i = 0; i < 3; i++) {
        lw_name(p, "%s.attention.%s", ly->id, qkv[i]);
        lw_name(n, "%s.attention.self.%s", hf, hf_qkv[i]);
        val[i] = lw_linear(L, x, p, "attention", n, H, widths[i], ly->attn.qkv_bias);
    }
    int ctx = lw_attention_core(L, ly, val[0], val[1], val[2]);
    lw_path(p, ly, "attention.out");
    lw_name(n, "%s.attention.output.dense", hf);
    return lw_linear(L, ctx, p, "attention", n, widths[0], H, ly->attn.bias);
}

static int encoder_ffn(Lowering *L, const SpecLayer *ly, int x, const char *hf) {
    char p[TTC_NAME_MAX], n[TTC_NAME_MAX];
    lw_path(p, ly, "ffn.up");
    lw_name(n, "%s.intermediate.dense", hf);
    int up = lw_linear(L, x, p, "ffn", n, ly->hidden_dim, ly->ffn_dim, 1);
    lw_path(p, ly, "ffn.act");
    int act = lw_op(L, lw_activation_op(ly->activation), p, "ffn", lw_no_attrs, 1, up);
    lw_path(p, ly, "ffn.down");
    lw_name(n, "%s.output.dense", hf);
    return lw_linear(L, act, p, "ffn", n, ly->ffn_dim, ly->hidden_dim, 1);
}

/* A post-norm (BERT) layer:  x = norm(x + attention(x));  x = norm(x + ffn(x)) */
void lw_lower_encoder_layer(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX], hf[TTC_NAME_MAX], w[TTC_NAME_MAX], b[TTC_NAME_MAX];
    if (ly->residual != SPEC_POST_NORM) {
        diag_error(L->d, ly->loc, "layer '%s': pre_norm encoders cannot be compiled by this ttc yet", ly->id);
        return;
    }
    lw_name(hf, "encoder.layer.%d", ly->index);
    int64_t H = ly->hidden_dim;
    int attn = encoder_attention(L, ly, L->x, hf);
    lw_path(p, ly, "attention.residual");
    int r = lw_op(L, TTC_OP_ADD, p, "attention", lw_no_attrs, 2, attn, L->x);
    lw_path(p, ly, "attention_norm");
    lw_name(w, "%s.attention.output.LayerNorm.weight", hf);
    lw_name(b, "%s.attention.output.LayerNorm.bias", hf);
    int x = lw_norm(L, r, ly->norm, ly->norm_eps, H, p, w, b);
    int f = encoder_ffn(L, ly, x, hf);
    lw_path(p, ly, "ffn.residual");
    r = lw_op(L, TTC_OP_ADD, p, "ffn", lw_no_attrs, 2, f, x);
    lw_path(p, ly, "ffn_norm");
    lw_name(w, "%s.output.LayerNorm.weight", hf);
    lw_name(b, "%s.output.LayerNorm.bias", hf);
    L->x = lw_norm(L, r, ly->norm, ly->norm_eps, H, p, w, b);
}

/* BERT pooler: act(dense(hidden[:, 0])). */
void lw_lower_pooler(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX];
    lw_path(p, ly, "first_token");
    int first = lw_op(L, TTC_OP_FIRST_TOKEN, p, "pooler", lw_no_attrs, 1, L->x);
    lw_path(p, ly, "dense");
    int d = lw_linear(L, first, p, "pooler", "pooler.dense", ly->hidden_dim, ly->hidden_dim, 1);
    lw_path(p, ly, "act");
    L->pooled = lw_op(L, lw_activation_op(ly->activation), p, "pooler", lw_no_attrs, 1, d);
}
