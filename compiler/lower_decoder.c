/* lower_decoder.c: Llama/Qwen2/Mistral-style decoders: token embedding, pre-norm layers with
 * RoPE, grouped-query attention over a KV cache and a gated (or plain) MLP, a final norm and
 * an lm_head that may reuse the embedding table. Hugging Face LlamaForCausalLM names. */
#include <stdio.h>
#include <string.h>

#include "lower_internal.h"

void lw_lower_decoder_embedding(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX];
    if (ly->position != SPEC_POS_NONE) {
        Diag *e = diag_error(L->d, ly->loc, "layer '%s': decoders with learned positions are not supported yet", ly->id);
        diag_hint(e, "Llama-style decoders use position: none with rope in the attention");
        return;
    }
    int ids = ir_add_input(L->g, "input_ids", TTC_ROLE_INPUT_IDS, TTC_I32, ir_shape(2, L->B, L->S));
    L->embed_table = ir_add_weight(L->g, "embed_tokens.weight", lw_mat(L->spec->vocab_size, ly->hidden_dim),
                                   TTC_INIT_NORMAL);
    lw_path(p, ly, "word");
    L->x = lw_op(L, TTC_OP_EMBEDDING, p, "embedding", lw_no_attrs, 2, ids, L->embed_table);
}

static TtcAttrs rope_attrs(const SpecLayer *ly, int heads) {
    TtcAttrs a = lw_no_attrs;
    const SpecRope *r = &ly->attn.rope;
    a.heads = heads;
    a.head_dim = (int32_t)lw_head_dim(ly);
    a.rope_theta = (float)r->theta;
    if (r->scaling == SPEC_ROPE_SCALING_LLAMA3) {
        a.rope_scaling = 1;
        a.rope_factor = (float)r->factor;
        a.rope_low_freq = (float)r->low_freq_factor;
        a.rope_high_freq = (float)r->high_freq_factor;
        a.rope_orig_max = (int32_t)r->original_max_position;
    }
    return a;
}

/* q/k/v projections, RoPE on q and k, the new k/v appended to this layer's cache, attention over
 * the whole cache, output projection. */
static int decoder_attention(Lowering *L, const SpecLayer *ly, int x, const char *hf) {
    char p[TTC_NAME_MAX], n[TTC_NAME_MAX];
    int64_t H = ly->hidden_dim, D = lw_head_dim(ly), Hq = ly->num_heads, Hkv = lw_kv_heads(ly);
    int64_t widths[3] = {Hq * D, Hkv * D, Hkv * D};
    static const char *const qkv[3] = {"q", "k", "v"};
    int val[3];
    for (int i = 0; i < 3; i++) {
        lw_name(p, "%s.attention.%s", ly->id, qkv[i]);
        lw_name(n, "%s.self_attn.%s_proj", hf, qkv[i]);
        val[i] = lw_linear(L, x, p, "attention", n, H, widths[i], ly->attn.qkv_bias);
    }
    if (ly->attn.rope.present) {
        lw_path(p, ly, "attention.q_rope");
        val[0] = lw_op(L, TTC_OP_ROPE, p, "attention", rope_attrs(ly, (int)Hq), 1, val[0]);
        lw_path(p, ly, "attention.k_rope");
        val[1] = lw_op(L, TTC_OP_ROPE, p, "attention", rope_attrs(ly, (int)Hkv), 1, val[1]);
    }
    TtcShape cache = ir_shape(3, L->B, ir_sym(TTC_SYM_CTX, L->g->max_ctx), ir_dim(Hkv * D));
    static const char *const kv[2] = {"k", "v"};
    for (int i = 0; i < 2; i++) {
        lw_name(n, "%s.%s_cache", hf, kv[i]);
        int state = ir_add_state(L->g, n, cache);
        lw_name(p, "%s.attention.%s_cache", ly->id, kv[i]);
        val[1 + i] = lw_op(L, TTC_OP_KV_UPDATE, p, "attention", lw_no_attrs, 2, val[1 + i], state);
        L->g->vals[val[1 + i]].d.alias = state;
    }
    int ctx = lw_attention_core(L, ly, val[0], val[1], val[2]);
    lw_path(p, ly, "attention.out");
    lw_name(n, "%s.self_attn.o_proj", hf);
    return lw_linear(L, ctx, p, "attention", n, widths[0], H, ly->attn.bias);
}

