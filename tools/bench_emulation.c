/* bench_emulation.c: what the emulated matrix unit costs.
 *
 *   build/bench_emulation [--runs N] [--rows M] [--ref HW.yaml] [--perf HW.yaml] [--no-forward]
 *
 * 1. LINEAR at bert-base sizes (M rows, default 128): plain cblas_sgemm, then the emulated
 *    product (runtime/matmul_emul.c) under every math fidelity with an fp32 and a bf16
 *    destination, on random fp32 weights (every fidelity part present) and on bfp8 weights.
 *    Prints the best time of each and its ratio to sgemm.
 * 2. bert-base forward (batch 1, seq 128) under specs/hw/reference.yaml and
 *    specs/hw/performance.yaml (or the overlays --ref and --perf name), plus the built-in
 *    defaults, best and median, and the ratio performance / reference (issue 4's target: no
 *    more than 1.2). The machine's other load shows in the medians; compare the bests.
 * A benchmark prints figures; it asserts nothing. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "matmul_emul.h"
#include "numerics.h"
#include "ttc_runtime.h"

static uint64_t rng = 42;
static float uniform_pm1(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((int32_t)(rng >> 32)) * 0x1p-31f;
}

static double best_of(double *t, int n) {
    ttc_sort_doubles(t, (size_t)n);
    return t[0];
}

typedef struct Shape {
    const char *what;
    int n, k;
} Shape;

static const Shape shapes[] = {
    {"attention out   ", 768, 768},
    {"fused qkv       ", 2304, 768},
    {"ffn up          ", 3072, 768},
    {"ffn down        ", 768, 3072},
};

/* One row of the table: sgemm, then 4 fidelities x 2 destinations on weights `w`. */
static void bench_shape(const Shape *s, int m, int runs, const float *x, float *w, float *out, const char *wfmt) {
    double *t = calloc((size_t)runs, sizeof *t);
    for (int r = -1; r < runs; r++) { /* r = -1 warms up */
        double t0 = ttc_now_ms();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, s->n, s->k, 1.0f, x, s->k, w, s->k, 0.0f, out, s->n);
        if (r >= 0) t[r] = ttc_now_ms() - t0;
    }
    double base = best_of(t, runs);
    printf("  %s %4dx%4dx%4d %-5s sgemm %7.3f ms |", s->what, m, s->k, s->n, wfmt, base);
    for (int acc = 1; acc >= 0; acc--) {
        for (int f = 0; f < 4; f++) {
            RtMatmulWeights *pw = rt_matmul_prepare(w, s->n, s->k, rt_matmul_parts_needed((TtcFidelity)f, acc));
            if (!pw) {
                printf(" (out of memory)");
                continue;
            }
            RtMatmulMode mode = {.fidelity = (TtcFidelity)f, .fp32_acc = acc, .dest_round = RT_DEST_NEAREST_EVEN};
            for (int r = -1; r < runs; r++) {
                double t0 = ttc_now_ms();
                rt_matmul_emul(x, m, pw, NULL, &mode, out);
                if (r >= 0) t[r] = ttc_now_ms() - t0;
            }
            printf(" %5.2fx", best_of(t, runs) / base);
            free(pw);
        }
        printf(acc ? " |" : "\n");
    }
    free(t);
}

static void bench_linears(int m, int runs) {
    printf("LINEAR, emulated time / cblas_sgemm time (best of %d; threads: emulation %d, OpenBLAS %d)\n", runs,
           rt_matmul_threads(), openblas_get_num_threads());
    printf("  %-16s %-14s %-5s %-16s | fp32 dest: LoFi  HiFi2  HiFi3  HiFi4 | bf16 dest: LoFi  HiFi2  HiFi3  HiFi4\n",
           "op", "MxKxN", "w", "");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const Shape *s = &shapes[i];
        float *x = malloc((size_t)m * s->k * sizeof *x), *w = malloc((size_t)s->n * s->k * sizeof *w);
        float *out = malloc((size_t)m * s->n * sizeof *out);
        if (!x || !w || !out) {
            printf("  out of memory\n");
            free(x), free(w), free(out);
            return;
        }
        for (int64_t j = 0; j < (int64_t)m * s->k; j++) x[j] = uniform_pm1();
        for (int64_t j = 0; j < (int64_t)s->n * s->k; j++) w[j] = uniform_pm1();
        ttc_bf16_round_buffer(x, (int64_t)m * s->k); /* activations arrive in bf16 */
        bench_shape(s, m, runs, x, w, out, "fp32");
        ttc_round_matmul_weight(w, s->n, s->k, TTC_BFP8);
        bench_shape(s, m, runs, x, w, out, "bfp8");
        free(x);
        free(w);
        free(out);
    }
}

