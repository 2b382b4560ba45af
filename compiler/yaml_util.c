/* yaml_util.c: loading YAML documents with located syntax errors, walking mappings, and typed,
 * range-checked getters that report where a value is wrong and what would be right. */
#include "yaml_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory ---- */

void *yamlu_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("ttc: out of memory\n", stderr);
        abort();
    }
    return q;
}

void *yamlu_alloc(size_t n) {
    void *p = yamlu_realloc(NULL, n);
    memset(p, 0, n ? n : 1);
    return p;
}

char *yamlu_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = yamlu_realloc(NULL, n);
    memcpy(p, s, n);
    return p;
}

char *yamlu_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return yamlu_strdup("");
    char *s = yamlu_realloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- loading ---- */

/* Line and column (1-based, columns in characters) of a byte offset: reader errors (bad
 * UTF-8) carry only an offset, not a mark. */
static DiagLoc yamlu_offset_loc(const char *file, const char *text, size_t len, size_t off) {
    DiagLoc l = {file, 1, 1};
    for (size_t i = 0; i < off && i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            l.line++;
            l.col = 1;
        } else if ((c & 0xC0) != 0x80) {
            l.col++;
        }
    }
    return l;
}

static void yamlu_report_parser(YamluDoc *y, yaml_parser_t *p, const char *text, size_t len) {
    if (p->error == YAML_MEMORY_ERROR) {
        diag_error(y->d, (DiagLoc){y->file, 0, 0}, "out of memory while reading YAML");
        return;
    }
    const char *problem = p->problem ? p->problem : "malformed input";
    if (p->error == YAML_READER_ERROR) {
        DiagLoc l = yamlu_offset_loc(y->file, text, len, p->problem_offset);
        Diag *dg = p->problem_value >= 0
                       ? diag_error(y->d, l, "invalid YAML: %s (byte 0x%02x)", problem, (unsigned)p->problem_value)
                       : diag_error(y->d, l, "invalid YAML: %s", problem);
        diag_hint(dg, "ttc reads UTF-8 (or UTF-16 with a byte order mark) text");
        return;
    }
    DiagLoc l = {y->file, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1};
    Diag *dg = diag_error(y->d, l, "invalid YAML: %s", problem);
    if (p->context)
        diag_hint(dg, "%s at line %d, column %d", p->context, (int)p->context_mark.line + 1,
                  (int)p->context_mark.column + 1);
}