/* gated: down(act(gate(x)) * up(x)); mlp: down(act(up(x))) */
static int decoder_ffn(Lowering *L, const SpecLayer *ly, int x, const char *hf) {
    char p[TTC_NAME_MAX], n[TTC_NAME_MAX];
    int64_t H = ly->hidden_dim, F = ly->ffn_dim;
    lw_path(p, ly, "ffn.up");
    lw_name(n, "%s.mlp.up_proj", hf);
    int up = lw_linear(L, x, p, "ffn", n, H, F, 0);
    int h = up;
    if (ly->ffn_type == SPEC_FFN_GATED) {
        lw_path(p, ly, "ffn.gate");
        lw_name(n, "%s.mlp.gate_proj", hf);
        int gate = lw_linear(L, x, p, "ffn", n, H, F, 0);
        lw_path(p, ly, "ffn.act");
        int act = lw_op(L, lw_activation_op(ly->activation), p, "ffn", lw_no_attrs, 1, gate);
        lw_path(p, ly, "ffn.gated");
        h = lw_op(L, TTC_OP_MUL, p, "ffn", lw_no_attrs, 2, act, up);
    } else {
        lw_path(p, ly, "ffn.act");
        h = lw_op(L, lw_activation_op(ly->activation), p, "ffn", lw_no_attrs, 1, up);
    }
    lw_path(p, ly, "ffn.down");
    lw_name(n, "%s.mlp.down_proj", hf);
    return lw_linear(L, h, p, "ffn", n, F, H, 0);
}

/* A pre-norm (Llama) layer:  x = x + attention(norm(x));  x = x + ffn(norm(x)) */
void lw_lower_decoder_layer(Lowering *L, const SpecLayer *ly) {
    char p[TTC_NAME_MAX], hf[TTC_NAME_MAX], w[TTC_NAME_MAX], b[TTC_NAME_MAX];
    if (ly->residual != SPEC_PRE_NORM) {
        diag_error(L->d, ly->loc, "layer '%s': post_norm decoders are not supported yet", ly->id);
        return;
    }
    lw_name(hf, "layers.%d", ly->index);
    int64_t H = ly->hidden_dim;
    lw_path(p, ly, "attention_norm");
    lw_name(w, "%s.input_layernorm.weight", hf);
    lw_name(b, "%s.input_layernorm.bias", hf);
    int h = lw_norm(L, L->x, ly->norm, ly->norm_eps, H, p, w, b);
    int attn = decoder_attention(L, ly, h, hf);
    lw_path(p, ly, "attention.residual");
    int x = lw_op(L, TTC_OP_ADD, p, "attention", lw_no_attrs, 2, L->x, attn);
    lw_path(p, ly, "ffn_norm");
    lw_name(w, "%s.post_attention_layernorm.weight", hf);
    lw_name(b, "%s.post_attention_layernorm.bias", hf);
    h = lw_norm(L, x, ly->norm, ly->norm_eps, H, p, w, b);
    int f = decoder_ffn(L, ly, h, hf);
    lw_path(p, ly, "ffn.residual");
    L->x = lw_op(L, TTC_OP_ADD, p, "ffn", lw_no_attrs, 2, x, f);
}

void lw_lower_final_norm(Lowering *L, const SpecLayer *ly) {
    L->x = lw_norm(L, L->x, ly->norm, ly->norm_eps, ly->hidden_dim, ly->id, "norm.weight", "norm.bias");
}

/* logits = x W^T, W = lm_head.weight, or the embedding table when tied (Hugging Face
 * tie_word_embeddings). A tied head gets its own tensor of the same name, so each use can hold
 * the format its op asks for (the gather's activation format, the matmul's weight format). */
void lw_lower_lm_head(Lowering *L, const SpecLayer *ly) {
    const char *hf = ly->tied_to ? "embed_tokens" : "lm_head";
    L->x = lw_linear(L, L->x, ly->id, "lm_head", hf, ly->input_dim, ly->output_dim, ly->bias);
    ir_mark_output(L->g, L->x, TTC_ROLE_LOGITS);
}
