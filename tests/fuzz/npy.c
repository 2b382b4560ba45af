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

    /* ids in every role, each against its bound: whatever is accepted lies inside it */
    static const struct { TtcRole role; int64_t bound; } roles[] = {
        {TTC_ROLE_INPUT_IDS, 32000}, {TTC_ROLE_TOKEN_TYPE_IDS, 2}, {TTC_ROLE_ATTENTION_MASK, 2}};
    for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
        TtcNpyArray c = {0};
        TtcError err3 = {0};
        st = ttc_ids_load(path, "--input-ids", roles[r].role, roles[r].bound, &c, &err3);
        fuzz_check_user_error(st, &err3, "ttc_ids_load");
        if (!st) {
            check_array(&c, c.i32, "ids");
            if (c.rank != 2) fuzz_fail("ttc_ids_load gave rank %d, not 2", c.rank);
            for (int64_t k = 0; k < c.n; k++)
                if (c.i32[k] < 0 || c.i32[k] >= roles[r].bound)
                    fuzz_fail("ttc_ids_load accepted %d outside [0, %lld)", (int)c.i32[k], (long long)roles[r].bound);
        }
        ttc_npy_free(&c);
    }
    return 0;
}
