/* json_mini.h: a small, strict JSON pull parser for the headers of binary formats (safetensors).
 *
 * No tree is built: the caller walks the text, asking for an object, then for each member's key,
 * then reading or skipping its value. Syntax follows RFC 8259 exactly (UTF-8 text, no trailing
 * commas, no comments, no leading zeros); errors give the byte offset into the text. */
#ifndef TTC_JSON_MINI_H
#define TTC_JSON_MINI_H

#include <stddef.h>
#include <stdint.h>
#include "ttc_types.h"

typedef struct TtcJson {
    const char *text;
    size_t len, pos;
    const char *what; /* names the text in messages, e.g. "'w.safetensors': header" */
    TtcError *err;
    int first;        /* the container just opened has not yielded a member yet */
} TtcJson;

/* Offset of the first byte that is not valid UTF-8 (overlong forms and surrogates included), or
 * `len` when all of it is valid. Writers use it to refuse names a reader would reject. */
size_t ttc_json_utf8_invalid_at(const char *text, size_t len);

/* Fails (user error) when the text is not valid UTF-8. */
TtcStatus ttc_json_init(TtcJson *j, const char *text, size_t len, const char *what, TtcError *err);

/* What the next value is, without consuming it: '{', '[', '"', '-' or a digit (number), 't', 'f',
 * 'n'; 0 at the end of the text. */
int ttc_json_peek(TtcJson *j);

/* Objects: begin consumes '{'; next returns 1 with *key (malloc'ed, caller frees) and the parser
 * at the member's value, 0 once the closing '}' is consumed, -1 on error. */
TtcStatus ttc_json_object_begin(TtcJson *j);
int ttc_json_object_next(TtcJson *j, char **key);
/* Arrays: begin consumes '['; next returns 1 when an element follows, 0 after ']', -1 on error. */
TtcStatus ttc_json_array_begin(TtcJson *j);
int ttc_json_array_next(TtcJson *j);

/* A string, decoded (escapes and \uXXXX surrogate pairs) into malloc'ed UTF-8. Strings holding
 * \u0000 are refused, since the result is a C string. */
TtcStatus ttc_json_string(TtcJson *j, char **out);
/* An integer that fits in int64 (no fraction, no exponent). */
TtcStatus ttc_json_int64(TtcJson *j, int64_t *out);
/* Any number (fraction and exponent allowed) as the nearest double; one too large for a double
 * is refused, one too small becomes 0 or a subnormal, as strtod gives it. */
TtcStatus ttc_json_double(TtcJson *j, double *out);
/* `true` or `false` as 1 or 0. */
TtcStatus ttc_json_bool(TtcJson *j, int *out);
/* `null`. */
TtcStatus ttc_json_null(TtcJson *j);
/* Any value, checked for syntax and thrown away. */
TtcStatus ttc_json_skip(TtcJson *j);
/* Only whitespace may follow the top-level value. */
TtcStatus ttc_json_finish(TtcJson *j);

/* A user error at the current offset: "<what>: at byte N: <message>". For callers' semantic
 * checks (a field of the wrong type) as well as syntax. */
TtcStatus ttc_json_fail(TtcJson *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Line and column (1-based; columns count bytes) of byte offset `pos` of the text, for callers
 * that report positions the way editors show them. */
void ttc_json_line_col(const TtcJson *j, size_t pos, int *line, int *col);
/* The message of an error ttc_json_fail recorded in `err`, without its "<what>, byte N: " prefix,
 * for callers that print the position their own way. */
const char *ttc_json_error_text(const TtcJson *j, const TtcError *err);

#endif
