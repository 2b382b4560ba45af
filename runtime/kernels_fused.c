/* kernels_fused.c: the fused ops' kernels (see kernels_fused.h), fast and reference.
 *
 * The fast attention kernel is the flash-attention scheme on the host: for each sequence and
 * query head it walks blocks of RT_ATTN_BLOCK_Q queries against blocks of RT_ATTN_BLOCK_K keys,
 * forms one block of scores with sgemm, and folds it into running row maxima, row sums and an
 * unnormalized context (rescaled by exp(old max - new max) whenever a maximum grows). No more
 * than one block of scores exists at a time, so memory does not grow with S x T. Masks are the
 * unfused SOFTMAX's: query i sits at position T - S + i; causal hides keys after it, a window of
 * w hides keys at or before position - w, the padding mask hides keys whose entry is 0, and a
 * query that sees no key at all gets the uniform average of every value row (what the additive
 * finfo.min mask of Hugging Face, and the unfused softmax, produce). Key blocks that no query of
 * the block can see are skipped, which is where causal and windowed attention save their work. */
#include "kernels_fused.h"

#include <cblas.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_check.h"
#include "kernels_decoder.h"
#include "kernels_vec.h"

static const char *dims_text(const RtTensor *t, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

static TtcStatus check_data(const RtOpArgs *a, const RtTensor *t, const char *what, int min_rank, int max_rank) {
    char buf[96];
    if (!t->data) return rt_op_fail(a, TTC_E_INTERNAL, "%s has no data", what);
    if (t->rank < min_rank || t->rank > max_rank)
        return rt_op_fail(a, TTC_E_INTERNAL, "%s is %s, rank %d..%d expected", what, dims_text(t, buf, sizeof buf),
                          min_rank, max_rank);
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0) return rt_op_fail(a, TTC_E_INTERNAL, "%s has a negative dim", what);
    return TTC_OK;
}

/* Whether [p, p+pn) and [q, q+qn) share a byte (empty ranges share none). */
static int bytes_overlap(const void *p, size_t pn, const void *q, size_t qn) {
    uintptr_t a0 = (uintptr_t)p, a1 = a0 + pn, b0 = (uintptr_t)q, b1 = b0 + qn;
    return pn && qn && a0 < b1 && b0 < a1;
}

/* ---- attention ---- */

typedef struct Attn {
    int64_t nb;              /* sequences: every dim before the last two, flattened */
    int64_t s, t, hq, hkv, d, group;
    int64_t wq, wk, wv, wo;  /* row widths of q, k, v and the output */
    int64_t q_col, k_col, v_col;
    int64_t mask_rows;       /* rows of the [rows, T] padding mask, 0 when none */
} Attn;

/* Floats from the start of t to the first row of sequence n. Dense tensors step rows x width; a
 * KV-cache view steps stride0 between dim-0 entries and, when a second leading dim exists (a
 * per-chip stack [chips, B, T, F] of caches), stride0 / dims[1] between its entries. */
static int64_t seq_offset(const RtTensor *t, int64_t n) {
    int64_t rows = t->dims[t->rank - 2], width = t->dims[t->rank - 1];
    if (!t->stride0) return n * rows * width;
    if (t->rank == 3) return n * t->stride0;
    int64_t inner = t->dims[1];
    return (n / inner) * t->stride0 + (n % inner) * (t->stride0 / inner);
}

static size_t span_bytes(const RtTensor *t, int64_t nb) {
    if (nb == 0) return 0;
    return (size_t)(seq_offset(t, nb - 1) + t->dims[t->rank - 2] * t->dims[t->rank - 1]) * sizeof(float);
}

/* q [..., S, Wq], k and v [..., T, W] (same leading dims), mask [rows, T] i32 when has_mask ->
 * [..., S, heads*D]; the heads start at q_col / k_col / v_col within the rows. */
