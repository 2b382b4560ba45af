/* npy.c: NumPy .npy reading and writing, and command-line id lists (see npy.h).
 *
 * File layout: "\x93NUMPY", major, minor, header length (u16 LE in 1.0, u32 LE in 2.0/3.0), then
 * a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n', then the raw C-order data. */
#include "npy.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "file_util.h"
#include "numerics.h"

/* The header's facts, once parsed. */
typedef struct NpyHeader {
    char descr[16]; /* as written, for messages */
    char kind;      /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
    int size;       /* bytes per element */
    int32_t rank;
    int64_t shape[TTC_NPY_MAX_RANK];
    int64_t n;
    size_t data_off;
} NpyHeader;

/* Python-style shape text, "(2, 3)", "(5,)" or "()", for messages. */
static char *py_shape(int32_t rank, const int64_t *shape, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (k < n) snprintf(buf + k, n - k, rank == 1 ? ",)" : ")");
    return buf;
}

/* ---- the header dict: a small Python literal parser ---- */

typedef struct DictParser {
    const char *s;
    size_t len, pos;
    const char *path;
    TtcError *err;
} DictParser;

static TtcStatus dict_fail(DictParser *d, const char *what) {
    ttc_fail(d->err, TTC_E_USER, "'%s': bad .npy header at byte %zu: %s", d->path, d->pos, what);
    ttc_hint(d->err, "the file is damaged or not written by numpy.save; save it again with numpy.save");
    return TTC_E_USER;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void dict_ws(DictParser *d) {
    while (d->pos < d->len && is_space(d->s[d->pos])) d->pos++;
}

static int dict_at(DictParser *d, char c) {
    dict_ws(d);
    return d->pos < d->len && d->s[d->pos] == c;
}

/* 'text' or "text", without escapes (numpy never writes any). */
static TtcStatus dict_string(DictParser *d, char *out, size_t cap) {
    dict_ws(d);
    if (d->pos >= d->len || (d->s[d->pos] != '\'' && d->s[d->pos] != '"')) return dict_fail(d, "expected a string");
    char q = d->s[d->pos];
    const char *end = memchr(d->s + d->pos + 1, q, d->len - d->pos - 1);
    if (!end) return dict_fail(d, "unterminated string");
    size_t n = (size_t)(end - (d->s + d->pos + 1));
    if (n >= cap) return dict_fail(d, "string too long");
    if (memchr(d->s + d->pos + 1, '\\', n) || memchr(d->s + d->pos + 1, '\n', n))
        return dict_fail(d, "unsupported character in a string");
    memcpy(out, d->s + d->pos + 1, n);
    out[n] = 0;
    d->pos += n + 2;
    return TTC_OK;
}

static int dict_word(DictParser *d, const char *w) {
    size_t n = strlen(w);
    dict_ws(d);
    if (d->len - d->pos < n || memcmp(d->s + d->pos, w, n) != 0) return 0;
    char next = d->pos + n < d->len ? d->s[d->pos + n] : ' ';
    if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') || next == '_') return 0;
    d->pos += n;
    return 1;
}

/* (), (5,), (2, 3), (2, 3,); Python 2 files may write 3L. A bare (5) is the number 5 in Python,
 * not a tuple, so it is refused as numpy would. */
static TtcStatus dict_shape(DictParser *d, NpyHeader *h) {
    if (!dict_at(d, '(')) return dict_fail(d, "shape must be a tuple like (2, 3)");
    d->pos++;
    int commas_after_last = 0;
    while (!dict_at(d, ')')) {
        if (d->pos >= d->len) return dict_fail(d, "unterminated shape tuple");
        if (h->rank > 0 && !commas_after_last) return dict_fail(d, "expected ',' or ')' in shape");
        if (h->rank == TTC_NPY_MAX_RANK) return dict_fail(d, "more than 8 dimensions are not supported");
        char c = d->s[d->pos];
        if (c == '-') return dict_fail(d, "negative dimension in shape");
        if (c < '0' || c > '9') return dict_fail(d, "expected a dimension (a non-negative integer)");
        int64_t v = 0;
        while (d->pos < d->len && d->s[d->pos] >= '0' && d->s[d->pos] <= '9') {
            int dig = d->s[d->pos++] - '0';
            if (v > (INT64_MAX - dig) / 10) return dict_fail(d, "dimension too large");
            v = v * 10 + dig;
        }
        if (d->pos < d->len && (d->s[d->pos] == 'L' || d->s[d->pos] == 'l')) d->pos++;
        h->shape[h->rank++] = v;
        commas_after_last = 0;
        if (dict_at(d, ',')) {
            d->pos++;
            commas_after_last = 1;
        }
    }
    if (h->rank == 1 && !commas_after_last) return dict_fail(d, "shape (n) is a number, not a tuple; expected (n,)");
    d->pos++;
    return TTC_OK;
}

/* '<f4', '|b1', ... : byte order, kind letter, element size. */
static TtcStatus parse_descr(DictParser *d, NpyHeader *h, size_t at) {
    const char *s = h->descr;
    char order = '=';
    if (*s == '<' || *s == '>' || *s == '|' || *s == '=') order = *s++;
    char kind = *s ? *s++ : 0;
    int size = 0;
    if (*s >= '1' && *s <= '8' && s[1] == 0) size = *s - '0';
    int ok = (kind == 'f' && (size == 2 || size == 4 || size == 8)) ||
             ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
             (kind == 'b' && size == 1);
    d->pos = at;
    if (!ok) {
        ttc_fail(d->err, TTC_E_USER,
                 "'%s': array dtype '%s' is not supported (ttc reads float16/32/64, integers and bool)", d->path,
                 h->descr);
        ttc_hint(d->err, "convert it in Python, e.g. np.save(path, a.astype('<f4')) or a.astype('<i8')");
        return TTC_E_USER;
    }
    if (size > 1 && order == '>') {
        ttc_fail(d->err, TTC_E_USER, "'%s': array is big-endian ('%s'); ttc reads little-endian data", d->path,
                 h->descr);
        ttc_hint(d->err, "convert it in Python with np.save(path, a.astype('<%c%d'))", kind, size);
        return TTC_E_USER;
    }
    if (size > 1 && order == '|') return dict_fail(d, "multi-byte dtype without a byte order");
    h->kind = kind;
    h->size = size;
    return TTC_OK;
}

/* {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } in any key order. */
static TtcStatus parse_dict(DictParser *d, NpyHeader *h) {
    int have_descr = 0, have_order = 0, have_shape = 0;
    size_t descr_at = 0;
    if (!dict_at(d, '{')) return dict_fail(d, "expected '{'");
    d->pos++;
    while (!dict_at(d, '}')) {
        char key[32];
        if (dict_string(d, key, sizeof key)) return TTC_E_USER;
        if (!dict_at(d, ':')) return dict_fail(d, "expected ':' after a key");
        d->pos++;
        if (strcmp(key, "descr") == 0) {
            if (have_descr++) return dict_fail(d, "'descr' appears twice");
            dict_ws(d);
            descr_at = d->pos;
            if (dict_at(d, '[')) {
                ttc_fail(d->err, TTC_E_USER, "'%s': structured (record) arrays are not supported", d->path);
                ttc_hint(d->err, "save one plain numeric field, e.g. np.save(path, a['ids'].astype('<i8'))");
                return TTC_E_USER;
            }
            if (dict_string(d, h->descr, sizeof h->descr)) return TTC_E_USER;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (have_order++) return dict_fail(d, "'fortran_order' appears twice");
            if (dict_word(d, "True")) {
                ttc_fail(d->err, TTC_E_USER, "'%s': array is stored in Fortran (column-major) order", d->path);
                ttc_hint(d->err, "save a C-ordered copy: np.save(path, np.ascontiguousarray(a))");
                return TTC_E_USER;
            }
            if (!dict_word(d, "False")) return dict_fail(d, "fortran_order must be True or False");
        } else if (strcmp(key, "shape") == 0) {
            if (have_shape++) return dict_fail(d, "'shape' appears twice");
            if (dict_shape(d, h)) return TTC_E_USER;
        } else {
            return dict_fail(d, "unknown key (expected 'descr', 'fortran_order' and 'shape')");
        }
        if (dict_at(d, ',')) d->pos++;
        else if (!dict_at(d, '}')) return dict_fail(d, "expected ',' or '}'");
    }
    d->pos++;
    dict_ws(d);
    if (d->pos != d->len) return dict_fail(d, "unexpected text after the header dict");
    if (!have_descr) return dict_fail(d, "missing 'descr'");
    if (!have_order) return dict_fail(d, "missing 'fortran_order'");
    if (!have_shape) return dict_fail(d, "missing 'shape'");
    return parse_descr(d, h, descr_at);
}

/* Magic, version, header and data size of a whole file in memory. */
static TtcStatus parse_npy(const char *path, const unsigned char *buf, size_t len, NpyHeader *h, TtcError *err) {
    memset(h, 0, sizeof *h);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        ttc_fail(err, TTC_E_USER, "'%s' is not a .npy file (%s)", path,
                 len < 10 ? "too short" : "it does not start with \\x93NUMPY");
        ttc_hint(err, "write arrays with numpy.save(path, array)");
        return TTC_E_USER;
    }
    int major = buf[6], minor = buf[7];
    size_t off, hlen;
    if (major == 1) {
        off = 10;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    } else if (major == 2 || major == 3) {
        if (len < 12) return ttc_fail(err, TTC_E_USER, "'%s' is truncated inside the .npy preamble", path);
        off = 12;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    } else {
        ttc_fail(err, TTC_E_USER, "'%s': .npy format version %d.%d is not supported (1.0 to 3.0 are)", path, major,
                 minor);
        return TTC_E_USER;
    }
    if (hlen > len - off) {
        ttc_fail(err, TTC_E_USER, "'%s' is truncated: the .npy header claims %zu bytes, %zu remain", path, hlen,
                 len - off);
        return TTC_E_USER;
    }
    DictParser d = {(const char *)buf + off, hlen, 0, path, err};
    if (parse_dict(&d, h)) return TTC_E_USER;
    h->data_off = off + hlen;
    h->n = 1;
    for (int i = 0; i < h->rank; i++) {
        if (h->shape[i] == 0) h->n = 0;
    }
    for (int i = 0; i < h->rank && h->n; i++) {
        if (h->n > INT64_MAX / h->shape[i]) return ttc_fail(err, TTC_E_USER, "'%s': array shape is too large", path);
        h->n *= h->shape[i];
    }
    char sh[160];
    size_t have = len - h->data_off;
    if ((uint64_t)h->n > SIZE_MAX / 8 || (size_t)h->n * (size_t)h->size > have) {
        ttc_fail(err, TTC_E_USER, "'%s' is truncated: shape %s of '%s' needs %" PRIu64 " data bytes, the file has %zu",
                 path, py_shape(h->rank, h->shape, sh, sizeof sh), h->descr, (uint64_t)h->n * (uint64_t)h->size, have);
        return TTC_E_USER;
    }
    if ((size_t)h->n * (size_t)h->size < have) {
        ttc_fail(err, TTC_E_USER, "'%s' has %zu bytes of unexpected data after the array (shape %s, '%s')", path,
                 have - (size_t)h->n * (size_t)h->size, py_shape(h->rank, h->shape, sh, sizeof sh), h->descr);
        ttc_hint(err, "the file is damaged or not a single array written by numpy.save");
        return TTC_E_USER;
    }
    return TTC_OK;
}

