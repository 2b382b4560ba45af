/* test_npy.c: .npy reading and writing and command-line id lists (runtime/npy.c).
 *
 * Files are built byte by byte, header dict included, the way numpy.save lays them out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_util.h"
#include "npy.h"
#include "unit.h"

static int contains(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

/* magic | version | header length | dict (+ spaces and '\n' to a multiple of 64 when `pad`) | data */
static const char *npy_build(const char *name, int major, const char *dict, int pad, const void *data, size_t dlen) {
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict), hl = dl;
    if (pad) hl = ((pre + dl + 1 + 63) / 64) * 64 - pre;
    unsigned char *buf = calloc(1, pre + hl + dlen + 1);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t b = 0; b < pre - 8; b++) buf[8 + b] = (unsigned char)(hl >> (8 * b));
    memcpy(buf + pre, dict, dl);
    if (pad) {
        memset(buf + pre + dl, ' ', hl - dl);
        buf[pre + hl - 1] = '\n';
    }
    if (dlen) memcpy(buf + pre + hl, data, dlen);
    const char *path = unit_write_tmp(name, buf, pre + hl + dlen);
    free(buf);
    return path;
}

static const char *npy_v1(const char *name, const char *dict, const void *data, size_t dlen) {
    return npy_build(name, 1, dict, 1, data, dlen);
}

static int is_zeroed(const TtcNpyArray *a) { return a->rank == 0 && a->n == 0 && !a->f32 && !a->i32; }

static void expect_error(TtcStatus (*reader)(const char *, TtcNpyArray *, TtcError *), const char *path,
                         const char *phrase, const char *hint_phrase) {
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL(reader(path, &a, &err), TTC_E_USER);
    CU_ASSERT(is_zeroed(&a));
    if (!contains(err.msg, phrase)) {
        fprintf(stderr, "\n  expected '%s' in: %s\n", phrase, err.msg);
        CU_FAIL("error message lacks the expected phrase");
    }
    if (hint_phrase && !contains(err.hint, hint_phrase)) {
        fprintf(stderr, "\n  expected hint '%s' in: %s\n", hint_phrase, err.hint);
        CU_FAIL("hint lacks the expected phrase");
    }
}

static void test_int32_vector(void) {
    int32_t v[3] = {101, -7, 2147483647};
    const char *p = npy_v1("i4.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", v, sizeof v);
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.rank, 1);
    CU_ASSERT_EQUAL(a.shape[0], 3);
    CU_ASSERT_EQUAL(a.n, 3);
    CU_ASSERT_PTR_NULL(a.f32);
    CU_ASSERT(memcmp(a.i32, v, sizeof v) == 0);
    ttc_npy_free(&a);
    CU_ASSERT(is_zeroed(&a));
}

static void test_int64_matrix(void) {
    int64_t v[6] = {101, 2023, 102, 0, -1, -2147483648LL};
    /* keys in another order, double quotes, no trailing comma, Python 2 long suffixes */
    const char *p = npy_v1("i8.npy", "{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": \"<i8\"}", v, sizeof v);
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.rank, 2);
    CU_ASSERT_EQUAL(a.shape[0], 2);
    CU_ASSERT_EQUAL(a.shape[1], 3);
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(a.i32[i], (int32_t)v[i]);
    ttc_npy_free(&a);

    int64_t big[4] = {1, 2, 3, 4294967296LL};
    p = npy_v1("i8-big.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", big, sizeof big);
    expect_error(ttc_npy_read_i32, p, "value 4294967296 at flat index 3", NULL);
    int64_t low[1] = {-2147483649LL};
    p = npy_v1("i8-low.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", low, sizeof low);
    expect_error(ttc_npy_read_i32, p, "value -2147483649 at flat index 0", NULL);
}