static TtcStatus check_attention(const RtOpArgs *a, Attn *d) {
    if (!a->op) return ttc_fail(a->err, TTC_E_INTERNAL, "kernel called without an op description");
    const TtcAttrs *at = &a->op->attrs;
    char buf[96];
    if (a->n_in != 3 + (at->has_mask != 0))
        return rt_op_fail(a, TTC_E_INTERNAL, "has_mask is %d but %d inputs were given", at->has_mask, a->n_in);
    static const char *const names[4] = {"q", "k", "v", "mask"};
    for (int i = 0; i < 3; i++)
        if (check_data(a, &a->in[i], names[i], 3, TTC_MAX_RANK)) return TTC_E_INTERNAL;
    if (check_data(a, &a->out, "the output", 3, TTC_MAX_RANK)) return TTC_E_INTERNAL;
    if (at->heads <= 0 || at->kv_heads <= 0 || at->head_dim <= 0 || at->heads % at->kv_heads)
        return rt_op_fail(a, TTC_E_INTERNAL, "bad head configuration (heads %d, kv_heads %d, head_dim %d)", at->heads,
                          at->kv_heads, at->head_dim);
    const RtTensor *q = &a->in[0], *k = &a->in[1], *v = &a->in[2], *o = &a->out;
    int r = q->rank;
    *d = (Attn){.nb = 1, .hq = at->heads, .hkv = at->kv_heads, .d = at->head_dim, .q_col = at->q_col,
                .k_col = at->k_col, .v_col = at->v_col};
    d->group = d->hq / d->hkv;
    for (int i = 0; i < r - 2; i++) d->nb *= q->dims[i];
    for (int i = 1; i < 3; i++) {
        int same = a->in[i].rank == r;
        for (int j = 0; same && j < r - 2; j++) same = a->in[i].dims[j] == q->dims[j];
        if (!same)
            return rt_op_fail(a, TTC_E_INTERNAL, "%s is %s, its leading dims must be q's", names[i],
                              dims_text(&a->in[i], buf, sizeof buf));
    }
    d->s = q->dims[r - 2];
    d->t = k->dims[r - 2];
    d->wq = q->dims[r - 1];
    d->wk = k->dims[r - 1];
    d->wv = v->dims[r - 1];
    d->wo = d->hq * d->d;
    if (v->dims[r - 2] != d->t)
        return rt_op_fail(a, TTC_E_INTERNAL, "k has %lld context positions, v has %lld", (long long)d->t,
                          (long long)v->dims[r - 2]);
    if (d->q_col < 0 || d->k_col < 0 || d->v_col < 0 || d->q_col + d->hq * d->d > d->wq ||
        d->k_col + d->hkv * d->d > d->wk || d->v_col + d->hkv * d->d > d->wv)
        return rt_op_fail(a, TTC_E_INTERNAL, "heads at columns q %lld, k %lld, v %lld do not fit rows of %lld, %lld, "
                          "%lld floats", (long long)d->q_col, (long long)d->k_col, (long long)d->v_col,
                          (long long)d->wq, (long long)d->wk, (long long)d->wv);
    int same = o->rank == r && o->dims[r - 2] == d->s && o->dims[r - 1] == d->wo;
    for (int j = 0; same && j < r - 2; j++) same = o->dims[j] == q->dims[j];
    if (!same)
        return rt_op_fail(a, TTC_E_INTERNAL, "output is %s, [..., %lld, %lld] expected", dims_text(o, buf, sizeof buf),
                          (long long)d->s, (long long)d->wo);
    if (q->stride0 || o->stride0) return rt_op_fail(a, TTC_E_INTERNAL, "q and the output must be dense");
    for (int i = 1; i < 3; i++) {
        const RtTensor *x = &a->in[i];
        int64_t need = x->dims[r - 2] * x->dims[r - 1] * (r == 4 ? x->dims[1] : 1);
        if (x->stride0 && (x->stride0 < need || (r == 4 && x->dims[1] && x->stride0 % x->dims[1])))
            return rt_op_fail(a, TTC_E_INTERNAL, "%s steps %lld floats per entry, needs %lld", names[i],
                              (long long)x->stride0, (long long)need);
    }
    float sc = at->scale;
    if (!(sc > 0.0f) || sc > 1e30f) return rt_op_fail(a, TTC_E_INTERNAL, "scale %g is not a positive number", (double)sc);
    if (at->window < 0) return rt_op_fail(a, TTC_E_INTERNAL, "window %d is negative", at->window);
    if ((at->causal || at->window) && d->t < d->s)
        return rt_op_fail(a, TTC_E_INTERNAL, "%lld queries but only %lld context positions: a causal or windowed "
                          "query must see itself", (long long)d->s, (long long)d->t);
    if (at->has_mask) {
        const RtTensor *m = &a->in[3];
        if (!m->data || m->rank != 2 || m->dims[1] != d->t || m->dims[0] <= 0 || d->nb % m->dims[0])
            return rt_op_fail(a, TTC_E_INTERNAL, "mask is %s, [rows dividing %lld sequences, %lld] expected",
                              dims_text(m, buf, sizeof buf), (long long)d->nb, (long long)d->t);
        d->mask_rows = m->dims[0];
    }
    if (d->wq > INT_MAX || d->wk > INT_MAX || d->wv > INT_MAX || d->wo > INT_MAX)
        return rt_op_fail(a, TTC_E_INTERNAL, "rows wider than the BLAS limit of %d", INT_MAX);
    size_t out_bytes = (size_t)(d->nb * d->s * d->wo) * sizeof(float);
    for (int i = 0; i < 3; i++)
        if (bytes_overlap(o->data, out_bytes, a->in[i].data, span_bytes(&a->in[i], d->nb)))
            return rt_op_fail(a, TTC_E_INTERNAL, "the output buffer overlaps input %d", i);
    return TTC_OK;
}

