/* cmd_run.c: `ttc run`: execute a plan (or a spec, compiled in memory for the input's shape) on
 * the emulated device; `--check` also runs the fp32 reference path and compares every op's
 * output, naming the first op that diverges. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "compare.h"
#include "nonfinite.h"
#include "run_cli.h"
#include "ttc_runtime.h"

static const CliOpt run_opts[] = {
    {"--weights", "W.safetensors", 0, "weights with Hugging Face names"},
    {"--random-weights", "SEED", 0, "seeded random weights instead of a file"},
    {"--input-ids", "IDS", 0, "token ids: a .npy [batch, seq] or [seq], or a list \"101,2023,102\""},
    {"--token-type-ids", "IDS", 0, "segment ids, same shape as the input ids (default zeros)"},
    {"--attention-mask", "MASK", 0, "1 = attend, 0 = padding, same shape (default all ones)"},
    {"--output", "OUT.npy", 0, "write the last hidden state [batch, seq, hidden] (float32)"},
    {"--output-pooled", "OUT.npy", 0, "write the pooler output [batch, hidden] (encoders with a pooler)"},
    {"--repeat", "N", 0, "run the forward N times and report best and median time (default 1)"},
    {"--check", NULL, 0, "compare every op with the fp32 reference path; name the first that diverges"},
    {"--nan-check", NULL, 0, "stop at the first op whose output holds NaN or inf, naming it and its inputs; no output is written"},
    {"--check-pcc", "X", 0, "PCC below which --check reports an op (default 0.99), unless its max abs error is within 1/64 of its largest value"},
    CLI_SPEC_AS_PLAN_OPTS,
    {0},
};

/* Where a path first produced NaN or inf, as one line of the --check report. */
static void print_nonfinite(const char *path, const TtcNonfiniteRecord *r) {
    if (r->op < 0)
        printf("check: %s path: no op output holds NaN or inf\n", path);
    else
        printf("check: %s path: first non-finite output: %s\n", path, r->found.msg);
}

/* The emulated path went non-finite: that, not a PCC, is what --check reports, with where the
 * reference path first did (the same op: the inputs are to blame; none: the emulation is). */
static int nonfinite_verdict(const TtcPlan *p, const TtcNonfiniteRecord *emu, const TtcNonfiniteRecord *ref,
                             TtcError *err) {
    const TtcOpDesc *op = &p->ops[emu->op];
    char where[320];
    if (ref->op < 0)
        snprintf(where, sizeof where, "the fp32 reference path stays finite");
    else
        snprintf(where, sizeof where, "the fp32 reference path first does at op %d '%s' (%s)", ref->op,
                 p->ops[ref->op].path, ttc_op_name(p->ops[ref->op].kind));
    ttc_fail(err, TTC_E_USER, "op %d '%s' (%s) is the first whose output holds NaN or inf on the emulated device; %s",
             emu->op, op->path, ttc_op_name(op->kind), where);
    ttc_hint(err, "%s", ref->op < 0 ? "the device formats overflow here: raise this module's precision (e.g. --set "
                                      "MODULE.activation_dtype=fp32) and recompile"
                                    : "see the lines above for which input was already non-finite (a weight: the "
                                      "checkpoint is broken)");
    return TTC_E_USER;
}

/* Runs the reference session, then compares op by op with the emulated one. */
static int run_check(TtcModel *m, TtcSession *emu, const TtcNonfiniteRecord *emu_nf, const TtcInputs *in,
                     double threshold, TtcError *err) {
    TtcSession ref;
    TtcNonfiniteRecord ref_nf;
    ttc_nonfinite_record_init(&ref_nf);
    TtcRunOptions ro = {.reference = 1, .keep_all = 1, .on_op = ttc_nonfinite_on_op, .user = &ref_nf};
    if (ttc_session_init(&ref, m, &ro, err) != TTC_OK) return err->status;
    ref_nf.s = &ref;
    if (ttc_forward(&ref, in, err) != TTC_OK) {
        ttc_session_free(&ref);
        return err->status;
    }
    const TtcPlan *p = &m->plan;
    int first_bad = -1;
    double first_pcc = 1;
    printf("\n%-4s %-40s %-13s %10s %12s\n", "op", "module path", "kind", "PCC", "max abs err");
    /* Only the entry point that ran (prefill); a KV-cache view is a strided window on the cache
     * whose rows were compared where they were produced (the k/v projections). */
    const TtcEntry *e = &p->entries[emu->entry];
    for (int k = e->first_op; k < e->first_op + e->n_ops; k++) {
        if (p->tensors[p->ops[k].out].alias >= 0) continue;
        RtTensor a, b;
        ttc_session_tensor(emu, p->ops[k].out, &a);
        ttc_session_tensor(&ref, p->ops[k].out, &b);
        int64_t n = rt_tensor_elems(&a);
        TtcCompare c = ttc_compare(a.data, b.data, n);
        /* PCC says nothing about a near-constant tensor (softmax over random weights is ~uniform,
         * and its spread is below one bf16 step): an op whose error stays within a few bf16
         * steps of its largest value (1/64) is not flagged, whatever its PCC. */
        double peak = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = fabs((double)((const float *)b.data)[i]);
            if (v > peak) peak = v;
        }
        int bad = c.pcc < threshold && c.max_abs > peak / 64;
        printf("%-4d %-40s %-13s %10.6f %12.3g%s\n", k, p->ops[k].path, ttc_op_name(p->ops[k].kind), c.pcc, c.max_abs,
               bad ? "  <-- below threshold" : "");
        if (bad && first_bad < 0) {
            first_bad = k;
            first_pcc = c.pcc;
        }
    }
    ttc_session_free(&ref);
    print_nonfinite("emulated", emu_nf);
    print_nonfinite("reference", &ref_nf);
    if (emu_nf->op >= 0) return nonfinite_verdict(p, emu_nf, &ref_nf, err);
    if (first_bad < 0) {
        printf("check: every op matches the fp32 reference path (PCC >= %g)\n", threshold);
        return 0;
    }
    const TtcOpDesc *op = &p->ops[first_bad];
    ttc_fail(err, TTC_E_USER, "op '%s' (%s) is the first to diverge from the fp32 reference: PCC %.6f < %g", op->path,
             ttc_op_name(op->kind), first_pcc, threshold);
    ttc_hint(err, "raise its precision, e.g. --set %.*s.activation_dtype=fp32 or math_fidelity=HiFi4, and recompile",
             (int)(strrchr(op->path, '.') ? strrchr(op->path, '.') - op->path : (long)strlen(op->path)), op->path);
    return TTC_E_USER;
}

