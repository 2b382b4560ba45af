/* bench_forward.c: how close a ttc forward is to its matmuls alone.
 *
 *   build/bench_forward [SPEC.yaml] [--hw HW.yaml]... [--seq N] [--batch N] [--runs N] [--no-fuse]
 *
 * --no-fuse compiles without the `fuse` pass (passes/fuse.c), to compare fused and unfused plans;
 * the fused attention op counts as its two products per head (q k^T and p v).
 *
 * Compiles the spec in-process (default: specs/bert-base.yaml, batch 1, seq 128, with
 * specs/hw/reference.yaml: fp32), runs the forward `runs` times with seeded random weights, then
 * runs the same matmuls (every linear, and the per-head attention products) back to back with
 * OpenBLAS alone on buffers of the same sizes. Prints best and median of both and their ratio.
 * A benchmark prints figures; it asserts nothing. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cg.h"
#include "compile.h"
#include "ttc_runtime.h"

typedef struct Gemm {
    int m, n, k, count; /* count: how many such products (heads x batch) */
    int trans_b;
} Gemm;

/* The matmuls of the plan at its full bounds, in op order. */
static int collect_gemms(const TtcPlan *p, Gemm *out, int cap) {
    int n = 0;
    for (int k = 0; k < p->n_ops && n < cap; k++) {
        const TtcOpDesc *op = &p->ops[k];
        const TtcShape *x = &p->tensors[op->in[0]].shape, *y = &p->tensors[op->out].shape;
        if (op->kind == TTC_OP_LINEAR) {
            int64_t rows = ttc_shape_max_elems(x) / x->d[x->rank - 1].size;
            const TtcShape *w = &p->tensors[op->in[1]].shape;
            out[n++] = (Gemm){(int)rows, (int)w->d[0].size, (int)w->d[1].size, 1, 1};
        } else if (op->kind == TTC_OP_ATTN_SCORES) { /* y [B,H,S,T] = q [S,D] k^T per head */
            out[n++] = (Gemm){(int)y->d[2].size, (int)y->d[3].size, op->attrs.head_dim,
                              (int)(y->d[0].size * y->d[1].size), 1};
        } else if (op->kind == TTC_OP_ATTENTION && n + 1 < cap) { /* q [B,S,.] k [B,T,.]: both products */
            int heads = (int)(x->d[0].size * op->attrs.heads), S = (int)x->d[1].size;
            int T = (int)p->tensors[op->in[1]].shape.d[1].size;
            out[n++] = (Gemm){S, T, op->attrs.head_dim, heads, 1};
            out[n++] = (Gemm){S, op->attrs.head_dim, T, heads, 0};
        } else if (op->kind == TTC_OP_ATTN_CONTEXT) { /* x [B,H,S,T] times v [T,D] per head */
            out[n++] = (Gemm){(int)x->d[2].size, op->attrs.head_dim, (int)x->d[3].size,
                              (int)(x->d[0].size * x->d[1].size), 0};
        }
    }
    return n;
}