static int yamlu_load_buffer(YamluDoc *y, const char *text, size_t len, const char *name, Diags *d) {
    memset(y, 0, sizeof *y);
    y->d = d;
    y->file = diag_file(d, name);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        diag_error(d, (DiagLoc){y->file, 0, 0}, "out of memory while reading YAML");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = 0;
    if (!yaml_parser_load(&parser, &y->doc)) {
        yamlu_report_parser(y, &parser, text, len);
        rc = -1;
    } else {
        y->loaded = 1;
        /* One file, one document: a stray `---` would otherwise silently drop the rest. */
        yaml_document_t extra;
        if (!yaml_parser_load(&parser, &extra)) {
            yamlu_report_parser(y, &parser, text, len);
            rc = -1;
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&extra);
            if (r) {
                Diag *dg = diag_error(d, (DiagLoc){y->file, (int)r->start_mark.line + 1, (int)r->start_mark.column + 1},
                                      "more than one YAML document in this file");
                diag_hint(dg, "keep one document: remove the '---' line and what follows it");
                rc = -1;
            }
            yaml_document_delete(&extra);
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

int yamlu_load_file(YamluDoc *y, const char *path, Diags *d) {
    memset(y, 0, sizeof *y);
    y->d = d;
    y->file = diag_file(d, path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        Diag *dg = diag_error(d, (DiagLoc){0}, "cannot open '%s': %s", path, strerror(errno));
        diag_hint(dg, "check the path (relative paths start from the current directory)");
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int too_big = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = yamlu_realloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
        if (len > ((size_t)64 << 20)) {
            too_big = 1;
            break;
        }
    }
    int read_err = ferror(f) ? errno : 0;
    fclose(f);
    if (read_err || too_big) {
        if (too_big)
            diag_error(d, (DiagLoc){0}, "cannot read '%s': larger than 64 MiB, not a YAML spec", path);
        else
            diag_error(d, (DiagLoc){0}, "cannot read '%s': %s", path, strerror(read_err));
        free(buf);
        return -1;
    }
    int rc = yamlu_load_buffer(y, buf, len, path, d);
    free(buf);
    return rc;
}

int yamlu_load_string(YamluDoc *y, const char *text, const char *name, Diags *d) {
    if (!name) name = "<string>";
    if (!text) text = "";
    diag_source(d, name, text);
    return yamlu_load_buffer(y, text, strlen(text), name, d);
}

void yamlu_free(YamluDoc *y) {
    if (y->loaded) yaml_document_delete(&y->doc);
    y->loaded = 0;
}

yaml_node_t *yamlu_root(YamluDoc *y) { return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL; }

/* ---- nodes ---- */

DiagLoc yamlu_loc(const YamluDoc *y, const yaml_node_t *n) {
    DiagLoc l = {y->file, 0, 0};
    if (n) {
        l.line = (int)n->start_mark.line + 1;
        l.col = (int)n->start_mark.column + 1;
    }
    return l;
}

const char *yamlu_str(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int yamlu_is_map(const yaml_node_t *n) { return n && n->type == YAML_MAPPING_NODE; }
int yamlu_is_seq(const yaml_node_t *n) { return n && n->type == YAML_SEQUENCE_NODE; }

const char *yamlu_kind_name(const yaml_node_t *n) {
    if (!n) return "nothing";
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a sequence";
    case YAML_SCALAR_NODE: return "a scalar";
    default: return "nothing";
    }
}

int yamlu_map_len(const yaml_node_t *n) {
    return yamlu_is_map(n) ? (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) : 0;
}

void yamlu_pair(YamluDoc *y, const yaml_node_t *map, int i, yaml_node_t **key, yaml_node_t **value) {
    yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
    *key = yaml_document_get_node(&y->doc, p->key);
    *value = yaml_document_get_node(&y->doc, p->value);
}

int yamlu_seq_len(const yaml_node_t *n) {
    return yamlu_is_seq(n) ? (int)(n->data.sequence.items.top - n->data.sequence.items.start) : 0;
}

yaml_node_t *yamlu_seq_item(YamluDoc *y, const yaml_node_t *seq, int i) {
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

yaml_node_t *yamlu_get(YamluDoc *y, const yaml_node_t *map, const char *key, yaml_node_t **key_node) {
    int n = yamlu_map_len(map);
    for (int i = 0; i < n; i++) {
        yaml_node_t *k, *v;
        yamlu_pair(y, map, i, &k, &v);
        const char *s = yamlu_str(k);
        if (s && strcmp(s, key) == 0) {
            if (key_node) *key_node = k;
            return v;
        }
    }
    if (key_node) *key_node = NULL;
    return NULL;
}

/* ---- checks ---- */

/* "CTX: KEY" or "KEY": the subject of a message about one value. */
static char *yamlu_subject(const char *ctx, const char *key) {
    if (ctx && *ctx) return key ? yamlu_printf("%s: %s", ctx, key) : yamlu_strdup(ctx);
    return yamlu_strdup(key ? key : "value");
}

static int yamlu_expect_type(YamluDoc *y, const yaml_node_t *n, yaml_node_type_t t, const char *what, const char *ctx,
                             const char *key) {
    if (n && n->type == t) return 0;
    char *s = yamlu_subject(ctx, key);
    diag_error(y->d, yamlu_loc(y, n), "%s must be %s, got %s", s, what, yamlu_kind_name(n));
    free(s);
    return -1;
}

int yamlu_expect_map(YamluDoc *y, const yaml_node_t *n, const char *ctx, const char *key) {
    return yamlu_expect_type(y, n, YAML_MAPPING_NODE, "a mapping", ctx, key);
}

int yamlu_expect_seq(YamluDoc *y, const yaml_node_t *n, const char *ctx, const char *key) {
    return yamlu_expect_type(y, n, YAML_SEQUENCE_NODE, "a sequence", ctx, key);
}

void yamlu_hint_choices(Diag *dg, const char *word, const char *const *names, int n) {
    const char *close = diag_closest(word, names, n);
    if (close) {
        diag_hint(dg, "did you mean '%s'?", close);
        return;
    }
    size_t len = 32;
    for (int i = 0; i < n; i++) len += strlen(names[i]) + 2;
    char *list = yamlu_alloc(len);
    for (int i = 0; i < n; i++) {
        if (i) strcat(list, ", ");
        strcat(list, names[i]);
    }
    diag_hint(dg, "expected one of: %s", list);
    free(list);
}

int yamlu_check_keys(YamluDoc *y, const yaml_node_t *map, const char *const *known, int n_known, const char *context) {
    int problems = 0, n = yamlu_map_len(map);
    for (int i = 0; i < n; i++) {
        yaml_node_t *k, *v;
        yamlu_pair(y, map, i, &k, &v);
        const char *s = yamlu_str(k);
        if (!s) {
            diag_error(y->d, yamlu_loc(y, k), "keys in %s must be plain names, got %s", context, yamlu_kind_name(k));
            problems++;
            continue;
        }
        int dup = 0;
        for (int j = 0; j < i && !dup; j++) {
            yaml_node_t *k2, *v2;
            yamlu_pair(y, map, j, &k2, &v2);
            const char *s2 = yamlu_str(k2);
            if (s2 && strcmp(s, s2) == 0) {
                Diag *dg = diag_error(y->d, yamlu_loc(y, k), "duplicate key '%s' in %s", s, context);
                diag_hint(dg, "the first '%s' is at line %d; keep one", s, (int)k2->start_mark.line + 1);
                dup = 1;
            }
        }
        if (dup) {
            problems++;
            continue;
        }
        if (yamlu_enum_index(s, known, n_known) < 0) {
            Diag *dg = diag_error(y->d, yamlu_loc(y, k), "unknown key '%s' in %s", s, context);
            yamlu_hint_choices(dg, s, known, n_known);
            problems++;
        }
    }
    return problems;
}

yaml_node_t *yamlu_require(YamluDoc *y, const yaml_node_t *map, const char *key, const char *context) {
    yaml_node_t *v = yamlu_get(y, map, key, NULL);
    if (!v) diag_error(y->d, yamlu_loc(y, map), "missing required key '%s' in %s", key, context);
    return v;
}

/* ---- parsing bare strings ---- */

int yamlu_parse_int(const char *s, int64_t *out) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!*p) return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE) return -2;
    *out = (int64_t)v;
    return 0;
}

