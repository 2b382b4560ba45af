/* json_mini.c: the strict JSON pull parser of json_mini.h. */
#include "json_mini.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper nesting than this in a skipped value is refused rather than recursed into, so a
 * hostile header cannot exhaust the stack. Real headers nest three levels. */
#define JSON_MAX_DEPTH 64

TtcStatus ttc_json_fail(TtcJson *j, const char *fmt, ...) {
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ttc_fail(j->err, TTC_E_USER, "%s, byte %zu: %s", j->what, j->pos, what);
}

/* Offset of the first byte that breaks UTF-8 (overlong forms, surrogates and code points past
 * U+10FFFF included), or `n` when the text is valid. */
static size_t utf8_first_invalid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t more;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) more = 1;
        else if (c == 0xE0) more = 2, lo = 0xA0;
        else if (c == 0xED) more = 2, hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF) more = 2;
        else if (c == 0xF0) more = 3, lo = 0x90;
        else if (c == 0xF4) more = 3, hi = 0x8F;
        else if (c >= 0xF1 && c <= 0xF3) more = 3;
        else return i;
        if (n - i - 1 < more || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += more + 1;
    }
    return n;
}

size_t ttc_json_utf8_invalid_at(const char *text, size_t len) {
    return utf8_first_invalid((const unsigned char *)text, len);
}

TtcStatus ttc_json_init(TtcJson *j, const char *text, size_t len, const char *what, TtcError *err) {
    j->text = text;
    j->len = len;
    j->pos = 0;
    j->what = what;
    j->err = err;
    j->first = 0;
    size_t bad = utf8_first_invalid((const unsigned char *)text, len);
    if (bad < len) {
        j->pos = bad;
        return ttc_json_fail(j, "invalid UTF-8");
    }
    return TTC_OK;
}

