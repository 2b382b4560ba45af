/* kernels_decoder.c: RoPE and the KV-cache update (also the rotations a fused qkv projection
 * applies in its epilogue: kernels_fused.c). */
#include "kernels_decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_check.h"
#include "numerics.h"

void rt_rope_inv_freq(const TtcAttrs *at, float *inv_freq) {
    int half = at->head_dim / 2;
    for (int i = 0; i < half; i++)
        inv_freq[i] = 1.0f / powf(at->rope_theta, (float)(2 * i) / (float)at->head_dim);
    if (at->rope_scaling != 1) return;
    /* Llama 3: wavelengths longer than the original context / low_freq_factor are slowed by
     * `factor`, shorter than original / high_freq_factor kept, and those between blended. */
    double orig = at->rope_orig_max, lo = at->rope_low_freq, hi = at->rope_high_freq, factor = at->rope_factor;
    double low_wavelen = orig / lo, high_wavelen = orig / hi;
    for (int i = 0; i < half; i++) {
        double f = inv_freq[i], wavelen = 2.0 * M_PI / f;
        if (wavelen < high_wavelen) continue;
        if (wavelen > low_wavelen) {
            inv_freq[i] = (float)(f / factor);
        } else {
            double smooth = (orig / wavelen - lo) / (hi - lo);
            inv_freq[i] = (float)((1.0 - smooth) * f / factor + smooth * f);
        }
    }
}

/* Shared argument checks: x [B,S,heads*D] -> out of the same dims, D even. */
static TtcStatus check_rope(const RtOpArgs *a, int64_t *b, int64_t *s) {
    const TtcAttrs *at = &a->op->attrs;
    const RtTensor *x = &a->in[0];
    if (a->n_in != 1 || x->rank != 3 || a->out.rank != 3 || at->head_dim <= 0 || at->head_dim % 2 || at->heads <= 0 ||
        x->dims[2] != (int64_t)at->heads * at->head_dim || memcmp(x->dims, a->out.dims, sizeof x->dims) != 0)
        return rt_op_fail(a, TTC_E_INTERNAL, "rope expects x [B,S,%d*%d] and an output of the same dims", at->heads,
                          at->head_dim);
    if (!a->bind) return rt_op_fail(a, TTC_E_INTERNAL, "rope needs the step's bindings");
    *b = x->dims[0];
    *s = x->dims[1];
    return TTC_OK;
}

/* Token i of the step sits at position past + i, past = context - step tokens. Hugging Face's
 * rotate-half: out[j] = x[j] cos - x[j+D/2] sin, out[j+D/2] = x[j+D/2] cos + x[j] sin, with the
 * angle pos * inv_freq[j] formed in float32 (as its float32 position/frequency product does). */
static float rope_angle(int64_t pos, float inv_freq) { return (float)pos * inv_freq; }

TtcStatus rt_rope_rotate(const TtcAttrs *at, int64_t heads, const float *x, float *out, int64_t rows, int64_t seq,
                         int64_t width, int64_t col, int64_t past) {
    int64_t D = at->head_dim, half = D / 2, S = seq < rows ? seq : rows;
    if (rows == 0 || heads == 0) return TTC_OK;
    float *inv = malloc((size_t)half * sizeof *inv), *cs = malloc((size_t)(S * half * 2) * sizeof *cs);
    if (!inv || !cs) {
        free(inv);
        free(cs);
        return TTC_E_INTERNAL;
    }
    rt_rope_inv_freq(at, inv);
    /* One cos/sin table per step, shared by every batch row and head. */
    for (int64_t i = 0; i < S; i++)
        for (int64_t j = 0; j < half; j++) {
            float ang = rope_angle(past + i, inv[j]);
            cs[(i * half + j) * 2] = (float)cos((double)ang);
            cs[(i * half + j) * 2 + 1] = (float)sin((double)ang);
        }
    /* Both halves of a pair are read before either is written, so out may be x. */
    for (int64_t r = 0; r < rows; r++) {
        const float *tab = cs + (r % seq) * half * 2;
        for (int64_t h = 0; h < heads; h++) {
            const float *xh = x + r * width + col + h * D;
            float *oh = out + r * width + col + h * D;
            for (int64_t j = 0; j < half; j++) {
                float c = tab[2 * j], sn = tab[2 * j + 1], x1 = xh[j], x2 = xh[j + half];
                oh[j] = x1 * c - x2 * sn;
                oh[j + half] = x2 * c + x1 * sn;
            }
        }
    }
    free(inv);
    free(cs);
    return TTC_OK;
}

TtcStatus fast_ROPE(const RtOpArgs *a) {
    int64_t B, S;
    TtcStatus st = check_rope(a, &B, &S);
    if (st) return st;
    const TtcAttrs *at = &a->op->attrs;
    int64_t past = a->bind->v[TTC_SYM_CTX] - a->bind->v[TTC_SYM_SEQ];
    if (rt_rope_rotate(at, at->heads, a->in[0].data, a->out.data, B * S, S, (int64_t)at->heads * at->head_dim, 0,
                       past) != TTC_OK)
        return rt_op_oom(a, "the rotation table");
    return TTC_OK;
}

