/* run_cli.c: the command-line side of running a plan (run_cli.h): one implementation for `ttc`
 * and generated programs, so their flags, messages and printed outputs cannot drift apart. */
#include "run_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ttc_print_error(const char *hint, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (hint) fprintf(stderr, "  hint: %s\n", hint);
    return 1;
}

int ttc_flag_value(const char *who, const char *name, const char *metavar, const char *eq, int argc, char **argv,
                   int *i, const char **val) {
    *val = NULL;
    if (metavar) {
        if (eq)
            *val = eq + 1;
        else if (*i + 1 < argc)
            *val = argv[++*i];
        else
            return ttc_print_error(NULL, "%s: option %s needs a value (%s)", who, name, metavar);
    } else if (eq) {
        return ttc_print_error(NULL, "%s: option %s takes no value", who, name);
    }
    return 0;
}

int ttc_flag_int(const char *flag, const char *text, int64_t lo, int64_t hi, int64_t dflt, int64_t *out) {
    *out = dflt;
    if (!text) return 0;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        char hint[96];
        snprintf(hint, sizeof hint, "give a whole number from %lld to %lld", (long long)lo, (long long)hi);
        return ttc_print_error(hint, "%s: '%s' is not a valid value", flag, text);
    }
    *out = v;
    return 0;
}

int ttc_flag_real(const char *flag, const char *text, double lo, double hi, double dflt, double *out) {
    *out = dflt;
    if (!text) return 0;
    char *end;
    double v = strtod(text, &end);
    /* !(v >= lo && v <= hi) also refuses NaN */
    if (end == text || *end || !(v >= lo && v <= hi)) {
        char hint[96];
        snprintf(hint, sizeof hint, "give a number from %g to %g", lo, hi);
        return ttc_print_error(hint, "%s: '%s' is not a valid value", flag, text);
    }
    *out = v;
    return 0;
}

int64_t ttc_plan_input_bound(const TtcPlan *p, TtcRole role) {
    int64_t bound = 1; /* token type ids for a model without a token type table: only 0 */
    if (role == TTC_ROLE_ATTENTION_MASK) return 2;
    if (!p) return (int64_t)INT32_MAX + 1; /* no plan yet: only the int32 range */
    else if (role == TTC_ROLE_INPUT_IDS) bound = p->vocab_size;
    /* Token type ids index the table the embedding op gathers from with them. */
    for (int32_t i = 0; role == TTC_ROLE_TOKEN_TYPE_IDS && i < p->n_ops; i++) {
        const TtcOpDesc *op = &p->ops[i];
        if (op->kind != TTC_OP_EMBEDDING || op->n_in < 2 || p->tensors[op->in[0]].role != (int32_t)role) continue;
        const TtcTensorDesc *table = &p->tensors[op->in[1]];
        bound = table->shape.d[table->shard_chips > 0 ? 1 : 0].size; /* per-chip copies: [chips, rows, H] */
    }
    return bound < (int64_t)INT32_MAX + 1 ? bound : (int64_t)INT32_MAX + 1; /* ids are int32 */
}

/* Loads an optional companion input that must have the ids' shape. */
static TtcStatus load_companion(const TtcPlan *p, const char *arg, const char *flag, TtcRole role,
                                const TtcNpyArray *ids, TtcNpyArray *out, const int32_t **dst, TtcError *err) {
    if (!arg) return TTC_OK;
    if (ttc_ids_load(arg, flag, role, ttc_plan_input_bound(p, role), out, err) != TTC_OK) return err->status;
    if (out->shape[0] != ids->shape[0] || out->shape[1] != ids->shape[1]) {
        ttc_fail(err, TTC_E_USER, "%s has shape [%lld, %lld], the input ids have [%lld, %lld]", flag,
                 (long long)out->shape[0], (long long)out->shape[1], (long long)ids->shape[0], (long long)ids->shape[1]);
        return TTC_E_USER;
    }
    *dst = out->i32;
    return TTC_OK;
}

TtcStatus ttc_inputs_load(TtcInputFiles *f, const TtcPlan *p, const char *who, const char *hint_more,
                          const char *input_ids, const char *token_type_ids, const char *attention_mask,
                          TtcError *err) {
    memset(f, 0, sizeof *f);
    if (!input_ids) {
        ttc_fail(err, TTC_E_USER, "%s: --input-ids is required", who);
        ttc_hint(err, "e.g. --input-ids \"101,7592,2088,102\" or --input-ids ids.npy%s", hint_more);
        return TTC_E_USER;
    }
    if (ttc_ids_load(input_ids, "--input-ids", TTC_ROLE_INPUT_IDS, ttc_plan_input_bound(p, TTC_ROLE_INPUT_IDS),
                     &f->ids, err) != TTC_OK)
        return err->status;
    f->in.input_ids = f->ids.i32;
    f->in.batch = f->ids.shape[0];
    f->in.seq = f->ids.shape[1];
    if (load_companion(p, token_type_ids, "--token-type-ids", TTC_ROLE_TOKEN_TYPE_IDS, &f->ids, &f->token_type_ids,
                       &f->in.token_type_ids, err) != TTC_OK)
        return err->status;
    return load_companion(p, attention_mask, "--attention-mask", TTC_ROLE_ATTENTION_MASK, &f->ids,
                          &f->attention_mask, &f->in.attention_mask, err);
}

TtcStatus ttc_inputs_check(const TtcInputFiles *f, const TtcPlan *p, const char *input_ids, const char *token_type_ids,
                           const char *attention_mask, TtcError *err) {
    const struct { const TtcNpyArray *a; const char *arg, *flag; TtcRole role; } in[] = {
        {&f->ids, input_ids, "--input-ids", TTC_ROLE_INPUT_IDS},
        {&f->token_type_ids, token_type_ids, "--token-type-ids", TTC_ROLE_TOKEN_TYPE_IDS},
        {&f->attention_mask, attention_mask, "--attention-mask", TTC_ROLE_ATTENTION_MASK}};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        if (in[i].arg && ttc_ids_check(in[i].a, in[i].arg, in[i].flag, in[i].role,
                                       ttc_plan_input_bound(p, in[i].role), err) != TTC_OK)
            return err->status;
    return TTC_OK;
}

void ttc_inputs_free(TtcInputFiles *f) {
    ttc_npy_free(&f->ids);
    ttc_npy_free(&f->token_type_ids);
    ttc_npy_free(&f->attention_mask);
}

void ttc_output_print(TtcSession *s, TtcRole role) {
    RtTensor t;
    const float *data = ttc_session_output(s, role, &t);
    if (!data) return;
    printf("%-7s [", ttc_role_name(role));
    for (int i = 0; i < t.rank; i++) printf("%s%lld", i ? ", " : "", (long long)t.dims[i]);
    printf("]  first values:");
    int64_t n = rt_tensor_elems(&t);
    for (int64_t i = 0; i < n && i < 6; i++) printf(" %.6f", data[i]);
    printf("\n");
}

TtcStatus ttc_output_write(TtcSession *s, TtcRole role, const char *path, const char *flag, TtcError *err) {
    if (!path) return TTC_OK;
    RtTensor t;
    const float *data = ttc_session_output(s, role, &t);
    if (!data) {
        ttc_fail(err, TTC_E_USER, "%s: this model has no %s output", flag, ttc_role_name(role));
        if (role == TTC_ROLE_POOLED) ttc_hint(err, "the spec has no pooler layer");
        return TTC_E_USER;
    }
    return ttc_npy_write_f32(path, data, t.dims, t.rank, err);
}