/* Keys query `pos` may see, as the interval [lo, hi) of the unfused softmax. */
static void visible_range(const TtcAttrs *at, int64_t t, int64_t pos, int64_t *lo, int64_t *hi) {
    *lo = at->window > 0 ? pos - at->window + 1 : 0;
    if (*lo < 0) *lo = 0;
    *hi = at->causal ? pos + 1 : t;
}

typedef struct Scratch {
    float *sc;    /* one block of scores, then of probabilities [BQ, BK] */
    float *acc;   /* unnormalized context [BQ, D] */
    float *m;     /* running row maxima */
    double *l;    /* running row sums */
    float *mean;  /* the uniform average of v (rows that see no key), then a row for poison_skipped_keys */
    unsigned char *saw; /* per row: saw a visible key (whose scores may all have been -inf) */
} Scratch;

/* The larger of m and v, NaN when either is. `v > m ? v : m` drops a NaN score, and the row
 * then comes out finite where its exact softmax is NaN: a broken weight would look fine. */
static inline float max_nan(float m, float v) { return v > m || v != v ? v : m; }

/* Folds key block [j0, j0+bk) into query rows i0..i0+bq-1 of one head. */
static void attend_block(const TtcAttrs *at, const Attn *d, const float *qh, const float *kh, const float *vh,
                         const int32_t *keep, int64_t i0, int64_t bq, int64_t j0, int64_t bk, Scratch *w) {
    /* One query row (a decode step) makes both products matrix-vector: sgemm would repack the
     * key and value blocks first, sgemv streams them once. */
    if (bq == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)bk, (int)d->d, at->scale, kh + j0 * d->wk, (int)d->wk,
                    qh + i0 * d->wq, 1, 0.0f, w->sc, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)bk, (int)d->d, at->scale, qh + i0 * d->wq,
                    (int)d->wq, kh + j0 * d->wk, (int)d->wk, 0.0f, w->sc, (int)bk);
    for (int64_t r = 0; r < bq; r++) {
        float *row = w->sc + r * bk;
        int64_t lo, hi;
        visible_range(at, d->t, d->t - d->s + i0 + r, &lo, &hi);
        int64_t a0 = lo > j0 ? lo : j0, a1 = hi < j0 + bk ? hi : j0 + bk;
        float mx = -INFINITY;
        int any = 0, nan_seen = 0;
        for (int64_t j = a0; j < a1; j++)
            if (!keep || keep[j]) {
                float v = row[j - j0];
                any = 1;
                mx = v > mx ? v : mx;
                nan_seen |= v != v; /* the plain maximum drops a NaN score */
            }
        if (nan_seen) mx = NAN;
        /* Nothing visible here, or every visible score is -inf (e^-inf = 0): the row adds nothing
         * to this block's product. `saw` tells the two apart at the end. */
        if (!any || mx == -INFINITY) {
            w->saw[r] |= (unsigned char)any;
            memset(row, 0, (size_t)bk * sizeof *row);
            continue;
        }
        float m_new = max_nan(w->m[r], mx);
        for (int64_t j = 0; j < bk; j++) {
            int64_t jj = j0 + j;
            row[j] = (jj >= a0 && jj < a1 && (!keep || keep[jj])) ? row[j] - m_new : -INFINITY;
        }
        rt_vec_exp(row, row, bk);
        double sum = 0.0;
        for (int64_t j = 0; j < bk; j++) sum += row[j];
        float alpha = w->m[r] == -INFINITY ? 0.0f : expf(w->m[r] - m_new);
        if (alpha != 1.0f)
            for (int64_t e = 0; e < d->d; e++) w->acc[r * d->d + e] *= alpha;
        w->l[r] = w->l[r] * alpha + sum;
        w->m[r] = m_new;
    }
    if (bq == 1)
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)bk, (int)d->d, 1.0f, vh + j0 * d->wv, (int)d->wv, w->sc, 1, 1.0f,
                    w->acc, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)bq, (int)d->d, (int)bk, 1.0f, w->sc, (int)bk,
                    vh + j0 * d->wv, (int)d->wv, 1.0f, w->acc, (int)d->d);
}

