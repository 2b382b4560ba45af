/* weight_prep.c: device formats for weights, applied once at load. */
#include "weight_prep.h"

#include <stdlib.h>

#include "numerics.h"

TtcStatus rt_prepare_weights(TtcModel *m, TtcError *err) {
    for (int t = 0; t < m->plan.n_tensors; t++) {
        const TtcTensorDesc *d = &m->plan.tensors[t];
        if (d->kind != TTC_TENSOR_WEIGHT || !m->weights[t]) continue;
        ttc_round_to_dtype(m->weights[t], ttc_shape_max_elems(&d->shape), d->shape.d[d->shape.rank - 1].size,
                           (TtcDType)d->dtype);
    }
    (void)err;
    return TTC_OK;
}

void rt_free_prepared(TtcModel *m) {
    if (!m->prep) return;
    for (int t = 0; t < m->plan.n_tensors; t++) free(m->prep[t]);
    free(m->prep);
    m->prep = NULL;
}
