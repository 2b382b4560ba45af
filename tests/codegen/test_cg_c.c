/* test_cg_c.c: the C emitter (codegen/cg_c*.c).
 *
 *   - every shipped spec (each .yaml in specs/, none skipped) compiled at a small shape gives C that the
 *     system compiler accepts with -std=c11 -Wall -Wextra -Werror;
 *   - the file reads as promised: header, one function per module and entry point, sections per
 *     layer, shape comments, constants; and it is deterministic;
 *   - spec ids that are C keywords or clash with each other still give valid, distinct names;
 *   - plans the emitter cannot express are refused with an error, not mistranslated.
 * That the programs compute what the plan runtime computes is tests/e2e/codegen.sh. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "cg_c_internal.h"
#include "compile.h"
#include "file_util.h"
#include "unit.h"

/* Compiles `spec` at batch 1, seq 8, max-seq 16 into *plan. 0 ok. */
static int compile_small(const char *spec, TtcPlan *plan) {
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.batch = 1;
    o.seq = 8;
    o.max_seq = 16;
    o.allow_misfit = 1; /* the 7B and 8B specs do not fit one n150 chip; the C they give is still tested */
    Compilation c;
    int rc = compile_spec(&o, &c);
    if (rc != 0) {
        diag_print(&c.diags, stderr);
    } else if (cg_plan_from_graph(&c.graph, plan, "ttc (test)") != 0) {
        rc = 2;
    }
    compile_free(&c);
    return rc;
}

/* The generated C of a plan as a malloc'ed string (NULL when the emitter failed; err says why). */
static char *emit(const TtcPlan *plan, const CgCOptions *co, TtcError *err) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    TtcStatus st = cg_c_write(plan, co, f, err);
    fclose(f);
    if (st != TTC_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* Runs the system compiler on `c_text` as the generated file would be built, -c only. */
static int cc_accepts(const char *name, const char *c_text) {
    char c_name[96], o_name[96];
    snprintf(c_name, sizeof c_name, "%s.c", name);
    snprintf(o_name, sizeof o_name, "%s.o", name);
    const char *c_path = unit_write_tmp(c_name, c_text, strlen(c_text));
    char c_copy[1024];
    snprintf(c_copy, sizeof c_copy, "%s", c_path);
    const char *o_path = unit_tmp_path(o_name);
    const char *cc = getenv("CC");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s -std=c11 -Wall -Wextra -Werror -c -I '%s/runtime' '%s' -o '%s'",
             cc && *cc ? cc : "cc", unit_source_dir(), c_copy, o_path);
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "FAILED (%d): %s\n", rc, cmd);
    else remove(c_copy);
    remove(o_path);
    return rc == 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_every_shipped_spec_compiles(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/specs", unit_source_dir());
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char *names[64];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL && n < 64;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    CU_ASSERT(n >= 2);
    for (int i = 0; i < n; i++) {
        char spec[1200], base[128];
        snprintf(spec, sizeof spec, "%s/%s", dir, names[i]);
        snprintf(base, sizeof base, "%.*s", (int)(strlen(names[i]) - 5), names[i]);
        TtcPlan plan;
        TtcError err = {0};
        int rc = compile_small(spec, &plan);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc) {
            fprintf(stderr, "%s does not compile\n", spec);
            free(names[i]);
            continue;
        }
        CgCOptions co = {.spec = spec};
        char *text = emit(&plan, &co, &err);
        if (!text) fprintf(stderr, "%s: %s\n", names[i], err.msg);
        CU_ASSERT_PTR_NOT_NULL(text);
        if (text) CU_ASSERT(cc_accepts(base, text));
        printf("  %-22s %6d ops -> C accepted\n", names[i], plan.n_ops);
        free(text);
        ttc_plan_free(&plan);
        free(names[i]);
    }
}

static int contains(const char *text, const char *needle) {
    if (strstr(text, needle)) return 1;
    fprintf(stderr, "missing from the generated C: %s\n", needle);
    return 0;
}

