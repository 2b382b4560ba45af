/* test_safetensors.c: the safetensors reader and writer (runtime/safetensors.c, json_mini.c).
 *
 * Files are built byte by byte here, so every malformed class of DESIGN.md's weight loading is
 * reproduced without Python. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_util.h"
#include "safetensors.h"
#include "unit.h"

static int contains(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

/* u64 LE length | header | data, written to a temp file. `pad` extra spaces go after the JSON. */
static const char *st_file(const char *name, const char *header, const void *data, size_t dlen) {
    size_t hlen = strlen(header);
    unsigned char *buf = malloc(8 + hlen + dlen + 1);
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)hlen >> (8 * b));
    memcpy(buf + 8, header, hlen);
    if (dlen) memcpy(buf + 8 + hlen, data, dlen);
    const char *path = unit_write_tmp(name, buf, 8 + hlen + dlen);
    free(buf);
    return path;
}

static int is_zeroed(const TtcSafetensors *st) {
    return st->path == NULL && st->map == NULL && st->entries == NULL && st->n == 0;
}

/* Opens `path` expecting a user error whose message contains `phrase`. */
static void expect_open_error(const char *path, const char *phrase) {
    TtcSafetensors st;
    TtcError err = {0};
    TtcStatus rc = ttc_st_open(&st, path, &err);
    CU_ASSERT_EQUAL(rc, TTC_E_USER);
    CU_ASSERT(is_zeroed(&st));
    if (!contains(err.msg, phrase)) {
        fprintf(stderr, "\n  expected '%s' in: %s\n", phrase, err.msg);
        CU_FAIL("error message lacks the expected phrase");
    }
    ttc_st_close(&st); /* safe on the zeroed struct */
}

static void test_round_trip_f32(void) {
    float a[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
    float b[1] = {42.0f};
    float c[3] = {INFINITY, -INFINITY, 7.0f};
    TtcStTensorOut out[4] = {
        {"encoder.layer.0.weight", a, 2, {2, 3}},
        {"scalar", b, 0, {0}},
        {"empty", NULL, 2, {0, 5}},
        {"odd \"name\"\\ \xc3\xa9\t", c, 3, {1, 3, 1}},
    };
    const char *path = unit_tmp_path("rt.safetensors");
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_write_f32(path, out, 4, &err), TTC_OK);

    TtcSafetensors st;
    CU_ASSERT_EQUAL_FATAL(ttc_st_open(&st, path, &err), TTC_OK);
    CU_ASSERT_EQUAL(st.n, 4);
    CU_ASSERT_EQUAL(st.data_off % 8, 0); /* header padded with spaces like the reference writer */
    for (int i = 0; i < 4; i++) {
        const TtcStEntry *e = ttc_st_find(&st, out[i].name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        CU_ASSERT_STRING_EQUAL(e->name, out[i].name);
        CU_ASSERT_STRING_EQUAL(e->dtype, "F32");
        CU_ASSERT_EQUAL(e->rank, out[i].rank);
        for (int d = 0; d < e->rank; d++) CU_ASSERT_EQUAL(e->shape[d], out[i].shape[d]);
        int64_t n = ttc_st_numel(e);
        float got[8] = {0};
        CU_ASSERT_EQUAL(ttc_st_read_f32(&st, e, got, &err), TTC_OK);
        if (out[i].data) CU_ASSERT(memcmp(got, out[i].data, (size_t)n * 4) == 0);
    }
    CU_ASSERT_EQUAL(ttc_st_numel(ttc_st_find(&st, "scalar")), 1);
    CU_ASSERT_EQUAL(ttc_st_numel(ttc_st_find(&st, "empty")), 0);
    CU_ASSERT_PTR_NULL(ttc_st_find(&st, "missing"));
    CU_ASSERT_PTR_NULL(ttc_st_find(&st, "encoder.layer.0"));
    CU_ASSERT_PTR_NULL(ttc_st_find(&st, ""));
    ttc_st_close(&st);
    CU_ASSERT(is_zeroed(&st));

    /* An empty file list is a valid file too. */
    CU_ASSERT_EQUAL_FATAL(ttc_st_write_f32(path, NULL, 0, &err), TTC_OK);
    CU_ASSERT_EQUAL_FATAL(ttc_st_open(&st, path, &err), TTC_OK);
    CU_ASSERT_EQUAL(st.n, 0);
    CU_ASSERT_PTR_NULL(ttc_st_find(&st, "x"));
    ttc_st_close(&st);
}

/* The exact bytes the writer produces for one small tensor, as the format prescribes. */
static void test_writer_bytes(void) {
    float v[2] = {1.0f, -2.0f};
    TtcStTensorOut out = {"w", v, 1, {2}};
    const char *path = unit_tmp_path("bytes.safetensors");
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_write_f32(path, &out, 1, &err), TTC_OK);
    char *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    const char *json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t jl = strlen(json), padded = (jl + 7) / 8 * 8;
    CU_ASSERT_EQUAL_FATAL(len, 8 + padded + 8);
    CU_ASSERT_EQUAL((unsigned char)buf[0], padded);
    for (int i = 1; i < 8; i++) CU_ASSERT_EQUAL(buf[i], 0);
    CU_ASSERT(memcmp(buf + 8, json, jl) == 0);
    for (size_t i = jl; i < padded; i++) CU_ASSERT_EQUAL(buf[8 + i], ' ');
    const unsigned char want[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0};
    CU_ASSERT(memcmp(buf + 8 + padded, want, 8) == 0);
    free(buf);
}