/* ---- element conversion ---- */

static uint64_t load_le(const unsigned char *p, int size) {
    uint64_t v = 0;
    for (int i = size - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* One integer or bool element as int64; -1 for an unsigned 64-bit value above INT64_MAX. */
static int npy_int_value(const unsigned char *p, const NpyHeader *h, int64_t *out) {
    uint64_t bits = load_le(p, h->size);
    if (h->kind == 'b') {
        *out = bits != 0;
    } else if (h->kind == 'u') {
        if (bits > INT64_MAX) return -1;
        *out = (int64_t)bits;
    } else if (h->size == 8) {
        memcpy(out, &bits, 8);
    } else {
        /* Two's complement of `size` bytes: flipping the sign bit maps the range onto
         * [0, 2^bits), and subtracting the sign bit's weight maps it back, all in range. */
        uint64_t sign = UINT64_C(1) << (8 * h->size - 1);
        *out = (int64_t)(bits ^ sign) - (int64_t)sign;
    }
    return 0;
}

static float element_f32(const unsigned char *p, int size) {
    uint64_t bits = load_le(p, size);
    if (size == 2) return ttc_f16_to_f32((uint16_t)bits);
    if (size == 4) {
        uint32_t u = (uint32_t)bits;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    double x;
    memcpy(&x, &bits, 8);
    /* Out-of-range double to float conversion is undefined in C; IEEE would give infinity. */
    if (x > FLT_MAX) return INFINITY;
    if (x < -FLT_MAX) return -INFINITY;
    return (float)x;
}

static TtcStatus read_any(const char *path, TtcNpyArray *a, int want_float, TtcError *err) {
    memset(a, 0, sizeof *a);
    char *buf = NULL;
    size_t len = 0;
    NpyHeader h;
    if (ttc_read_file(path, &buf, &len, err)) return err->status;
    const unsigned char *u = (const unsigned char *)buf;
    if (parse_npy(path, u, len, &h, err)) goto fail;
    if (want_float && h.kind != 'f') {
        ttc_fail(err, TTC_E_USER, "'%s' holds '%s' data; expected float32 or float64", path, h.descr);
        ttc_hint(err, "convert it in Python: np.save(path, a.astype('<f4'))");
        goto fail;
    }
    if (!want_float && h.kind == 'f') {
        ttc_fail(err, TTC_E_USER, "'%s' holds floating-point data ('%s'); expected integers (int32 or int64)", path,
                 h.descr);
        ttc_hint(err, "convert it in Python: np.save(path, a.astype('<i8'))");
        goto fail;
    }
    size_t count = h.n > 0 ? (size_t)h.n : 1; /* malloc(0) may return NULL */
    if (want_float) a->f32 = malloc(count * sizeof *a->f32);
    else a->i32 = malloc(count * sizeof *a->i32);
    if (!a->f32 && !a->i32) {
        ttc_fail(err, TTC_E_INTERNAL, "'%s': out of memory for %" PRId64 " elements", path, h.n);
        goto fail;
    }
    const unsigned char *src = u + h.data_off;
    for (int64_t i = 0; i < h.n; i++, src += h.size) {
        if (want_float) {
            a->f32[i] = element_f32(src, h.size);
            continue;
        }
        int64_t v;
        if (npy_int_value(src, &h, &v) || v < INT32_MIN || v > INT32_MAX) {
            if (h.kind == 'u')
                ttc_fail(err, TTC_E_USER, "'%s': value %" PRIu64 " at flat index %" PRId64 " does not fit in int32",
                         path, load_le(src, h.size), i);
            else
                ttc_fail(err, TTC_E_USER, "'%s': value %" PRId64 " at flat index %" PRId64 " does not fit in int32",
                         path, v, i);
            ttc_hint(err, "token ids and masks must lie in the int32 range");
            goto fail;
        }
        a->i32[i] = (int32_t)v;
    }
    a->rank = h.rank;
    memcpy(a->shape, h.shape, sizeof a->shape);
    a->n = h.n;
    free(buf);
    return TTC_OK;
fail:
    free(buf);
    ttc_npy_free(a);
    return err->status;
}

TtcStatus ttc_npy_read_f32(const char *path, TtcNpyArray *a, TtcError *err) { return read_any(path, a, 1, err); }
TtcStatus ttc_npy_read_i32(const char *path, TtcNpyArray *a, TtcError *err) { return read_any(path, a, 0, err); }

void ttc_npy_free(TtcNpyArray *a) {
    if (!a) return;
    free(a->f32);
    free(a->i32);
    memset(a, 0, sizeof *a);
}

/* ---- writing ---- */

TtcStatus ttc_npy_write_f32(const char *path, const float *data, const int64_t *shape, int32_t rank, TtcError *err) {
    if (rank < 0 || rank > TTC_NPY_MAX_RANK || (rank > 0 && !shape))
        return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': rank %d is not 0 to %d", path, rank,
                        TTC_NPY_MAX_RANK);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0) return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': negative dimension", path);
        if (shape[i] == 0) n = 0;
    }
    for (int i = 0; i < rank && n; i++) {
        if (n > INT64_MAX / 8 / shape[i]) return ttc_fail(err, TTC_E_USER, "cannot write '%s': array too large", path);
        n *= shape[i];
    }
    if (n > 0 && !data) return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': no data", path);
    /* Preamble (10 bytes) + dict + spaces + '\n' fill a multiple of 64 bytes, as numpy.save does,
     * so the data is aligned for readers that map the file. */
    char sh[200], hdr[320];
    int k = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                     py_shape(rank, shape, sh, sizeof sh));
    size_t total = 10 + (size_t)k + 1;
    total = (total + 63) / 64 * 64;
    size_t hlen = total - 10;
    if (hlen >= sizeof hdr) return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': header too long", path);
    memset(hdr + k, ' ', hlen - (size_t)k);
    hdr[hlen - 1] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    TtcAtomicFile af;
    if (ttc_atomic_open(&af, path, err)) return err->status;
    if (ttc_atomic_write(&af, pre, sizeof pre, err) || ttc_atomic_write(&af, hdr, hlen, err)) goto fail;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (ttc_atomic_write(&af, data, (size_t)n * 4, err)) goto fail;