static void test_small_ints_and_bool(void) {
    /* int16 -5 is 0xFFFB; int8 -128 is 0x80; uint8 255 stays 255; bool bytes become 0/1 */
    unsigned char i2[4] = {0xFB, 0xFF, 0x05, 0x00};
    TtcNpyArray a;
    TtcError err = {0};
    const char *p = npy_v1("i2.npy", "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", i2, 4);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.i32[0], -5);
    CU_ASSERT_EQUAL(a.i32[1], 5);
    ttc_npy_free(&a);

    unsigned char i1[2] = {0x80, 0x7F};
    p = npy_v1("i1.npy", "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", i1, 2);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.i32[0], -128);
    CU_ASSERT_EQUAL(a.i32[1], 127);
    ttc_npy_free(&a);

    unsigned char u1[3] = {0, 1, 255};
    p = npy_v1("u1.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", u1, 3);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.i32[2], 255);
    ttc_npy_free(&a);

    unsigned char b1[4] = {1, 0, 0, 1};
    p = npy_v1("b1.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", b1, 4);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.rank, 2);
    CU_ASSERT(a.i32[0] == 1 && a.i32[1] == 0 && a.i32[2] == 0 && a.i32[3] == 1);
    ttc_npy_free(&a);

    uint32_t u4[2] = {7, 3000000000u};
    p = npy_v1("u4.npy", "{'descr': '<u4', 'fortran_order': False, 'shape': (2,), }", u4, sizeof u4);
    expect_error(ttc_npy_read_i32, p, "value 3000000000 at flat index 1", NULL);
}

static void test_float_files(void) {
    float f[1] = {3.5f};
    TtcNpyArray a;
    TtcError err = {0};
    const char *p = npy_v1("f4-scalar.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f, 4);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.rank, 0);
    CU_ASSERT_EQUAL(a.n, 1);
    CU_ASSERT_EQUAL(a.f32[0], 3.5f);
    CU_ASSERT_PTR_NULL(a.i32);
    ttc_npy_free(&a);

    double d[4] = {0.1, -2.0, 1e300, -1e300};
    p = npy_v1("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", d, sizeof d);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.f32[0], 0.1f);
    CU_ASSERT_EQUAL(a.f32[1], -2.0f);
    CU_ASSERT(isinf(a.f32[2]) && a.f32[2] > 0);
    CU_ASSERT(isinf(a.f32[3]) && a.f32[3] < 0);
    ttc_npy_free(&a);

    /* half: 0x3C00 = 1.0, 0xC000 = -2.0 */
    unsigned char h[4] = {0x00, 0x3C, 0x00, 0xC0};
    p = npy_v1("f2.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", h, 4);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.f32[0], 1.0f);
    CU_ASSERT_EQUAL(a.f32[1], -2.0f);
    ttc_npy_free(&a);

    /* an empty array is fine */
    p = npy_v1("f4-empty.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", NULL, 0);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.n, 0);
    CU_ASSERT_EQUAL(a.shape[1], 4);
    ttc_npy_free(&a);

    /* wrong kind for each reader */
    p = npy_v1("f4-as-int.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f, 4);
    expect_error(ttc_npy_read_i32, p, "floating-point", ".astype('<i8')");
    int32_t i[1] = {1};
    p = npy_v1("i4-as-float.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", i, 4);
    expect_error(ttc_npy_read_f32, p, "expected float32", ".astype('<f4')");
}

