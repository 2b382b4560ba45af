/* weights_export.c: a model's fp32 weights back out as a safetensors file under Hugging Face
 * names (ttc_model_write_weights in ttc_runtime.h). Tests and tools use it to hand the same
 * weights to another implementation (PyTorch), or to a second plan of the same spec, or to write
 * a damaged checkpoint on purpose. */
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "ttc_runtime.h"

/* Appends the parts of weight t: a fused weight (ttc_weight_name_parts) is its parts stacked
 * along dim 0, each written under its own name with its rows; any other is itself. */
static TtcStatus add_parts(const TtcModel *m, int t, TtcStTensorOut *out, char **names, int *n, TtcWeightEdit edit,
                           void *user, TtcError *err) {
    const TtcTensorDesc *d = &m->plan.tensors[t];
    char parts[TTC_WEIGHT_MAX_PARTS][TTC_NAME_MAX];
    int64_t rows[TTC_WEIGHT_MAX_PARTS];
    int n_parts = ttc_weight_name_parts(d->name, parts, rows, TTC_WEIGHT_MAX_PARTS);
    if (n_parts < 1 || n_parts > TTC_WEIGHT_MAX_PARTS)
        return ttc_fail(err, TTC_E_INTERNAL, "weight '%s': %d fused parts", d->name, n_parts);
    int64_t rows_all = d->shape.d[0].size, row = rows_all ? ttc_shape_max_elems(&d->shape) / rows_all : 0, done = 0;
    if (n_parts == 1) rows[0] = rows_all;
    for (int k = 0; k < n_parts; k++) {
        if (rows[k] < 0 || rows[k] > rows_all - done)
            return ttc_fail(err, TTC_E_INTERNAL, "weight '%s': its parts have more rows than the tensor", d->name);
        if (!(names[*n] = strdup(parts[k]))) return ttc_fail(err, TTC_E_INTERNAL, "out of memory");
        float *w = m->ref_weights[t] + done * row;
        if (edit) edit(names[*n], w, rows[k] * row, user);
        out[*n] = (TtcStTensorOut){.name = names[*n], .data = w, .rank = d->shape.rank};
        for (int i = 0; i < d->shape.rank; i++) out[*n].shape[i] = d->shape.d[i].size;
        out[*n].shape[0] = rows[k];
        (*n)++;
        done += rows[k];
    }
    return TTC_OK;
}

TtcStatus ttc_model_write_weights(const TtcModel *m, const char *path, TtcWeightEdit edit, void *user,
                                  TtcError *err) {
    if (!m->ref_weights)
        return ttc_fail(err, TTC_E_INTERNAL, "ttc_model_write_weights: the fp32 weights were not kept (keep_fp32)");
    int cap = 0;
    for (int t = 0; t < m->plan.n_tensors; t++) {
        const TtcTensorDesc *d = &m->plan.tensors[t];
        if (d->kind != TTC_TENSOR_WEIGHT) continue;
        if (d->shard_chips > 0)
            return ttc_fail(err, TTC_E_INTERNAL, "weight '%s' is stacked per chip: write the weights of the "
                            "single-chip plan of the spec", d->name);
        cap += TTC_WEIGHT_MAX_PARTS;
    }
    TtcStTensorOut *out = calloc((size_t)cap + 1, sizeof *out);
    char **names = calloc((size_t)cap + 1, sizeof *names);
    int n = 0;
    TtcStatus st = out && names ? TTC_OK : ttc_fail(err, TTC_E_INTERNAL, "out of memory");
    for (int t = 0; t < m->plan.n_tensors && st == TTC_OK; t++) {
        const TtcTensorDesc *d = &m->plan.tensors[t];
        if (d->kind != TTC_TENSOR_WEIGHT) continue;
        int seen = 0; /* a tied head repeats the embedding's name: the file holds it once */
        for (int j = 0; j < n && !seen; j++) seen = strcmp(out[j].name, d->name) == 0;
        if (!seen) st = add_parts(m, t, out, names, &n, edit, user, err);
    }
    if (st == TTC_OK) st = ttc_st_write_f32(path, out, n, err);
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
    free(out);
    return st;
}
