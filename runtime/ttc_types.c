/* ttc_types.c: names and small helpers for the shared vocabulary of ttc_types.h. */
#include "ttc_types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double ttc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void ttc_sort_doubles(double *v, size_t n) { qsort(v, n, sizeof *v, cmp_double); }

TtcStatus ttc_failv(TtcError *e, TtcStatus st, const char *fmt, va_list ap) {
    if (!e || e->status != TTC_OK) return st; /* keep the first cause */
    e->status = st;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    e->hint[0] = 0;
    return st;
}

TtcStatus ttc_fail(TtcError *e, TtcStatus st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ttc_failv(e, st, fmt, ap);
    va_end(ap);
    return st;
}

void ttc_hint(TtcError *e, const char *fmt, ...) {
    if (!e || e->hint[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof e->hint, fmt, ap);
    va_end(ap);
}

int64_t ttc_mul_sat(int64_t a, int64_t b) {
    if (a <= 0 || b <= 0) return 0;
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

int64_t ttc_add_sat(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

void ttc_str_append(char *buf, size_t cap, const char *fmt, ...) {
    size_t n = strlen(buf);
    if (n + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

void ttc_error_clear(TtcError *e) { memset(e, 0, sizeof *e); }

void ttc_error_print(const TtcError *e) {
    fprintf(stderr, "error: %s\n", e->msg[0] ? e->msg : "unknown failure");
    if (e->hint[0]) fprintf(stderr, "  hint: %s\n", e->hint);
}

static const struct { const char *name; int tile_bytes; } dtype_info[] = {
#define X(n, s, hb, tb) {s, tb},
    TTC_DTYPES(X)
#undef X
};

const char *ttc_dtype_name(TtcDType t) {
    return (unsigned)t < TTC_DTYPE_COUNT ? dtype_info[t].name : "?";
}

int ttc_dtype_from_name(const char *s) {
    for (int i = 0; i < TTC_DTYPE_COUNT; i++)
        if (strcmp(s, dtype_info[i].name) == 0) return i;
    return -1;
}

int ttc_dtype_tile_bytes(TtcDType t) { return (unsigned)t < TTC_DTYPE_COUNT ? dtype_info[t].tile_bytes : 0; }

static const struct { const char *name, *summary; int min_in, max_in; } op_info[] = {
#define OP(id, name, min_in, max_in, summary) {name, summary, min_in, max_in},
#include "ops.def"
#undef OP
};

const char *ttc_op_name(TtcOpKind k) { return (unsigned)k < TTC_OP_COUNT ? op_info[k].name : "?"; }
const char *ttc_op_summary(TtcOpKind k) { return (unsigned)k < TTC_OP_COUNT ? op_info[k].summary : "?"; }
int ttc_op_min_inputs(TtcOpKind k) { return (unsigned)k < TTC_OP_COUNT ? op_info[k].min_in : 0; }
int ttc_op_max_inputs(TtcOpKind k) { return (unsigned)k < TTC_OP_COUNT ? op_info[k].max_in : 0; }

int ttc_op_from_name(const char *s) {
    for (int i = 0; i < TTC_OP_COUNT; i++)
        if (strcmp(s, op_info[i].name) == 0) return i;
    return -1;
}

static const char *const role_names[TTC_ROLE_COUNT] = {
    "none", "input_ids", "token_type_ids", "attention_mask", "hidden", "pooled", "logits",
};

/* One op runs every epilogue: the executor calls it with the linear's own op description, whose
 * attributes say which epilogue and, for rope_qk, which heads. */
int ttc_epilogue_op(int epilogue) {
    return epilogue > TTC_EPILOGUE_NONE && epilogue < TTC_EPILOGUE_COUNT ? TTC_OP_EPILOGUE : -1;
}

const char *ttc_role_name(TtcRole r) { return (unsigned)r < TTC_ROLE_COUNT ? role_names[r] : "?"; }

int64_t ttc_shape_max_elems(const TtcShape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i].size;
    return n;
}

int64_t ttc_dim_actual(TtcDim d, const TtcBindings *b) {
    return (d.sym == TTC_SYM_NONE || !b) ? d.size : b->v[d.sym];
}

int64_t ttc_shape_actual_elems(const TtcShape *s, const TtcBindings *b) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= ttc_dim_actual(s->d[i], b);
    return n;
}

char *ttc_shape_str(const TtcShape *s, char *buf, size_t n) {
    static const char sym_letter[TTC_SYM_COUNT] = {0, 'B', 'S', 'T'};
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < s->rank && k < n; i++) {
        if (s->d[i].sym != TTC_SYM_NONE)
            k += (size_t)snprintf(buf + k, n - k, "%s%c", i ? "," : "", sym_letter[s->d[i].sym]);
        else
            k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)s->d[i].size);
    }
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}
