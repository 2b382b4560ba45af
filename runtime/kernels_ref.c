/* kernels_ref.c: the reference kernel of every op in ops.def.
 *
 * These are the golden that tests and `ttc run --check` compare against, so they are written to
 * be obviously right rather than fast: one plain loop nest per op, straight from the formula,
 * sums and transcendental functions in double, no BLAS, no blocking, no shared tricks with the
 * fast kernels (only the argument checks are shared, so both sets accept the same inputs). */
#include <float.h>
#include <math.h>

#include "kernels_check.h"
#include "kernels_collective.h"
#include "kernels_decoder.h"
#include "kernels_fused.h"

/* ---- gathers ---- */

/* ids[B,S] i32, table[V,H] -> [B,S,H]: out[b,s,:] = table[ids[b,s],:] */
static TtcStatus ref_EMBEDDING(const RtOpArgs *a) {
    RtRowsOp d;
    TtcStatus st = rt_check_embedding(a, &d);
    if (st) return st;
    const int32_t *ids = a->in[0].data;
    const float *table = a->in[1].data;
    float *out = a->out.data;
    for (int64_t b = 0; b < d.b; b++) {
        for (int64_t s = 0; s < d.s; s++) {
            int32_t id = ids[b * d.s + s]; /* in [0, V): rt_check_embedding looked at every id */
            for (int64_t h = 0; h < d.h; h++) out[(b * d.s + s) * d.h + h] = table[(int64_t)id * d.h + h];
        }
    }
    return TTC_OK;
}

/* table[P,H] -> [B,S,H]: out[b,s,:] = table[s,:] */
static TtcStatus ref_POS_EMBEDDING(const RtOpArgs *a) {
    RtRowsOp d;
    TtcStatus st = rt_check_pos_embedding(a, &d);
    if (st) return st;
    const float *table = a->in[0].data;
    float *out = a->out.data;
    for (int64_t b = 0; b < d.b; b++)
        for (int64_t s = 0; s < d.s; s++)
            for (int64_t h = 0; h < d.h; h++) out[(b * d.s + s) * d.h + h] = table[s * d.h + h];
    return TTC_OK;
}

/* x[B,S,H] -> [B,H]: out[b,:] = x[b,0,:] */
static TtcStatus ref_FIRST_TOKEN(const RtOpArgs *a) {
    RtRowsOp d;
    TtcStatus st = rt_check_first_token(a, &d);
    if (st) return st;
    const float *x = a->in[0].data;
    float *out = a->out.data;
    for (int64_t b = 0; b < d.b; b++)
        for (int64_t h = 0; h < d.h; h++) out[b * d.h + h] = x[(b * d.s + 0) * d.h + h];
    return TTC_OK;
}

/* ---- elementwise ---- */

static TtcStatus ref_ADD(const RtOpArgs *a) {
    int64_t n;
    TtcStatus st = rt_check_elementwise(a, &n);
    if (st) return st;
    const float *x = a->in[0].data, *y = a->in[1].data;
    float *out = a->out.data;
    for (int64_t i = 0; i < n; i++) out[i] = x[i] + y[i];
    return TTC_OK;
}

static TtcStatus ref_MUL(const RtOpArgs *a) {
    int64_t n;
    TtcStatus st = rt_check_elementwise(a, &n);
    if (st) return st;
    const float *x = a->in[0].data, *y = a->in[1].data;
    float *out = a->out.data;
    for (int64_t i = 0; i < n; i++) out[i] = x[i] * y[i];
    return TTC_OK;
}

/* out[i] = f(x[i]), f evaluated in double. */
static TtcStatus map_unary(const RtOpArgs *a, double (*f)(double)) {
    int64_t n;
    TtcStatus st = rt_check_elementwise(a, &n);
    if (st) return st;
    const float *x = a->in[0].data;
    float *out = a->out.data;
    for (int64_t i = 0; i < n; i++) out[i] = (float)f((double)x[i]);
    return TTC_OK;
}

