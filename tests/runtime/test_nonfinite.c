/* test_nonfinite.c: NaN and infinity are never hidden. For every op family, one NaN, +inf or
 * -inf is placed in one input at a few positions; the fast kernel (under every instruction-set
 * variant) must then hold a non-finite value exactly where the reference kernel does, and a NaN
 * wherever the reference holds a NaN. The reference, plain IEEE arithmetic in double, decides;
 * each case also checks that it made something non-finite, so no case passes vacuously.
 * Emulated matmuls, formats (bf16, bfp8/4, tf32) and the logits check are in
 * test_nonfinite_formats.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "kernels_fused.h"
#include "kernels_vec.h"
#include "unit.h"

static uint64_t rng = 7;

static float uniform(float lo, float hi) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((double)(rng >> 11) * 0x1p-53);
}

static float *rand_buf(int64_t n, float lo, float hi) {
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = uniform(lo, hi);
    return p;
}

static RtTensor ten(void *data, int rank, const int64_t *dims) {
    RtTensor t = {.data = data, .rank = rank};
    for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
    return t;
}

/* One op call: inputs (float unless is_int), output dims; in_place: input 0 is the output. */
typedef struct Case {
    const char *label;
    TtcOpDesc op;
    int n_in;
    RtTensor in[TTC_MAX_OP_INPUTS];
    int is_int[TTC_MAX_OP_INPUTS];
    RtTensor out;
    int in_place;
    TtcBindings bind;
} Case;

static Case make_case(const char *label, TtcOpKind kind, TtcAttrs at, int n_in, const RtTensor *in, RtTensor out) {
    Case c = {.label = label, .n_in = n_in, .out = out};
    c.op.kind = kind;
    c.op.attrs = at;
    snprintf(c.op.path, sizeof c.op.path, "layer_0.test.%s", label);
    for (int i = 0; i < n_in; i++) c.in[i] = in[i];
    return c;
}

static TtcStatus run(const RtKernel *table, Case *c, float *out) {
    TtcError err = {0};
    RtOpArgs a = {.op = &c->op, .n_in = c->n_in, .out = c->out, .err = &err, .bind = &c->bind};
    for (int i = 0; i < c->n_in; i++) a.in[i] = c->in[i];
    a.out.data = out;
    if (c->in_place) {
        memcpy(out, c->in[0].data, (size_t)rt_tensor_elems(&c->out) * sizeof *out);
        a.in[0].data = out;
    }
    TtcStatus st = table[c->op.kind](&a);
    if (st) fprintf(stderr, "  %s: %s\n", c->label, err.msg);
    return st;
}

static const float specials[3] = {NAN, INFINITY, -INFINITY};
static const char *const special_names[3] = {"NaN", "+inf", "-inf"};

/* Compares fast against ref for one placement; returns the number of non-finite ref values. */
static int64_t compare_one(Case *c, const char *what, float *ref, float *fast) {
    int64_t n = rt_tensor_elems(&c->out), bad = 0, nonfinite = 0;
    CU_ASSERT_EQUAL_FATAL(run(rt_ref_kernels, c, ref), TTC_OK);
    RtIsa best = rt_vec_limit_isa(RT_ISA_AVX512);
    for (int isa = RT_ISA_BASE; isa <= (int)best; isa++) {
        rt_vec_limit_isa((RtIsa)isa);
        CU_ASSERT_EQUAL_FATAL(run(rt_fast_kernels, c, fast), TTC_OK);
        for (int64_t i = 0; i < n; i++) {
            int want_nf = !isfinite(ref[i]), got_nf = !isfinite(fast[i]);
            if (isa == RT_ISA_BASE) nonfinite += want_nf;
            if (want_nf != got_nf || (isnan(ref[i]) && !isnan(fast[i]))) {
                if (bad++ < 3)
                    fprintf(stderr, "  %s, %s (isa %d): output %lld is %g, the reference's %g\n", c->label, what, isa,
                            (long long)i, (double)fast[i], (double)ref[i]);
            }
        }
    }
    rt_vec_limit_isa(RT_ISA_AVX512);
    CU_ASSERT_EQUAL(bad, 0);
    return nonfinite;
}

