/* nonfinite.c: NaN and infinity in a running plan's tensors (see nonfinite.h). */
#include "nonfinite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matmul_emul.h"
#include "sampler.h"
#include "weight_prep.h"

/* A cache view steps stride0 between dim-0 entries; a per-chip stack of caches [chips, B, T, F]
 * steps stride0 / B between the B entries inside one chip (as the attention kernel reads it). */
int64_t ttc_tensor_first_nonfinite(const RtTensor *t) {
    const float *x = t->data;
    if (!x) return -1;
    int64_t n = rt_tensor_elems(t);
    if (!t->stride0 || t->rank < 2) return ttc_first_nonfinite(x, n);
    int64_t outer = t->dims[0], inner = t->rank == 4 && t->dims[1] ? t->dims[1] : 1;
    int64_t block = outer && inner ? n / outer / inner : 0, step = t->stride0 / inner;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t at = ttc_first_nonfinite(x + o * t->stride0 + i * step, block);
            if (at >= 0) return (o * inner + i) * block + at;
        }
    return -1;
}

/* A prepared LINEAR weight keeps every NaN and infinity whole in its high part (A0, or AFULL:
 * ttc_fid_high passes non-finite values through), so that part tells. */
static int64_t first_nonfinite_prepared(const RtMatmulWeights *w) {
    RtWeightPart p = w->part[RT_WPART_AFULL] ? RT_WPART_AFULL : RT_WPART_A0;
    if (!w->part[p]) return -1;
    for (int64_t j = 0; j < w->n; j++)
        for (int64_t kk = 0; kk < w->k; kk++)
            if (!isfinite(rt_matmul_weight_value(w, p, j, kk))) return j * w->k + kk;
    return -1;
}

int64_t ttc_session_first_nonfinite(TtcSession *s, int t) {
    const TtcTensorDesc *d = &s->m->plan.tensors[t];
    if (d->dtype == TTC_I32) return -1;
    RtTensor v;
    if (ttc_session_tensor(s, t, &v)) return ttc_tensor_first_nonfinite(&v);
    if (d->kind != TTC_TENSOR_WEIGHT || s->opt.reference) return -1;
    int chips = d->shard_chips > 0 ? d->shard_chips : 1;
    for (int c = 0; c < chips; c++) {
        const RtMatmulWeights *w = rt_weight_prep_of(s->m, t, d->shard_chips > 0 ? c : 0);
        int64_t at = w ? first_nonfinite_prepared(w) : -1;
        if (at >= 0) return c * w->n * w->k + at;
    }
    return -1;
}

