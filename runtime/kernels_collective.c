/* kernels_collective.c: all_reduce, all_gather and reshard (see kernels_collective.h). */
#include "kernels_collective.h"

#include <string.h>

#include "kernels_check.h"

static int same_tail(const RtTensor *stacked, const RtTensor *t) {
    if (stacked->rank != t->rank + 1) return 0;
    for (int i = 0; i < t->rank; i++)
        if (stacked->dims[i + 1] != t->dims[i]) return 0;
    return 1;
}

/* The checks shared by both collectives: a stacked input of attrs.chips slices, an output that
 * does not overlap it. */
static TtcStatus check_stacked(const RtOpArgs *a, int n_in_max) {
    if (!a->op) return ttc_fail(a->err, TTC_E_INTERNAL, "kernel called without an op description");
    if (a->n_in < 1 || a->n_in > n_in_max) return rt_op_fail(a, TTC_E_INTERNAL, "got %d inputs", a->n_in);
    const RtTensor *x = &a->in[0];
    if (!x->data || !a->out.data) return rt_op_fail(a, TTC_E_INTERNAL, "a tensor has no data");
    if (a->op->attrs.chips < 2 || x->rank < 2 || x->dims[0] != a->op->attrs.chips)
        return rt_op_fail(a, TTC_E_INTERNAL, "input must be stacked over %d chips (rank %d, dim 0 = %lld)",
                          a->op->attrs.chips, x->rank, (long long)(x->rank ? x->dims[0] : 0));
    const float *i0 = x->data, *i1 = i0 + x->dims[0] * rt_stride0(x);
    const float *o0 = a->out.data, *o1 = o0 + rt_tensor_elems(&a->out);
    if (o0 < i1 && i0 < o1) return rt_op_fail(a, TTC_E_INTERNAL, "the output overlaps the input");
    return TTC_OK;
}

TtcStatus fast_ALL_REDUCE(const RtOpArgs *a) {
    TtcStatus st = check_stacked(a, 2);
    if (st) return st;
    const RtTensor *x = &a->in[0];
    if (!same_tail(x, &a->out)) return rt_op_fail(a, TTC_E_INTERNAL, "output must be the input without dim 0");
    int64_t n = rt_tensor_elems(&a->out), f = a->out.dims[a->out.rank - 1], stride = rt_stride0(x);
    if (a->n_in == 2 && (a->in[1].rank != 1 || a->in[1].dims[0] != f))
        return rt_op_fail(a, TTC_E_INTERNAL, "bias must be a vector of the last dim (%lld)", (long long)f);
    const float *src = x->data;
    float *out = a->out.data;
    memcpy(out, src, (size_t)n * sizeof *out);
    for (int64_t c = 1; c < x->dims[0]; c++) {
        const float *part = src + c * stride;
        for (int64_t i = 0; i < n; i++) out[i] += part[i];
    }
    if (a->n_in == 2) {
        const float *bias = a->in[1].data;
        for (int64_t i = 0; i < n; i++) out[i] += bias[i % f];
    }
    return TTC_OK;
}

TtcStatus ref_ALL_REDUCE(const RtOpArgs *a) { return fast_ALL_REDUCE(a); }

TtcStatus fast_ALL_GATHER(const RtOpArgs *a) {
    TtcStatus st = check_stacked(a, 1);
    if (st) return st;
    const RtTensor *x = &a->in[0];
    int64_t chips = x->dims[0], f = x->dims[x->rank - 1], stride = rt_stride0(x);
    int ok = a->out.rank == x->rank - 1 && a->out.dims[a->out.rank - 1] == chips * f;
    for (int i = 0; ok && i < a->out.rank - 1; i++) ok = a->out.dims[i] == x->dims[i + 1];
    if (!ok) return rt_op_fail(a, TTC_E_INTERNAL, "output must be the input without dim 0, last dim x%lld", (long long)chips);
    int64_t rows = f ? rt_tensor_elems(&a->out) / (chips * f) : 0;
    const float *src = x->data;
    float *out = a->out.data;
    for (int64_t c = 0; c < chips; c++)
        for (int64_t r = 0; r < rows; r++)
            memcpy(out + r * chips * f + c * f, src + c * stride + r * f, (size_t)f * sizeof *out);
    return TTC_OK;
}

TtcStatus ref_ALL_GATHER(const RtOpArgs *a) { return fast_ALL_GATHER(a); }

TtcStatus fast_RESHARD(const RtOpArgs *a) {
    int64_t n;
    TtcStatus st = rt_check_elementwise(a, &n);
    if (st) return st;
    if (a->out.data != a->in[0].data) memcpy(a->out.data, a->in[0].data, (size_t)n * sizeof(float));
    return TTC_OK;
}

TtcStatus ref_RESHARD(const RtOpArgs *a) { return fast_RESHARD(a); }