/* Decimal notation only ([+-]digits[.digits][e[+-]digits]): strtod alone would also take hex
 * floats, "inf" and "nan", none of which belong in a spec. */
int yamlu_parse_double(const char *s, double *out) {
    const char *p = s;
    int digits = 0;
    if (*p == '+' || *p == '-') p++;
    while (*p >= '0' && *p <= '9') p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, digits++;
    }
    if (!digits) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return -1;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p) return -1;
    errno = 0;
    double v = strtod(s, NULL);
    if (!isfinite(v)) return -2;
    /* Underflow to a denormal or zero is not an error here: range checks reject what matters. */
    *out = v;
    return 0;
}

int yamlu_parse_bool(const char *s, int *out) {
    static const char *const t[] = {"true", "True", "TRUE"}, *const f[] = {"false", "False", "FALSE"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, t[i]) == 0) return *out = 1, 0;
        if (strcmp(s, f[i]) == 0) return *out = 0, 0;
    }
    return -1;
}

int yamlu_enum_index(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* ---- typed getters ---- */

int yamlu_is_null(const yaml_node_t *v) {
    if (!v) return 1;
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *s = yamlu_str(v);
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Common front of every typed getter: the value must be a plain, non-empty scalar. Quoted
 * numbers are strings in YAML; accepting them would hide a schema confusion. */
static const char *yamlu_plain(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, const char *want) {
    char *s = NULL;
    if (!v || v->type != YAML_SCALAR_NODE) {
        s = yamlu_subject(ctx, key);
        diag_error(y->d, yamlu_loc(y, v), "%s must be %s, got %s", s, want, yamlu_kind_name(v));
    } else if (yamlu_is_null(v)) {
        s = yamlu_subject(ctx, key);
        Diag *dg = diag_error(y->d, yamlu_loc(y, v), "%s must be %s, got nothing", s, want);
        diag_hint(dg, "give a value or remove the key");
    } else if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        s = yamlu_subject(ctx, key);
        Diag *dg = diag_error(y->d, yamlu_loc(y, v), "%s must be %s, got the string \"%s\"", s, want, yamlu_str(v));
        diag_hint(dg, "write it without quotes");
    } else {
        return yamlu_str(v);
    }
    free(s);
    return NULL;
}

int yamlu_int(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, int64_t min, int64_t max,
              int64_t *out) {
    const char *text = yamlu_plain(y, v, ctx, key, "an integer");
    if (!text) return -1;
    int64_t x = 0;
    int rc = yamlu_parse_int(text, &x);
    char *s = yamlu_subject(ctx, key);
    if (rc == -1) {
        Diag *dg = diag_error(y->d, yamlu_loc(y, v), "%s must be an integer, got '%s'", s, text);
        double dv;
        if (yamlu_parse_double(text, &dv) == 0) diag_hint(dg, "write a whole number, without a decimal point or exponent");
        free(s);
        return -1;
    }
    if (rc == 0 && x >= min && x <= max) {
        free(s);
        *out = x;
        return 0;
    }
    /* Out of range, or beyond int64 (rc == -2: the sign says which end). */
    int below = rc == 0 ? x < min : text[0] == '-';
    DiagLoc l = yamlu_loc(y, v);
    if (below && min == 1)
        diag_error(y->d, l, "%s must be positive, got %s", s, text);
    else if (below && min == 0)
        diag_error(y->d, l, "%s must not be negative, got %s", s, text);
    else if (below)
        diag_error(y->d, l, "%s must be at least %lld, got %s", s, (long long)min, text);
    else
        diag_error(y->d, l, "%s must be at most %lld, got %s", s, (long long)max, text);
    free(s);
    return below ? -1 : -2;
}

int yamlu_double(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, double min, int min_exclusive,
                 double max, double *out) {
    const char *text = yamlu_plain(y, v, ctx, key, "a number");
    if (!text) return -1;
    double x = 0;
    int rc = yamlu_parse_double(text, &x);
    char *s = yamlu_subject(ctx, key);
    DiagLoc l = yamlu_loc(y, v);
    if (rc == -1) {
        diag_error(y->d, l, "%s must be a number, got '%s'", s, text);
        free(s);
        return -1;
    }
    int low_ok = min_exclusive ? x > min : x >= min;
    if (rc == 0 && low_ok && x <= max) {
        free(s);
        *out = x;
        return 0;
    }
    int below = rc == 0 ? !low_ok : text[0] == '-';
    if (below && min_exclusive && min == 0)
        diag_error(y->d, l, "%s must be positive, got %s", s, text);
    else if (below && min_exclusive)
        diag_error(y->d, l, "%s must be greater than %g, got %s", s, min, text);
    else if (below)
        diag_error(y->d, l, "%s must be at least %g, got %s", s, min, text);
    else
        diag_error(y->d, l, "%s must be at most %g, got %s", s, max, text);
    free(s);
    return -1;
}

int yamlu_bool(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, int *out) {
    const char *text = yamlu_plain(y, v, ctx, key, "true or false");
    if (!text) return -1;
    if (yamlu_parse_bool(text, out) == 0) return 0;
    char *s = yamlu_subject(ctx, key);
    Diag *dg = diag_error(y->d, yamlu_loc(y, v), "%s must be true or false, got '%s'", s, text);
    /* YAML 1.1 spelled booleans yes/no/on/off; libyaml keeps them as strings. */
    diag_hint(dg, "write true or false");
    free(s);
    return -1;
}

int yamlu_enum(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, const char *noun,
               const char *const *names, int n, int *out) {
    const char *text = yamlu_str(v);
    if (!text || yamlu_is_null(v)) {
        char *s = yamlu_subject(ctx, key);
        Diag *dg = diag_error(y->d, yamlu_loc(y, v), "%s must be a name, got %s", s, text ? "nothing" : yamlu_kind_name(v));
        yamlu_hint_choices(dg, "", names, n);
        free(s);
        return -1;
    }
    int i = yamlu_enum_index(text, names, n);
    if (i >= 0) {
        *out = i;
        return 0;
    }
    Diag *dg = ctx && *ctx ? diag_error(y->d, yamlu_loc(y, v), "%s: unknown %s '%s'", ctx, noun ? noun : key, text)
                           : diag_error(y->d, yamlu_loc(y, v), "unknown %s '%s'", noun ? noun : key, text);
    yamlu_hint_choices(dg, text, names, n);
    return -1;
}

int yamlu_string(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, char **out) {
    const char *text = yamlu_str(v);
    if (!text || !*text || yamlu_is_null(v)) {
        char *s = yamlu_subject(ctx, key);
        diag_error(y->d, yamlu_loc(y, v), "%s must be a non-empty string, got %s", s, text ? "nothing" : yamlu_kind_name(v));
        free(s);
        return -1;
    }
    *out = yamlu_strdup(text);
    return 0;
}

int yamlu_int_pair(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, int64_t min, int64_t max,
                   int64_t out[2]) {
    if (yamlu_expect_seq(y, v, ctx, key) < 0) return -1;
    if (yamlu_seq_len(v) != 2) {
        char *s = yamlu_subject(ctx, key);
        diag_error(y->d, yamlu_loc(y, v), "%s must have two numbers, got %d", s, yamlu_seq_len(v));
        free(s);
        return -1;
    }
    int64_t a = 0, b = 0;
    int rc = yamlu_int(y, yamlu_seq_item(y, v, 0), ctx, key, min, max, &a);
    rc |= yamlu_int(y, yamlu_seq_item(y, v, 1), ctx, key, min, max, &b);
    if (rc) return -1;
    out[0] = a;
    out[1] = b;
    return 0;
}