/* x * Phi(x), Phi the standard normal CDF written with erf */
static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* the tanh approximation of Hendrycks & Gimpel (GPT-2's "gelu_new") */
static double gelu_tanh(double x) {
    const double pi = 3.14159265358979323846;
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}

static double silu(double x) { return x / (1.0 + exp(-x)); }
static double relu(double x) { return x < 0.0 ? 0.0 : x; } /* NaN stays NaN, as in PyTorch */

static TtcStatus ref_GELU(const RtOpArgs *a) { return map_unary(a, gelu); }
static TtcStatus ref_GELU_TANH(const RtOpArgs *a) { return map_unary(a, gelu_tanh); }
static TtcStatus ref_SILU(const RtOpArgs *a) { return map_unary(a, silu); }
static TtcStatus ref_RELU(const RtOpArgs *a) { return map_unary(a, relu); }
static TtcStatus ref_TANH(const RtOpArgs *a) { return map_unary(a, tanh); }

/* ---- norms (over the last dim, biased variance, eps inside the square root) ---- */

static TtcStatus ref_LAYERNORM(const RtOpArgs *a) {
    RtNormOp d;
    TtcStatus st = rt_check_norm(a, &d);
    if (st) return st;
    const float *x = a->in[0].data, *gamma = a->in[1].data, *beta = a->in[2].data;
    float *out = a->out.data;
    double eps = a->op->attrs.eps;
    for (int64_t r = 0; r < d.rows; r++) {
        const float *xr = x + r * d.h;
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < d.h; i++) mean += xr[i];
        mean /= (double)d.h;
        for (int64_t i = 0; i < d.h; i++) var += (xr[i] - mean) * (xr[i] - mean);
        var /= (double)d.h;
        double inv_std = 1.0 / sqrt(var + eps);
        for (int64_t i = 0; i < d.h; i++)
            out[r * d.h + i] = (float)((xr[i] - mean) * inv_std * gamma[i] + beta[i]);
    }
    return TTC_OK;
}

static TtcStatus ref_RMSNORM(const RtOpArgs *a) {
    RtNormOp d;
    TtcStatus st = rt_check_norm(a, &d);
    if (st) return st;
    const float *x = a->in[0].data, *gamma = a->in[1].data;
    float *out = a->out.data;
    double eps = a->op->attrs.eps;
    for (int64_t r = 0; r < d.rows; r++) {
        const float *xr = x + r * d.h;
        double mean_sq = 0.0;
        for (int64_t i = 0; i < d.h; i++) mean_sq += (double)xr[i] * xr[i];
        mean_sq /= (double)d.h;
        double inv_rms = 1.0 / sqrt(mean_sq + eps);
        for (int64_t i = 0; i < d.h; i++) out[r * d.h + i] = (float)(xr[i] * inv_rms * gamma[i]);
    }
    return TTC_OK;
}

/* ---- matrix products ---- */

/* x[M,K], w[N,K], bias[N]? -> out[m,n] = sum_k x[m,k] w[n,k] + bias[n] */
static TtcStatus ref_LINEAR(const RtOpArgs *a) {
    RtLinearOp d;
    TtcStatus st = rt_check_linear(a, &d);
    if (st) return st;
    const float *x = a->in[0].data, *w = a->in[1].data;
    const float *bias = d.has_bias ? a->in[2].data : NULL;
    float *out = a->out.data;
    for (int64_t m = 0; m < d.m; m++) {
        for (int64_t n = 0; n < d.n; n++) {
            double acc = bias ? bias[n] : 0.0;
            for (int64_t k = 0; k < d.k; k++) acc += (double)x[m * d.k + k] * w[n * d.k + k];
            out[m * d.n + n] = (float)acc;
        }
    }
    return TTC_OK;
}

/* q[B,S,Hq*D], k[B,T,Hkv*D] -> out[b,h,i,j] = scale * sum_d q[b,i,h,d] k[b,j,h/group,d] */
static TtcStatus ref_ATTN_SCORES(const RtOpArgs *a) {
    RtAttnOp d;
    TtcStatus st = rt_check_attn_scores(a, &d);
    if (st) return st;
    const float *q = a->in[0].data, *k = a->in[1].data;
    float *out = a->out.data;
    double scale = a->op->attrs.scale;
    for (int64_t b = 0; b < d.b; b++) {
        for (int64_t h = 0; h < d.hq; h++) {
            int64_t kvh = h / d.group;
            for (int64_t i = 0; i < d.s; i++) {
                for (int64_t j = 0; j < d.t; j++) {
                    double acc = 0.0;
                    for (int64_t e = 0; e < d.d; e++)
                        acc += (double)q[(b * d.s + i) * d.hq * d.d + h * d.d + e] *
                               k[b * rt_stride0(&a->in[1]) + j * d.hkv * d.d + kvh * d.d + e];
                    out[((b * d.hq + h) * d.s + i) * d.t + j] = (float)(scale * acc);
                }
            }
        }
    }
    return TTC_OK;
}