/* Adds 0 * v[j][e] over value rows [j0, j1) into z[e]: z stays +0 where every value is finite
 * and turns NaN where one is NaN or infinite. A multiply-add per value, no branch. */
static void zero_weighted_sum(const Attn *d, const float *vh, int64_t j0, int64_t j1, float *z) {
    for (int64_t j = j0; j < j1; j++)
        for (int64_t e = 0; e < d->d; e++) z[e] += 0.0f * vh[j * d->wv + e];
}

/* Keys no query of the block can see are skipped, but the unfused path (and PyTorch's masked
 * softmax, and the reference) multiply their value rows by a probability of 0, and 0 * NaN or
 * 0 * inf is NaN: a non-finite value in a hidden key's row makes that column NaN in every row.
 * The same here, so a broken value is never hidden behind the causal mask. Keys after the block
 * (causal) are scanned in every step; keys before a sliding window only in prompts: in a
 * one-token step every row before the window was visible to the query that wrote it, so a
 * non-finite value there has already surfaced in that step's output. */
static void poison_skipped_keys(const Attn *d, const float *vh, int64_t i0, int64_t bq, int64_t lo, int64_t hi,
                                float *oh, Scratch *w) {
    if (hi >= d->t && (lo == 0 || d->s == 1)) return;
    float *z = w->mean + d->d; /* the scratch keeps a second row of D floats for this */
    memset(z, 0, (size_t)d->d * sizeof *z);
    if (d->s > 1) zero_weighted_sum(d, vh, 0, lo, z);
    zero_weighted_sum(d, vh, hi, d->t, z);
    int bad = 0;
    for (int64_t e = 0; e < d->d; e++) bad |= z[e] != 0.0f;
    if (!bad) return;
    for (int64_t r = 0; r < bq; r++)
        for (int64_t e = 0; e < d->d; e++)
            if (z[e] != 0.0f) oh[(i0 + r) * d->wo + e] = z[e];
}

/* Query rows i0..i0+bq-1 of one head, written to oh (row stride wo). */
static void attend_rows(const TtcAttrs *at, const Attn *d, const float *qh, const float *kh, const float *vh,
                        const int32_t *keep, int64_t i0, int64_t bq, float *oh, Scratch *w, int *have_mean) {
    for (int64_t r = 0; r < bq; r++) {
        w->m[r] = -INFINITY;
        w->l[r] = 0.0;
        w->saw[r] = 0;
    }
    memset(w->acc, 0, (size_t)(bq * d->d) * sizeof *w->acc);
    int64_t lo, hi_first, lo_last, hi;
    visible_range(at, d->t, d->t - d->s + i0, &lo, &hi_first);
    visible_range(at, d->t, d->t - d->s + i0 + bq - 1, &lo_last, &hi);
    for (int64_t j0 = lo; j0 < hi; j0 += RT_ATTN_BLOCK_K) {
        int64_t bk = hi - j0 < RT_ATTN_BLOCK_K ? hi - j0 : RT_ATTN_BLOCK_K;
        attend_block(at, d, qh, kh, vh, keep, i0, bq, j0, bk, w);
    }
    /* A row's sum is 0 only when it saw no key (its largest score contributes e^0 = 1); NaN
     * when a score was NaN or +inf, and then the row must come out NaN, not uniform. */
    for (int64_t r = 0; r < bq; r++) {
        float *out = oh + (i0 + r) * d->wo;
        if (w->l[r] != 0.0) {
            float inv = (float)(1.0 / w->l[r]);
            for (int64_t e = 0; e < d->d; e++) out[e] = w->acc[r * d->d + e] * inv;
            continue;
        }
        if (w->saw[r]) { /* every visible score was -inf: 0 / 0, NaN as in the reference */
            for (int64_t e = 0; e < d->d; e++) out[e] = NAN;
            continue;
        }
        if (!*have_mean) { /* a row that sees no key: uniform over all T, as the unfused softmax */
            for (int64_t e = 0; e < d->d; e++) {
                double s = 0.0;
                for (int64_t j = 0; j < d->t; j++) s += vh[j * d->wv + e];
                w->mean[e] = d->t ? (float)(s / (double)d->t) : 0.0f;
            }
            *have_mean = 1;
        }
        memcpy(out, w->mean, (size_t)d->d * sizeof *out);
    }
    poison_skipped_keys(d, vh, i0, bq, lo, hi, oh, w);
}

