/* lower_internal.h: what the encoder and decoder lowerings share (internal to compiler/lower*.c). */
#ifndef TTC_LOWER_INTERNAL_H
#define TTC_LOWER_INTERNAL_H

#include "lower.h"

typedef struct Lowering {
    const Spec *spec;
    const LowerOptions *opt;
    Graph *g;
    Diags *d;
    TtcDim B, S; /* batch and step-token dims */
    int mask;    /* value id of attention_mask, -1 when none */
    int x;       /* the running hidden state */
    int pooled;  /* pooler output, -1 when none */
    int embed_table; /* the token embedding weight (for tied heads), -1 before the embedding */
} Lowering;

extern const TtcAttrs lw_no_attrs;

/* Formats a weight or path name into a TTC_NAME_MAX buffer. */
void lw_name(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<layer id>.<suffix>" */
void lw_path(char *buf, const SpecLayer *ly, const char *suffix);
TtcShape lw_vec(int64_t n);
TtcShape lw_mat(int64_t rows, int64_t cols);
/* Appends op `kind` on n_in inputs (varargs ints); returns its output value. */
int lw_op(Lowering *L, TtcOpKind kind, const char *path, const char *type, TtcAttrs attrs, int n_in, ...);
/* x W^T + b with Hugging Face names "<hf>.weight" / "<hf>.bias". */
int lw_linear(Lowering *L, int x, const char *path, const char *type, const char *hf, int64_t in_dim, int64_t out_dim,
              int bias);
/* LayerNorm (weights hf_w, hf_b) or RMSNorm (hf_w only). */
int lw_norm(Lowering *L, int x, int kind, double eps, int64_t dim, const char *path, const char *hf_w,
            const char *hf_b);
TtcOpKind lw_activation_op(int spec_activation);
/* Head geometry with the spec's defaults applied (DESIGN.md §3). */
int64_t lw_head_dim(const SpecLayer *ly);
int64_t lw_kv_heads(const SpecLayer *ly);
/* scores -> masked softmax -> context over q [B,S,Hq*D] and k, v [B,T,Hkv*D]. */
int lw_attention_core(Lowering *L, const SpecLayer *ly, int q, int k, int v);

void lw_lower_encoder_layer(Lowering *L, const SpecLayer *ly);
void lw_lower_encoder_embedding(Lowering *L, const SpecLayer *ly);
void lw_lower_pooler(Lowering *L, const SpecLayer *ly);
void lw_lower_decoder_embedding(Lowering *L, const SpecLayer *ly);
void lw_lower_decoder_layer(Lowering *L, const SpecLayer *ly);
void lw_lower_final_norm(Lowering *L, const SpecLayer *ly);
void lw_lower_lm_head(Lowering *L, const SpecLayer *ly);

#endif