static void test_reads_like_the_issue_says(void) {
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/specs/tiny-llama.yaml", unit_source_dir());
    TtcPlan plan;
    CU_ASSERT_EQUAL_FATAL(compile_small(spec, &plan), 0);
    const char *hw[] = {"specs/hw/reference.yaml"};
    const char *sets[] = {"layer_1.ffn.math_fidelity=LoFi"};
    CgCOptions co = {spec, hw, 1, sets, 1, "ttc compile tiny-llama.yaml --emit c -o t.c", "cc t.c -o t"};
    TtcError err = {0};
    char *a = emit(&plan, &co, &err), *b = emit(&plan, &co, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b); /* deterministic */
    /* header: where it came from, how to rebuild it */
    CU_ASSERT(contains(a, "Generated by ttc " TTC_VERSION_STRING " from"));
    CU_ASSERT(contains(a, "tiny-llama.yaml"));
    CU_ASSERT(contains(a, " * Overlays:   specs/hw/reference.yaml"));
    CU_ASSERT(contains(a, " * --set       layer_1.ffn.math_fidelity=LoFi"));
    CU_ASSERT(contains(a, " * Regenerate: ttc compile tiny-llama.yaml --emit c -o t.c"));
    CU_ASSERT(contains(a, " * Build:      cc t.c -o t"));
    /* constants, sections, one function per module and entry point */
    CU_ASSERT(contains(a, "enum { MAX_BATCH = 1, MAX_SEQ = 8, MAX_CTX = 16 };"));
    CU_ASSERT(contains(a, "/* ======== layer_1 ======== */"));
    CU_ASSERT(contains(a, "static void layer_0_attention_prefill(const Model *m, TtcStep *st) {"));
    CU_ASSERT(contains(a, "static void layer_1_ffn_decode(const Model *m, TtcStep *st) {"));
    CU_ASSERT(contains(a, "static void layer_0_attention_norm_prefill("));
    CU_ASSERT(contains(a, "static TtcStatus prefill(const void *model, TtcStep *st, const TtcInputs *in) {"));
    CU_ASSERT(contains(a, "static TtcStatus decode(const void *model, TtcStep *st, const int32_t *ids) {"));
    CU_ASSERT(contains(a, "    layer_1_attention_decode(m, st);\n"));
    /* buffers with shapes, weights by their Hugging Face names, the cache */
    CU_ASSERT(contains(a, "float *qkv = (float *)(st->arena + ")); /* fused (passes/fuse.c) */
    CU_ASSERT(contains(a, "/* [B,S,32] bf16 */"));
    CU_ASSERT(contains(a, "TtcWeight layers_0_self_attn_q_proj_weight_32_layers_0_self_attn_k_proj_weight_16_"));
    CU_ASSERT(contains(a, "float *layers_0_k_cache;"));
    CU_ASSERT(contains(a, "ttc_kv_update_cols(st, &ops["));
    CU_ASSERT(contains(a, "ttc_attention(st, &ops["));
    CU_ASSERT(contains(a, "ttc_epilogue(st, &ops["));
    CU_ASSERT(contains(a, "MAX_CTX * 16"));
    /* the numerics: kernels, then rounding to the activation format */
    CU_ASSERT(contains(a, "ttc_round_to_dtype(qkv, B * S * 64, 64, TTC_BF16);"));
    CU_ASSERT(contains(a, "int main(int argc, char **argv) { return ttc_exe_main(&program, argc, argv); }"));
    CU_ASSERT(cc_accepts("tiny-llama-structure", a));
    free(a);
    free(b);
    ttc_plan_free(&plan);
}