TtcStatus fast_ATTENTION(const RtOpArgs *a) {
    Attn d;
    TtcStatus st = check_attention(a, &d);
    if (st) return st;
    const TtcAttrs *at = &a->op->attrs;
    if (d.s == 0 || d.nb == 0) return TTC_OK;
    Scratch w;
    w.sc = malloc((size_t)RT_ATTN_BLOCK_Q * RT_ATTN_BLOCK_K * sizeof *w.sc);
    w.acc = malloc((size_t)(RT_ATTN_BLOCK_Q * d.d) * sizeof *w.acc);
    w.m = malloc(RT_ATTN_BLOCK_Q * sizeof *w.m);
    w.l = malloc(RT_ATTN_BLOCK_Q * sizeof *w.l);
    w.mean = malloc((size_t)(2 * d.d) * sizeof *w.mean); /* the mean row, then poison_skipped_keys's */
    w.saw = malloc(RT_ATTN_BLOCK_Q * sizeof *w.saw);
    if (!w.sc || !w.acc || !w.m || !w.l || !w.mean || !w.saw) {
        st = rt_op_oom(a, "the attention blocks");
        goto done;
    }
    const float *q = a->in[0].data, *k = a->in[1].data, *v = a->in[2].data;
    const int32_t *mask = at->has_mask ? a->in[3].data : NULL;
    float *out = a->out.data;
    for (int64_t n = 0; n < d.nb; n++) {
        const int32_t *keep = mask ? mask + (n % d.mask_rows) * d.t : NULL;
        for (int64_t h = 0; h < d.hq; h++) {
            const float *qh = q + n * d.s * d.wq + d.q_col + h * d.d;
            const float *kh = k + seq_offset(&a->in[1], n) + d.k_col + (h / d.group) * d.d;
            const float *vh = v + seq_offset(&a->in[2], n) + d.v_col + (h / d.group) * d.d;
            float *oh = out + n * d.s * d.wo + h * d.d;
            int have_mean = 0;
            for (int64_t i0 = 0; i0 < d.s; i0 += RT_ATTN_BLOCK_Q) {
                int64_t bq = d.s - i0 < RT_ATTN_BLOCK_Q ? d.s - i0 : RT_ATTN_BLOCK_Q;
                attend_rows(at, &d, qh, kh, vh, keep, i0, bq, oh, &w, &have_mean);
            }
        }
    }
done:
    free(w.sc);
    free(w.acc);
    free(w.m);
    free(w.l);
    free(w.mean);
    free(w.saw);
    return st;
}

/* Straight from the formula, one query at a time, in double: the scores of every key, the
 * unfused softmax's masking (a hidden key scores -FLT_MAX, so a row that sees nothing becomes
 * uniform), the weighted sum of value rows. */