static void test_versions(void) {
    int32_t v[2] = {5, 6};
    TtcNpyArray a;
    TtcError err = {0};
    for (int major = 2; major <= 3; major++) {
        const char *p = npy_build(major == 2 ? "v2.npy" : "v3.npy", major,
                                  "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 1, v, sizeof v);
        CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
        CU_ASSERT(a.n == 2 && a.i32[0] == 5 && a.i32[1] == 6);
        ttc_npy_free(&a);
    }
    /* unpadded header, no newline: still a valid dict */
    const char *p = npy_build("nopad.npy", 1, "{'descr':'<i4','fortran_order':False,'shape':(2,)}", 0, v, sizeof v);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_i32(p, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.i32[1], 6);
    ttc_npy_free(&a);
    p = npy_build("v4.npy", 4, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 1, v, sizeof v);
    expect_error(ttc_npy_read_i32, p, "version 4.0", NULL);
}

typedef struct BadDict {
    const char *dict;
    size_t data_len;
    const char *phrase, *hint;
} BadDict;

static const BadDict bad_dicts[] = {
    {"{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", 16, "big-endian", ".astype('<i8')"},
    {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "big-endian", ".astype('<f4')"},
    {"{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2), }", 32, "Fortran", "ascontiguousarray"},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", 40, "truncated", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 24, "unexpected data after", NULL},
    {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "'<c8' is not supported", "astype"},
    {"{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", 40, "not supported", NULL},
    {"{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16, "not supported", NULL},
    {"{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }", 8, "structured", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (2), }", 16, "not a tuple", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (-2,), }", 16, "negative dimension", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 8, "more than 8", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (2 3), }", 48, "expected ',' or ')'", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 16, "unknown key", NULL},
    {"{'descr': '<i8', 'fortran_order': False}", 8, "missing 'shape'", NULL},
    {"{'descr': '<i8', 'shape': (1,)}", 8, "missing 'fortran_order'", NULL},
    {"{'fortran_order': False, 'shape': (1,)}", 8, "missing 'descr'", NULL},
    {"{'descr': '<i8', 'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", 8, "appears twice", NULL},
    {"{'descr': '<i8', 'fortran_order': Maybe, 'shape': (1,)}", 8, "True or False", NULL},
    {"{'descr': '<i8', 'fortran_order': Falsey, 'shape': (1,)}", 8, "True or False", NULL},
    {"{'descr': '<i8' 'fortran_order': False, 'shape': (1,)}", 8, "expected ',' or '}'", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,)} x", 8, "unexpected text", NULL},
    {"{'descr: '<i8', 'fortran_order': False, 'shape': (1,)}", 8, "expected ':'", NULL},
    {"['descr', '<i8']", 8, "expected '{'", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (99999999999999999999,)}", 8, "too large", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}", 8, "too large", NULL},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,", 8, "unterminated", NULL},
    {"{'descr': '<i", 8, "unterminated string", NULL},
    {"{'descr': '<x4', 'fortran_order': False, 'shape': (1,)}", 4, "not supported", NULL},
    {"{'descr': '|i8', 'fortran_order': False, 'shape': (1,)}", 8, "without a byte order", NULL},
};

static void test_bad_files(void) {
    unsigned char zeros[64] = {0};
    for (size_t i = 0; i < sizeof bad_dicts / sizeof bad_dicts[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.npy", i);
        const char *p = npy_v1(name, bad_dicts[i].dict, zeros, bad_dicts[i].data_len);
        expect_error(ttc_npy_read_i32, p, bad_dicts[i].phrase, bad_dicts[i].hint);
    }
    expect_error(ttc_npy_read_i32, unit_write_tmp("magic.npy", "PK\3\4 this is a zip file", 24), "not a .npy file",
                 "numpy.save");
    expect_error(ttc_npy_read_i32, unit_write_tmp("tiny.npy", "\x93NUM", 4), "too short", NULL);
    unsigned char longhdr[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x00, '{', '}'};
    expect_error(ttc_npy_read_i32, unit_write_tmp("longhdr.npy", longhdr, 12), "truncated", NULL);
    expect_error(ttc_npy_read_f32, unit_tmp_path("absent.npy"), "No such file", NULL);
}

/* Every prefix of a valid file is refused. */
static void test_every_truncation(void) {
    int64_t v[6] = {1, 2, 3, 4, 5, 6};
    const char *p = npy_v1("whole.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", v, sizeof v);
    char *buf;
    size_t len;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(p, &buf, &len, &err), TTC_OK);
    int failures = 0;
    for (size_t cut = 0; cut < len; cut++) {
        TtcNpyArray a;
        ttc_error_clear(&err);
        if (ttc_npy_read_i32(unit_write_tmp("cut.npy", buf, cut), &a, &err) != TTC_E_USER || !is_zeroed(&a))
            failures++;
        ttc_npy_free(&a);
    }
    CU_ASSERT_EQUAL(failures, 0);
    free(buf);
}

