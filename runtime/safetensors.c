/* safetensors.c: the memory-mapped safetensors reader and the F32 writer of safetensors.h.
 *
 * File layout: u64 little-endian N | N bytes of JSON | data section. The JSON is one object
 * mapping tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
 * the data section), plus an optional "__metadata__" object that ttc ignores. */
#include "safetensors.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "json_mini.h"
#include "numerics.h"

/* The reference implementation's limit: a larger header is a corrupt length field, and
 * parsing it would only waste memory. */
#define ST_MAX_HEADER 100000000ull

/* Element sizes of the dtypes the format defines. Sub-byte formats (F4, F6_*) and anything newer
 * than this table are still accepted; only their byte counts go unchecked. */
static const struct { const char *name; int size; } st_dtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
    {"F32", 4},  {"I64", 8}, {"U64", 8}, {"F64", 8},     {"C64", 8},
};

static int st_dtype_size(const char *dtype) {
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dtype, st_dtypes[i].name) == 0) return st_dtypes[i].size;
    return 0;
}

/* Number of elements, or -1 when it overflows int64 (a dimension of 0 wins over overflow). */
static int64_t shape_numel(int32_t rank, const int64_t *shape) {
    for (int i = 0; i < rank; i++)
        if (shape[i] == 0) return 0;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0 || n > INT64_MAX / shape[i]) return -1;
        n *= shape[i];
    }
    return n;
}

int64_t ttc_st_numel(const TtcStEntry *e) { return shape_numel(e->rank, e->shape); }