#else
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &data[i], 4);
        unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                              (unsigned char)(u >> 24)};
        if (ttc_atomic_write(&af, b, 4, err)) goto fail;
    }
#endif
    return ttc_atomic_commit(&af, err);
fail:
    ttc_atomic_abort(&af);
    return err->status;
}

/* ---- id lists on the command line ---- */

/* "101, 2023,102", optionally in brackets as Python prints lists: "[101, 2023, 102]". */
TtcStatus ttc_ids_parse_literal(const char *text, const char *flag, TtcNpyArray *a, TtcError *err) {
    memset(a, 0, sizeof *a);
    if (!flag) flag = "ids";
    if (!text) return ttc_fail(err, TTC_E_INTERNAL, "%s: no text to parse", flag);
    const char *what = strstr(flag, "ids") ? "a token id" : "an integer";
    const char *b = text, *e = text + strlen(text);
    while (b < e && is_space(*b)) b++;
    while (e > b && is_space(e[-1])) e--;
    if (e - b >= 2 && *b == '[' && e[-1] == ']') {
        b++;
        e--;
        while (b < e && is_space(*b)) b++;
        while (e > b && is_space(e[-1])) e--;
    }
    if (b == e) {
        ttc_fail(err, TTC_E_USER, "%s: the list of ids is empty", flag);
        ttc_hint(err, "pass comma-separated ids like 101,2023,102 or a .npy file");
        return TTC_E_USER;
    }
    size_t count = 1;
    for (const char *p = b; p < e; p++) count += *p == ',';
    if (count > INT32_MAX) return ttc_fail(err, TTC_E_USER, "%s: too many ids", flag);
    a->i32 = malloc(count * sizeof *a->i32);
    if (!a->i32) return ttc_fail(err, TTC_E_INTERNAL, "%s: out of memory", flag);
    size_t pos = 0;
    for (const char *p = b; pos < count; pos++) {
        const char *q = p;
        while (q < e && *q != ',') q++;
        const char *s = p, *t = q; /* the item, trimmed */
        while (s < t && is_space(*s)) s++;
        while (t > s && is_space(t[-1])) t--;
        int len = (int)(t - s < 40 ? t - s : 40);
        if (s == t) {
            ttc_fail(err, TTC_E_USER, "%s: empty entry at position %zu", flag, pos + 1);
            ttc_hint(err, "separate ids with single commas, e.g. 101,2023,102");
            goto fail;
        }
        const char *r = s;
        int neg = 0;
        if (*r == '-' || *r == '+') neg = *r++ == '-';
        int bad = r == t;
        for (const char *c = r; c < t; c++) bad |= *c < '0' || *c > '9';
        if (bad) {
            ttc_fail(err, TTC_E_USER, "%s: '%.*s' is not %s (position %zu)", flag, len, s, what, pos + 1);
            ttc_hint(err, "pass comma-separated ids like 101,2023,102 or a .npy file");
            goto fail;
        }
        int64_t v = 0; /* stops growing just past the int32 range, so it cannot overflow */
        for (; r < t && v <= (int64_t)INT32_MAX + 1; r++) v = v * 10 + (*r - '0');
        if (v > (neg ? (int64_t)INT32_MAX + 1 : (int64_t)INT32_MAX)) {
            ttc_fail(err, TTC_E_USER, "%s: %.*s (position %zu) is outside the int32 range", flag, len, s, pos + 1);
            goto fail;
        }
        a->i32[pos] = (int32_t)(neg ? -v : v);
        p = q + 1;
    }
    a->rank = 1;
    a->shape[0] = (int64_t)count;
    a->n = (int64_t)count;
    return TTC_OK;
fail:
    ttc_npy_free(a);
    return TTC_E_USER;
}