static void test_writer(void) {
    float v[6] = {1, -2, 3.5f, 0, 1e-20f, -7};
    int64_t shape[2] = {2, 3};
    const char *path = unit_tmp_path("out.npy");
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_npy_write_f32(path, v, shape, 2, &err), TTC_OK);
    char *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    /* numpy 1.24 writes the same 128-byte preamble and header for this array */
    CU_ASSERT_EQUAL_FATAL(len, 128 + sizeof v);
    CU_ASSERT(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    CU_ASSERT_EQUAL((unsigned char)buf[8] | (unsigned char)buf[9] << 8, 118);
    CU_ASSERT_EQUAL(buf[127], '\n');
    for (int i = 10 + 59; i < 127; i++) CU_ASSERT_EQUAL(buf[i], ' ');
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CU_ASSERT(memcmp(buf + 10, dict, strlen(dict)) == 0);
    CU_ASSERT(strlen(dict) == 59);
    CU_ASSERT(memcmp(buf + 128, v, sizeof v) == 0);
    free(buf);

    TtcNpyArray a;
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(path, &a, &err), TTC_OK);
    CU_ASSERT(a.rank == 2 && a.shape[0] == 2 && a.shape[1] == 3);
    CU_ASSERT(memcmp(a.f32, v, sizeof v) == 0);
    ttc_npy_free(&a);

    /* rank 0, rank 1 and rank 8 */
    int64_t s1[1] = {6}, s8[8] = {1, 1, 1, 2, 1, 3, 1, 1};
    CU_ASSERT_EQUAL_FATAL(ttc_npy_write_f32(path, v, NULL, 0, &err), TTC_OK);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(path, &a, &err), TTC_OK);
    CU_ASSERT(a.rank == 0 && a.n == 1 && a.f32[0] == 1.0f);
    ttc_npy_free(&a);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_write_f32(path, v, s1, 1, &err), TTC_OK);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(path, &a, &err), TTC_OK);
    CU_ASSERT(a.rank == 1 && a.n == 6 && a.f32[5] == -7.0f);
    ttc_npy_free(&a);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_write_f32(path, v, s8, 8, &err), TTC_OK);
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    CU_ASSERT_EQUAL((len - sizeof v) % 64, 0);
    free(buf);
    CU_ASSERT_EQUAL_FATAL(ttc_npy_read_f32(path, &a, &err), TTC_OK);
    CU_ASSERT(a.rank == 8 && a.n == 6 && a.shape[5] == 3);
    ttc_npy_free(&a);

    /* a failed write leaves nothing behind */
    const char *nodir = unit_tmp_path("no-such-dir/out.npy");
    CU_ASSERT_EQUAL(ttc_npy_write_f32(nodir, v, shape, 2, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "does not exist"));
    struct stat sb;
    CU_ASSERT(stat(nodir, &sb) != 0);
    ttc_error_clear(&err);
    CU_ASSERT_NOT_EQUAL(ttc_npy_write_f32(path, v, shape, 9, &err), TTC_OK);
}

static void expect_literal(const char *text, int n, const int32_t *want) {
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_ids_parse_literal(text, "--input-ids", &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(a.rank, 1);
    CU_ASSERT_EQUAL(a.shape[0], n);
    CU_ASSERT_EQUAL(a.n, n);
    for (int i = 0; i < n; i++) CU_ASSERT_EQUAL(a.i32[i], want[i]);
    ttc_npy_free(&a);
}

static void expect_literal_error(const char *text, const char *msg) {
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_ids_parse_literal(text, "--input-ids", &a, &err), TTC_E_USER);
    CU_ASSERT(is_zeroed(&a));
    if (!contains(err.msg, msg)) {
        fprintf(stderr, "\n  expected '%s' in: %s\n", msg, err.msg);
        CU_FAIL("error message lacks the expected phrase");
    }
}