int main(int argc, char **argv) {
    char spec[512], ref_hw[512];
    snprintf(spec, sizeof spec, "%s/specs/bert-base.yaml", TTC_SOURCE_DIR);
    snprintf(ref_hw, sizeof ref_hw, "%s/specs/hw/reference.yaml", TTC_SOURCE_DIR);
    const char *hws[16] = {ref_hw};
    int n_hw = 0, runs = 10, hw_given = 0;
    CompileOptions o;
    compile_options_init(&o);
    o.batch = 1;
    o.seq = 128;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hw") == 0 && i + 1 < argc && n_hw < 16) {
            hws[n_hw++] = argv[++i];
            hw_given = 1;
        } else if (strcmp(argv[i], "--seq") == 0 && i + 1 < argc) {
            o.seq = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            o.batch = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--no-fuse") == 0) {
            o.disabled[o.n_disabled++] = PASS_FUSE;
        } else if (argv[i][0] != '-') {
            snprintf(spec, sizeof spec, "%s", argv[i]);
        } else {
            fprintf(stderr, "usage: %s [SPEC.yaml] [--hw HW.yaml]... [--seq N] [--batch N] [--runs N] [--no-fuse]\n",
                    argv[0]);
            return argv[i][1] == 'h' || strcmp(argv[i], "--help") == 0 ? 0 : 1;
        }
    }
    if (runs < 1 || o.seq < 1 || o.batch < 1) return fprintf(stderr, "error: bad numbers\n"), 1;
    o.spec = spec;
    o.hw = hws;
    o.n_hw = hw_given ? n_hw : 1;

    TtcPlan plan;
    int rc = compile_spec_to_plan(&o, &plan, stderr);
    if (rc) return rc;
    TtcModel m;
    ttc_model_from_plan(&m, &plan);
    TtcError err = {0};
    if (ttc_model_random_weights(&m, 1, 0, &err) != TTC_OK) return ttc_error_print(&err), 1;
    int64_t n_ids = m.plan.max_batch * m.plan.max_seq;
    int32_t *ids = malloc((size_t)n_ids * sizeof *ids);
    for (int64_t i = 0; i < n_ids; i++) ids[i] = (int32_t)((i * 7919 + 101) % m.plan.vocab_size);
    TtcInputs in = {ids, NULL, NULL, m.plan.max_batch, m.plan.max_seq};
    TtcSession s;
    if (ttc_session_init(&s, &m, NULL, &err) != TTC_OK) return ttc_error_print(&err), 1;

    double *t_fwd = calloc((size_t)runs, sizeof *t_fwd), *t_mm = calloc((size_t)runs, sizeof *t_mm);
    ttc_forward(&s, &in, &err); /* warm-up: page in weights, spin up BLAS threads */
    for (int r = 0; r < runs && err.status == TTC_OK; r++) {
        double t0 = ttc_now_ms();
        ttc_forward(&s, &in, &err);
        t_fwd[r] = ttc_now_ms() - t0;
    }
    if (err.status != TTC_OK) return ttc_error_print(&err), 1;

    Gemm gemms[4096];
    int n_gemm = collect_gemms(&m.plan, gemms, 4096);
    size_t most = 0;
    double flops = 0;
    for (int i = 0; i < n_gemm; i++) {
        size_t a = (size_t)gemms[i].m * gemms[i].k, b = (size_t)gemms[i].k * gemms[i].n, cc = (size_t)gemms[i].m * gemms[i].n;
        if (a > most) most = a;
        if (b > most) most = b;
        if (cc > most) most = cc;
        flops += 2.0 * gemms[i].m * gemms[i].n * gemms[i].k * gemms[i].count;
    }
    float *A = calloc(most, 4), *B = calloc(most, 4), *C = calloc(most, 4);
    for (size_t i = 0; i < most; i++) A[i] = B[i] = 0.01f * (float)(i % 97);
    /* The peer is OpenBLAS at its best: one thread per core (ttc's session set it to 1, as ttc
     * runs its own matmul threads). */
    openblas_set_num_threads((int)sysconf(_SC_NPROCESSORS_ONLN));
    for (int r = -1; r < runs; r++) { /* r = -1: warm-up */
        double t0 = ttc_now_ms();
        for (int i = 0; i < n_gemm; i++) {
            const Gemm *g = &gemms[i];
            for (int j = 0; j < g->count; j++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, 1.0f, A,
                            g->k, B, g->trans_b ? g->k : g->n, 0.0f, C, g->n);
        }
        if (r >= 0) t_mm[r] = ttc_now_ms() - t0;
    }
    ttc_sort_doubles(t_fwd, (size_t)runs);
    ttc_sort_doubles(t_mm, (size_t)runs);
    printf("bench_forward: %s, batch %lld, seq %lld, %s, %s, %d runs, OpenBLAS %s\n", m.plan.model_name,
           (long long)m.plan.max_batch, (long long)m.plan.max_seq, hw_given ? "given overlays" : "reference.yaml (fp32)",
           o.n_disabled ? "unfused (--no-fuse)" : "fused", runs, openblas_get_config());
    printf("  ttc forward          best %8.2f ms   median %8.2f ms   (%.1f GFLOP/s)\n", t_fwd[0], t_fwd[runs / 2],
           flops / t_fwd[0] / 1e6);
    printf("  matmuls alone (BLAS) best %8.2f ms   median %8.2f ms   (%d GEMM shapes, %.2f GFLOP)\n", t_mm[0],
           t_mm[runs / 2], n_gemm, flops / 1e9);
    printf("  ratio forward / matmuls: best %.3f   median %.3f   (target <= 1.3)\n", t_fwd[0] / t_mm[0],
           t_fwd[runs / 2] / t_mm[runs / 2]);
    free(A);
    free(B);
    free(C);
    free(t_fwd);
    free(t_mm);
    free(ids);
    ttc_session_free(&s);
    ttc_model_close(&m);
    return 0;
}