/* What each id input may hold. The upper bound (exclusive) comes from the plan: vocab_size, the
 * rows of the token type table, 2 for a mask; an id past it would index outside a table. */
typedef struct IdRule {
    TtcRole role;
    const char *noun;     /* "token id" */
    const char *range_of; /* "the vocabulary" */
    int bool_ok;          /* numpy's bool is a natural mask, never an id */
    const char *hint;
} IdRule;

static const IdRule id_rules[] = {
    {TTC_ROLE_INPUT_IDS, "token id", "the vocabulary", 0, "the ids must come from this model's tokenizer"},
    {TTC_ROLE_TOKEN_TYPE_IDS, "token type id", "the token types", 0,
     "token type ids name each token's segment (BERT: 0 for the first text, 1 for the second); a model without "
     "token types takes only 0"},
    {TTC_ROLE_ATTENTION_MASK, "attention mask value", "the mask values", 1,
     "a mask holds 1 for a token to attend to and 0 for padding"},
};

static const IdRule *id_rule(TtcRole role) {
    for (size_t i = 0; i < sizeof id_rules / sizeof id_rules[0]; i++)
        if (id_rules[i].role == role) return &id_rules[i];
    return NULL;
}

/* `where` is "--input-ids" for a literal list, "--input-ids 'ids.npy'" for a file. */
static TtcStatus id_out_of_range(const char *where, const IdRule *r, const char *value, int64_t i, int64_t seq,
                                 int64_t bound, TtcError *err) {
    /* A negative value is wrong whatever the bound (which is only the int32 range while a spec
     * is still to be compiled for the ids' shape: say so without naming that bound). */
    if (value[0] == '-')
        ttc_fail(err, TTC_E_USER, "%s: %s %s at [%" PRId64 ", %" PRId64 "] is negative; %s starts at 0", where,
                 r->noun, value, i / seq, i % seq, r->range_of);
    else
        ttc_fail(err, TTC_E_USER, "%s: %s %s at [%" PRId64 ", %" PRId64 "] is outside %s [0, %" PRId64 ")", where,
                 r->noun, value, i / seq, i % seq, r->range_of, bound);
    ttc_hint(err, "%s", r->hint);
    return TTC_E_USER;
}

