/* cmd_compile.c: `ttc compile`: spec + overlays -> plan file. */
#include <stdio.h>
#include <string.h>

#include "cg.h"
#include "cli.h"

static const CliOpt compile_opts[] = {
    {"--hw", "HW.yaml", 1, "hardware-config overlay, applied in order"},
    {"--set", "PATH=VALUE", 1, "override one config field, e.g. layer_3.ffn.weight_dtype=bf16 (applied last)"},
    {"--batch", "N", 0, "most sequences per run (default 1)"},
    {"--seq", "N", 0, "most tokens per sequence (default: the model's, at most 512)"},
    {"--max-seq", "N", 0, "most tokens of context, decoders (default: --seq)"},
    {"--emit", "KIND", 0, "what to write: plan (default)"},
    {"-o", "OUT", 0, "output file (default: MODEL.plan)"},
    {"--disable-pass", "NAME", 1, "skip an optional pass (ttc passes lists them)"},
    {"--time-passes", NULL, 0, "print the time each pass took"},
    {"--verbose", NULL, 0, "print the memory plan and other pass details"},
    {0},
};

/* Device bytes of a tensor: the last two dims padded to 32x32 tiles of the tensor's format. */
static double device_bytes(const TtcTensorDesc *d) {
    int r = d->shape.rank;
    int64_t rows = r >= 2 ? d->shape.d[r - 2].size : 1, cols = d->shape.d[r - 1].size, outer = 1;
    for (int i = 0; i < r - 2; i++) outer *= d->shape.d[i].size;
    int64_t tiles = outer * ((rows + 31) / 32) * ((cols + 31) / 32);
    return (double)tiles * ttc_dtype_tile_bytes((TtcDType)d->dtype);
}

static void print_summary(const Graph *g, const char *out) {
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

int cmd_compile(const CliCommand *cmd, const CliArgs *a) {
    CompileOptions o;
    if (cli_compile_options(cmd, a, &o)) return 1;
    const char *emit = cli_get(cmd, a, "--emit");
    if (emit && strcmp(emit, "plan") != 0)
        return cli_error("this ttc writes plans only (--emit plan); C code generation is a capability still to come",
                         "--emit: '%s' is not available", emit);
    Compilation f;
    int rc = cli_compile_spec(&o, &f);
    if (rc) {
        compile_free(&f);
        return rc;
    }
    char out[TTC_NAME_MAX + 8];
    const char *path = cli_get(cmd, a, "-o");
    if (!path) {
        snprintf(out, sizeof out, "%s.plan", f.graph.model_name);
        path = out;
    }
    char producer[256];
    snprintf(producer, sizeof producer, "ttc %s: compile %s", TTC_VERSION_STRING, o.spec);
    TtcPlan plan;
    TtcError err = {0};
    if (cg_plan_from_graph(&f.graph, &plan, producer) != 0) {
        compile_free(&f);
        return cli_error(NULL, "out of memory");
    }
    /* The loader's checks run on what we are about to write: a plan ttc cannot load is a bug. */
    if (ttc_plan_validate(&plan, path, &err) != TTC_OK) {
        fprintf(stderr, "internal: ");
        ttc_error_print(&err);
        rc = 2;
    } else if (ttc_plan_write(&plan, path, &err) != TTC_OK) {
        ttc_error_print(&err);
        rc = err.status;
    } else {
        print_summary(&f.graph, path);
    }
    ttc_plan_free(&plan);
    compile_free(&f);
    return rc;
}

const CliCommand cli_compile = {
    "compile",
    "compile an ArchitectureSpec and hardware overlays into a plan",
    "SPEC.yaml [--hw HW.yaml]... [--set PATH=VALUE]... [--batch N] [--seq N] [-o OUT]",
    "--batch and --seq are upper bounds: the plan runs any input up to them.\n"
    "Overlays apply in order, --set last; with no device anywhere the target is wormhole_n150.",
    1,
    1,
    compile_opts,
    cmd_compile,
};