static char *shape_str(int32_t rank, const int64_t *shape, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

/* ---- reading the header ---- */

/* "dtype": "F32" -- any short string; unknown names are checked later only for offsets. */
static TtcStatus read_dtype(TtcJson *j, TtcStEntry *e) {
    if (ttc_json_peek(j) != '"') return ttc_json_fail(j, "tensor '%.200s': dtype must be a string", e->name);
    char *dt;
    if (ttc_json_string(j, &dt)) return TTC_E_USER;
    size_t n = strlen(dt);
    TtcStatus rc = TTC_OK;
    if (n == 0 || n >= sizeof e->dtype)
        rc = ttc_json_fail(j, "tensor '%.200s': '%.40s' is not a safetensors dtype", e->name, dt);
    else
        memcpy(e->dtype, dt, n + 1);
    free(dt);
    return rc;
}

/* "shape": [2, 3] -- up to TTC_ST_MAX_RANK non-negative integers; [] is a scalar. */
static TtcStatus read_shape(TtcJson *j, TtcStEntry *e) {
    if (ttc_json_peek(j) != '[')
        return ttc_json_fail(j, "tensor '%.200s': shape must be an array of integers", e->name);
    ttc_json_array_begin(j);
    int r;
    while ((r = ttc_json_array_next(j)) == 1) {
        int64_t d;
        if (e->rank == TTC_ST_MAX_RANK)
            return ttc_json_fail(j, "tensor '%.200s': rank above %d is not supported", e->name, TTC_ST_MAX_RANK);
        if (ttc_json_int64(j, &d)) return TTC_E_USER;
        if (d < 0) return ttc_json_fail(j, "tensor '%.200s': negative dimension %" PRId64 " in shape", e->name, d);
        e->shape[e->rank++] = d;
    }
    return r < 0 ? TTC_E_USER : TTC_OK;
}

/* "data_offsets": [begin, end] -- byte offsets into the data section, checked against it later. */
static TtcStatus read_offsets(TtcJson *j, TtcStEntry *e) {
    if (ttc_json_peek(j) != '[')
        return ttc_json_fail(j, "tensor '%.200s': data_offsets must be [begin, end]", e->name);
    ttc_json_array_begin(j);
    int64_t v[2];
    int k = 0, r;
    while ((r = ttc_json_array_next(j)) == 1) {
        if (k == 2) return ttc_json_fail(j, "tensor '%.200s': data_offsets must have exactly 2 entries", e->name);
        if (ttc_json_int64(j, &v[k])) return TTC_E_USER;
        if (v[k] < 0) return ttc_json_fail(j, "tensor '%.200s': negative data offset", e->name);
        k++;
    }
    if (r < 0) return TTC_E_USER;
    if (k != 2) return ttc_json_fail(j, "tensor '%.200s': data_offsets must have exactly 2 entries", e->name);
#if SIZE_MAX < INT64_MAX
    if (v[1] > (int64_t)SIZE_MAX) return ttc_json_fail(j, "tensor '%.200s': data offset too large", e->name);
#endif
    e->begin = (size_t)v[0];
    e->end = (size_t)v[1];
    return TTC_OK;
}

/* One tensor's value:
 *   {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
 * Other keys are skipped, as the reference reader does. */
static TtcStatus parse_entry(TtcJson *j, TtcStEntry *e) {
    if (ttc_json_peek(j) != '{')
        return ttc_json_fail(j, "tensor '%.200s': expected an object with dtype, shape and data_offsets", e->name);
    ttc_json_object_begin(j);
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    int seen[3] = {0, 0, 0}, r;
    char *key;
    while ((r = ttc_json_object_next(j, &key)) == 1) {
        int f = 0;
        while (f < 3 && strcmp(key, fields[f]) != 0) f++;
        free(key);
        TtcStatus rc;
        if (f < 3 && seen[f]++) rc = ttc_json_fail(j, "tensor '%.200s': \"%s\" appears twice", e->name, fields[f]);
        else if (f == 0) rc = read_dtype(j, e);
        else if (f == 1) rc = read_shape(j, e);
        else if (f == 2) rc = read_offsets(j, e);
        else rc = ttc_json_skip(j);
        if (rc) return rc;
    }
    if (r < 0) return TTC_E_USER;
    for (int f = 0; f < 3; f++)
        if (!seen[f]) return ttc_json_fail(j, "tensor '%.200s': missing \"%s\"", e->name, fields[f]);
    return TTC_OK;
}

/* The header: {"__metadata__": {...}, "name": {...}, ...} */
static TtcStatus parse_header(TtcSafetensors *st, const char *text, size_t len, TtcError *err) {
    char what[600];
    snprintf(what, sizeof what, "'%.500s': JSON header", st->path);
    TtcJson j;
    if (ttc_json_init(&j, text, len, what, err)) return TTC_E_USER;
    if (ttc_json_object_begin(&j)) return TTC_E_USER;
    int32_t cap = 0, seen_meta = 0, r;
    char *key;
    while ((r = ttc_json_object_next(&j, &key)) == 1) {
        if (strcmp(key, "__metadata__") == 0) {
            free(key);
            if (seen_meta++) return ttc_json_fail(&j, "\"__metadata__\" appears twice");
            if (ttc_json_peek(&j) != '{') return ttc_json_fail(&j, "\"__metadata__\" must be an object");
            if (ttc_json_skip(&j)) return TTC_E_USER;
            continue;
        }
        if (st->n == cap) {
            if (cap > INT32_MAX / 2) {
                free(key);
                return ttc_json_fail(&j, "too many tensors");
            }
            int32_t ncap = cap ? cap * 2 : 64;
            TtcStEntry *ne = realloc(st->entries, (size_t)ncap * sizeof *ne);
            if (!ne) {
                free(key);
                return ttc_fail(err, TTC_E_INTERNAL, "'%s': out of memory reading the header", st->path);
            }
            st->entries = ne;
            cap = ncap;
        }
        TtcStEntry *e = &st->entries[st->n++];
        memset(e, 0, sizeof *e);
        e->name = key; /* owned by the entry from here on, so close() frees it on any failure */
        if (parse_entry(&j, e)) return err->status;
    }
    if (r < 0) return TTC_E_USER;
    return ttc_json_finish(&j);
}

static int cmp_entry_name(const void *a, const void *b) {
    return strcmp(((const TtcStEntry *)a)->name, ((const TtcStEntry *)b)->name);
}

/* A tensor's byte range, sorted separately from the entries (qsort takes no context). */
typedef struct StSpan {
    size_t begin, end;
    int32_t idx;
} StSpan;

static int cmp_span(const void *a, const void *b) {
    const StSpan *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Offsets inside the data section, sizes matching dtype x shape, names unique, no two tensors
 * sharing bytes. Leaves the entries sorted by name for ttc_st_find. */
static TtcStatus validate_entries(TtcSafetensors *st, TtcError *err) {
    size_t data_len = st->map_len - st->data_off;
    char sh[160];
    for (int32_t i = 0; i < st->n; i++) {
        const TtcStEntry *e = &st->entries[i];
        if (e->begin > e->end)
            return ttc_fail(err, TTC_E_USER, "'%s': tensor '%.200s': data_offsets [%zu, %zu] end before they begin",
                            st->path, e->name, e->begin, e->end);
        if (e->end > data_len) {
            ttc_fail(err, TTC_E_USER,
                     "'%s': tensor '%.200s': data_offsets end %zu is past the end of the data section (%zu bytes)",
                     st->path, e->name, e->end, data_len);
            ttc_hint(err, "the file is truncated; download or export it again");
            return TTC_E_USER;
        }
        int size = st_dtype_size(e->dtype);
        int64_t numel = ttc_st_numel(e);
        if (numel < 0 || (size && (uint64_t)numel > SIZE_MAX / (uint64_t)size))
            return ttc_fail(err, TTC_E_USER, "'%s': tensor '%.200s': shape %s is too large", st->path, e->name,
                            shape_str(e->rank, e->shape, sh, sizeof sh));
        if (!size) continue; /* a dtype ttc does not know: its size cannot be checked */
        if ((size_t)numel * (size_t)size != e->end - e->begin)
            return ttc_fail(err, TTC_E_USER,
                            "'%s': tensor '%.200s': %s shape %s needs %zu bytes but data_offsets [%zu, %zu] span %zu",
                            st->path, e->name, e->dtype, shape_str(e->rank, e->shape, sh, sizeof sh),
                            (size_t)numel * (size_t)size, e->begin, e->end, e->end - e->begin);
    }
    if (st->n > 1) qsort(st->entries, (size_t)st->n, sizeof *st->entries, cmp_entry_name);
    for (int32_t i = 1; i < st->n; i++)
        if (strcmp(st->entries[i - 1].name, st->entries[i].name) == 0)
            return ttc_fail(err, TTC_E_USER, "'%s': tensor '%.200s' appears twice in the header", st->path,
                            st->entries[i].name);
    if (st->n < 2) return TTC_OK;
    StSpan *spans = malloc((size_t)st->n * sizeof *spans);
    if (!spans) return ttc_fail(err, TTC_E_INTERNAL, "'%s': out of memory", st->path);
    for (int32_t i = 0; i < st->n; i++) spans[i] = (StSpan){st->entries[i].begin, st->entries[i].end, i};
    qsort(spans, (size_t)st->n, sizeof *spans, cmp_span);
    /* Empty tensors own no bytes, so they may sit anywhere; among the others each must start at
     * or after the furthest end seen so far. */
    int32_t last = -1; /* entry with the furthest end so far */
    TtcStatus rc = TTC_OK;
    for (int32_t k = 0; k < st->n && !rc; k++) {
        const TtcStEntry *e = &st->entries[spans[k].idx];
        if (e->begin == e->end) continue;
        if (last >= 0 && e->begin < st->entries[last].end) {
            const TtcStEntry *o = &st->entries[last];
            rc = ttc_fail(err, TTC_E_USER, "'%s': tensors '%.200s' [%zu, %zu] and '%.200s' [%zu, %zu] overlap",
                          st->path, o->name, o->begin, o->end, e->name, e->begin, e->end);
            ttc_hint(err, "the safetensors format gives every tensor its own bytes; export the file again");
        }
        if (last < 0 || e->end > st->entries[last].end) last = spans[k].idx;
    }
    free(spans);
    return rc;
}

TtcStatus ttc_st_open(TtcSafetensors *st, const char *path, TtcError *err) {
    memset(st, 0, sizeof *st);
    if (!path) return ttc_fail(err, TTC_E_INTERNAL, "ttc_st_open: no path");
    st->path = strdup(path);
    if (!st->path) return ttc_fail(err, TTC_E_INTERNAL, "out of memory opening '%s'", path);
    if (ttc_map_file(path, &st->map, &st->map_len, err)) goto fail;
    if (st->map_len < 8) {
        ttc_fail(err, TTC_E_USER, "'%s' is %zu bytes long, too short for a safetensors file", path, st->map_len);
        ttc_hint(err, "the file is truncated or is not a safetensors file");
        goto fail;
    }
    const unsigned char *p = st->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > ST_MAX_HEADER) {
        ttc_fail(err, TTC_E_USER, "'%s': header length %" PRIu64 " is above the 100 MB limit", path, hlen);
        ttc_hint(err, "the file is corrupt or is not a safetensors file");
        goto fail;
    }
    if (hlen > st->map_len - 8) {
        ttc_fail(err, TTC_E_USER, "'%s': header length %" PRIu64 " runs past the end of the file (%zu bytes)", path,
                 hlen, st->map_len);
        ttc_hint(err, "the file is truncated or is not a safetensors file");
        goto fail;
    }
    st->data_off = 8 + (size_t)hlen;
    if (parse_header(st, (const char *)p + 8, (size_t)hlen, err)) {
        if (err->status == TTC_E_USER)
            ttc_hint(err, "the header is damaged; export the weights again (safetensors.torch.save_file)");
        goto fail;
    }
    if (validate_entries(st, err)) goto fail;
    return TTC_OK;
fail:
    ttc_st_close(st);
    return err->status ? err->status : TTC_E_INTERNAL;
}

static int cmp_find(const void *key, const void *elem) {
    return strcmp((const char *)key, ((const TtcStEntry *)elem)->name);
}

const TtcStEntry *ttc_st_find(const TtcSafetensors *st, const char *name) {
    if (!st || !name || st->n <= 0) return NULL;
    return bsearch(name, st->entries, (size_t)st->n, sizeof *st->entries, cmp_find);
}

TtcStatus ttc_st_read_f32(const TtcSafetensors *st, const TtcStEntry *e, float *dst, TtcError *err) {
    if (!st || !e || e < st->entries || e >= st->entries + st->n)
        return ttc_fail(err, TTC_E_INTERNAL, "ttc_st_read_f32: entry does not belong to '%s'",
                        st && st->path ? st->path : "?");
    int64_t numel = ttc_st_numel(e);
    int f32 = strcmp(e->dtype, "F32") == 0, f16 = strcmp(e->dtype, "F16") == 0, bf16 = strcmp(e->dtype, "BF16") == 0;
    if (!f32 && !f16 && !bf16) {
        ttc_fail(err, TTC_E_USER, "'%s': tensor '%.200s' has dtype %s; ttc reads F32, F16 and BF16 weights", st->path,
                 e->name, e->dtype);
        ttc_hint(err, "convert it to float first, e.g. in Python: tensors[name] = tensors[name].float()");
        return TTC_E_USER;
    }
    if (numel == 0) return TTC_OK;
    if (!dst) return ttc_fail(err, TTC_E_INTERNAL, "ttc_st_read_f32: no destination for '%s'", e->name);
    /* The data section has no alignment guarantee, hence memcpy and byte assembly throughout. */
    const unsigned char *src = (const unsigned char *)st->map + st->data_off + e->begin;
    if (f32) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(dst, src, (size_t)numel * 4);
#else
        for (int64_t i = 0; i < numel; i++) {
            const unsigned char *b = src + 4 * i;
            uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            memcpy(&dst[i], &u, 4);
        }
#endif
    } else if (f16) {
        for (int64_t i = 0; i < numel; i++)
            dst[i] = ttc_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    } else {
        for (int64_t i = 0; i < numel; i++)
            dst[i] = ttc_bf16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    }
    return TTC_OK;
}

