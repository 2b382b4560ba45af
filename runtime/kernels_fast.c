/* kernels_fast.c: the fast kernel of every op in ops.def, what `ttc run` executes.
 *
 * Matrix products go to OpenBLAS (cblas_sgemm), attention included: one sgemm per (batch, head)
 * that reads q, k and v in place in their [B, tokens, heads*D] layout through the leading
 * dimension, so no head is ever transposed or copied. Everything else is a single pass of the
 * vectorizable loops in kernels_vec.c. Every kernel first runs the same argument check as its
 * reference twin (kernels_check.c), so the two accept exactly the same inputs. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "kernels_check.h"
#include "kernels_collective.h"
#include "kernels_decoder.h"
#include "kernels_fused.h"
#include "kernels_vec.h"
#include "matmul_emul.h"

/* cblas takes int sizes: refuse (rather than truncate) anything larger. */
static TtcStatus fit_blas(const RtOpArgs *a, int64_t v, const char *what) {
    if (v <= INT_MAX) return TTC_OK;
    return rt_op_fail(a, TTC_E_INTERNAL, "%s %lld exceeds the BLAS limit of %d", what, (long long)v, INT_MAX);
}

/* ---- gathers ---- */

static TtcStatus fast_EMBEDDING(const RtOpArgs *a) {
    RtRowsOp d;
    TtcStatus st = rt_check_embedding(a, &d); /* also checks every id against V */
    if (st) return st;
    const int32_t *ids = a->in[0].data;
    const float *table = a->in[1].data;
    float *out = a->out.data;
    size_t row = (size_t)d.h * sizeof(float);
    for (int64_t i = 0; i < d.b * d.s; i++) memcpy(out + i * d.h, table + (int64_t)ids[i] * d.h, row);
    return TTC_OK;
}

/* Rows 0..S-1 of the table are contiguous: one copy per sequence. */
static TtcStatus fast_POS_EMBEDDING(const RtOpArgs *a) {
    RtRowsOp d;
    TtcStatus st = rt_check_pos_embedding(a, &d);
    if (st) return st;
    float *out = a->out.data;
    for (int64_t b = 0; b < d.b; b++) memcpy(out + b * d.s * d.h, a->in[0].data, (size_t)(d.s * d.h) * sizeof(float));
    return TTC_OK;
}

static TtcStatus fast_FIRST_TOKEN(const RtOpArgs *a) {
    RtRowsOp d;
    TtcStatus st = rt_check_first_token(a, &d);
    if (st) return st;
    const float *x = a->in[0].data;
    float *out = a->out.data;
    for (int64_t b = 0; b < d.b; b++) memcpy(out + b * d.h, x + b * d.s * d.h, (size_t)d.h * sizeof(float));
    return TTC_OK;
}

/* ---- elementwise ---- */

/* Elementwise ops: the shared check, then one vector routine over every element. */
static TtcStatus map_unary(const RtOpArgs *a, void (*f)(float *, const float *, int64_t)) {
    int64_t n;
    TtcStatus st = rt_check_elementwise(a, &n);
    if (st) return st;
    f(a->out.data, a->in[0].data, n);
    return TTC_OK;
}

static TtcStatus map_binary(const RtOpArgs *a, void (*f)(float *, const float *, const float *, int64_t)) {
    int64_t n;
    TtcStatus st = rt_check_elementwise(a, &n);
    if (st) return st;
    f(a->out.data, a->in[0].data, a->in[1].data, n);
    return TTC_OK;
}

static TtcStatus fast_ADD(const RtOpArgs *a) { return map_binary(a, rt_vec_add); }

static TtcStatus fast_MUL(const RtOpArgs *a) { return map_binary(a, rt_vec_mul); }

static TtcStatus fast_GELU(const RtOpArgs *a) { return map_unary(a, rt_vec_gelu); }

static TtcStatus fast_GELU_TANH(const RtOpArgs *a) { return map_unary(a, rt_vec_gelu_tanh); }

static TtcStatus fast_SILU(const RtOpArgs *a) { return map_unary(a, rt_vec_silu); }

static TtcStatus fast_RELU(const RtOpArgs *a) { return map_unary(a, rt_vec_relu); }

/* libm's tanhf: only the pooler uses tanh, on one [B,H] row per sequence, so there is nothing
 * to win from a polynomial (and tanh's small-|x| accuracy is delicate). */