static void test_literal(void) {
    expect_literal("101, 2023,102", 3, (const int32_t[]){101, 2023, 102});
    expect_literal("  7 ", 1, (const int32_t[]){7});
    expect_literal("[1, 2,3]", 3, (const int32_t[]){1, 2, 3});
    expect_literal("-5,+6,0", 3, (const int32_t[]){-5, 6, 0});
    expect_literal("2147483647,-2147483648", 2, (const int32_t[]){2147483647, -2147483647 - 1});
    expect_literal("00012", 1, (const int32_t[]){12});

    expect_literal_error("101,10x1,5", "--input-ids: '10x1' is not a token id (position 2)");
    expect_literal_error("", "--input-ids: the list of ids is empty");
    expect_literal_error("   ", "empty");
    expect_literal_error("[]", "empty");
    expect_literal_error("1,,2", "empty entry at position 2");
    expect_literal_error("1,2,", "empty entry at position 3");
    expect_literal_error("1 2", "'1 2' is not a token id (position 1)");
    expect_literal_error("-", "'-' is not a token id");
    expect_literal_error("1.5", "'1.5' is not a token id");
    expect_literal_error("2147483648", "outside the int32 range");
    expect_literal_error("-2147483649", "outside the int32 range");
    expect_literal_error("99999999999999999999999999", "outside the int32 range");

    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_ids_parse_literal("1,x", "--attention-mask", &a, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "--attention-mask: 'x' is not an integer (position 2)"));
    CU_ASSERT(err.hint[0] != 0);
}

static void test_ids_load(void) {
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load("101,2023,102", "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_OK);
    CU_ASSERT(a.rank == 2 && a.shape[0] == 1 && a.shape[1] == 3 && a.n == 3 && a.i32[1] == 2023);
    ttc_npy_free(&a);

    int64_t v[6] = {1, 2, 3, 4, 5, 6};
    const char *p = npy_v1("ids1.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (6,), }", v, sizeof v);
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_OK);
    CU_ASSERT(a.rank == 2 && a.shape[0] == 1 && a.shape[1] == 6 && a.i32[5] == 6);
    ttc_npy_free(&a);

    p = npy_v1("ids2.NPY", "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }", v, sizeof v);
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_OK);
    CU_ASSERT(a.rank == 2 && a.shape[0] == 3 && a.shape[1] == 2 && a.i32[2] == 3);
    ttc_npy_free(&a);

    p = npy_v1("ids0.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", v, 8);
    CU_ASSERT_EQUAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "expected [batch, seq] or [seq]"));
    CU_ASSERT(is_zeroed(&a));

    ttc_error_clear(&err);
    p = npy_v1("ids3.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2, 3), }", v, sizeof v);
    CU_ASSERT_EQUAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "shape (1, 2, 3); expected [batch, seq] or [seq]"));

    ttc_error_clear(&err);
    p = npy_v1("ids-empty.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }", v, 0);
    CU_ASSERT_EQUAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "holds no ids"));

    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_ids_load(unit_tmp_path("nope.npy"), "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "No such file"));

    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_ids_load("ids.bin", "--input-ids", TTC_ROLE_INPUT_IDS, 30522, &a, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "'ids.bin' is not a token id (position 1)"));
    CU_ASSERT(contains(err.hint, ".npy"));
}