static void test_identifiers(void) {
    char id[CG_ID_MAX];
    cg_c_ident(id, sizeof id, "layers.0.self_attn.q_proj.weight");
    CU_ASSERT_STRING_EQUAL(id, "layers_0_self_attn_q_proj_weight");
    cg_c_ident(id, sizeof id, "3d-conv");
    CU_ASSERT_STRING_EQUAL(id, "t_3d_conv");
    cg_c_ident(id, sizeof id, "");
    CU_ASSERT_STRING_EQUAL(id, "t");
    CU_ASSERT(cg_c_reserved("int"));
    CU_ASSERT(cg_c_reserved("ttc_linear"));
    CU_ASSERT(cg_c_reserved("forward"));
    CU_ASSERT(cg_c_reserved("memcpy"));
    CU_ASSERT(!cg_c_reserved("layer_0_attention"));
    char module[64];
    cg_c_module_of("layer_3.attention.q", module, sizeof module);
    CU_ASSERT_STRING_EQUAL(module, "layer_3.attention");
    cg_c_module_of("lm_head", module, sizeof module);
    CU_ASSERT_STRING_EQUAL(module, "lm_head");
}

/* `text` with the first `from` replaced by `to`, malloc'ed. */
static char *replace_once(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    if (!at) return strdup(text);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

/* Layer ids that are C keywords must not break the build: tiny-bert with its embedding called
 * "static" and its pooler called "int". */
static void test_awkward_layer_ids(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/specs/tiny-bert.yaml", unit_source_dir());
    char *text = NULL;
    size_t len = 0;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &text, &len, &err), TTC_OK);
    char *a = replace_once(text, "id: embedding", "id: static");
    char *b = replace_once(a, "id: pooler", "id: int");
    CU_ASSERT_PTR_NOT_NULL(strstr(b, "id: int"));
    const char *spec = unit_write_tmp("keywords.yaml", b, strlen(b));
    TtcPlan plan;
    CU_ASSERT_EQUAL_FATAL(compile_small(spec, &plan), 0);
    char *c_text = emit(&plan, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c_text);
    CU_ASSERT(contains(c_text, "static void static_(const Model *m, TtcStep *st) {"));
    CU_ASSERT(contains(c_text, "static void int_(const Model *m, TtcStep *st) {"));
    CU_ASSERT(contains(c_text, "    int_(m, st);\n"));
    CU_ASSERT(cc_accepts("keywords", c_text));
    free(c_text);
    ttc_plan_free(&plan);
    free(text);
    free(a);
    free(b);
}

static void test_refuses_what_it_cannot_express(void) {
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/specs/tiny-llama.yaml", unit_source_dir());
    TtcPlan plan;
    CU_ASSERT_EQUAL_FATAL(compile_small(spec, &plan), 0);
    TtcError err = {0};
    /* a decode entry point first */
    TtcEntry saved = plan.entries[0];
    plan.entries[0].mode = 1;
    CU_ASSERT_PTR_NULL(emit(&plan, NULL, &err));
    CU_ASSERT_EQUAL(err.status, TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "entry 0"));
    plan.entries[0] = saved;
    /* a linear whose weight is not a matrix */
    ttc_error_clear(&err);
    int k = 0;
    while (plan.ops[k].kind != TTC_OP_LINEAR) k++;
    int w = plan.ops[k].in[1];
    TtcShape shape = plan.tensors[w].shape;
    plan.tensors[w].shape.rank = 1;
    CU_ASSERT_PTR_NULL(emit(&plan, NULL, &err));
    CU_ASSERT_EQUAL(err.status, TTC_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, plan.ops[k].path));
    plan.tensors[w].shape = shape;
    ttc_error_clear(&err);
    char *ok = emit(&plan, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL(ok);
    free(ok);
    ttc_plan_free(&plan);
}

int main(void) {
    CU_TestInfo tests[] = {
        {"every shipped spec gives C that compiles with -Wall -Wextra -Werror", test_every_shipped_spec_compiles},
        {"the file has the promised structure and is deterministic", test_reads_like_the_issue_says},
        {"identifiers", test_identifiers},
        {"layer ids that are C keywords", test_awkward_layer_ids},
        {"plans the emitter cannot express are refused", test_refuses_what_it_cannot_express},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"cg_c", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return unit_main(suites);
}