/* probs[B,Hq,S,T], v[B,T,Hkv*D] -> out[b,i,h,d] = sum_j probs[b,h,i,j] v[b,j,h/group,d] */
static TtcStatus ref_ATTN_CONTEXT(const RtOpArgs *a) {
    RtAttnOp d;
    TtcStatus st = rt_check_attn_context(a, &d);
    if (st) return st;
    const float *p = a->in[0].data, *v = a->in[1].data;
    float *out = a->out.data;
    for (int64_t b = 0; b < d.b; b++) {
        for (int64_t h = 0; h < d.hq; h++) {
            int64_t kvh = h / d.group;
            for (int64_t i = 0; i < d.s; i++) {
                for (int64_t e = 0; e < d.d; e++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j < d.t; j++)
                        acc += (double)p[((b * d.hq + h) * d.s + i) * d.t + j] *
                               v[b * rt_stride0(&a->in[1]) + j * d.hkv * d.d + kvh * d.d + e];
                    out[(b * d.s + i) * d.hq * d.d + h * d.d + e] = (float)acc;
                }
            }
        }
    }
    return TTC_OK;
}

/* ---- softmax ---- */

/* May query `i` (absolute position pos) of batch row `b` attend to key `j`? */
static int key_visible(const TtcAttrs *at, const int32_t *mask, int64_t b, int64_t t, int64_t pos, int64_t j) {
    if (mask && mask[b * t + j] == 0) return 0;
    if (at->causal && j > pos) return 0;
    if (at->window > 0 && j <= pos - at->window) return 0;
    return 1;
}

/* scores[B,Hq,S,T] -> softmax over T. A hidden key's score is replaced by the most negative
 * finite float (what Hugging Face's additive (1 - mask) * finfo.min produces for any score
 * smaller than 1e31), so it gets probability 0, and a row whose keys are all hidden becomes
 * uniform over T rather than NaN. */
static TtcStatus ref_SOFTMAX(const RtOpArgs *a) {
    RtAttnOp d;
    TtcStatus st = rt_check_softmax(a, &d);
    if (st) return st;
    const TtcAttrs *at = &a->op->attrs;
    const float *x = a->in[0].data;
    const int32_t *mask = at->has_mask ? a->in[1].data : NULL;
    float *out = a->out.data;
    for (int64_t b = 0; b < d.b; b++) {
        for (int64_t h = 0; h < d.hq; h++) {
            for (int64_t i = 0; i < d.s; i++) {
                int64_t row = ((b * d.hq + h) * d.s + i) * d.t;
                int64_t pos = d.t - d.s + i;
                double max = -INFINITY, visible_max = -INFINITY;
                int any_visible = 0;
                for (int64_t j = 0; j < d.t; j++) {
                    int visible = key_visible(at, mask, b, d.t, pos, j);
                    double v = visible ? x[row + j] : -FLT_MAX;
                    if (v > max) max = v;
                    any_visible |= visible;
                    if (visible && v > visible_max) visible_max = v;
                }
                /* Every visible score -inf: the softmax over the visible keys is 0 / 0, NaN (as
                 * PyTorch's softmax of an all -inf row). Without this the -FLT_MAX of the hidden
                 * keys would win and spread the row over them: a finite answer hiding the inf. */
                if (any_visible && visible_max == -INFINITY) max = NAN;
                double sum = 0.0;
                for (int64_t j = 0; j < d.t; j++) {
                    double v = key_visible(at, mask, b, d.t, pos, j) ? x[row + j] : -FLT_MAX;
                    sum += exp(v - max);
                }
                for (int64_t j = 0; j < d.t; j++) {
                    double v = key_visible(at, mask, b, d.t, pos, j) ? x[row + j] : -FLT_MAX;
                    out[row + j] = (float)(exp(v - max) / sum);
                }
            }
        }
    }
    return TTC_OK;
}

/* Indexed by TtcOpKind. Built from ops.def, so an op without ref_<ID> does not compile. */
const RtKernel rt_ref_kernels[TTC_OP_COUNT] = {
#define OP(id, name, min_in, max_in, summary) [TTC_OP_##id] = ref_##id,
#include "ops.def"
#undef OP
};