/* Ids of every integer dtype: the same values [2, 3] x [0, 1, 5, 7, 9, 4] come out as int32. */
static void test_ids_every_dtype(void) {
    static const struct { const char *descr; int size; } dtypes[] = {
        {"|i1", 1}, {"<i2", 2}, {"<i4", 4}, {"<i8", 8}, {"|u1", 1}, {"<u2", 2}, {"<u4", 4}, {"<u8", 8}};
    const int64_t vals[6] = {0, 1, 5, 7, 9, 4};
    for (size_t d = 0; d < sizeof dtypes / sizeof dtypes[0]; d++) {
        unsigned char data[48] = {0};
        for (int i = 0; i < 6; i++)
            for (int b = 0; b < dtypes[d].size; b++) data[i * dtypes[d].size + b] = (unsigned char)(vals[i] >> (8 * b));
        char dict[96], name[32];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (2, 3), }", dtypes[d].descr);
        snprintf(name, sizeof name, "ids-%c%d.npy", dtypes[d].descr[1], dtypes[d].size);
        const char *p = npy_v1(name, dict, data, (size_t)(6 * dtypes[d].size));
        TtcNpyArray a;
        TtcError err = {0};
        CU_ASSERT_EQUAL_FATAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, 10, &a, &err), TTC_OK);
        CU_ASSERT(a.rank == 2 && a.shape[0] == 2 && a.shape[1] == 3);
        for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(a.i32[i], vals[i]);
        ttc_npy_free(&a);
        /* The same file against a vocabulary of 9: the 9 at [1, 1] is out. */
        CU_ASSERT_EQUAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, 9, &a, &err), TTC_E_USER);
        CU_ASSERT(is_zeroed(&a));
        char want[160];
        snprintf(want, sizeof want, "--input-ids '%s': token id 9 at [1, 1] is outside the vocabulary [0, 9)", p);
        if (!contains(err.msg, want)) {
            fprintf(stderr, "\n  %s: expected '%s' in: %s\n", dtypes[d].descr, want, err.msg);
            CU_FAIL("out-of-range id not reported with its position");
        }
    }
}

static void expect_ids_error(const char *arg, TtcRole role, int64_t bound, const char *phrase, const char *hint) {
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_ids_load(arg, "--flag", role, bound, &a, &err), TTC_E_USER);
    CU_ASSERT(is_zeroed(&a));
    if (!contains(err.msg, phrase) || (hint && !contains(err.hint, hint))) {
        fprintf(stderr, "\n  expected '%s' / hint '%s' in: %s / %s\n", phrase, hint ? hint : "", err.msg, err.hint);
        CU_FAIL("id error lacks the expected phrase");
    }
}

static void test_ids_ranges(void) {
    /* negative ids, huge unsigned ids, and what a mask or a token type may hold */
    int16_t neg[3] = {4, -3, 2};
    const char *p = npy_v1("neg.npy", "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", neg, sizeof neg);
    expect_ids_error(p, TTC_ROLE_INPUT_IDS, 100, "token id -3 at [0, 1] is negative; the vocabulary starts at 0",
                     "tokenizer");
    uint64_t big[2] = {1, UINT64_MAX};
    p = npy_v1("bigu.npy", "{'descr': '<u8', 'fortran_order': False, 'shape': (1, 2), }", big, sizeof big);
    expect_ids_error(p, TTC_ROLE_INPUT_IDS, 100, "token id 18446744073709551615 at [0, 1]", NULL);
    int64_t wide[2] = {1, (int64_t)1 << 40};
    p = npy_v1("wide.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", wide, sizeof wide);
    expect_ids_error(p, TTC_ROLE_INPUT_IDS, 100, "token id 1099511627776 at [0, 1]", NULL);
    uint8_t tt[4] = {0, 1, 2, 0};
    p = npy_v1("tt.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", tt, sizeof tt);
    expect_ids_error(p, TTC_ROLE_TOKEN_TYPE_IDS, 2, "token type id 2 at [1, 0] is outside the token types [0, 2)",
                     "segment");
    p = npy_v1("mask.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", tt, sizeof tt);
    expect_ids_error(p, TTC_ROLE_ATTENTION_MASK, 2, "attention mask value 2 at [1, 0] is outside the mask values",
                     "1 for a token");
    /* bool: a mask may be one, an id may not; floats never */
    unsigned char b1[2] = {1, 0};
    p = npy_v1("bmask.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", b1, 2);
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load(p, "--attention-mask", TTC_ROLE_ATTENTION_MASK, 2, &a, &err), TTC_OK);
    CU_ASSERT(a.i32[0] == 1 && a.i32[1] == 0);
    ttc_npy_free(&a);
    expect_ids_error(p, TTC_ROLE_INPUT_IDS, 100, "holds bool data ('|b1'); token ids must be integers", "np.int64");
    float f[2] = {1.0f, 2.0f};
    p = npy_v1("fids.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f, sizeof f);
    expect_ids_error(p, TTC_ROLE_INPUT_IDS, 100, "holds floating-point data ('<f4')",
                     "ids must be integers: save with np.save(path, ids.astype(np.int64))");
    /* literal lists get the same checks */
    expect_ids_error("5,100,7", TTC_ROLE_INPUT_IDS, 100, "--flag: token id 100 at [0, 1] is outside the vocabulary [0, 100)",
                     NULL);
    expect_ids_error("-1", TTC_ROLE_INPUT_IDS, 100, "token id -1 at [0, 0]", NULL);
    expect_ids_error("0,1,1,3", TTC_ROLE_ATTENTION_MASK, 2, "attention mask value 3 at [0, 3]", NULL);
    expect_ids_error("0,1", TTC_ROLE_TOKEN_TYPE_IDS, 1, "token type id 1 at [0, 1] is outside the token types [0, 1)",
                     NULL);
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load("0,99", "--input-ids", TTC_ROLE_INPUT_IDS, 100, &a, &err), TTC_OK);
    CU_ASSERT(a.shape[0] == 1 && a.shape[1] == 2 && a.i32[1] == 99);
    ttc_npy_free(&a);
}