static void skip_ws(TtcJson *j) {
    while (j->pos < j->len) {
        char c = j->text[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        j->pos++;
    }
}

int ttc_json_peek(TtcJson *j) {
    skip_ws(j);
    return j->pos < j->len ? (unsigned char)j->text[j->pos] : 0;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at text[at] as a number, or -1. */
static long hex4(const TtcJson *j, size_t at) {
    if (at > j->len || j->len - at < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(j->text[at + i]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *out, unsigned long cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses the string at pos (which holds the opening quote). With `out`, writes the decoded bytes
 * there (never more than the raw length) and a NUL; without, only checks the syntax. */
static TtcStatus scan_string(TtcJson *j, char *out) {
    size_t n = 0;
    j->pos++; /* opening quote */
    for (;;) {
        if (j->pos >= j->len) return ttc_json_fail(j, "unterminated string");
        unsigned char c = (unsigned char)j->text[j->pos];
        if (c == '"') break;
        if (c < 0x20) return ttc_json_fail(j, "control character 0x%02x in a string (escape it)", c);
        if (c != '\\') {
            if (out) out[n] = (char)c;
            n++;
            j->pos++;
            continue;
        }
        if (j->pos + 1 >= j->len) return ttc_json_fail(j, "unterminated string");
        char e = j->text[j->pos + 1];
        static const char plain[] = "\"\\/bfnrt", meaning[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(plain, e) : NULL;
        if (hit) {
            if (out) out[n] = meaning[hit - plain];
            n++;
            j->pos += 2;
            continue;
        }
        if (e != 'u') return ttc_json_fail(j, "invalid escape '\\%c' in a string", e);
        long cp = hex4(j, j->pos + 2);
        if (cp < 0) return ttc_json_fail(j, "'\\u' must be followed by four hex digits");
        size_t used = 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return ttc_json_fail(j, "unpaired UTF-16 low surrogate \\u%04lx", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = -1;
            if (j->pos + 7 < j->len && j->text[j->pos + 6] == '\\' && j->text[j->pos + 7] == 'u')
                lo = hex4(j, j->pos + 8);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return ttc_json_fail(j, "UTF-16 high surrogate \\u%04lx is not followed by a low one", cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            used = 12;
        }
        if (cp == 0) return ttc_json_fail(j, "\\u0000 is not allowed in a string here");
        char tmp[4];
        size_t k = put_utf8(tmp, (unsigned long)cp);
        if (out) memcpy(out + n, tmp, k);
        n += k;
        j->pos += used;
    }
    j->pos++; /* closing quote */
    if (out) out[n] = 0;
    return TTC_OK;
}

TtcStatus ttc_json_string(TtcJson *j, char **out) {
    *out = NULL;
    if (ttc_json_peek(j) != '"') return ttc_json_fail(j, "expected a string");
    /* Decoding never lengthens a string, so the raw extent bounds the buffer. Find it by a
     * syntax-only pass, then decode for real from the same start. */
    size_t start = j->pos;
    if (scan_string(j, NULL)) return TTC_E_USER;
    size_t raw = j->pos - start;
    char *s = malloc(raw + 1);
    if (!s) return ttc_fail(j->err, TTC_E_INTERNAL, "%s: out of memory", j->what);
    j->pos = start;
    if (scan_string(j, s)) { /* cannot fail twice, but stay safe */
        free(s);
        return TTC_E_USER;
    }
    *out = s;
    return TTC_OK;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* The JSON number grammar; leaves pos after the number. */
static TtcStatus scan_number(TtcJson *j) {
    if (j->pos < j->len && j->text[j->pos] == '-') j->pos++;
    if (j->pos >= j->len || !is_digit(j->text[j->pos])) return ttc_json_fail(j, "expected a digit");
    if (j->text[j->pos] == '0') {
        j->pos++;
        if (j->pos < j->len && is_digit(j->text[j->pos]))
            return ttc_json_fail(j, "numbers must not have leading zeros");
    } else {
        while (j->pos < j->len && is_digit(j->text[j->pos])) j->pos++;
    }
    if (j->pos < j->len && j->text[j->pos] == '.') {
        j->pos++;
        if (j->pos >= j->len || !is_digit(j->text[j->pos])) return ttc_json_fail(j, "expected a digit after '.'");
        while (j->pos < j->len && is_digit(j->text[j->pos])) j->pos++;
    }
    if (j->pos < j->len && (j->text[j->pos] == 'e' || j->text[j->pos] == 'E')) {
        j->pos++;
        if (j->pos < j->len && (j->text[j->pos] == '+' || j->text[j->pos] == '-')) j->pos++;
        if (j->pos >= j->len || !is_digit(j->text[j->pos]))
            return ttc_json_fail(j, "expected a digit in the exponent");
        while (j->pos < j->len && is_digit(j->text[j->pos])) j->pos++;
    }
    return TTC_OK;
}

TtcStatus ttc_json_int64(TtcJson *j, int64_t *out) {
    *out = 0;
    int c = ttc_json_peek(j);
    if (c != '-' && !is_digit((char)c)) return ttc_json_fail(j, "expected an integer");
    size_t start = j->pos;
    if (scan_number(j)) return TTC_E_USER;
    size_t end = j->pos;
    int neg = j->text[start] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (size_t i = start + (size_t)neg; i < end; i++) {
        if (!is_digit(j->text[i])) {
            j->pos = start;
            return ttc_json_fail(j, "expected an integer, found a fraction or exponent");
        }
        unsigned d = (unsigned)(j->text[i] - '0');
        if (v > (limit - d) / 10) {
            j->pos = start;
            return ttc_json_fail(j, "integer out of range");
        }
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return TTC_OK;
}

static TtcStatus skip_value(TtcJson *j, int depth);

static TtcStatus skip_container(TtcJson *j, int depth, char close) {
    if (depth >= JSON_MAX_DEPTH) return ttc_json_fail(j, "values nested deeper than %d levels", JSON_MAX_DEPTH);
    j->pos++; /* '{' or '[' */
    skip_ws(j);
    if (j->pos < j->len && j->text[j->pos] == close) {
        j->pos++;
        return TTC_OK;
    }
    for (;;) {
        if (close == '}') {
            if (ttc_json_peek(j) != '"') return ttc_json_fail(j, "expected a string key");
            if (scan_string(j, NULL)) return TTC_E_USER;
            if (ttc_json_peek(j) != ':') return ttc_json_fail(j, "expected ':' after a key");
            j->pos++;
        }
        if (skip_value(j, depth + 1)) return TTC_E_USER;
        int c = ttc_json_peek(j);
        if (c != close && c != ',') return ttc_json_fail(j, "expected ',' or '%c'", close);
        j->pos++;
        if (c == close) return TTC_OK;
    }
}

static TtcStatus skip_literal(TtcJson *j, const char *word) {
    size_t n = strlen(word);
    if (j->len - j->pos < n || memcmp(j->text + j->pos, word, n) != 0) return ttc_json_fail(j, "expected a value");
    j->pos += n;
    return TTC_OK;
}

static TtcStatus skip_value(TtcJson *j, int depth) {
    int c = ttc_json_peek(j);
    switch (c) {
    case '{': return skip_container(j, depth, '}');
    case '[': return skip_container(j, depth, ']');
    case '"': return scan_string(j, NULL);
    case 't': return skip_literal(j, "true");
    case 'f': return skip_literal(j, "false");
    case 'n': return skip_literal(j, "null");
    case 0: return ttc_json_fail(j, "unexpected end of text, expected a value");
    default:
        if (c == '-' || is_digit((char)c)) return scan_number(j);
        return ttc_json_fail(j, "expected a value");
    }
}

TtcStatus ttc_json_skip(TtcJson *j) { return skip_value(j, 0); }

TtcStatus ttc_json_object_begin(TtcJson *j) {
    if (ttc_json_peek(j) != '{') return ttc_json_fail(j, "expected an object ('{')");
    j->pos++;
    j->first = 1;
    return TTC_OK;
}

TtcStatus ttc_json_array_begin(TtcJson *j) {
    if (ttc_json_peek(j) != '[') return ttc_json_fail(j, "expected an array ('[')");
    j->pos++;
    j->first = 1;
    return TTC_OK;
}

/* Shared by objects and arrays: consumes the separator before the next member, or the close.
 * The single `first` flag suffices because a container's first next() always comes right after
 * its begin(), before any nested container can reset the flag. */
static int container_next(TtcJson *j, char close) {
    int c = ttc_json_peek(j);
    int was_first = j->first;
    j->first = 0;
    if (c == close) {
        j->pos++;
        return 0;
    }
    if (!was_first) {
        if (c != ',') {
            ttc_json_fail(j, c ? "expected ',' or '%c'" : "unexpected end of text, expected ',' or '%c'", close);
            return -1;
        }
        j->pos++;
        if (ttc_json_peek(j) == close) {
            ttc_json_fail(j, "trailing ',' before '%c'", close);
            return -1;
        }
    }
    return 1;
}

int ttc_json_object_next(TtcJson *j, char **key) {
    *key = NULL;
    int r = container_next(j, '}');
    if (r <= 0) return r;
    if (ttc_json_peek(j) != '"') {
        ttc_json_fail(j, "expected a string key");
        return -1;
    }
    if (ttc_json_string(j, key)) return -1;
    if (ttc_json_peek(j) != ':') {
        free(*key);
        *key = NULL;
        ttc_json_fail(j, "expected ':' after a key");
        return -1;
    }
    j->pos++;
    return 1;
}

int ttc_json_array_next(TtcJson *j) {
    int r = container_next(j, ']');
    if (r > 0 && ttc_json_peek(j) == 0) {
        ttc_json_fail(j, "unexpected end of text in an array");
        return -1;
    }
    return r;
}

TtcStatus ttc_json_finish(TtcJson *j) {
    skip_ws(j);
    if (j->pos != j->len) return ttc_json_fail(j, "unexpected text after the end of the JSON value");
    return TTC_OK;
}

TtcStatus ttc_json_double(TtcJson *j, double *out) {
    *out = 0;
    int c = ttc_json_peek(j);
    if (c != '-' && !is_digit((char)c)) return ttc_json_fail(j, "expected a number");
    size_t start = j->pos;
    if (scan_number(j)) return TTC_E_USER;
    /* strtod needs a terminated copy: the text is not a C string and the number may be long. */
    size_t n = j->pos - start;
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return ttc_fail(j->err, TTC_E_INTERNAL, "%s: out of memory", j->what);
    memcpy(buf, j->text + start, n);
    buf[n] = 0;
    double v = strtod(buf, NULL);
    if (buf != small) free(buf);
    if (isinf(v)) {
        j->pos = start;
        return ttc_json_fail(j, "number out of range");
    }
    *out = v;
    return TTC_OK;
}

TtcStatus ttc_json_bool(TtcJson *j, int *out) {
    *out = 0;
    int c = ttc_json_peek(j);
    if (c == 't' && skip_literal(j, "true") == TTC_OK) {
        *out = 1;
        return TTC_OK;
    }
    if (c == 'f' && skip_literal(j, "false") == TTC_OK) return TTC_OK;
    if (c == 't' || c == 'f') return TTC_E_USER; /* skip_literal said why */
    return ttc_json_fail(j, "expected true or false");
}

TtcStatus ttc_json_null(TtcJson *j) {
    if (ttc_json_peek(j) != 'n') return ttc_json_fail(j, "expected null");
    return skip_literal(j, "null");
}

void ttc_json_line_col(const TtcJson *j, size_t pos, int *line, int *col) {
    int l = 1, c = 1;
    for (size_t i = 0; i < pos && i < j->len; i++) {
        if (j->text[i] == '\n') {
            l++;
            c = 1;
        } else if (c < 1000000000) {
            c++;
        }
        if (l == 1000000000) break; /* an absurd text cannot overflow the count */
    }
    *line = l;
    *col = c;
}

const char *ttc_json_error_text(const TtcJson *j, const TtcError *err) {
    const char *m = err->msg;
    size_t w = strlen(j->what);
    if (strncmp(m, j->what, w) != 0 || strncmp(m + w, ", byte ", 7) != 0) return m;
    const char *p = m + w + 7;
    while (is_digit(*p)) p++;
    return p[0] == ':' && p[1] == ' ' ? p + 2 : m;
}