/* "[i, j, k]" of flat index `at` over dims */
static void index_text(const RtTensor *v, int64_t at, char *buf, size_t n) {
    int64_t idx[TTC_MAX_RANK];
    for (int i = v->rank - 1; i >= 0; i--) {
        int64_t dim = v->dims[i] > 0 ? v->dims[i] : 1;
        idx[i] = at % dim;
        at /= dim;
    }
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < v->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)idx[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static const char *value_kind(float x) { return isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf"; }

/* The value at flat index `at` of session tensor t (a prepared weight: its high part). */
static float value_at(TtcSession *s, int t, const RtTensor *v, int64_t at) {
    if (v->data) {
        if (!v->stride0 || v->rank < 2) return ((const float *)v->data)[at];
        int64_t inner = v->rank == 4 && v->dims[1] ? v->dims[1] : 1;
        int64_t block = rt_tensor_elems(v) / v->dims[0] / inner, e = at / block;
        return ((const float *)v->data)[(e / inner) * v->stride0 + (e % inner) * (v->stride0 / inner) + at % block];
    }
    const TtcTensorDesc *d = &s->m->plan.tensors[t];
    int64_t per_chip = 1;
    for (int i = d->shard_chips > 0; i < d->shape.rank; i++) per_chip *= d->shape.d[i].size;
    const RtMatmulWeights *w = rt_weight_prep_of(s->m, t, d->shard_chips > 0 ? (int)(at / per_chip) : 0);
    if (!w) return NAN;
    at %= per_chip;
    return rt_matmul_weight_value(w, w->part[RT_WPART_AFULL] ? RT_WPART_AFULL : RT_WPART_A0, at / w->k, at % w->k);
}

/* A fused weight (ttc_weight_name_parts) is its parts stacked along dim 0. The part holding row
 * *row is what the checkpoint calls it: its name goes to buf, and *row becomes the row within
 * it. 0 when the name is not a fused one. */
static int fused_part(const char *name, int64_t *row, char *buf, size_t n) {
    char parts[TTC_WEIGHT_MAX_PARTS][TTC_NAME_MAX];
    int64_t rows[TTC_WEIGHT_MAX_PARTS];
    int n_parts = ttc_weight_name_parts(name, parts, rows, TTC_WEIGHT_MAX_PARTS);
    if (n_parts < 2 || n_parts > TTC_WEIGHT_MAX_PARTS) return 0;
    for (int k = 0; k < n_parts; k++) {
        if (rows[k] <= 0) return 0;
        if (*row < rows[k]) {
            snprintf(buf, n, "%s", parts[k]);
            return 1;
        }
        *row -= rows[k];
    }
    return 0;
}

static const char *tensor_kind_text(int kind) {
    return kind == TTC_TENSOR_WEIGHT ? "weight" : kind == TTC_TENSOR_STATE ? "cache" : "activation";
}

void ttc_op_inputs_text(TtcSession *s, int k, int scan_activations, char *buf, size_t n) {
    const TtcPlan *p = &s->m->plan;
    const TtcOpDesc *op = &p->ops[k];
    size_t used = 0;
    buf[0] = '\0';
    const void *out = ttc_session_tensor(s, op->out, NULL);
    for (int i = 0; i < op->n_in && used < n; i++) {
        int t = op->in[i];
        const TtcTensorDesc *d = &p->tensors[t];
        if (!scan_activations && d->kind != TTC_TENSOR_WEIGHT) continue;
        if (ttc_session_tensor(s, t, NULL) == out) continue; /* in place: the output now */
        int64_t at = ttc_session_first_nonfinite(s, t);
        if (at < 0) continue;
        RtTensor v;
        ttc_session_tensor(s, t, &v);
        if (!v.data) { /* a prepared weight: index it as the plan's shape */
            v.rank = d->shape.rank;
            for (int j = 0; j < v.rank; j++) v.dims[j] = d->shape.d[j].size;
        }
        char where[96], part[TTC_NAME_MAX];
        const char *kind = value_kind(value_at(s, t, &v, at)), *name = d->name;
        int64_t width = v.rank >= 2 ? rt_tensor_elems(&v) / v.dims[0] : 1, row = at / width;
        if (d->kind == TTC_TENSOR_WEIGHT && d->shard_chips <= 0 && v.rank == 2 &&
            fused_part(d->name, &row, part, sizeof part)) {
            name = part; /* the checkpoint's own tensor, and the index within it */
            at = row * width + at % width;
        }
        index_text(&v, at, where, sizeof where);
        used += (size_t)snprintf(buf + used, n - used, "%sinput %d, %s '%s', holds %s at %s", used ? "; " : "", i,
                                 tensor_kind_text(d->kind), name, kind, where);
    }
    if (used == 0)
        snprintf(buf, n, scan_activations ? "inputs were finite"
                                          : "inputs were finite (weights read, activations checked when produced)");
}

TtcStatus ttc_op_output_check(TtcSession *s, int k, int scan_activations, TtcError *err) {
    const TtcPlan *p = &s->m->plan;
    const TtcOpDesc *op = &p->ops[k];
    int64_t at = ttc_session_first_nonfinite(s, op->out);
    if (at < 0) return TTC_OK;
    RtTensor v;
    ttc_session_tensor(s, op->out, &v);
    char where[96], dims[96], inputs[600];
    index_text(&v, at, where, sizeof where);
    size_t used = (size_t)snprintf(dims, sizeof dims, "[");
    for (int i = 0; i < v.rank && used < sizeof dims; i++)
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%s%lld", i ? ", " : "", (long long)v.dims[i]);
    if (used < sizeof dims) snprintf(dims + used, sizeof dims - used, "]");
    ttc_op_inputs_text(s, k, scan_activations, inputs, sizeof inputs);
    const char *mode = p->entries[s->entry].mode == 1 ? "decode" : "prefill";
    ttc_fail(err, TTC_E_USER, "module '%s' (%s): op %s output holds %s at %s of %s; %s", op->path, mode,
             ttc_op_name(op->kind), value_kind(value_at(s, op->out, &v, at)), where, dims, inputs);
    if (strstr(inputs, "weight '"))
        ttc_hint(err, "the weights hold a non-finite value%s: check or re-export the checkpoint",
                 s->opt.reference ? "" : " (in the checkpoint, or after conversion to the device format)");
    else if (strstr(inputs, "holds"))
        ttc_hint(err, "an earlier op produced it; that op is the one to look at");
    else if (s->opt.reference)
        ttc_hint(err, "this op overflows fp32 on finite inputs: the weights or inputs are out of range");
    else
        ttc_hint(err, "this op overflowed on finite inputs: try --set %.*s.activation_dtype=fp32 and recompile, or "
                 "compare with the fp32 reference path (ttc run --check)",
                 (int)(strrchr(op->path, '.') ? strrchr(op->path, '.') - op->path : (long)strlen(op->path)), op->path);
    return TTC_E_USER;
}

void ttc_nonfinite_record_init(TtcNonfiniteRecord *r) {
    memset(r, 0, sizeof *r);
    r->op = -1;
}

void ttc_nonfinite_on_op(void *record, int op_index, const RtTensor *out, double ms) {
    (void)ms;
    TtcNonfiniteRecord *r = record;
    if (r->op >= 0 || !r->s || r->s->m->plan.tensors[r->s->m->plan.ops[op_index].out].dtype == TTC_I32) return;
    if (ttc_tensor_first_nonfinite(out) < 0) return;
    r->op = op_index;
    ttc_op_output_check(r->s, op_index, r->s->opt.keep_all, &r->found);
}