/* F16 and BF16 data at odd offsets (unaligned), with expected values worked out by hand:
 *   F16  0x3C00 = 1.0, 0xC000 = -2.0, 0x3555 = 1365/4096 = 0.333251953125, 0x7BFF = 65504,
 *        0x0001 = 2^-24 (smallest subnormal), 0x7C00 = +inf, 0x8000 = -0.0
 *   BF16 0x3F80 = 1.0, 0xC040 = -3.0, 0x4049 = 3.140625, 0x0001 = 2^-133 */
static void test_f16_bf16(void) {
    unsigned char data[1 + 14 + 8 + 12];
    size_t k = 0;
    data[k++] = 0xAB; /* a one-byte U8 tensor pushes everything after it off alignment */
    const uint16_t h[7] = {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x7C00, 0x8000};
    for (int i = 0; i < 7; i++) data[k++] = (unsigned char)(h[i] & 0xff), data[k++] = (unsigned char)(h[i] >> 8);
    const uint16_t bf[4] = {0x3F80, 0xC040, 0x4049, 0x0001};
    for (int i = 0; i < 4; i++) data[k++] = (unsigned char)(bf[i] & 0xff), data[k++] = (unsigned char)(bf[i] >> 8);
    float f3[3] = {0.5f, -8.0f, 100.0f};
    memcpy(data + k, f3, 12);
    k += 12;
    const char *header =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
        "\"h\":{\"dtype\":\"F16\",\"shape\":[7],\"data_offsets\":[1,15]},"
        "\"b\":{\"shape\":[2,2],\"dtype\":\"BF16\",\"data_offsets\":[15,23]},"
        "\"f\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[23,35]}}   ";
    const char *path = st_file("half.safetensors", header, data, k);
    TtcSafetensors st;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_open(&st, path, &err), TTC_OK);
    CU_ASSERT_EQUAL(st.n, 4);
    float got[7];
    CU_ASSERT_EQUAL_FATAL(ttc_st_read_f32(&st, ttc_st_find(&st, "h"), got, &err), TTC_OK);
    CU_ASSERT_EQUAL(got[0], 1.0f);
    CU_ASSERT_EQUAL(got[1], -2.0f);
    CU_ASSERT_EQUAL(got[2], 0.333251953125f);
    CU_ASSERT_EQUAL(got[3], 65504.0f);
    CU_ASSERT_EQUAL(got[4], ldexpf(1.0f, -24));
    CU_ASSERT(isinf(got[5]) && got[5] > 0);
    CU_ASSERT(got[6] == 0.0f && signbit(got[6]));
    CU_ASSERT_EQUAL_FATAL(ttc_st_read_f32(&st, ttc_st_find(&st, "b"), got, &err), TTC_OK);
    CU_ASSERT_EQUAL(got[0], 1.0f);
    CU_ASSERT_EQUAL(got[1], -3.0f);
    CU_ASSERT_EQUAL(got[2], 3.140625f);
    CU_ASSERT_EQUAL(got[3], ldexpf(1.0f, -133));
    CU_ASSERT_EQUAL_FATAL(ttc_st_read_f32(&st, ttc_st_find(&st, "f"), got, &err), TTC_OK);
    CU_ASSERT(memcmp(got, f3, 12) == 0);

    /* U8 is a valid tensor, but not one ttc reads as weights. */
    CU_ASSERT_EQUAL(ttc_st_read_f32(&st, ttc_st_find(&st, "u"), got, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "'u'"));
    CU_ASSERT(contains(err.msg, "U8"));
    ttc_st_close(&st);
}