/* A .npy of ids of any integer dtype, converted to int32 with every value checked against
 * [0, bound) before it is stored: uint8, int16, ... are as good as int64 when the values fit. */
static TtcStatus ids_read_file(const char *path, const char *flag, const IdRule *r, int64_t bound, TtcNpyArray *a,
                               TtcError *err) {
    char *buf = NULL, where[512], sh[160], val[24];
    size_t len = 0;
    NpyHeader h;
    snprintf(where, sizeof where, "%s '%s'", flag, path);
    if (ttc_read_file(path, &buf, &len, err)) return err->status;
    const unsigned char *u = (const unsigned char *)buf;
    if (parse_npy(path, u, len, &h, err)) goto fail;
    if (h.kind == 'f' || (h.kind == 'b' && !r->bool_ok)) {
        ttc_fail(err, TTC_E_USER, "%s holds %s data ('%s'); %ss must be integers", where,
                 h.kind == 'f' ? "floating-point" : "bool", h.descr, r->noun);
        ttc_hint(err, "ids must be integers: save with np.save(path, ids.astype(np.int64))");
        goto fail;
    }
    if (h.rank != 1 && h.rank != 2) {
        ttc_fail(err, TTC_E_USER, "%s: '%s' has shape %s; expected [batch, seq] or [seq]", flag, path,
                 py_shape(h.rank, h.shape, sh, sizeof sh));
        goto fail;
    }
    int64_t seq = h.shape[h.rank - 1] > 0 ? h.shape[h.rank - 1] : 1;
    a->i32 = malloc((h.n > 0 ? (size_t)h.n : 1) * sizeof *a->i32); /* h.n is bounded by the file's size */
    if (!a->i32) {
        ttc_fail(err, TTC_E_INTERNAL, "'%s': out of memory for %" PRId64 " ids", path, h.n);
        goto fail;
    }
    const unsigned char *src = u + h.data_off;
    for (int64_t i = 0; i < h.n; i++, src += h.size) {
        int64_t v;
        if (npy_int_value(src, &h, &v) || v < 0 || v >= bound) {
            if (h.kind == 'u') snprintf(val, sizeof val, "%" PRIu64, load_le(src, h.size));
            else snprintf(val, sizeof val, "%" PRId64, v);
            id_out_of_range(where, r, val, i, seq, bound, err);
            goto fail;
        }
        a->i32[i] = (int32_t)v; /* bound <= INT32_MAX + 1 (ttc_ids_load) */
    }
    a->rank = h.rank;
    memcpy(a->shape, h.shape, sizeof a->shape);
    a->n = h.n;
    free(buf);
    return TTC_OK;
fail:
    free(buf);
    ttc_npy_free(a);
    return err->status;
}