void ttc_st_close(TtcSafetensors *st) {
    if (!st) return;
    for (int32_t i = 0; i < st->n; i++) free(st->entries[i].name);
    free(st->entries);
    ttc_unmap_file(st->map, st->map_len);
    free(st->path);
    memset(st, 0, sizeof *st);
}

/* ---- writing ---- */

typedef struct StBuf {
    char *p;
    size_t n, cap;
    int oom;
} StBuf;

static void buf_add(StBuf *b, const char *s, size_t k) {
    if (b->oom) return;
    if (b->cap - b->n < k + 1) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap - b->n < k + 1) {
            if (ncap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            ncap *= 2;
        }
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, s, k);
    b->n += k;
    b->p[b->n] = 0;
}

static void buf_printf(StBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(StBuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof tmp) {
        b->oom = 1; /* only short numeric fragments go through here */
        return;
    }
    buf_add(b, tmp, (size_t)k);
}

/* A JSON string literal: quotes and backslashes escaped, control characters as \u00XX. */
static void buf_json_string(StBuf *b, const char *s) {
    buf_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_add(b, esc, 2);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_add(b, (const char *)&c, 1);
        }
    }
    buf_add(b, "\"", 1);
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names present, valid UTF-8, unique and not the reserved "__metadata__"; shapes in range. */
static TtcStatus check_outputs(const char *path, const TtcStTensorOut *t, int32_t n, TtcError *err) {
    if (n < 0 || (n > 0 && !t)) return ttc_fail(err, TTC_E_INTERNAL, "ttc_st_write_f32('%s'): bad tensor list", path);
    for (int32_t i = 0; i < n; i++) {
        const char *nm = t[i].name;
        if (!nm || !nm[0]) return ttc_fail(err, TTC_E_USER, "cannot write '%s': tensor %d has no name", path, i);
        if (strcmp(nm, "__metadata__") == 0)
            return ttc_fail(err, TTC_E_USER, "cannot write '%s': \"__metadata__\" is reserved, not a tensor name",
                            path);
        if (ttc_json_utf8_invalid_at(nm, strlen(nm)) != strlen(nm))
            return ttc_fail(err, TTC_E_USER, "cannot write '%s': tensor %d's name is not valid UTF-8", path, i);
        if (t[i].rank < 0 || t[i].rank > TTC_ST_MAX_RANK)
            return ttc_fail(err, TTC_E_USER, "cannot write '%s': tensor '%.200s' has rank %d (0 to %d allowed)", path,
                            nm, t[i].rank, TTC_ST_MAX_RANK);
        int64_t numel = shape_numel(t[i].rank, t[i].shape);
        for (int d = 0; d < t[i].rank; d++)
            if (t[i].shape[d] < 0) numel = -1;
        if (numel < 0 || (uint64_t)numel > SIZE_MAX / 8)
            return ttc_fail(err, TTC_E_USER, "cannot write '%s': tensor '%.200s' has a negative or huge shape", path,
                            nm);
        if (numel > 0 && !t[i].data)
            return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': tensor '%.200s' has no data", path, nm);
    }
    if (n < 2) return TTC_OK;
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names) return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': out of memory", path);
    for (int32_t i = 0; i < n; i++) names[i] = t[i].name;
    qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
    TtcStatus rc = TTC_OK;
    for (int32_t i = 1; i < n && !rc; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = ttc_fail(err, TTC_E_USER, "cannot write '%s': two tensors are named '%.200s'", path, names[i]);
    free(names);
    return rc;
}