static void test_other_dtypes(void) {
    unsigned char data[16 + 3] = {0};
    /* I64 is checked for size; "F4" (sub-byte) and "XYZ" are unknown to ttc yet allowed, with
     * their offsets still checked. */
    const char *header = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                         "\"q\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[16,18]},"
                         "\"z\":{\"dtype\":\"XYZ\",\"shape\":[],\"data_offsets\":[18,19],\"extra\":[1,{\"k\":null}]}}";
    const char *path = st_file("i64.safetensors", header, data, sizeof data);
    TtcSafetensors st;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_open(&st, path, &err), TTC_OK);
    float got[4];
    CU_ASSERT_EQUAL(ttc_st_read_f32(&st, ttc_st_find(&st, "ids"), got, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "'ids'"));
    CU_ASSERT(contains(err.msg, "I64"));
    CU_ASSERT(err.hint[0] != 0);
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_st_read_f32(&st, ttc_st_find(&st, "z"), got, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "XYZ"));
    CU_ASSERT_EQUAL(ttc_st_find(&st, "z")->rank, 0);
    ttc_st_close(&st);

    header = "{\"q\":{\"dtype\":\"XYZ\",\"shape\":[4],\"data_offsets\":[0,30]}}";
    expect_open_error(st_file("unknown-past-end.safetensors", header, data, sizeof data), "past the end");
}

static void test_escaped_names(void) {
    unsigned char data[4] = {0};
    /* é as \u00e9, U+1F600 as a surrogate pair, plus the short escapes */
    const char *header = "{\"a\\u00e9\\ud83d\\ude00\\n\\\"\\/\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    const char *path = st_file("esc.safetensors", header, data, 4);
    TtcSafetensors st;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_open(&st, path, &err), TTC_OK);
    CU_ASSERT_PTR_NOT_NULL(ttc_st_find(&st, "a\xc3\xa9\xf0\x9f\x98\x80\n\"/"));
    ttc_st_close(&st);
}

typedef struct BadCase {
    const char *header;
    size_t data_len;
    const char *phrase;
} BadCase;

