/* yaml_util.h: thin helpers over libyaml's document API for the YAML front end (specs, hardware
 * overlays, device descriptors). Every helper that can fail reports a diagnostic at the node's
 * file:line:col (libyaml marks are 0-based; DiagLoc is 1-based) and returns -1; callers keep
 * going so one run shows every problem.
 *
 * Messages name their subject as "CTX: KEY" (CTX may be NULL), e.g.
 *   layer 'layer_{i}': num_heads must be positive, got 0 */
#ifndef TTC_YAML_UTIL_H
#define TTC_YAML_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "diag.h"

typedef struct YamluDoc {
    yaml_document_t doc;
    int loaded;       /* doc holds a document that yamlu_free must delete */
    const char *file; /* interned in d */
    Diags *d;
} YamluDoc;

/* ---- memory (out of memory aborts, as in diag.h: nothing to clean up in a compiler run) ---- */
void *yamlu_alloc(size_t n); /* zeroed */
void *yamlu_realloc(void *p, size_t n);
char *yamlu_strdup(const char *s);
char *yamlu_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- loading ---- */
/* Loads exactly one YAML document. A syntax error (or a second document) is reported with its
 * location; returns 0 when a document (possibly empty: root NULL) was loaded. Call yamlu_free
 * in every case. */
int yamlu_load_file(YamluDoc *y, const char *path, Diags *d);
/* `name` stands for the file in diagnostics; the text is registered with diag_source. */
int yamlu_load_string(YamluDoc *y, const char *text, const char *name, Diags *d);
void yamlu_free(YamluDoc *y);
yaml_node_t *yamlu_root(YamluDoc *y); /* NULL for an empty document */

/* ---- nodes ---- */
DiagLoc yamlu_loc(const YamluDoc *y, const yaml_node_t *n);
const char *yamlu_str(const yaml_node_t *n); /* a scalar's text, NULL for collections */
/* An absent value: NULL, or a plain "", "~" or "null" (`key:` with nothing after it). */
int yamlu_is_null(const yaml_node_t *n);
int yamlu_is_map(const yaml_node_t *n);
int yamlu_is_seq(const yaml_node_t *n);
const char *yamlu_kind_name(const yaml_node_t *n); /* "a mapping", "a sequence", "a scalar" */
int yamlu_map_len(const yaml_node_t *n);
/* The i-th pair of a mapping (in file order). */
void yamlu_pair(YamluDoc *y, const yaml_node_t *map, int i, yaml_node_t **key, yaml_node_t **value);
int yamlu_seq_len(const yaml_node_t *n);
yaml_node_t *yamlu_seq_item(YamluDoc *y, const yaml_node_t *seq, int i);
/* The value under `key` (first occurrence), or NULL; `*key_node` gets the key when non-NULL. */
yaml_node_t *yamlu_get(YamluDoc *y, const yaml_node_t *map, const char *key, yaml_node_t **key_node);

/* ---- checks (each reports and returns -1 on failure) ---- */
/* `n` must be a mapping: "CTX: KEY must be a mapping, got a sequence". */
int yamlu_expect_map(YamluDoc *y, const yaml_node_t *n, const char *ctx, const char *key);
int yamlu_expect_seq(YamluDoc *y, const yaml_node_t *n, const char *ctx, const char *key);
/* Reports, for a mapping: keys that are not plain scalars, duplicate keys, and keys not in
 * `known` ("unknown key 'X' in CONTEXT", hint "did you mean 'Y'?" or the list of known keys).
 * Returns the number of problems reported. */
int yamlu_check_keys(YamluDoc *y, const yaml_node_t *map, const char *const *known, int n_known, const char *context);
/* The value under a required key, or NULL after "missing required key 'K' in CONTEXT". */
yaml_node_t *yamlu_require(YamluDoc *y, const yaml_node_t *map, const char *key, const char *context);

/* ---- typed getters: report at the value's location, leave *out alone on failure ---- */
/* yamlu_int: 0, -2 when the value is above `max` (the caller may add a hint to the error just
 * reported), -1 otherwise. */
int yamlu_int(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, int64_t min, int64_t max,
              int64_t *out);
/* `min_exclusive`: the value must be greater than min (eps > 0), else at least min. */
int yamlu_double(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, double min, int min_exclusive,
                 double max, double *out);
int yamlu_bool(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, int *out);
/* The index of the value in `names`; "CTX: unknown NOUN 'x'" with did-you-mean otherwise.
 * `noun` defaults to `key` when NULL. */
int yamlu_enum(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, const char *noun,
               const char *const *names, int n, int *out);
/* [A, B]: a sequence of exactly two integers, each in [min, max]. */
int yamlu_int_pair(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, int64_t min, int64_t max,
                   int64_t out[2]);
/* A non-empty scalar, copied. */
int yamlu_string(YamluDoc *y, const yaml_node_t *v, const char *ctx, const char *key, char **out);

/* ---- the same parsing on bare strings (for --set and friends) ---- */
/* 0 ok, -1 not a number of that kind, -2 out of range of the C type. */
int yamlu_parse_int(const char *s, int64_t *out);
int yamlu_parse_double(const char *s, double *out);
int yamlu_parse_bool(const char *s, int *out); /* 0 ok, -1 not true/false */
int yamlu_enum_index(const char *s, const char *const *names, int n); /* -1 when absent */
/* Attaches "did you mean 'x'?" (or "expected one of: a, b, c" when nothing is close). */
void yamlu_hint_choices(Diag *dg, const char *word, const char *const *names, int n);

#endif
