/* cli_summary.c: what `ttc compile` prints about the plan it wrote. */
#include <stdio.h>

#include "cli.h"

/* Device bytes of a tensor: the last two dims padded to 32x32 tiles of the tensor's format. */
static double device_bytes(const TtcTensorDesc *d) {
    int r = d->shape.rank;
    int64_t rows = r >= 2 ? d->shape.d[r - 2].size : 1, cols = d->shape.d[r - 1].size, outer = 1;
    for (int i = 0; i < r - 2; i++) outer *= d->shape.d[i].size;
    int64_t tiles = outer * ((rows + 31) / 32) * ((cols + 31) / 32);
    return (double)tiles * ttc_dtype_tile_bytes((TtcDType)d->dtype);
}

void cli_print_compile_summary(const Graph *g, const char *out) {
    double params = 0, dev = 0;
    for (int v = 0; v < g->n_vals; v++) {
        if (g->vals[v].d.kind != TTC_TENSOR_WEIGHT) continue;
        params += (double)ttc_shape_max_elems(&g->vals[v].d.shape);
        dev += device_bytes(&g->vals[v].d);
    }
    printf("compiled %s (%s) for %s: %d ops, batch<=%lld seq<=%lld\n", g->model_name,
           g->model_type == 0 ? "encoder" : "decoder", g->device, g->n_ops, (long long)g->max_batch,
           (long long)g->max_seq);
    printf("  weights: %.1fM parameters, %.1f MiB in device formats\n", params / 1e6, dev / (1 << 20));
    printf("  activation arena: %.2f MiB (host, lifetime-shared)\n", (double)g->arena_bytes / (1 << 20));
    printf("wrote %s\n", out);
}