#define T(name, body) "\"" name "\":{" body "}"
static const BadCase bad_headers[] = {
    {"{\"a\":{\"dtype\":\"F32\",,\"shape\":[1]}}", 4, "byte 20: expected a string key"},
    {"{" T("a", "\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, "missing \"dtype\""},
    {"{" T("a", "\"dtype\":\"F32\",\"data_offsets\":[0,4]") "}", 4, "missing \"shape\""},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1]") "}", 4, "missing \"data_offsets\""},
    {"{" T("a", "\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, "dtype must be a string"},
    {"{" T("a", "\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, "appears twice"},
    {"{" T("a", "\"dtype\":\"FLOAT32X\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, "not a safetensors dtype"},
    {"{" T("a", "\"dtype\":\"\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, "not a safetensors dtype"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]") "}", 4, "shape must be an array"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]") "}", 4, "rank above 8"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]") "}", 4, "negative dimension"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]") "}", 4, "expected an integer"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1e2],\"data_offsets\":[0,4]") "}", 4, "expected an integer"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]") "}", 4, "leading zeros"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]") "}", 4, "out of range"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]") "}", 4, "too large"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]") "}", 4, "end before they begin"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]") "}", 4, "past the end of the data section"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]") "}", 24, "needs 24 bytes"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]") "}", 8, "exactly 2"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]") "}", 8, "exactly 2"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]") "}", 8, "negative data offset"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") "," T(
         "b", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]") "}",
     12, "overlap"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") "," T(
         "a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]") "}",
     8, "appears twice"},
    {"{" T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") "}x", 4, "unexpected text after"},
    {"[]", 0, "expected an object"},
    {"", 0, "expected an object"},
    {"{\"a\":[]}", 0, "expected an object with dtype"},
    {"{\"a\xff\":{}}", 0, "invalid UTF-8"},
    {"{\"a\xc0\x80\":{}}", 0, "invalid UTF-8"},
    {"{\"a\\x\":{}}", 0, "invalid escape"},
    {"{\"a\\ud800\":{}}", 0, "surrogate"},
    {"{\"a\\udc00\":{}}", 0, "surrogate"},
    {"{\"a\\u12\":{}}", 0, "four hex digits"},
    {"{\"a\\u0000\":{}}", 0, "\\u0000"},
    {"{\"a\tb\":{}}", 0, "control character"},
    {"{\"a", 0, "unterminated string"},
    {"{\"a\":{\"dtype\":\"F32\",}}", 0, "trailing ','"},
    {"{\"a\":{\"dtype\":\"F32\" \"shape\":[1]}}", 0, "expected ',' or '}'"},
    {"{\"a\" {}}", 0, "expected ':'"},
    {"{\"__metadata__\":[],\"a\":{}}", 0, "must be an object"},
    {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "appears twice"},
    {"{\"__metadata__\":{\"k\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]"
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
     0, "nested deeper"},
    {"{\"__metadata__\":{\"k\":tru}}", 0, "expected a value"},
    {"{\"__metadata__\":{\"k\":[1,]}}", 0, "expected a value"},
    {"{\"__metadata__\":{\"k\":-}}", 0, "expected a digit"},
    {"{\"__metadata__\":{\"k\":1.}}", 0, "after '.'"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1", 0, "unexpected end"},
};
#undef T

static void test_malformed_headers(void) {
    unsigned char zeros[32] = {0};
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.safetensors", i);
        expect_open_error(st_file(name, bad_headers[i].header, zeros, bad_headers[i].data_len), bad_headers[i].phrase);
    }
}