TtcStatus rt_rope_rotate_ref(const TtcAttrs *at, int64_t heads, const float *x, float *out, int64_t rows,
                             int64_t seq, int64_t width, int64_t col, int64_t past) {
    int64_t D = at->head_dim, half = D / 2;
    float inv[4096];
    if (half > 4096) return TTC_E_INTERNAL;
    rt_rope_inv_freq(at, inv);
    double *row = malloc((size_t)(D > 0 ? D : 1) * sizeof *row);
    if (!row) return TTC_E_INTERNAL;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t h = 0; h < heads; h++) {
            int64_t base = r * width + col + h * D;
            /* rotate_half(x)[j] = -x[j + D/2] for j < D/2, x[j - D/2] after; the head is read
             * whole before it is written, so out may be x */
            for (int64_t j = 0; j < D; j++) {
                double ang = rope_angle(past + r % seq, inv[j % half]);
                double rot = j < half ? -(double)x[base + j + half] : (double)x[base + j - half];
                row[j] = (double)x[base + j] * cos(ang) + rot * sin(ang);
            }
            for (int64_t j = 0; j < D; j++) out[base + j] = (float)row[j];
        }
    free(row);
    return TTC_OK;
}

TtcStatus ref_ROPE(const RtOpArgs *a) {
    int64_t B, S;
    TtcStatus st = check_rope(a, &B, &S);
    if (st) return st;
    const TtcAttrs *at = &a->op->attrs;
    int64_t past = a->bind->v[TTC_SYM_CTX] - a->bind->v[TTC_SYM_SEQ];
    if (at->head_dim / 2 > 4096)
        return rt_op_fail(a, TTC_E_INTERNAL, "head_dim %d too large for the reference rope", at->head_dim);
    if (rt_rope_rotate_ref(at, at->heads, a->in[0].data, a->out.data, B * S, S, (int64_t)at->heads * at->head_dim, 0,
                           past) != TTC_OK)
        return rt_op_oom(a, "the reference rope");
    return TTC_OK;
}

/* new [B,S,W] rows go to positions past..past+S-1 of the cache [B, Tmax, F] (row stride
 * stride0): columns k_col..k_col+F-1 of each new row (all of it, F = W, unless a fused qkv
 * projection feeds the update); the output is the view [B, past+S, F] of the same buffer. */
static TtcStatus check_kv(const RtOpArgs *a, int64_t *past) {
    const RtTensor *n = &a->in[0], *c = &a->in[1], *o = &a->out;
    int64_t col = a->op->attrs.k_col;
    if (n->rank != 3 || c->rank != 3 || o->rank != 3 || n->dims[0] != c->dims[0] || col < 0 ||
        col + c->dims[2] > n->dims[2] || o->data != c->data || o->dims[0] != n->dims[0] || o->dims[2] != c->dims[2])
        return rt_op_fail(a, TTC_E_INTERNAL, "kv_update expects new [B,S,W] with columns %lld.. of width F inside W, "
                          "cache [B,Tmax,F] and its view as output", (long long)col);
    *past = o->dims[1] - n->dims[1];
    if (*past < 0 || o->dims[1] > c->dims[1])
        return rt_op_fail(a, TTC_E_INTERNAL, "context %lld does not fit the cache's %lld positions",
                          (long long)o->dims[1], (long long)c->dims[1]);
    return TTC_OK;
}

/* The cache is held in its format (kv_cache.dtype, carried in the op's weight_dtype): the rows
 * just written are rounded to it, bfp blocks being the 16-value face rows along head_dim of each
 * head (DEVICE.md §3, host rounding). Rows of earlier steps were rounded when written. */
static void round_written_rows(const RtOpArgs *a, int64_t past) {
    TtcDType fmt = (TtcDType)a->op->cfg.weight_dtype;
    if (fmt == TTC_F32 || fmt == TTC_I32 || fmt >= TTC_DTYPE_COUNT) return;
    int64_t S = a->in[0].dims[1], F = a->in[1].dims[2], stride = rt_stride0(&a->in[1]);
    int64_t D = a->op->attrs.head_dim > 0 && F % a->op->attrs.head_dim == 0 ? a->op->attrs.head_dim : F;
    for (int64_t b = 0; b < a->in[0].dims[0]; b++)
        ttc_round_to_dtype((float *)a->in[1].data + b * stride + past * F, S * F, D, fmt);
}

TtcStatus fast_KV_UPDATE(const RtOpArgs *a) {
    int64_t past;
    TtcStatus st = check_kv(a, &past);
    if (st) return st;
    const RtTensor *n = &a->in[0];
    int64_t S = n->dims[1], W = n->dims[2], F = a->in[1].dims[2], col = a->op->attrs.k_col;
    int64_t stride = rt_stride0(&a->in[1]);
    const float *src = (const float *)n->data + col;
    for (int64_t b = 0; b < n->dims[0]; b++) {
        float *dst = (float *)a->in[1].data + b * stride + past * F;
        if (W == F) {
            memcpy(dst, src + b * S * W, (size_t)(S * F) * sizeof(float));
            continue;
        }
        for (int64_t i = 0; i < S; i++) memcpy(dst + i * F, src + (b * S + i) * W, (size_t)F * sizeof(float));
    }
    round_written_rows(a, past);
    return TTC_OK;
}

TtcStatus ref_KV_UPDATE(const RtOpArgs *a) {
    int64_t past;
    TtcStatus st = check_kv(a, &past);
    if (st) return st;
    const RtTensor *n = &a->in[0];
    const float *src = n->data;
    float *cache = a->in[1].data;
    int64_t S = n->dims[1], W = n->dims[2], F = a->in[1].dims[2], col = a->op->attrs.k_col;
    int64_t stride = rt_stride0(&a->in[1]);
    for (int64_t b = 0; b < n->dims[0]; b++)
        for (int64_t i = 0; i < S; i++)
            for (int64_t f = 0; f < F; f++) cache[b * stride + (past + i) * F + f] = src[(b * S + i) * W + col + f];
    return TTC_OK;
}
