/* weight_prep.c: device formats for weights, applied once at load.
 *
 * A LINEAR weight (input 1 of a LINEAR op, stored [N,K] as Hugging Face keeps it) is the
 * matmul's in1 operand [K,N] on the device: it is rounded to its format with bfp blocks running
 * down the columns of [N,K] (ttc_round_matmul_weight), then split into the math-fidelity parts
 * its consumers read (matmul_emul.h). Every other weight (embedding tables, norm parameters) is row-major next to
 * activations and rounded along its rows.
 *
 * A LINEAR weight stacked per chip (tensor parallelism: [chips, n, k], chip c's slice at
 * c * n * k) is chips independent matrices: each slice is rounded and prepared on its own, as
 * the chip holding it would, and m->prep[t] then points to an array of `chips` preparations
 * (rt_weight_prep_of picks chip c's). */
#include "weight_prep.h"

#include <stdlib.h>

#include "matmul_emul.h"
#include "numerics.h"

/* The parts every LINEAR op reading tensor t as its weight needs; *is_linear says whether any
 * does. A weight shared by several LINEAR ops gets the union, so each finds what it reads. */
static unsigned linear_parts(const TtcPlan *p, int t, int *is_linear) {
    unsigned parts = 0;
    *is_linear = 0;
    for (int k = 0; k < p->n_ops; k++) {
        const TtcOpDesc *op = &p->ops[k];
        if (op->kind != TTC_OP_LINEAR || op->n_in < 2 || op->in[1] != t) continue;
        *is_linear = 1;
        /* Even where the product is a plain GEMM, the prepared operand is worth having: bf16 and
         * bfp values are packed as bf16 pairs, half the bytes of fp32, so the weights take half
         * the host memory (an 8B-parameter model fits) and decode streams half the bytes. */
        parts |= rt_matmul_parts_needed((TtcFidelity)op->cfg.fidelity, op->cfg.fp32_acc);
    }
    return parts;
}

/* Prepares weight t's rows [n, k] (one chip's slice, or the whole weight): rounds them to the
 * device format and, when a consumer needs them, packs the fidelity parts into *prep. */
static int prepare_matrix(float *w, int64_t n, int64_t k, TtcDType dtype, unsigned parts, void **prep) {
    ttc_round_matmul_weight(w, n, k, dtype);
    if (!parts) return 0;
    *prep = rt_matmul_prepare(w, n, k, parts);
    return *prep ? 0 : -1;
}

static int prepare_linear(TtcModel *m, int t, unsigned parts) {
    const TtcTensorDesc *d = &m->plan.tensors[t];
    int stacked = d->shard_chips > 0;
    int64_t chips = stacked ? d->shard_chips : 1, n = d->shape.d[stacked].size, k = d->shape.d[stacked + 1].size;
    void **slot = NULL;
    if (parts) {
        if (!m->prep) m->prep = calloc((size_t)m->plan.n_tensors + 1, sizeof *m->prep);
        if (!m->prep) return -1;
        slot = &m->prep[t];
        if (stacked && !(*slot = calloc((size_t)chips, sizeof(void *)))) return -1;
    }
    for (int64_t c = 0; c < chips; c++) {
        void **dst = !slot ? NULL : stacked ? &((void **)*slot)[c] : slot;
        void *unused = NULL;
        if (prepare_matrix(m->weights[t] + c * n * k, n, k, (TtcDType)d->dtype, parts, dst ? dst : &unused) != 0)
            return -1;
    }
    return 0;
}

TtcStatus rt_prepare_weight(TtcModel *m, int t, TtcError *err) {
    const TtcPlan *p = &m->plan;
    const TtcTensorDesc *d = &p->tensors[t];
    if (d->kind != TTC_TENSOR_WEIGHT || !m->weights[t]) return TTC_OK;
    int is_linear;
    unsigned parts = linear_parts(p, t, &is_linear);
    if (!is_linear || d->shape.rank != 2 + (d->shard_chips > 0)) {
        ttc_round_to_dtype(m->weights[t], ttc_shape_max_elems(&d->shape), d->shape.d[d->shape.rank - 1].size,
                           (TtcDType)d->dtype);
        return TTC_OK;
    }
    /* A tensor read both as a LINEAR weight and otherwise (a tied embedding table) is rounded as
     * the LINEAR operand: one stored copy serves both readers. */
    if (prepare_linear(m, t, parts) != 0)
        return ttc_fail(err, TTC_E_INTERNAL, "out of memory preparing the matmul operands of weight '%s'", d->name);
    return TTC_OK;
}

TtcStatus rt_prepare_weights(TtcModel *m, TtcError *err) {
    rt_free_prepared(m);
    for (int t = 0; t < m->plan.n_tensors; t++)
        if (rt_prepare_weight(m, t, err) != TTC_OK) {
            rt_free_prepared(m);
            return err->status;
        }
    return TTC_OK;
}

const void *rt_weight_prep_of(const TtcModel *m, int t, int chip) {
    if (!m->prep || t < 0 || t >= m->plan.n_tensors || !m->prep[t]) return NULL;
    if (m->plan.tensors[t].shard_chips <= 0) return m->prep[t];
    return chip >= 0 && chip < m->plan.tensors[t].shard_chips ? ((void *const *)m->prep[t])[chip] : NULL;
}

/* Each unstacked entry is one allocation (rt_matmul_prepare), so free() releases it; a stacked
 * weight's entry is an array of such allocations. */
void rt_free_prepared(TtcModel *m) {
    if (!m->prep) return;
    for (int t = 0; t < m->plan.n_tensors; t++) {
        int chips = m->plan.tensors[t].kind == TTC_TENSOR_WEIGHT ? m->plan.tensors[t].shard_chips : 0;
        for (int c = 0; m->prep[t] && c < chips; c++) free(((void **)m->prep[t])[c]);
        free(m->prep[t]);
    }
    free(m->prep);
    m->prep = NULL;
}

void rt_release_prepared_source(TtcModel *m, int t) {
    if (!m->prep || !m->weights || !m->prep[t] || !m->weights[t]) return;
    /* Only LINEAR weights are prepared, and a LINEAR kernel with a preparation reads nothing
     * else of its weight; a weight also read by another op (none today: a tied head is a tensor
     * of its own) keeps its values. */
    for (int k = 0; k < m->plan.n_ops; k++) {
        const TtcOpDesc *op = &m->plan.ops[k];
        for (int i = 0; i < op->n_in; i++)
            if (op->in[i] == t && !(op->kind == TTC_OP_LINEAR && i == 1)) return;
    }
    free(m->weights[t]);
    m->weights[t] = NULL;
}