TtcStatus ref_ATTENTION(const RtOpArgs *a) {
    Attn d;
    TtcStatus st = check_attention(a, &d);
    if (st) return st;
    const TtcAttrs *at = &a->op->attrs;
    double *p = malloc((size_t)(d.t > 0 ? d.t : 1) * sizeof *p);
    if (!p) return rt_op_oom(a, "a row of scores");
    const float *q = a->in[0].data, *k = a->in[1].data, *v = a->in[2].data;
    const int32_t *mask = at->has_mask ? a->in[3].data : NULL;
    float *out = a->out.data;
    for (int64_t n = 0; n < d.nb; n++) {
        const int32_t *keep = mask ? mask + (n % d.mask_rows) * d.t : NULL;
        for (int64_t h = 0; h < d.hq; h++) {
            const float *kh = k + seq_offset(&a->in[1], n) + d.k_col + (h / d.group) * d.d;
            const float *vh = v + seq_offset(&a->in[2], n) + d.v_col + (h / d.group) * d.d;
            for (int64_t i = 0; i < d.s; i++) {
                const float *qi = q + (n * d.s + i) * d.wq + d.q_col + h * d.d;
                int64_t pos = d.t - d.s + i;
                double max = -INFINITY, sum = 0.0, visible_max = -INFINITY;
                int any_visible = 0;
                for (int64_t j = 0; j < d.t; j++) {
                    int visible = (!keep || keep[j]) && !(at->causal && j > pos) &&
                                  !(at->window > 0 && j <= pos - at->window);
                    double acc = 0.0;
                    for (int64_t e = 0; e < d.d; e++) acc += (double)qi[e] * kh[j * d.wk + e];
                    p[j] = visible ? at->scale * acc : -FLT_MAX;
                    if (p[j] > max) max = p[j];
                    any_visible |= visible;
                    if (visible && p[j] > visible_max) visible_max = p[j];
                }
                /* Every visible score -inf: the softmax over the visible keys is 0 / 0. The
                 * -FLT_MAX of the hidden keys would otherwise win and spread the row over them,
                 * a finite answer that hides the infinity (as the unfused softmax, below). */
                if (any_visible && visible_max == -INFINITY) max = NAN;
                for (int64_t j = 0; j < d.t; j++) sum += p[j] = exp(p[j] - max);
                for (int64_t e = 0; e < d.d; e++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j < d.t; j++) acc += p[j] / sum * vh[j * d.wv + e];
                    out[(n * d.s + i) * d.wo + h * d.d + e] = (float)acc;
                }
            }
        }
    }
    free(p);
    return TTC_OK;
}

/* ---- residual add + layernorm ---- */

/* a, b [..., H], gamma, beta [H] -> layernorm(a + b) [..., H]; eps. The output may be a or b
 * exactly (each row is summed before it is normalized), never partly overlap one. */
static TtcStatus check_add_layernorm(const RtOpArgs *a, int64_t *rows, int64_t *h) {
    if (!a->op) return ttc_fail(a->err, TTC_E_INTERNAL, "kernel called without an op description");
    if (a->n_in != 4) return rt_op_fail(a, TTC_E_INTERNAL, "got %d inputs, the op takes 4", a->n_in);
    static const char *const names[4] = {"a", "b", "gamma", "beta"};
    for (int i = 0; i < 4; i++)
        if (check_data(a, &a->in[i], names[i], 1, TTC_MAX_RANK)) return TTC_E_INTERNAL;
    if (check_data(a, &a->out, "the output", 1, TTC_MAX_RANK)) return TTC_E_INTERNAL;
    const RtTensor *x = &a->in[0];
    char xs[96], ys[96];
    int same = a->in[1].rank == x->rank && a->out.rank == x->rank;
    for (int i = 0; same && i < x->rank; i++) same = a->in[1].dims[i] == x->dims[i] && a->out.dims[i] == x->dims[i];
    if (!same)
        return rt_op_fail(a, TTC_E_INTERNAL, "a is %s, b is %s, the output %s: all must agree",
                          dims_text(x, xs, sizeof xs), dims_text(&a->in[1], ys, sizeof ys),
                          dims_text(&a->out, ys, sizeof ys));
    *h = x->dims[x->rank - 1];
    *rows = *h ? rt_tensor_elems(x) / *h : 0;
    for (int i = 2; i < 4; i++)
        if (a->in[i].rank != 1 || a->in[i].dims[0] != *h)
            return rt_op_fail(a, TTC_E_INTERNAL, "%s is %s, a vector of the last dim (%lld) expected", names[i],
                              dims_text(&a->in[i], xs, sizeof xs), (long long)*h);
    float eps = a->op->attrs.eps;
    if (!(eps >= 0.0f) || eps > 1.0f) return rt_op_fail(a, TTC_E_INTERNAL, "eps %g is not in [0, 1]", (double)eps);
    size_t n = (size_t)rt_tensor_elems(x) * sizeof(float);
    for (int i = 0; i < 4; i++) {
        size_t in_n = (size_t)rt_tensor_elems(&a->in[i]) * sizeof(float);
        if (i < 2 && a->in[i].data == a->out.data) continue;
        if (bytes_overlap(a->out.data, n, a->in[i].data, in_n))
            return rt_op_fail(a, TTC_E_INTERNAL, "the output buffer overlaps input %d%s", i,
                              i < 2 ? " (only exact in-place use is allowed)" : "");
    }
    return TTC_OK;
}