/* ids read before there is a plan (only the int32 range), checked against it once there is */
static void test_ids_check_later(void) {
    int16_t ids[4] = {4, 7, 300, 2};
    const char *p = npy_v1("later.npy", "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }", ids, sizeof ids);
    TtcNpyArray a;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load(p, "--input-ids", TTC_ROLE_INPUT_IDS, (int64_t)INT32_MAX + 1, &a, &err), TTC_OK);
    CU_ASSERT_EQUAL(ttc_ids_check(&a, p, "--input-ids", TTC_ROLE_INPUT_IDS, 301, &err), TTC_OK);
    CU_ASSERT_EQUAL(ttc_ids_check(&a, p, "--input-ids", TTC_ROLE_INPUT_IDS, 300, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "later.npy': token id 300 at [1, 0] is outside the vocabulary [0, 300)"));
    ttc_npy_free(&a);
    TtcError e2 = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load("3,-1", "--prompt-ids", TTC_ROLE_INPUT_IDS, (int64_t)INT32_MAX + 1, &a, &e2),
                          TTC_E_USER); /* negative whatever the bound */
    TtcError e3 = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_ids_load("3,9", "--prompt-ids", TTC_ROLE_INPUT_IDS, (int64_t)INT32_MAX + 1, &a, &e3),
                          TTC_OK);
    CU_ASSERT_EQUAL(ttc_ids_check(&a, "3,9", "--prompt-ids", TTC_ROLE_INPUT_IDS, 9, &e3), TTC_E_USER);
    CU_ASSERT(contains(e3.msg, "--prompt-ids: token id 9 at [0, 1] is outside the vocabulary [0, 9)"));
    ttc_npy_free(&a);
}

static CU_TestInfo npy_tests[] = {
    {"ids of every integer dtype", test_ids_every_dtype},
    {"id ranges, bool and float ids", test_ids_ranges},
    {"ids checked against a plan after loading", test_ids_check_later},
    {"int32 vector", test_int32_vector},
    {"int64 matrix, keys in any order", test_int64_matrix},
    {"small ints and bool", test_small_ints_and_bool},
    {"float32, float64, float16", test_float_files},
    {"format versions", test_versions},
    {"malformed files", test_bad_files},
    {"every truncation", test_every_truncation},
    {"writer", test_writer},
    {"literal id lists", test_literal},
    {"id arguments", test_ids_load},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"npy", NULL, NULL, NULL, NULL, npy_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