/* Every float input, every special value, at the first, a middle and the last position but two. */
static void check_case(Case *c) {
    int64_t n = rt_tensor_elems(&c->out);
    float *ref = malloc((size_t)n * sizeof *ref), *fast = malloc((size_t)n * sizeof *fast);
    for (int i = 0; i < c->n_in; i++) {
        if (c->is_int[i]) continue;
        float *x = c->in[i].data;
        int64_t m = rt_tensor_elems(&c->in[i]);
        int64_t where[3] = {0, m / 2 + 1, m > 3 ? m - 3 : 0};
        for (int s = 0; s < 3; s++)
            for (int w = 0; w < 3; w++) {
                int64_t at = where[w] < m ? where[w] : m - 1;
                float keep = x[at];
                x[at] = specials[s];
                char what[96];
                snprintf(what, sizeof what, "%s in input %d at %lld", special_names[s], i, (long long)at);
                int64_t nf = compare_one(c, what, ref, fast);
                /* relu(-inf) is 0 and a hidden key is replaced: those may stay finite */
                if (nf == 0 && getenv("TTC_TEST_VERBOSE")) fprintf(stderr, "  %s, %s: all finite\n", c->label, what);
                x[at] = keep;
            }
    }
    free(ref);
    free(fast);
}

/* The placements together must have produced something non-finite (no vacuous family). */
static void check_case_nonvacuous(Case *c) {
    int64_t n = rt_tensor_elems(&c->out);
    float *ref = malloc((size_t)n * sizeof *ref), *fast = malloc((size_t)n * sizeof *fast);
    float *x = c->in[0].data, keep = x[0];
    x[0] = NAN;
    CU_ASSERT(compare_one(c, "NaN in input 0 at 0", ref, fast) > 0);
    x[0] = keep;
    free(ref);
    free(fast);
    check_case(c);
}

/* ---- elementwise and norms ---- */

static void test_elementwise(void) {
    int64_t dims[2] = {3, 37};
    for (int k = 0; k < 7; k++) {
        static const TtcOpKind kinds[7] = {TTC_OP_ADD, TTC_OP_MUL, TTC_OP_GELU, TTC_OP_GELU_TANH,
                                           TTC_OP_SILU, TTC_OP_RELU, TTC_OP_TANH};
        float *a = rand_buf(111, -4, 4), *b = rand_buf(111, -4, 4);
        RtTensor in[2] = {ten(a, 2, dims), ten(b, 2, dims)};
        int binary = kinds[k] == TTC_OP_ADD || kinds[k] == TTC_OP_MUL;
        Case c = make_case(ttc_op_name(kinds[k]), kinds[k], (TtcAttrs){0}, binary ? 2 : 1, in, ten(NULL, 2, dims));
        check_case_nonvacuous(&c);
        free(a);
        free(b);
    }
}

/* x far outside the polynomials' comfortable range still gives what the formula gives */
static void test_activation_extremes(void) {
    float x[16] = {NAN, -NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 88.8f, -104.5f,
                   3.4e38f, -3.4e38f, 1e-40f, -1e-40f, 0.0f, -0.0f, 20.0f, -20.0f};
    int64_t dims[1] = {16};
    for (int k = 0; k < 4; k++) {
        static const TtcOpKind kinds[4] = {TTC_OP_GELU, TTC_OP_GELU_TANH, TTC_OP_SILU, TTC_OP_RELU};
        RtTensor in[1] = {ten(x, 1, dims)};
        Case c = make_case(ttc_op_name(kinds[k]), kinds[k], (TtcAttrs){0}, 1, in, ten(NULL, 1, dims));
        float ref[16], fast[16];
        compare_one(&c, "extreme inputs", ref, fast);
    }
    float y[16];
    rt_vec_exp(y, x, 16);
    CU_ASSERT(isnan(y[0]) && isnan(y[1]));
    CU_ASSERT(y[2] == INFINITY && y[3] == 0.0f);
}

