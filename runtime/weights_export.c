/* weights_export.c: a model's fp32 weights back out as a safetensors file under Hugging Face
 * names (ttc_model_write_weights in ttc_runtime.h). Tests and tools use it to hand the same
 * weights to another implementation (PyTorch), or to a second plan of the same spec, or to write
 * a damaged checkpoint on purpose. */
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "ttc_runtime.h"

/* Appends the parts of weight t: a fused weight "q:R|k:R|v:R" (passes/fuse.c) is its parts
 * stacked along dim 0, each written under its own name with its R rows; any other is itself. */
static TtcStatus add_parts(const TtcModel *m, int t, TtcStTensorOut *out, char **names, int *n, TtcWeightEdit edit,
                           void *user, TtcError *err) {
    const TtcTensorDesc *d = &m->plan.tensors[t];
    float *w = m->ref_weights[t];
    int64_t rows_all = d->shape.d[0].size, row = rows_all ? ttc_shape_max_elems(&d->shape) / rows_all : 0;
    for (const char *p = d->name; *p;) {
        const char *bar = strchr(p, '|'), *colon = strchr(p, ':');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        int has_rows = colon && (!bar || colon < bar);
        int64_t rows = has_rows ? strtoll(colon + 1, NULL, 10) : rows_all;
        size_t name_len = has_rows ? (size_t)(colon - p) : len;
        if (rows < 0 || rows > rows_all || rows * row > ttc_shape_max_elems(&d->shape) - (int64_t)(w - m->ref_weights[t]))
            return ttc_fail(err, TTC_E_INTERNAL, "weight '%s': its parts have more rows than the tensor", d->name);
        char *part = names[*n] = malloc(name_len + 1);
        if (!part) return ttc_fail(err, TTC_E_INTERNAL, "out of memory");
        memcpy(part, p, name_len);
        part[name_len] = 0;
        if (edit) edit(part, w, rows * row, user);
        out[*n] = (TtcStTensorOut){.name = part, .data = w, .rank = d->shape.rank};
        for (int i = 0; i < d->shape.rank; i++) out[*n].shape[i] = d->shape.d[i].size;
        out[*n].shape[0] = rows;
        (*n)++;
        w += rows * row;
        p += len + (bar != NULL);
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
        cap += 1;
        for (const char *p = d->name; (p = strchr(p, '|')); p++) cap++;
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
