/* npy.c: fuzz target for NumPy .npy files (`ttc run --input-ids ids.npy`, masks, token types):
 * the bytes go through a temp file (the reader takes a path) and are read as float data, as
 * integer ids, and as a command-line id argument (rank 1 or 2 to [batch, seq]). An array read
 * must hold the elements its shape says. */
#include "fuzz.h"
#include "npy.h"

static void check_array(const TtcNpyArray *a, const void *data, const char *what) {
    int64_t n = 1;
    for (int i = 0; i < a->rank; i++) {
        if (a->shape[i] < 0) fuzz_fail("%s: negative dimension", what);
        n *= a->shape[i];
    }
    if (a->rank < 0 || a->rank > TTC_NPY_MAX_RANK || n != a->n) fuzz_fail("%s: shape does not match n", what);
    if (a->n > 0 && !data) fuzz_fail("%s: no data for %lld elements", what, (long long)a->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write_tmp("in.npy", data, size);
    TtcNpyArray a = {0};
    TtcError err = {0};
    TtcStatus st = ttc_npy_read_f32(path, &a, &err);
    fuzz_check_user_error(st, &err, "ttc_npy_read_f32");
    if (!st) check_array(&a, a.f32, "f32");
    ttc_npy_free(&a);

    TtcNpyArray b = {0};
    TtcError err2 = {0};
    st = ttc_npy_read_i32(path, &b, &err2);
    fuzz_check_user_error(st, &err2, "ttc_npy_read_i32");
    if (!st) check_array(&b, b.i32, "i32");
    ttc_npy_free(&b);

    TtcNpyArray c = {0};
    TtcError err3 = {0};
    st = ttc_ids_load(path, "--input-ids", &c, &err3);
    fuzz_check_user_error(st, &err3, "ttc_ids_load");
    if (!st) {
        check_array(&c, c.i32, "ids");
        if (c.rank != 2) fuzz_fail("ttc_ids_load gave rank %d, not 2", c.rank);
    }
    ttc_npy_free(&c);
    return 0;
}