static void test_norms(void) {
    int64_t xd[2] = {4, 40}, hd[1] = {40};
    float *x = rand_buf(160, -3, 3), *y = rand_buf(160, -3, 3), *g = rand_buf(40, 0.5f, 1.5f), *b = rand_buf(40, -1, 1);
    TtcAttrs at = {.eps = 1e-5f};
    RtTensor ln[3] = {ten(x, 2, xd), ten(g, 1, hd), ten(b, 1, hd)};
    Case c = make_case("layernorm", TTC_OP_LAYERNORM, at, 3, ln, ten(NULL, 2, xd));
    check_case_nonvacuous(&c);
    c = make_case("rmsnorm", TTC_OP_RMSNORM, at, 2, ln, ten(NULL, 2, xd));
    check_case_nonvacuous(&c);
    RtTensor aln[4] = {ten(x, 2, xd), ten(y, 2, xd), ten(g, 1, hd), ten(b, 1, hd)};
    c = make_case("add_layernorm", TTC_OP_ADD_LAYERNORM, at, 4, aln, ten(NULL, 2, xd));
    check_case_nonvacuous(&c);
    free(x);
    free(y);
    free(g);
    free(b);
}

/* ---- products, softmax and attention ---- */

static void test_linear_and_scores(void) {
    int64_t xd[2] = {5, 24}, wd[2] = {9, 24}, bd[1] = {9};
    float *x = rand_buf(120, -1, 1), *w = rand_buf(216, -1, 1), *bias = rand_buf(9, -1, 1);
    RtTensor in[3] = {ten(x, 2, xd), ten(w, 2, wd), ten(bias, 1, bd)};
    int64_t od[2] = {5, 9};
    Case c = make_case("linear", TTC_OP_LINEAR, (TtcAttrs){0}, 3, in, ten(NULL, 2, od));
    check_case_nonvacuous(&c);
    int64_t one[2] = {1, 24}, od1[2] = {1, 9}; /* the sgemv path of a decode step */
    in[0] = ten(x, 2, one);
    c = make_case("linear-1row", TTC_OP_LINEAR, (TtcAttrs){0}, 3, in, ten(NULL, 2, od1));
    check_case_nonvacuous(&c);
    free(x);
    free(w);
    free(bias);

    enum { B = 2, S = 5, T = 7, HQ = 4, HKV = 2, D = 4 };
    int64_t qd[3] = {B, S, HQ * D}, kd[3] = {B, T, HKV * D}, sd[4] = {B, HQ, S, T};
    float *q = rand_buf(B * S * HQ * D, -1, 1), *k = rand_buf(B * T * HKV * D, -1, 1);
    float *p = rand_buf(B * HQ * S * T, 0, 1);
    TtcAttrs at = {.heads = HQ, .kv_heads = HKV, .head_dim = D, .scale = 0.5f};
    RtTensor si[2] = {ten(q, 3, qd), ten(k, 3, kd)};
    c = make_case("attn_scores", TTC_OP_ATTN_SCORES, at, 2, si, ten(NULL, 4, sd));
    check_case_nonvacuous(&c);
    RtTensor ci[2] = {ten(p, 4, sd), ten(k, 3, kd)};
    c = make_case("attn_context", TTC_OP_ATTN_CONTEXT, at, 2, ci, ten(NULL, 3, qd));
    check_case_nonvacuous(&c);
    free(q);
    free(k);
    free(p);
}

static void test_softmax(void) {
    enum { B = 2, HQ = 2, S = 5, T = 40 };
    int64_t sd[4] = {B, HQ, S, T}, md[2] = {B, T};
    float *x = rand_buf(B * HQ * S * T, -5, 5);
    int32_t mask[B * T];
    for (int i = 0; i < B * T; i++) mask[i] = i % 7 != 3;
    for (int variant = 0; variant < 4; variant++) {
        TtcAttrs at = {.heads = HQ, .causal = variant & 1, .has_mask = (variant & 2) != 0};
        RtTensor in[2] = {ten(x, 4, sd), ten(mask, 2, md)};
        static const char *const labels[4] = {"softmax", "softmax-causal", "softmax-mask", "softmax-causal-mask"};
        Case c = make_case(labels[variant], TTC_OP_SOFTMAX, at, at.has_mask ? 2 : 1, in, ten(NULL, 4, sd));
        c.is_int[1] = 1;
        check_case_nonvacuous(&c);
    }
    /* a row whose only visible score is NaN next to hidden ones: NaN, not uniform */
    float row[4] = {NAN, 1, 2, 3}, out[4];
    int32_t keep[4] = {1, 0, 0, 0};
    rt_vec_softmax_row(out, row, 4, 0, 4, keep);
    CU_ASSERT(isnan(out[0]) && isnan(out[3]));
    free(x);
}

