/* bench_accuracy.c: what each hardware preset does to accuracy, as a Markdown table.
 *
 *   build/bench_accuracy [--seed N]
 *
 * Compiles the tiny BERT and the tiny Llama-style decoder (specs/tiny-bert.yaml,
 * specs/tiny-llama.yaml) under each preset (specs/hw/reference.yaml, accuracy.yaml,
 * performance.yaml, and no overlay: the built-in defaults), loads seeded random weights keeping
 * the fp32 originals, and compares the emulated device path with the fp32 reference path (plain
 * kernels on the unconverted weights): PCC and max abs error of each output. The decoder is
 * compared on its prefill logits and on the logits of the last of several decode steps, which
 * go through the KV cache. A benchmark prints figures; it asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "compile.h"
#include "ttc_runtime.h"

enum { BATCH = 2, SEQ = 16, PROMPT = 8, STEPS = 4 };

typedef struct Result {
    double pcc, max_abs;
    int ok;
} Result;

static int build(TtcModel *m, const char *spec, const char *hw, uint64_t seed) {
    char sp[512], hp[512];
    snprintf(sp, sizeof sp, "%s/specs/%s", TTC_SOURCE_DIR, spec);
    snprintf(hp, sizeof hp, "%s/specs/hw/%s", TTC_SOURCE_DIR, hw ? hw : "");
    const char *hws[1] = {hp};
    CompileOptions o;
    compile_options_init(&o);
    o.spec = sp;
    o.hw = hws;
    o.n_hw = hw != NULL;
    o.batch = BATCH;
    o.seq = SEQ;
    o.max_seq = SEQ + STEPS;
    TtcPlan plan;
    if (compile_spec_to_plan(&o, &plan, stderr) != 0) return -1;
    ttc_model_from_plan(m, &plan);
    TtcError err = {0};
    if (ttc_model_random_weights(m, seed, 1, &err) != TTC_OK) {
        ttc_error_print(&err);
        ttc_model_close(m);
        return -1;
    }
    return 0;
}

static void ids_for(int32_t *ids, int n, int64_t vocab) {
    for (int i = 0; i < n; i++) ids[i] = (int32_t)((i * 37 + 11) % vocab);
}

/* Output `role` after a forward (and `steps` decode steps) on one path; malloc'ed copy. */
static float *run(TtcModel *m, int reference, TtcRole role, int steps, int64_t *n) {
    TtcSession s;
    TtcRunOptions ro = {.reference = reference};
    TtcError err = {0};
    float *out = NULL;
    if (ttc_session_init(&s, m, &ro, &err) != TTC_OK) goto fail;
    int seq = steps ? PROMPT : SEQ;
    int32_t ids[BATCH * SEQ], mask[BATCH * SEQ];
    ids_for(ids, BATCH * seq, m->plan.vocab_size);
    for (int i = 0; i < BATCH * seq; i++) mask[i] = !(i / seq == 1 && i % seq >= seq - 3); /* pad the 2nd */
    TtcInputs in = {ids, NULL, m->plan.model_type == TTC_MODEL_ENCODER ? mask : NULL, BATCH, seq};
    if (ttc_forward(&s, &in, &err) != TTC_OK) goto fail;
    for (int t = 0; t < steps; t++) {
        int32_t next[BATCH];
        for (int b = 0; b < BATCH; b++) next[b] = (int32_t)((t * 13 + b * 7 + 5) % m->plan.vocab_size);
        if (ttc_decode_step(&s, next, &err) != TTC_OK) goto fail;
    }
    RtTensor t;
    const float *data = ttc_session_output(&s, role, &t);
    if (!data) goto fail;
    *n = rt_tensor_elems(&t);
    out = malloc((size_t)*n * sizeof *out);
    if (out) memcpy(out, data, (size_t)*n * sizeof *out);
    ttc_session_free(&s);
    return out;
fail:
    if (err.status) ttc_error_print(&err);
    ttc_session_free(&s);
    return NULL;
}

static Result compare(TtcModel *m, TtcRole role, int steps) {
    Result r = {0, 0, 0};
    int64_t n1 = 0, n2 = 0;
    float *emu = run(m, 0, role, steps, &n1), *ref = run(m, 1, role, steps, &n2);
    if (emu && ref && n1 == n2 && n1 > 0) {
        TtcCompare c = ttc_compare(emu, ref, n1);
        r = (Result){c.pcc, c.max_abs, 1};
    }
    free(emu);
    free(ref);
    return r;
}

static void cell(Result r) {
    if (r.ok)
        printf(" %.6f | %.2e |", r.pcc, r.max_abs);
    else
        printf(" failed | - |");
}

int main(int argc, char **argv) {
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--seed N]\n", argv[0]);
            return strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ? 0 : 1;
        }
    }
    static const struct { const char *file, *label; } presets[] = {
        {"reference.yaml", "reference (fp32, HiFi4, fp32 acc)"},
        {"accuracy.yaml", "accuracy (bf16, HiFi4, fp32 acc)"},
        {"performance.yaml", "performance (FFN bfp8 LoFi, bf16 HiFi2)"},
        {NULL, "built-in defaults (no overlay)"},
    };
    printf("Emulated device vs the fp32 reference path, random weights (seed %llu), batch %d.\n\n",
           (unsigned long long)seed, BATCH);
    printf("| model | preset | output | PCC | max abs error | output | PCC | max abs error |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    int failures = 0;
    for (int model = 0; model < 2; model++) {
        for (size_t p = 0; p < sizeof presets / sizeof presets[0]; p++) {
            TtcModel m;
            const char *spec = model == 0 ? "tiny-bert.yaml" : "tiny-llama.yaml";
            if (build(&m, spec, presets[p].file, seed) != 0) {
                printf("| %s | %s | compile failed | | | | | |\n", spec, presets[p].label);
                failures++;
                continue;
            }
            Result a, b;
            if (model == 0) {
                a = compare(&m, TTC_ROLE_HIDDEN, 0);
                b = compare(&m, TTC_ROLE_POOLED, 0);
            } else {
                a = compare(&m, TTC_ROLE_LOGITS, 0);
                b = compare(&m, TTC_ROLE_LOGITS, STEPS);
            }
            failures += !a.ok + !b.ok;
            printf("| %s | %s | %s |", model == 0 ? "tiny-bert" : "tiny-llama", presets[p].label,
                   model == 0 ? "hidden" : "prefill logits");
            cell(a);
            printf(" %s |", model == 0 ? "pooled" : "decode logits");
            cell(b);
            printf("\n");
            ttc_model_close(&m);
        }
    }
    return failures ? 1 : 0;
}