/* A path ending in .npy is a file; anything else is a literal list. */
static int ids_arg_is_file(const char *arg) {
    size_t n = strlen(arg);
    return n >= 4 && strcasecmp(arg + n - 4, ".npy") == 0;
}

TtcStatus ttc_ids_check(const TtcNpyArray *a, const char *arg, const char *flag, TtcRole role, int64_t bound,
                        TtcError *err) {
    const IdRule *r = id_rule(role);
    if (!r || bound < 1 || bound > (int64_t)INT32_MAX + 1)
        return ttc_fail(err, TTC_E_INTERNAL, "%s: no id rule for role %d with bound %" PRId64, flag, (int)role, bound);
    char where[512];
    if (ids_arg_is_file(arg)) snprintf(where, sizeof where, "%s '%s'", flag, arg);
    else snprintf(where, sizeof where, "%s", flag);
    int64_t seq = a->rank > 0 && a->shape[a->rank - 1] > 0 ? a->shape[a->rank - 1] : 1;
    for (int64_t i = 0; i < a->n; i++) {
        if (a->i32[i] >= 0 && a->i32[i] < bound) continue;
        char val[24];
        snprintf(val, sizeof val, "%d", (int)a->i32[i]);
        return id_out_of_range(where, r, val, i, seq, bound, err);
    }
    return TTC_OK;
}

