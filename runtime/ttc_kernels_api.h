/* ttc_kernels_api.h: the runtime's kernels as plain C calls, for generated C (`ttc compile
 * --emit c`) and embedders who write their own model code.
 *
 * Each function runs the same fast kernel `ttc run` runs for that op (rt_fast_kernels), on the
 * same arguments the plan executor would build from the actual sizes given here, so a program
 * that calls them in plan order, and rounds each output to its op's activation format with
 * ttc_round_to_dtype (numerics.h), computes exactly what the plan runtime computes.
 *
 * Errors are sticky, like a stream's error flag: a failing call records the error in st->err
 * and every later call on the same step returns at once with that status. Model code can
 * therefore read straight through and check st->err->status once at the end. */
#ifndef TTC_KERNELS_API_H
#define TTC_KERNELS_API_H

#include <stdint.h>

#include "kernels.h"
#include "ttc_runtime.h"

/* One execution of an entry point: where its activations live and how large it actually is. */
typedef struct TtcStep {
    uint8_t *arena;  /* activations, at the offsets the compiler's memory plan chose */
    int64_t batch;   /* B: sequences */
    int64_t seq;     /* S: tokens in this step (the prompt in prefill, 1 in decode) */
    int64_t ctx;     /* T: tokens of attention context, past + S */
    TtcError *err;   /* the first failure of the step */
} TtcStep;

/* A weight as loaded: device-format values (as fp32), and what weight_prep.c prepared from it
 * for the emulated matrix unit (NULL when the product needs nothing beyond the values). */
typedef struct TtcWeight {
    const float *data;
    const void *prep;
} TtcWeight;

/* Tensor `t` of a loaded model as a TtcWeight. */
TtcWeight ttc_model_weight(const TtcModel *m, int t);

/* Copies n ids into an input's place in the arena; NULL src fills `fill` (token types 0, mask 1). */
void ttc_place_ids(int32_t *dst, const int32_t *src, int64_t n, int32_t fill);

/* ---- gathers ---- */

/* out[B,S,H] = table[ids[b,s]]; every id is checked against V first. */
TtcStatus ttc_embedding(TtcStep *st, const TtcOpDesc *op, float *out, const int32_t *ids, int64_t batch, int64_t seq,
                        TtcWeight table, int64_t vocab, int64_t hidden);
/* out[B,S,H] = rows 0..S-1 of a learned position table [P,H]. */
TtcStatus ttc_pos_embedding(TtcStep *st, const TtcOpDesc *op, float *out, int64_t batch, int64_t seq, TtcWeight table,
                            int64_t positions, int64_t hidden);
/* out[B,H] = x[:,0,:] of x[B,S,H]. */
TtcStatus ttc_first_token(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t batch, int64_t seq,
                          int64_t hidden);

/* ---- elementwise, over n values (out may be an input) ---- */

TtcStatus ttc_add(TtcStep *st, const TtcOpDesc *op, float *out, const float *a, const float *b, int64_t n);
TtcStatus ttc_mul(TtcStep *st, const TtcOpDesc *op, float *out, const float *a, const float *b, int64_t n);
TtcStatus ttc_gelu(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n);
TtcStatus ttc_gelu_tanh(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n);
TtcStatus ttc_silu(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n);
TtcStatus ttc_relu(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n);
TtcStatus ttc_tanh(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n);
/* Core-grid resharding inside a chip: on the host, out = x (its cost is the device's). */
TtcStatus ttc_reshard(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t n);

/* ---- norms over the last dim of x[rows, H]; eps from op->attrs ---- */

TtcStatus ttc_layernorm(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows, int64_t hidden,
                        TtcWeight gamma, TtcWeight beta);
TtcStatus ttc_rmsnorm(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows, int64_t hidden,
                      TtcWeight gamma);

/* ---- matrix products ---- */

/* out[M,N] = x[M,K] w[N,K]^T (+ bias[N]), emulating the op's fidelity and accumulation. */
TtcStatus ttc_linear(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows, int64_t in_features,
                     int64_t out_features, TtcWeight w);