/* The fused flash attention against its reference: causal over more than one query block (so
 * key blocks are skipped), windowed, masked, GQA, and one-token decode steps. */
static void test_attention(void) {
    enum { B = 2, HQ = 4, HKV = 2, D = 8 };
    static const struct {
        const char *label;
        int s, t, causal, window, mask;
    } v[] = {
        {"attention-causal", 70, 70, 1, 0, 0},   {"attention-full", 9, 13, 0, 0, 0},
        {"attention-window", 70, 70, 1, 5, 0},   {"attention-mask", 9, 13, 0, 0, 1},
        {"attention-decode", 1, 300, 1, 0, 0},   {"attention-decode-mask", 1, 40, 1, 0, 1},
        {"attention-past", 6, 300, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int64_t qd[3] = {B, v[i].s, HQ * D}, kd[3] = {B, v[i].t, HKV * D}, md[2] = {B, v[i].t};
        float *q = rand_buf(B * v[i].s * HQ * D, -1, 1), *k = rand_buf(B * v[i].t * HKV * D, -1, 1);
        float *vv = rand_buf(B * v[i].t * HKV * D, -1, 1);
        int32_t *mask = malloc((size_t)(B * v[i].t) * sizeof *mask);
        for (int j = 0; j < B * v[i].t; j++) mask[j] = j % 5 != 2;
        TtcAttrs at = {.heads = HQ, .kv_heads = HKV, .head_dim = D, .scale = 0.35f, .causal = v[i].causal,
                       .window = v[i].window, .has_mask = v[i].mask};
        RtTensor in[4] = {ten(q, 3, qd), ten(k, 3, kd), ten(vv, 3, kd), ten(mask, 2, md)};
        Case c = make_case(v[i].label, TTC_OP_ATTENTION, at, 3 + v[i].mask, in, ten(NULL, 3, qd));
        c.is_int[3] = 1;
        check_case_nonvacuous(&c);
        free(q);
        free(k);
        free(vv);
        free(mask);
    }
}

/* ---- epilogues, decoder kernels, gathers, collectives ---- */

static void test_epilogues(void) {
    int64_t dims[2] = {3, 40};
    float *x = rand_buf(120, -4, 4);
    for (int e = TTC_EPILOGUE_GELU; e <= TTC_EPILOGUE_TANH; e++) {
        TtcAttrs at = {.epilogue = e};
        RtTensor in[1] = {ten(x, 2, dims)};
        char label[32];
        snprintf(label, sizeof label, "epilogue-%d", e);
        Case c = make_case(label, TTC_OP_EPILOGUE, at, 1, in, ten(NULL, 2, dims));
        c.label = e == TTC_EPILOGUE_GELU ? "epilogue-gelu" : e == TTC_EPILOGUE_SILU ? "epilogue-silu" : "epilogue";
        c.in_place = 1;
        check_case_nonvacuous(&c);
    }
    free(x);
}

static void test_rope(void) {
    enum { B = 2, S = 3, H = 2, D = 8 };
    int64_t dims[3] = {B, S, H * D};
    float *x = rand_buf(B * S * H * D, -2, 2);
    TtcAttrs at = {.heads = H, .head_dim = D, .rope_theta = 10000.0f};
    RtTensor in[1] = {ten(x, 3, dims)};
    Case c = make_case("rope", TTC_OP_ROPE, at, 1, in, ten(NULL, 3, dims));
    c.bind.v[TTC_SYM_SEQ] = S;
    c.bind.v[TTC_SYM_CTX] = S + 4; /* positions 4..6 */
    c.bind.v[TTC_SYM_BATCH] = B;
    check_case_nonvacuous(&c);
    free(x);
}

/* The KV write copies rows into the cache in place (its output is the cache's view), so it is
 * checked directly: both kernels put the NaN and the inf where the new rows had them. */
static void test_kv_update(void) {
    int64_t nd[3] = {1, 2, 6}, cd[3] = {1, 5, 4}, od[3] = {1, 3, 4};
    float fresh[12];
    for (int i = 0; i < 12; i++) fresh[i] = (float)i;
    fresh[2] = NAN;           /* row 0, column 2: cache feature 1 */
    fresh[6 + 4] = -INFINITY; /* row 1, column 4: cache feature 3 */
    for (int k = 0; k < 2; k++) {
        float cache[20] = {0};
        TtcOpDesc op = {.kind = TTC_OP_KV_UPDATE};
        op.attrs.k_col = 1;
        TtcError err = {0};
        RtOpArgs a = {.op = &op, .n_in = 2, .err = &err};
        a.in[0] = ten(fresh, 3, nd);
        a.in[1] = ten(cache, 3, cd);
        a.out = ten(cache, 3, od);
        CU_ASSERT_EQUAL_FATAL((k ? rt_ref_kernels : rt_fast_kernels)[TTC_OP_KV_UPDATE](&a), TTC_OK);
        for (int i = 0; i < 20; i++) CU_ASSERT_EQUAL(!isfinite(cache[i]), i == 4 + 1 || i == 8 + 3);
        CU_ASSERT(isnan(cache[5]) && cache[11] == -INFINITY);
    }
}

static void test_gathers(void) {
    int64_t id_dims[2] = {2, 3}, tdims[2] = {10, 6}, odims[3] = {2, 3, 6};
    int32_t ids[6] = {4, 0, 9, 4, 4, 2};
    float *table = rand_buf(60, -1, 1);
    RtTensor in[2] = {ten(ids, 2, id_dims), ten(table, 2, tdims)};
    Case c = make_case("embedding", TTC_OP_EMBEDDING, (TtcAttrs){0}, 2, in, ten(NULL, 3, odims));
    c.is_int[0] = 1;
    int64_t n = 36;
    float ref[36], fast[36];
    table[4 * 6 + 1] = NAN; /* row 4, read three times */
    CU_ASSERT_EQUAL(compare_one(&c, "NaN in row 4", ref, fast), 3);
    (void)n;
    free(table);
    int64_t xd[3] = {2, 3, 6}, fd[2] = {2, 6};
    float *x = rand_buf(36, -1, 1);
    RtTensor fi[1] = {ten(x, 3, xd)};
    c = make_case("first_token", TTC_OP_FIRST_TOKEN, (TtcAttrs){0}, 1, fi, ten(NULL, 2, fd));
    check_case_nonvacuous(&c);
    free(x);
}

/* The collectives have one kernel for both paths, so they are checked against plain sums. */
static void test_collectives(void) {
    int64_t xd[3] = {2, 3, 4}, od[2] = {3, 4};
    float x[24], out[12];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    x[5] = NAN;
    x[12 + 7] = INFINITY;
    TtcAttrs at = {.chips = 2};
    RtTensor in[1] = {ten(x, 3, xd)};
    Case c = make_case("all_reduce", TTC_OP_ALL_REDUCE, at, 1, in, ten(NULL, 2, od));
    CU_ASSERT_EQUAL_FATAL(run(rt_fast_kernels, &c, out), TTC_OK);
    for (int i = 0; i < 12; i++) CU_ASSERT_EQUAL(!isfinite(out[i]), i == 5 || i == 7);
    CU_ASSERT(isnan(out[5]) && out[7] == INFINITY);
    int64_t gd[2] = {3, 8};
    float g[24];
    c = make_case("all_gather", TTC_OP_ALL_GATHER, at, 1, in, ten(NULL, 2, gd));
    CU_ASSERT_EQUAL_FATAL(run(rt_fast_kernels, &c, g), TTC_OK);
    CU_ASSERT(isnan(g[1 * 8 + 1]) && g[1 * 8 + 4 + 3] == INFINITY);
}

static CU_TestInfo kernel_tests[] = {
    {"elementwise ops", test_elementwise},
    {"activations at extreme inputs", test_activation_extremes},
    {"layernorm, rmsnorm, add_layernorm", test_norms},
    {"linear, attn_scores, attn_context", test_linear_and_scores},
    {"softmax with causal and padding masks", test_softmax},
    {"fused attention (flash)", test_attention},
    {"linear epilogues", test_epilogues},
    {"rope", test_rope},
    {"kv_update", test_kv_update},
    {"embedding and first_token", test_gathers},
    {"all_reduce and all_gather", test_collectives},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "non-finite values through the kernels", .pTests = kernel_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
