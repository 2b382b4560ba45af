/* fuzz_run.c: fuzz_run_plan of fuzz.h, shared by the plan-file and the pipeline targets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ttc_runtime.h"

/* Host floats a run may take (weights + KV cache + arena): 16 MB keeps an execution short. */
#define RUN_MAX_FLOATS (4ll << 20)

/* Elements of a tensor's upper-bound shape, or -1 past `cap` (never overflows). */
static int64_t elems_capped(const TtcShape *s, int64_t cap) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        int64_t d = s->d[i].size;
        if (d < 0 || (d && n > cap / d)) return -1;
        n *= d;
    }
    return n;
}

static int plan_is_small(const TtcPlan *p) {
    int64_t total = p->arena_bytes / 4;
    if (p->arena_bytes < 0 || total > RUN_MAX_FLOATS) return 0;
    for (int t = 0; t < p->n_tensors; t++) {
        int64_t n = elems_capped(&p->tensors[t].shape, RUN_MAX_FLOATS);
        if (n < 0 || (total += n) > RUN_MAX_FLOATS) return 0;
    }
    return 1;
}

/* A plan from a file whose operand shapes break ops.def (a norm's gain of the wrong length) passes
 * the validator, which guarantees memory safety only; the kernels' argument checks refuse it and
 * the executor reports that as the file's fault: a user error, like every other. */
static void check(TtcStatus st, const TtcError *err, int strict, const char *what) {
    if (st != TTC_OK && strict) fuzz_fail("%s failed on a compiled plan (status %d): %s", what, (int)st, err->msg);
    fuzz_check_user_error(st, err, what);
}

int fuzz_run_plan(TtcPlan *plan, uint64_t seed, int64_t batch, int64_t seq, int decode_steps, const uint8_t *ids,
                  size_t n_ids, int strict) {
    if (!plan_is_small(plan) || plan->vocab_size <= 0 || plan->vocab_size > (1 << 20)) {
        ttc_plan_free(plan);
        return 0;
    }
    TtcModel m;
    ttc_model_from_plan(&m, plan);
    TtcError err = {0};
    TtcSession s;
    int ran = 0, have_session = 0;
    TtcStatus st = ttc_model_random_weights(&m, seed, 0, &err);
    check(st, &err, strict, "ttc_model_random_weights");
    if (!st) {
        st = ttc_session_init(&s, &m, NULL, &err);
        check(st, &err, strict, "ttc_session_init");
        have_session = !st;
    }
    int32_t *tok = NULL;
    if (have_session && batch > 0 && seq > 0 && batch <= 64 && seq <= 4096) {
        tok = malloc((size_t)(batch * seq) * sizeof *tok);
        if (!tok) fuzz_fail("out of memory");
        for (int64_t i = 0; i < batch * seq; i++)
            tok[i] = (int32_t)((n_ids ? ids[i % (int64_t)n_ids] : i) % m.plan.vocab_size);
        TtcInputs in = {tok, NULL, NULL, batch, seq};
        st = ttc_forward(&s, &in, &err);
        check(st, &err, strict, "ttc_forward");
        ran = !st;
        for (int k = 0; ran && k < decode_steps && m.plan.model_type == TTC_MODEL_DECODER && s.past < m.plan.max_ctx;
             k++) {
            st = ttc_decode_step(&s, tok, &err); /* s.batch <= batch ids */
            check(st, &err, strict, "ttc_decode_step");
            if (st) break;
        }
    }
    free(tok);
    if (have_session) ttc_session_free(&s);
    ttc_model_close(&m);
    return ran;
}