int cmd_run(const CliCommand *cmd, const CliArgs *a) {
    TtcError err = {0};
    TtcModel m;
    TtcInputFiles r;
    TtcSession s;
    int have_session = 0, check = cli_flag(cmd, a, "--check"), open_rc = 0;
    int64_t repeat;
    double threshold = 0.99;
    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    memset(&r, 0, sizeof r);
    if (cli_int(cmd, a, "--repeat", 1, 1000000, 1, &repeat)) return 1;
    const char *thr = cli_get(cmd, a, "--check-pcc");
    if (thr) {
        char *end;
        threshold = strtod(thr, &end);
        if (*end || end == thr || threshold <= -1 || threshold > 1)
            return ttc_print_error("give a number in (-1, 1], e.g. 0.999", "--check-pcc: '%s' is not a valid PCC", thr);
    }
    double t0 = ttc_now_ms();
    if (cli_inputs_load(cmd, a, &r, &err) != TTC_OK) goto done;
    CliBounds bounds = {.batch = r.in.batch, .seq = r.in.seq}; /* a spec is compiled for this input */
    if ((open_rc = cli_open_model(cmd, a, &bounds, &m)) != 0) goto done;
    if (cli_inputs_check(cmd, a, &m.plan, &r, &err) != TTC_OK) goto done; /* ids against its vocabulary */
    if (cli_load_weights(cmd, a, &m, check, &err) != TTC_OK) goto done;
    double t_load = ttc_now_ms() - t0;
    TtcNonfiniteRecord emu_nf;
    ttc_nonfinite_record_init(&emu_nf);
    TtcRunOptions ro = {.keep_all = check, .nan_check = cli_flag(cmd, a, "--nan-check"),
                        .on_op = check ? ttc_nonfinite_on_op : NULL, .user = &emu_nf};
    if (ttc_session_init(&s, &m, &ro, &err) != TTC_OK) goto done;
    have_session = 1;
    emu_nf.s = &s;
    double *times = calloc((size_t)repeat, sizeof *times);
    if (!times) {
        ttc_fail(&err, TTC_E_INTERNAL, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < repeat && err.status == TTC_OK; i++) {
        double t1 = ttc_now_ms();
        ttc_forward(&s, &r.in, &err);
        times[i] = ttc_now_ms() - t1;
    }
    if (err.status == TTC_OK) {
        ttc_sort_doubles(times, (size_t)repeat);
        printf("%s on %s: batch %lld, seq %lld\n", m.plan.model_name, m.plan.device, (long long)r.in.batch,
               (long long)r.in.seq);
        ttc_output_print(&s, TTC_ROLE_HIDDEN);
        ttc_output_print(&s, TTC_ROLE_POOLED);
        ttc_output_print(&s, TTC_ROLE_LOGITS);
        printf("time: load %.1f ms, forward %.2f ms (host)", t_load, times[0]);
        if (repeat > 1) printf(", median %.2f ms over %lld runs", times[repeat / 2], (long long)repeat);
        printf("\n");
    }
    free(times);
    if (err.status != TTC_OK) goto done;
    if (ttc_output_write(&s, m.plan.model_type == TTC_MODEL_DECODER ? TTC_ROLE_LOGITS : TTC_ROLE_HIDDEN,
                         cli_get(cmd, a, "--output"), "--output", &err) != TTC_OK)
        goto done;
    if (ttc_output_write(&s, TTC_ROLE_POOLED, cli_get(cmd, a, "--output-pooled"), "--output-pooled", &err) != TTC_OK)
        goto done;
    if (check) run_check(&m, &s, &emu_nf, &r.in, threshold, &err);
done:
    if (err.status != TTC_OK) ttc_error_print(&err);
    if (have_session) ttc_session_free(&s);
    ttc_inputs_free(&r);
    ttc_model_close(&m);
    return open_rc ? open_rc : (int)err.status;
}

const CliCommand cli_run = {
    "run",
    "run a plan (or a spec, compiled in memory) on the emulated device",
    "(PLAN | SPEC.yaml) (--weights W.safetensors | --random-weights SEED) --input-ids IDS",
    "Inputs may be smaller than the plan's --batch/--seq bounds, never larger. A spec is compiled in\n"
    "memory for the input's batch and length (unless --batch/--seq say more); what does not fit the\n"
    "device is refused, as by ttc compile and ttc check, unless --allow-misfit is given.\n"
    "TTC_THREADS=N sets the threads the matrix unit's emulation uses (default: the online CPUs, at\n"
    "most 64); OpenBLAS runs on one. Outputs are bit-identical for any N and from run to run.",
    1,
    1,
    run_opts,
    cmd_run,
};