TtcStatus ttc_linear_bias(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t rows,
                          int64_t in_features, int64_t out_features, TtcWeight w, TtcWeight bias);

/* ---- attention; heads, kv_heads, head_dim and scale from op->attrs ----
 * k and v are [B, T, kv_heads*head_dim] with `row_stride` floats from one sequence to the next:
 * T*F for a dense tensor, capacity*F for a view of the KV cache. */

/* out[B,Hq,S,T] = scale q k^T per head, q [B,S,Hq*D]. */
TtcStatus ttc_attn_scores(TtcStep *st, const TtcOpDesc *op, float *out, const float *q, const float *k, int64_t batch,
                          int64_t seq, int64_t ctx, int64_t k_row_stride);
/* Softmax over T of scores [B,H,S,T] with the op's causal/window masks (out may be scores). */
TtcStatus ttc_softmax(TtcStep *st, const TtcOpDesc *op, float *out, const float *scores, int64_t batch, int64_t heads,
                      int64_t seq, int64_t ctx);
/* The same, also hiding keys where mask[B,T] is 0 (padding). */
TtcStatus ttc_softmax_masked(TtcStep *st, const TtcOpDesc *op, float *out, const float *scores, const int32_t *mask,
                             int64_t batch, int64_t heads, int64_t seq, int64_t ctx);
/* out[B,S,Hq*D] = probs v per head, probs [B,Hq,S,T]. */
TtcStatus ttc_attn_context(TtcStep *st, const TtcOpDesc *op, float *out, const float *probs, const float *v,
                           int64_t batch, int64_t seq, int64_t ctx, int64_t v_row_stride);

/* ---- decoders ---- */

/* Rotate-half RoPE of x[B,S,heads*D] at positions T-S..T-1 (heads, head_dim, rope_* from attrs). */
TtcStatus ttc_rope(TtcStep *st, const TtcOpDesc *op, float *out, const float *x, int64_t batch, int64_t seq);
/* Writes x[B,S,F] into rows T-S..T-1 of each sequence's cache [B, capacity, F]. */
TtcStatus ttc_kv_update(TtcStep *st, const TtcOpDesc *op, float *cache, const float *x, int64_t batch, int64_t seq,
                        int64_t features, int64_t ctx, int64_t capacity);

/* ---- fused ops (the `fuse` pass) ---- */

/* Scores, masked softmax and context in one tiled pass (heads, kv_heads, head_dim, scale, causal,
 * window, q_col, k_col, v_col from op->attrs): q [B,S,q_width], k [B,T,k_width], v [B,T,v_width]
 * with k and v stepping *_row_stride floats per sequence (a cache view, or T*width); mask [B,T]
 * or NULL; out [B,S,heads*head_dim]. */
TtcStatus ttc_attention(TtcStep *st, const TtcOpDesc *op, float *out, const float *q, const float *k, const float *v,
                        const int32_t *mask, int64_t batch, int64_t seq, int64_t ctx, int64_t q_width, int64_t k_width,
                        int64_t k_row_stride, int64_t v_width, int64_t v_row_stride);
/* layernorm(a + b) over rows x hidden (eps from op->attrs; out may be a or b). */
TtcStatus ttc_add_layernorm(TtcStep *st, const TtcOpDesc *op, float *out, const float *a, const float *b, int64_t rows,
                            int64_t hidden, TtcWeight gamma, TtcWeight beta);
/* A linear's epilogue (op->attrs.epilogue), in place on its output x [outer, seq, features]: an
 * activation, or RoPE on the q and k heads of a fused qkv projection (positions T-S..T-1). */
TtcStatus ttc_epilogue(TtcStep *st, const TtcOpDesc *op, float *x, int64_t outer, int64_t seq, int64_t features);
/* ttc_kv_update for new rows [B,S,width] of which columns op->attrs.k_col.. (features of them)
 * go to the cache: the cache update of a fused qkv projection. */
TtcStatus ttc_kv_update_cols(TtcStep *st, const TtcOpDesc *op, float *cache, const float *x, int64_t batch,
                             int64_t seq, int64_t width, int64_t features, int64_t ctx, int64_t capacity);

#endif
