/* bench_compile.c: does compile time grow linearly with the number of layers?
 *
 *   build/bench_compile [--layers N,N,...] [--spec SPEC.yaml] [--8b SPEC.yaml]
 *
 * Compiles the spec (default specs/tiny-llama.yaml) with its layer block's `repeat` set to each
 * N (default 32,1000,10000), in-process, and prints per N: the total pass time (the sum of the
 * pipeline's --time-passes figures), the whole compile's wall time (lowering, the verification
 * after every pass, the plan), the pass time per layer, and per-layer(N) / per-layer(first N),
 * which stays near 1 when every pass is linear. Then the same per pass. Then it compiles
 * specs/llama-3.1-8b.yaml and prints its total pass time. Compiles let misfits through
 * (--allow-misfit): the figures are of the passes, not of whether the model fits. Run it from
 * the repository root.
 * A benchmark: prints figures, asserts nothing on time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "ttc_runtime.h"

#define MAX_RUNS 8

typedef struct Run {
    int layers;
    int n_ops;
    double pass_ms[PASS_COUNT];
    double total_ms, wall_ms;
} Run;

/* Compiles `spec` with --time-passes, reading the per-pass figures the pipeline prints to stderr
 * (the same numbers `ttc compile --time-passes` shows) from a temporary file. 0 or -1. */
static int compile_timed(const char *spec, Run *r) {
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.time_passes = 1;
    o.allow_misfit = 1; /* the 8B model needs more DRAM than the default n150: its pass time still counts */
    FILE *cap = tmpfile();
    if (!cap) return -1;
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(cap), 2);
    Compilation c;
    TtcPlan plan;
    double t0 = ttc_now_ms();
    int rc = compile_to_plan(&o, "bench_compile", &c, &plan);
    r->wall_ms = ttc_now_ms() - t0;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (rc != 0) diag_print(&c.diags, stderr);
    r->n_ops = c.have_graph ? c.graph.n_ops : 0;
    compile_free(&c);
    if (rc == 0) ttc_plan_free(&plan);
    rewind(cap);
    char line[256], name[64];
    double ms;
    memset(r->pass_ms, 0, sizeof r->pass_ms);
    r->total_ms = 0;
    while (fgets(line, sizeof line, cap))
        if (sscanf(line, " pass %63s %lf ms", name, &ms) == 2) {
            int p = pass_from_name(name);
            if (p >= 0) r->pass_ms[p] += ms;
            r->total_ms += ms;
        }
    fclose(cap);
    return rc == 0 ? 0 : -1;
}

/* `base` with every "repeat: <n>" set to `layers`, in a temporary .yaml next to nothing else. */
static int write_deep_spec(const char *base, int layers, char *path, size_t cap) {
    FILE *in = fopen(base, "r");
    if (!in) return -1;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, cap, "%s/bench_compile_XXXXXX.yaml", dir);
    int fd = mkstemps(path, 5);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        fclose(in);
        return -1;
    }
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, in)) {
        char *at = strstr(line, "repeat:");
        if (at) {
            fprintf(out, "%.*srepeat: %d\n", (int)(at - line), line, layers);
            found = 1;
        } else {
            fputs(line, out);
        }
    }
    fclose(in);
    fclose(out);
    return found ? 0 : -1;
}

/* One row: per run, the figure in ms, per layer, and per layer against the first run's. */
static void print_row(const char *what, const Run *runs, const double *ms, int n) {
    printf("  %-14s", what);
    double base = ms[0] / runs[0].layers;
    for (int i = 0; i < n; i++) {
        double per = ms[i] / runs[i].layers;
        printf(" %9.2f %7.4f %5.2fx", ms[i], per, base > 0 ? per / base : 0.0);
    }
    putchar('\n');
}

int main(int argc, char **argv) {
    const char *base = "specs/tiny-llama.yaml", *big = "specs/llama-3.1-8b.yaml";
    int layers[MAX_RUNS] = {32, 1000, 10000}, n = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--layers") == 0 && i + 1 < argc) {
            n = 0;
            for (char *s = argv[++i], *end; *s && n < MAX_RUNS; s = *end ? end + 1 : end) {
                layers[n++] = (int)strtol(s, &end, 10);
                if (end == s || layers[n - 1] < 1) return fprintf(stderr, "error: --layers takes N,N,... (N >= 1)\n"), 1;
            }
        } else if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc) {
            base = argv[++i];
        } else if (strcmp(argv[i], "--8b") == 0 && i + 1 < argc) {
            big = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--layers N,N,...] [--spec SPEC.yaml] [--8b SPEC.yaml]\n", argv[0]);
            return strcmp(argv[i], "--help") == 0 ? 0 : 1;
        }
    }
    Run runs[MAX_RUNS] = {{0}};
    for (int i = 0; i < n; i++) {
        char path[4096];
        runs[i].layers = layers[i];
        if (write_deep_spec(base, layers[i], path, sizeof path) != 0) {
            fprintf(stderr, "error: cannot write a %d-layer copy of %s (no `repeat:` in it?)\n", layers[i], base);
            return 1;
        }
        int rc = compile_timed(path, &runs[i]);
        unlink(path);
        if (rc != 0) return fprintf(stderr, "error: compiling %s with %d layers failed\n", base, layers[i]), 1;
        fprintf(stderr, "compiled %d layers: %d ops, %.1f ms of passes\n", layers[i], runs[i].n_ops, runs[i].total_ms);
    }
    printf("compile time of %s by layers: per N, ms | ms per layer | per layer vs %d layers\n", base, layers[0]);
    printf("  %-14s", "layers");
    for (int i = 0; i < n; i++) printf(" %9d %7s %6s", runs[i].layers, "", "");
    printf("\n  %-14s", "ops");
    for (int i = 0; i < n; i++) printf(" %9d %7s %6s", runs[i].n_ops, "", "");
    putchar('\n');
    double ms[MAX_RUNS] = {0};
    for (int i = 0; i < n; i++) ms[i] = runs[i].total_ms;
    print_row("all passes", runs, ms, n);
    for (int i = 0; i < n; i++) ms[i] = runs[i].wall_ms;
    print_row("wall (compile)", runs, ms, n);
    for (int p = 0; p < PASS_COUNT; p++) {
        for (int i = 0; i < n; i++) ms[i] = runs[i].pass_ms[p];
        if (ms[n - 1] > 0.05) print_row(pass_name((PassId)p), runs, ms, n); /* `shard` does nothing on one chip */
    }

    Run r8 = {.layers = 32};
    if (compile_timed(big, &r8) != 0) return fprintf(stderr, "error: compiling %s failed\n", big), 1;
    printf("%s: %d ops, %.2f ms of passes (%.2f ms wall, plan included)\n", big, r8.n_ops, r8.total_ms, r8.wall_ms);
    for (int p = 0; p < PASS_COUNT; p++)
        if (r8.pass_ms[p] > 0) printf("  %-14s %9.3f ms\n", pass_name((PassId)p), r8.pass_ms[p]);
    return 0;
}