/* Writes n floats little-endian, through a small buffer on big-endian hosts. */
static TtcStatus write_floats(TtcAtomicFile *af, const float *x, int64_t n, TtcError *err) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return ttc_atomic_write(af, x, (size_t)n * 4, err);
#else
    unsigned char tmp[4096];
    for (int64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < sizeof tmp && i < n; k += 4, i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            for (int b = 0; b < 4; b++) tmp[k + b] = (unsigned char)(u >> (8 * b));
        }
        if (ttc_atomic_write(af, tmp, k, err)) return err->status;
    }
    return TTC_OK;
#endif
}

TtcStatus ttc_st_write_f32(const char *path, const TtcStTensorOut *t, int32_t n, TtcError *err) {
    if (check_outputs(path, t, n, err)) return err->status;
    StBuf h = {0};
    TtcAtomicFile af = {0};
    size_t off = 0;
    buf_add(&h, "{", 1);
    for (int32_t i = 0; i < n; i++) {
        size_t bytes = (size_t)shape_numel(t[i].rank, t[i].shape) * 4;
        if (i) buf_add(&h, ",", 1);
        buf_json_string(&h, t[i].name);
        buf_add(&h, ":{\"dtype\":\"F32\",\"shape\":[", sizeof ":{\"dtype\":\"F32\",\"shape\":[" - 1);
        for (int d = 0; d < t[i].rank; d++) buf_printf(&h, "%s%" PRId64, d ? "," : "", t[i].shape[d]);
        buf_printf(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
        if (bytes > SIZE_MAX - off) h.oom = 1;
        off += bytes;
    }
    buf_add(&h, "}", 1);
    /* Spaces up to a multiple of 8, so the data section starts 8-byte aligned for readers
     * that map the file and use the data in place. */
    while (!h.oom && h.n % 8) buf_add(&h, " ", 1);
    if (h.oom) {
        free(h.p);
        return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': out of memory building the header", path);
    }
    unsigned char len8[8];
    for (int b = 0; b < 8; b++) len8[b] = (unsigned char)((uint64_t)h.n >> (8 * b));
    if (ttc_atomic_open(&af, path, err)) goto fail;
    if (ttc_atomic_write(&af, len8, 8, err) || ttc_atomic_write(&af, h.p, h.n, err)) goto fail;
    for (int32_t i = 0; i < n; i++)
        if (write_floats(&af, t[i].data, shape_numel(t[i].rank, t[i].shape), err)) goto fail;
    free(h.p);
    return ttc_atomic_commit(&af, err);
fail:
    free(h.p);
    ttc_atomic_abort(&af);
    return err->status;
}