static void test_bad_preamble(void) {
    expect_open_error(unit_write_tmp("short.safetensors", "\x10\0\0", 3), "too short");
    expect_open_error(unit_write_tmp("zero.safetensors", "", 0), "too short");
    /* 2^40 bytes of header: a corrupt length field */
    unsigned char big[16] = {0, 0, 0, 0, 0, 1, 0, 0, '{', '}'};
    expect_open_error(unit_write_tmp("huge.safetensors", big, sizeof big), "100 MB");
    unsigned char past[16] = {64, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    expect_open_error(unit_write_tmp("past.safetensors", past, sizeof past), "runs past the end");
    expect_open_error(unit_tmp_path("missing.safetensors"), "No such file");
    expect_open_error("/", "is a directory");

    /* The message for bad JSON gives the header byte offset. */
    TtcSafetensors st;
    TtcError err = {0};
    ttc_st_open(&st, st_file("offset.safetensors", "{\"a\" 1}", NULL, 0), &err);
    CU_ASSERT(contains(err.msg, "byte 5"));
    CU_ASSERT(contains(err.msg, "offset.safetensors"));
    CU_ASSERT(err.hint[0] != 0);
}

/* Zero-size tensors own no bytes and may share an offset; holes are tolerated. */
static void test_edge_layouts(void) {
    unsigned char data[16] = {0};
    const char *header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                         "\"c\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                         "\"d\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}";
    TtcSafetensors st;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_open(&st, st_file("edges.safetensors", header, data, 16), &err), TTC_OK);
    CU_ASSERT_EQUAL(st.n, 4);
    CU_ASSERT_EQUAL(ttc_st_read_f32(&st, ttc_st_find(&st, "a"), NULL, &err), TTC_OK);
    ttc_st_close(&st);
}

/* Every prefix of a valid file is refused cleanly (the data section included). */
static void test_every_truncation(void) {
    float a[5] = {1, 2, 3, 4, 5}, b[2] = {6, 7};
    TtcStTensorOut out[2] = {{"a", a, 1, {5}}, {"b", b, 2, {1, 2}}};
    const char *path = unit_tmp_path("full.safetensors");
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_write_f32(path, out, 2, &err), TTC_OK);
    char *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    int failures = 0;
    for (size_t cut = 0; cut < len; cut++) {
        const char *p = unit_write_tmp("cut.safetensors", buf, cut);
        TtcSafetensors st;
        ttc_error_clear(&err);
        if (ttc_st_open(&st, p, &err) != TTC_E_USER || !is_zeroed(&st)) failures++;
        ttc_st_close(&st);
    }
    CU_ASSERT_EQUAL(failures, 0);
    free(buf);
}

/* Single-byte mutations of a valid header: each must open cleanly or fail as a user error, and
 * whatever opens must read without faults (the sanitizer build checks the "without faults"). */
static void test_header_mutations(void) {
    float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    TtcStTensorOut out[2] = {{"w.a", a, 2, {2, 2}}, {"w.b", b, 1, {2}}};
    const char *path = unit_tmp_path("mut-src.safetensors");
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_write_f32(path, out, 2, &err), TTC_OK);
    char *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    static const unsigned char subst[] = {'"', '{', '}', '[', ']', ',', ':', '0', '9', '-', ' ', '\\', 0xff, 0};
    int bad_status = 0, opened = 0;
    for (size_t at = 0; at < len; at++) {
        for (size_t s = 0; s < sizeof subst; s++) {
            char saved = buf[at];
            buf[at] = (char)subst[s];
            const char *p = unit_write_tmp("mut.safetensors", buf, len);
            buf[at] = saved;
            TtcSafetensors st;
            ttc_error_clear(&err);
            TtcStatus rc = ttc_st_open(&st, p, &err);
            if (rc == TTC_OK) {
                opened++;
                for (int32_t i = 0; i < st.n; i++) {
                    int64_t n = ttc_st_numel(&st.entries[i]);
                    float *dst = malloc((size_t)(n > 0 ? n : 1) * sizeof *dst);
                    TtcError e2 = {0};
                    TtcStatus r2 = ttc_st_read_f32(&st, &st.entries[i], dst, &e2);
                    if (r2 != TTC_OK && r2 != TTC_E_USER) bad_status++;
                    free(dst);
                }
            } else if (rc != TTC_E_USER) {
                bad_status++;
            }
            ttc_st_close(&st);
        }
    }
    CU_ASSERT_EQUAL(bad_status, 0);
    CU_ASSERT(opened > 0); /* data-byte and padding mutations keep the file valid */
    free(buf);
}