TtcStatus ttc_ids_load(const char *arg, const char *flag, TtcRole role, int64_t bound, TtcNpyArray *a,
                       TtcError *err) {
    memset(a, 0, sizeof *a);
    if (!flag) flag = "ids";
    const IdRule *r = id_rule(role);
    if (!arg) return ttc_fail(err, TTC_E_INTERNAL, "%s: no argument", flag);
    if (!r || bound < 1 || bound > (int64_t)INT32_MAX + 1)
        return ttc_fail(err, TTC_E_INTERNAL, "%s: no id rule for role %d with bound %" PRId64, flag, (int)role, bound);
    /* A file's values are checked as they are converted (a uint64 or int64 beyond int32 is named
     * as it was stored); a literal list's once it is parsed. */
    int is_file = ids_arg_is_file(arg);
    if (is_file ? ids_read_file(arg, flag, r, bound, a, err) : ttc_ids_parse_literal(arg, flag, a, err))
        return err->status;
    if (!is_file && ttc_ids_check(a, arg, flag, role, bound, err) != TTC_OK) {
        ttc_npy_free(a);
        return err->status;
    }
    char sh[160];
    if (a->rank == 1) {
        a->rank = 2;
        a->shape[1] = a->shape[0];
        a->shape[0] = 1;
    } else if (a->rank != 2) {
        ttc_fail(err, TTC_E_USER, "%s: '%s' has shape %s; expected [batch, seq] or [seq]", flag, arg,
                 py_shape(a->rank, a->shape, sh, sizeof sh));
        ttc_npy_free(a);
        return TTC_E_USER;
    }
    if (a->n == 0) {
        ttc_fail(err, TTC_E_USER, "%s: '%s' holds no ids (shape %s)", flag, arg,
                 py_shape(a->rank, a->shape, sh, sizeof sh));
        ttc_npy_free(a);
        return TTC_E_USER;
    }
    return TTC_OK;
}