/* The sum goes to the output row, which is then normalized in place: the same fp32 sum and the
 * same row normalization as ADD then LAYERNORM, without the sum's round trip through memory. */
TtcStatus fast_ADD_LAYERNORM(const RtOpArgs *a) {
    int64_t rows, h;
    TtcStatus st = check_add_layernorm(a, &rows, &h);
    if (st) return st;
    const float *x = a->in[0].data, *y = a->in[1].data;
    float *out = a->out.data;
    for (int64_t r = 0; r < rows; r++) {
        rt_vec_add(out + r * h, x + r * h, y + r * h, h);
        rt_vec_layernorm_row(out + r * h, out + r * h, a->in[2].data, a->in[3].data, h, a->op->attrs.eps);
    }
    return TTC_OK;
}

TtcStatus ref_ADD_LAYERNORM(const RtOpArgs *a) {
    int64_t rows, h;
    TtcStatus st = check_add_layernorm(a, &rows, &h);
    if (st) return st;
    const float *x = a->in[0].data, *y = a->in[1].data, *gamma = a->in[2].data, *beta = a->in[3].data;
    float *out = a->out.data;
    double eps = a->op->attrs.eps;
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < h; i++) mean += (float)(x[r * h + i] + y[r * h + i]);
        mean /= (double)h;
        for (int64_t i = 0; i < h; i++) {
            double s = (float)(x[r * h + i] + y[r * h + i]) - mean;
            var += s * s;
        }
        var /= (double)h;
        double inv_std = 1.0 / sqrt(var + eps);
        for (int64_t i = 0; i < h; i++) {
            double s = (float)(x[r * h + i] + y[r * h + i]);
            out[r * h + i] = (float)((s - mean) * inv_std * gamma[i] + beta[i]);
        }
    }
    return TTC_OK;
}

/* ---- linear epilogues ---- */

/* x (input 0) is the output, [..., S, W]; rope_qk reads heads, kv_heads, head_dim, rope_*, q_col
 * and k_col, and the step's bindings (positions past + i). */
static TtcStatus check_epilogue(const RtOpArgs *a, int64_t *n, int64_t *rows, int64_t *seq, int64_t *past) {
    if (!a->op) return ttc_fail(a->err, TTC_E_INTERNAL, "kernel called without an op description");
    const TtcAttrs *at = &a->op->attrs;
    const RtTensor *x = &a->in[0];
    if (a->n_in != 1 || check_data(a, x, "x", 1, TTC_MAX_RANK) || check_data(a, &a->out, "the output", 1, TTC_MAX_RANK))
        return a->n_in != 1 ? rt_op_fail(a, TTC_E_INTERNAL, "an epilogue takes 1 input, got %d", a->n_in)
                            : TTC_E_INTERNAL;
    int same = x->rank == a->out.rank && x->data == a->out.data;
    for (int i = 0; same && i < x->rank; i++) same = x->dims[i] == a->out.dims[i];
    if (!same) return rt_op_fail(a, TTC_E_INTERNAL, "an epilogue runs in place: input 0 must be the output");
    if (at->epilogue <= TTC_EPILOGUE_NONE || at->epilogue >= TTC_EPILOGUE_COUNT)
        return rt_op_fail(a, TTC_E_INTERNAL, "epilogue %d is not one of 1..%d", at->epilogue, TTC_EPILOGUE_COUNT - 1);
    *n = rt_tensor_elems(x);
    if (at->epilogue != TTC_EPILOGUE_ROPE_QK) return TTC_OK;
    int64_t w = x->dims[x->rank - 1], D = at->head_dim;
    *seq = x->rank >= 2 ? x->dims[x->rank - 2] : 1;
    *rows = w ? *n / w : 0;
    if (x->rank < 2 || at->heads <= 0 || at->kv_heads < 0 || D <= 0 || D % 2 || at->q_col < 0 || at->k_col < 0 ||
        at->q_col + (int64_t)at->heads * D > w || at->k_col + (int64_t)at->kv_heads * D > w)
        return rt_op_fail(a, TTC_E_INTERNAL, "rope_qk: %d q heads at column %d and %d k heads at column %d of an even "
                          "head_dim %d must fit rows of %lld", at->heads, at->q_col, at->kv_heads, at->k_col, at->head_dim,
                          (long long)w);
    if (!a->bind) return rt_op_fail(a, TTC_E_INTERNAL, "rope_qk needs the step's bindings");
    *past = a->bind->v[TTC_SYM_CTX] - a->bind->v[TTC_SYM_SEQ];
    return TTC_OK;
}