/* Best and median forward time of bert-base under the overlay `hw` (NULL: built-in defaults; a
 * bare file name is looked up in specs/hw/); returns the best, or -1 when the overlay is
 * missing or does not compile. */
static double bench_forward(const char *hw, int runs) {
    char spec[512], hwpath[512];
    snprintf(spec, sizeof spec, "%s/specs/bert-base.yaml", TTC_SOURCE_DIR);
    const char *hws[1] = {hwpath};
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.batch = 1;
    o.seq = 128;
    if (hw) {
        if (strchr(hw, '/'))
            snprintf(hwpath, sizeof hwpath, "%s", hw);
        else
            snprintf(hwpath, sizeof hwpath, "%s/specs/hw/%s", TTC_SOURCE_DIR, hw);
        if (access(hwpath, R_OK) != 0) {
            printf("  %-18s not found (%s)\n", hw, hwpath);
            return -1;
        }
        o.hw = hws;
        o.n_hw = 1;
    }
    TtcPlan plan;
    if (compile_spec_to_plan(&o, &plan, stderr) != 0) return -1;
    TtcModel m;
    ttc_model_from_plan(&m, &plan);
    TtcError err = {0};
    double t_load = ttc_now_ms();
    if (ttc_model_random_weights(&m, 1, 0, &err) != TTC_OK) {
        ttc_error_print(&err);
        ttc_model_close(&m);
        return -1;
    }
    t_load = ttc_now_ms() - t_load;
    int64_t n_ids = m.plan.max_batch * m.plan.max_seq;
    int32_t *ids = malloc((size_t)n_ids * sizeof *ids);
    for (int64_t i = 0; i < n_ids; i++) ids[i] = (int32_t)((i * 7919 + 101) % m.plan.vocab_size);
    TtcInputs in = {ids, NULL, NULL, m.plan.max_batch, m.plan.max_seq};
    TtcSession s;
    double *t = calloc((size_t)runs, sizeof *t), best = -1;
    if (ttc_session_init(&s, &m, NULL, &err) == TTC_OK) {
        for (int r = -1; r < runs && err.status == TTC_OK; r++) {
            double t0 = ttc_now_ms();
            ttc_forward(&s, &in, &err);
            if (r >= 0) t[r] = ttc_now_ms() - t0;
        }
        ttc_session_free(&s);
    }
    if (err.status == TTC_OK) {
        ttc_sort_doubles(t, (size_t)runs);
        best = t[0];
        printf("  %-18s best %8.2f ms   median %8.2f ms   (weights generated and prepared in %.0f ms)\n",
               hw ? hw : "built-in defaults", t[0], t[runs / 2], t_load);
    } else {
        ttc_error_print(&err);
    }
    free(t);
    free(ids);
    ttc_model_close(&m);
    return best;
}

int main(int argc, char **argv) {
    int runs = 10, m = 128, forward = 1;
    const char *ref_hw = "reference.yaml", *perf_hw = "performance.yaml";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            m = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ref") == 0 && i + 1 < argc)
            ref_hw = argv[++i];
        else if (strcmp(argv[i], "--perf") == 0 && i + 1 < argc)
            perf_hw = argv[++i];
        else if (strcmp(argv[i], "--no-forward") == 0)
            forward = 0;
        else {
            fprintf(stderr, "usage: %s [--runs N] [--rows M] [--ref HW.yaml] [--perf HW.yaml] [--no-forward]\n", argv[0]);
            return strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ? 0 : 1;
        }
    }
    if (runs < 1 || m < 1) return fprintf(stderr, "error: --runs and --rows must be positive\n"), 1;
    printf("bench_emulation: OpenBLAS %s\n", openblas_get_config());
    bench_linears(m, runs);
    if (!forward) return 0;
    printf("bert-base forward, batch 1, seq 128 (best of %d)\n", runs);
    double ref = bench_forward(ref_hw, runs);
    double perf = bench_forward(perf_hw, runs);
    bench_forward(NULL, runs);
    if (ref > 0 && perf > 0) printf("  %s / %s: %.3f (target <= 1.2)\n", perf_hw, ref_hw, perf / ref);
    return 0;
}