static TtcStatus fast_TANH(const RtOpArgs *a) {
    int64_t n;
    TtcStatus st = rt_check_elementwise(a, &n);
    if (st) return st;
    const float *x = a->in[0].data;
    float *out = a->out.data;
    for (int64_t i = 0; i < n; i++) out[i] = tanhf(x[i]);
    return TTC_OK;
}

/* ---- norms ---- */

static TtcStatus fast_LAYERNORM(const RtOpArgs *a) {
    RtNormOp d;
    TtcStatus st = rt_check_norm(a, &d);
    if (st) return st;
    const float *x = a->in[0].data;
    float *out = a->out.data;
    for (int64_t r = 0; r < d.rows; r++)
        rt_vec_layernorm_row(out + r * d.h, x + r * d.h, a->in[1].data, a->in[2].data, d.h, a->op->attrs.eps);
    return TTC_OK;
}

static TtcStatus fast_RMSNORM(const RtOpArgs *a) {
    RtNormOp d;
    TtcStatus st = rt_check_norm(a, &d);
    if (st) return st;
    const float *x = a->in[0].data;
    float *out = a->out.data;
    for (int64_t r = 0; r < d.rows; r++)
        rt_vec_rmsnorm_row(out + r * d.h, x + r * d.h, a->in[1].data, d.h, a->op->attrs.eps);
    return TTC_OK;
}

/* ---- matrix products ---- */

/* A LINEAR whose weight was prepared for the emulated matrix unit (weight_prep.c: the op's
 * fidelity, destination or operand formats change the product): matmul_emul.c computes it. */
static TtcStatus emulated_linear(const RtOpArgs *a, const RtLinearOp *d) {
    const RtMatmulWeights *w = a->prep[1];
    if (w->n != d->n || w->k != d->k)
        return rt_op_fail(a, TTC_E_INTERNAL, "prepared weight is [%lld,%lld], the op's is [%lld,%lld]", (long long)w->n,
                          (long long)w->k, (long long)d->n, (long long)d->k);
    RtMatmulMode mode = {.fidelity = (TtcFidelity)a->op->cfg.fidelity,
                         .fp32_acc = a->op->cfg.fp32_acc,
                         .dest_round = rt_matmul_dest_rounding()};
    if (rt_matmul_emul(a->in[0].data, d->m, w, d->has_bias ? a->in[2].data : NULL, &mode, a->out.data) != TTC_OK)
        return rt_op_oom(a, "the emulated matmul's operands");
    return TTC_OK;
}

/* Up to this many rows a linear streams its weight once per row (sgemv) instead of sgemm. */
#define GEMV_MAX_ROWS 2

/* out[M,N] = x[M,K] w[N,K]^T + bias. The weight is stored [N,K] as Hugging Face's Linear
 * keeps it, so it enters sgemm transposed. The bias is written into the output first and sgemm
 * accumulates onto it (beta = 1): the bias costs one streaming write, not a second pass. */
static TtcStatus fast_LINEAR(const RtOpArgs *a) {
    RtLinearOp d;
    TtcStatus st = rt_check_linear(a, &d);
    if (st) return st;
    if (fit_blas(a, d.m, "rows") || fit_blas(a, d.n, "output features") || fit_blas(a, d.k, "input features"))
        return TTC_E_INTERNAL;
    float *out = a->out.data;
    if (d.m == 0 || d.n == 0) return TTC_OK;
    if (a->prep[1]) return emulated_linear(a, &d);
    if (d.has_bias) {
        for (int64_t m = 0; m < d.m; m++) memcpy(out + m * d.n, a->in[2].data, (size_t)d.n * sizeof(float));
    } else {
        memset(out, 0, (size_t)(d.m * d.n) * sizeof(float));
    }
    if (d.k == 0) return TTC_OK; /* an empty sum; sgemm would reject lda = 0 */
    /* A few rows (a decode step) make the product memory-bound: sgemm would first repack the
     * whole weight, reading it twice, while sgemv streams it once per row. */
    if (d.m <= GEMV_MAX_ROWS) {
        for (int64_t m = 0; m < d.m; m++)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)d.n, (int)d.k, 1.0f, a->in[1].data, (int)d.k,
                        (const float *)a->in[0].data + m * d.k, 1, 1.0f, out + m * d.n, 1);
        return TTC_OK;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d.m, (int)d.n, (int)d.k, 1.0f, a->in[0].data, (int)d.k,
                a->in[1].data, (int)d.k, 1.0f, out, (int)d.n);
    return TTC_OK;
}

