/* cli_summary.c: what `ttc compile` prints about the plan it wrote: the model, its weights, the
 * host arena, and per mode what the device passes estimated (time per step and what bounds it,
 * peak L1 per core, DRAM per chip). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "count_str.h"
#include "dev_layout.h"

/* Device bytes of a tensor: the last two dims padded to 32x32 tiles of the tensor's format. */
static double device_bytes(const TtcTensorDesc *d) {
    int r = d->shape.rank;
    int64_t rows = r >= 2 ? d->shape.d[r - 2].size : 1, cols = d->shape.d[r - 1].size, outer = 1;
    for (int i = 0; i < r - 2; i++) outer *= d->shape.d[i].size;
    int64_t tiles = outer * ((rows + 31) / 32) * ((cols + 31) / 32);
    return (double)tiles * ttc_dtype_tile_bytes((TtcDType)d->dtype);
}

/* One line per entry point; `dev` may be NULL when its descriptor cannot be read (then the
 * capacities are left out). */
static void print_device(const Graph *g, const HwDevice *dev) {
    int any = 0;
    for (int e = 0; e < g->n_entries; e++) any |= g->entries[e].clock_khz > 0 || g->entries[e].dram_peak_bytes > 0;
    if (!any) return; /* the device passes were disabled */
    if (dev)
        printf("  device %s (%d chip%s; estimates per chip at the plan's upper bounds):\n", g->device, dev->chips,
               dev->chips == 1 ? "" : "s");
    else
        printf("  device %s (estimates per chip at the plan's upper bounds):\n", g->device);
    for (int e = 0; e < g->n_entries; e++) {
        const TtcEntry *en = &g->entries[e];
        char l1[32], dram[32], cap[32], cap2[32], time[64] = "time not estimated";
        if (en->clock_khz > 0) {
            double ms = (double)en->device_cycles / (double)en->clock_khz;
            int n = snprintf(time, sizeof time, "%.3f ms per step", ms);
            /* decode: every step yields one token per sequence */
            if (en->mode == 1 && ms > 0 && n > 0)
                snprintf(time + n, sizeof time - (size_t)n, " (%.1f tokens/s)", 1000.0 * (double)g->max_batch / ms);
        }
        printf("    %-8s %s, %s-bound; L1 peak %s per core", en->name, time, ttc_bound_name(en->device_bound),
               dev_bytes_str(en->l1_peak_bytes, l1, sizeof l1));
        if (dev) printf(" (of %s)", dev_bytes_str(dev->l1_bytes, cap, sizeof cap));
        printf("; DRAM %s per chip", dev_bytes_str(en->dram_peak_bytes, dram, sizeof dram));
        if (dev)
            printf(" (of %s%s)", dev_bytes_str(dev->dram_bytes, cap2, sizeof cap2),
                   en->dram_peak_bytes > dev->dram_bytes ? ": does not fit" : "");
        printf("\n");
    }
    /* where the `core-shard` pass put the activations (nothing when it was disabled) */
    int n[3] = {0}, reshards = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const IrPlacement *p = &g->vals[v].place;
        if (!p->set || g->vals[v].d.alias >= 0) continue;
        n[p->memory != TTC_MEM_L1 ? 0 : p->sharding >= HW_SHARD_HEIGHT && p->sharding <= HW_SHARD_BLOCK ? 2 : 1]++;
    }
    for (int k = 0; k < g->n_ops; k++) reshards += g->ops[k].d.kind == TTC_OP_RESHARD;
    if (n[0] + n[1] + n[2])
        printf("    activations: %d L1-sharded, %d L1-interleaved, %d in DRAM; %d reshard%s\n", n[2], n[1], n[0],
               reshards, reshards == 1 ? "" : "s");
}

void cli_print_compile_summary(const Graph *g, const char *out) {
    int64_t params = 0;
    double dev = 0;
    IrWeightIndex first_of_name; /* a scan per weight was quadratic in the layers */
    int indexed = ir_weight_index_init(&first_of_name, g) == 0;
    for (int v = 0; v < g->n_vals; v++) {
        if (g->vals[v].d.kind != TTC_TENSOR_WEIGHT) continue;
        dev += device_bytes(&g->vals[v].d);
        /* A tied head is a second tensor of the same name (one copy per format): one set of
         * parameters, two copies in memory. */
        int seen = indexed && ir_weight_index_find(&first_of_name, g, g->vals[v].d.name) != v;
        for (int u = 0; !indexed && u < v && !seen; u++) /* out of memory: the slow way */
            seen = g->vals[u].d.kind == TTC_TENSOR_WEIGHT && strcmp(g->vals[u].d.name, g->vals[v].d.name) == 0;
        if (!seen) params += ttc_shape_max_elems(&g->vals[v].d.shape);
    }
    if (indexed) ir_weight_index_free(&first_of_name);
    printf("compiled %s (%s) for %s: %d ops, batch<=%lld seq<=%lld\n", g->model_name,
           g->model_type == 0 ? "encoder" : "decoder", g->device, g->n_ops, (long long)g->max_batch,
           (long long)g->max_seq);
    char count[32];
    printf("  weights: %s parameters, %.1f MiB in device formats\n", ttc_count_str(params, count, sizeof count),
           dev / (1 << 20));
    printf("  activation arena: %.2f MiB (host, lifetime-shared)\n", (double)g->arena_bytes / (1 << 20));
    Diags d = {0};
    HwDevice desc;
    DiagLoc none = {0};
    int have = hw_device_load(&desc, g->device, none, &d) == 0;
    diag_free(&d);
    print_device(g, have ? &desc : NULL);
    printf("wrote %s\n", out);
}