TtcStatus fast_EPILOGUE(const RtOpArgs *a) {
    int64_t n, rows = 0, seq = 1, past = 0;
    TtcStatus st = check_epilogue(a, &n, &rows, &seq, &past);
    if (st) return st;
    const TtcAttrs *at = &a->op->attrs;
    float *x = a->out.data;
    switch ((TtcEpilogue)at->epilogue) {
    case TTC_EPILOGUE_GELU: rt_vec_gelu(x, x, n); break;
    case TTC_EPILOGUE_GELU_TANH: rt_vec_gelu_tanh(x, x, n); break;
    case TTC_EPILOGUE_SILU: rt_vec_silu(x, x, n); break;
    case TTC_EPILOGUE_RELU: rt_vec_relu(x, x, n); break;
    case TTC_EPILOGUE_TANH: /* libm, as the unfused fast TANH kernel */
        for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
        break;
    case TTC_EPILOGUE_ROPE_QK: {
        int64_t w = a->out.dims[a->out.rank - 1];
        if (seq == 0) break;
        if (rt_rope_rotate(at, at->heads, x, x, rows, seq, w, at->q_col, past) != TTC_OK ||
            rt_rope_rotate(at, at->kv_heads, x, x, rows, seq, w, at->k_col, past) != TTC_OK)
            return rt_op_oom(a, "the rotation table");
        break;
    }
    default: break;
    }
    return TTC_OK;
}

/* The activations' formulas as the reference kernels write them, in double. */
static double ref_gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double ref_gelu_tanh(double x) {
    const double pi = 3.14159265358979323846;
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}
static double ref_silu(double x) { return x / (1.0 + exp(-x)); }
static double ref_relu(double x) { return x < 0.0 ? 0.0 : x; }

TtcStatus ref_EPILOGUE(const RtOpArgs *a) {
    int64_t n, rows = 0, seq = 1, past = 0;
    TtcStatus st = check_epilogue(a, &n, &rows, &seq, &past);
    if (st) return st;
    const TtcAttrs *at = &a->op->attrs;
    float *x = a->out.data;
    double (*f)(double) = NULL;
    switch ((TtcEpilogue)at->epilogue) {
    case TTC_EPILOGUE_GELU: f = ref_gelu; break;
    case TTC_EPILOGUE_GELU_TANH: f = ref_gelu_tanh; break;
    case TTC_EPILOGUE_SILU: f = ref_silu; break;
    case TTC_EPILOGUE_RELU: f = ref_relu; break;
    case TTC_EPILOGUE_TANH: f = tanh; break;
    case TTC_EPILOGUE_ROPE_QK: {
        int64_t w = a->out.dims[a->out.rank - 1];
        if (seq == 0) break;
        if (rt_rope_rotate_ref(at, at->heads, x, x, rows, seq, w, at->q_col, past) != TTC_OK ||
            rt_rope_rotate_ref(at, at->kv_heads, x, x, rows, seq, w, at->k_col, past) != TTC_OK)
            return rt_op_fail(a, TTC_E_INTERNAL, "the reference rope failed (out of memory or head_dim too large)");
        break;
    }
    default: break;
    }
    for (int64_t i = 0; f && i < n; i++) x[i] = (float)f((double)x[i]);
    return TTC_OK;
}