/* scores[b,h] = scale q[b,:,h,:] k[b,:,h/group,:]^T, an [S,D] x [D,T] product per head. Head h of
 * token i starts at q + (b S + i) Hq D + h D: consecutive tokens are Hq*D floats apart, which is
 * the leading dimension sgemm is given. */
static TtcStatus fast_ATTN_SCORES(const RtOpArgs *a) {
    RtAttnOp d;
    TtcStatus st = rt_check_attn_scores(a, &d);
    if (st) return st;
    if (fit_blas(a, d.s, "query tokens") || fit_blas(a, d.t, "context") || fit_blas(a, d.hq * d.d, "q features"))
        return TTC_E_INTERNAL;
    const float *q = a->in[0].data, *k = a->in[1].data;
    float *out = a->out.data;
    if (d.s == 0 || d.t == 0) return TTC_OK;
    int ldq = (int)(d.hq * d.d), ldk = (int)(d.hkv * d.d);
    for (int64_t b = 0; b < d.b; b++) {
        for (int64_t h = 0; h < d.hq; h++) {
            const float *qh = q + b * d.s * ldq + h * d.d;
            const float *kh = k + b * rt_stride0(&a->in[1]) + (h / d.group) * d.d;
            float *sh = out + (b * d.hq + h) * d.s * d.t;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d.s, (int)d.t, (int)d.d, a->op->attrs.scale, qh,
                        ldq, kh, ldk, 0.0f, sh, (int)d.t);
        }
    }
    return TTC_OK;
}

/* context[b,:,h,:] = probs[b,h] v[b,:,h/group,:], an [S,T] x [T,D] product per head written
 * straight into the head's columns of the [B,S,Hq*D] output (leading dimension Hq*D). */
static TtcStatus fast_ATTN_CONTEXT(const RtOpArgs *a) {
    RtAttnOp d;
    TtcStatus st = rt_check_attn_context(a, &d);
    if (st) return st;
    if (fit_blas(a, d.s, "query tokens") || fit_blas(a, d.t, "context") || fit_blas(a, d.hq * d.d, "output features"))
        return TTC_E_INTERNAL;
    const float *p = a->in[0].data, *v = a->in[1].data;
    float *out = a->out.data;
    if (d.s == 0) return TTC_OK;
    int ldo = (int)(d.hq * d.d), ldv = (int)(d.hkv * d.d);
    if (d.t == 0) { /* an empty sum; sgemm would reject lda = 0 */
        memset(out, 0, (size_t)(d.b * d.s * ldo) * sizeof(float));
        return TTC_OK;
    }
    for (int64_t b = 0; b < d.b; b++) {
        for (int64_t h = 0; h < d.hq; h++) {
            const float *ph = p + (b * d.hq + h) * d.s * d.t;
            const float *vh = v + b * rt_stride0(&a->in[1]) + (h / d.group) * d.d;
            float *oh = out + b * d.s * ldo + h * d.d;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d.s, (int)d.d, (int)d.t, 1.0f, ph, (int)d.t, vh,
                        ldv, 0.0f, oh, ldo);
        }
    }
    return TTC_OK;
}

/* ---- softmax ---- */

/* Query i sits at absolute position pos = T - S + i. Causal: it sees keys j <= pos. Sliding
 * window w: it also needs j > pos - w, so it sees the last w positions including itself. Both
 * are one interval of keys, [lo, hi); the padding mask hides keys inside it. */
static TtcStatus fast_SOFTMAX(const RtOpArgs *a) {
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
                int64_t pos = d.t - d.s + i;
                int64_t lo = at->window > 0 ? pos - at->window + 1 : 0;
                int64_t hi = at->causal ? pos + 1 : d.t;
                int64_t row = ((b * d.hq + h) * d.s + i) * d.t;
                rt_vec_softmax_row(out + row, x + row, d.t, lo, hi, mask ? mask + b * d.t : NULL);
            }
        }
    }
    return TTC_OK;
}

/* Indexed by TtcOpKind. Built from ops.def, so an op without fast_<ID> does not compile. */
const RtKernel rt_fast_kernels[TTC_OP_COUNT] = {
#define OP(id, name, min_in, max_in, summary) [TTC_OP_##id] = fast_##id,
#include "ops.def"
#undef OP
};