/* A 400-tensor file, as big models have: every name found, absent ones not. */
static void test_many_tensors(void) {
    enum { N = 400 };
    TtcStTensorOut *out = calloc(N, sizeof *out);
    char(*names)[48] = calloc(N, sizeof *names);
    float *vals = malloc(N * 3 * sizeof *vals);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "model.layers.%d.mlp.proj_%d.weight", (i * 7919) % N, i % 3);
        out[i].name = names[i];
        out[i].data = vals + 3 * i;
        out[i].rank = 1;
        out[i].shape[0] = 3;
        for (int k = 0; k < 3; k++) vals[3 * i + k] = (float)(i * 3 + k);
    }
    const char *path = unit_tmp_path("many.safetensors");
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_st_write_f32(path, out, N, &err), TTC_OK);
    TtcSafetensors st;
    CU_ASSERT_EQUAL_FATAL(ttc_st_open(&st, path, &err), TTC_OK);
    CU_ASSERT_EQUAL(st.n, N);
    int wrong = 0;
    for (int i = 0; i < N; i++) {
        const TtcStEntry *e = ttc_st_find(&st, names[i]);
        float got[3];
        if (!e || ttc_st_read_f32(&st, e, got, &err) != TTC_OK || memcmp(got, vals + 3 * i, sizeof got) != 0)
            wrong++;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_PTR_NULL(ttc_st_find(&st, "model.layers.0.mlp.proj_9.weight"));
    CU_ASSERT_PTR_NULL(ttc_st_find(&st, "zzz"));
    CU_ASSERT_PTR_NULL(ttc_st_find(&st, "a"));
    ttc_st_close(&st);
    free(out);
    free(names);
    free(vals);
}

static void test_writer_errors(void) {
    float v[1] = {1};
    TtcError err = {0};
    const char *path = unit_tmp_path("werr.safetensors");
    TtcStTensorOut dup[2] = {{"x", v, 1, {1}}, {"x", v, 1, {1}}};
    CU_ASSERT_EQUAL(ttc_st_write_f32(path, dup, 2, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "two tensors are named 'x'"));
    struct stat sb;
    CU_ASSERT(stat(path, &sb) != 0);

    TtcStTensorOut meta = {"__metadata__", v, 1, {1}};
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_st_write_f32(path, &meta, 1, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "reserved"));

    TtcStTensorOut deep = {"d", v, 9, {1, 1, 1, 1, 1, 1, 1, 1}};
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_st_write_f32(path, &deep, 1, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "rank 9"));

    TtcStTensorOut neg = {"n", v, 1, {-1}};
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_st_write_f32(path, &neg, 1, &err), TTC_E_USER);

    TtcStTensorOut bad_utf8 = {"\xff", v, 1, {1}};
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_st_write_f32(path, &bad_utf8, 1, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "UTF-8"));
    CU_ASSERT(stat(path, &sb) != 0);

    TtcStTensorOut ok = {"ok", v, 1, {1}};
    const char *nodir = unit_tmp_path("no-such-dir/w.safetensors");
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_st_write_f32(nodir, &ok, 1, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "does not exist"));
    CU_ASSERT(stat(nodir, &sb) != 0);
}

static CU_TestInfo st_tests[] = {
    {"F32 round trip", test_round_trip_f32},
    {"writer byte layout", test_writer_bytes},
    {"F16 and BF16 by hand, unaligned", test_f16_bf16},
    {"other and unknown dtypes", test_other_dtypes},
    {"escaped names", test_escaped_names},
    {"malformed headers", test_malformed_headers},
    {"bad preamble", test_bad_preamble},
    {"empty tensors and holes", test_edge_layouts},
    {"every truncation", test_every_truncation},
    {"header mutations", test_header_mutations},
    {"400 tensors", test_many_tensors},
    {"writer errors", test_writer_errors},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"safetensors", NULL, NULL, NULL, NULL, st_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
