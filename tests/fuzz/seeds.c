/* seeds.c: writes the binary seeds of the fuzz corpus (the text ones are copies of shipped files
 * or hand-written): `fuzz_seeds DIR` fills DIR/plan, DIR/safetensors and DIR/npy.
 *   plan:        tiny-bert (n150), tiny-llama (n300: two chips, the KV cache and collectives)
 *                and the weights target's decoder, as `ttc compile` writes them;
 *   safetensors: the weights target's decoder with random weights (every name the loader
 *                matches), and a file with one tensor of each float dtype;
 *   npy:         float32 and float64 data, int32/int64/bool/uint8 ids, ranks 0 to 3, format
 *                versions 1.0 and 2.0.
 * The names have no .plan / .npy extension, which .gitignore ignores elsewhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "fuzz.h"
#include "npy.h"
#include "safetensors.h"
#include "ttc_runtime.h"

static const char *out_dir;

static const char *seed_path(const char *kind, const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, kind, name);
    return path;
}

static void put_file(const char *kind, const char *name, const void *data, size_t n) {
    const char *path = seed_path(kind, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) fuzz_fail("cannot write '%s'", path);
}

static void compile_to(TtcPlan *plan, const char *spec, const char *hw, int unfused) {
    const char *hw_files[1] = {hw};
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.hw = hw_files;
    o.n_hw = hw ? 1 : 0;
    o.seq = 4;
    o.max_seq = 8;
    if (unfused) o.disabled[o.n_disabled++] = PASS_FUSE; /* plain Hugging Face weight names */
    if (compile_spec_to_plan(&o, plan, stderr) != 0) fuzz_fail("cannot compile '%s'", spec);
}

static void plan_seed(const char *name, const char *spec, const char *hw) {
    TtcPlan p;
    TtcError err = {0};
    compile_to(&p, spec, hw, 0);
    if (ttc_plan_write(&p, seed_path("plan", name), &err)) fuzz_fail("%s", err.msg);
    ttc_plan_free(&p);
}

static void safetensors_seeds(const char *weights_spec) {
    TtcPlan p;
    TtcError err = {0};
    compile_to(&p, weights_spec, NULL, 1);
    TtcModel m;
    ttc_model_from_plan(&m, &p);
    if (ttc_model_random_weights(&m, 3, 1, &err)) fuzz_fail("%s", err.msg);
    if (ttc_model_write_weights(&m, seed_path("safetensors", "fuzz-weights"), NULL, NULL, &err))
        fuzz_fail("%s", err.msg);
    ttc_model_close(&m);

    /* One tensor of each float dtype the reader converts, and a rank-0 one, by hand: the
     * writer only writes F32. Offsets are in name order, as the reference writer lays them out. */
    static const char header[] =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"a.bf16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
        "\"b.f16\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[4,8]},"
        "\"c.scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
        "\"d.i64\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[12,20]}}";
    static const unsigned char data[20] = {0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3c, 0x00, 0xbc, 0x00, 0x00,
                                           0x80, 0x3f, 7, 0, 0, 0, 0, 0, 0, 0};
    size_t hl = sizeof header - 1;
    unsigned char buf[512];
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    memcpy(buf + 8 + hl, data, sizeof data);
    put_file("safetensors", "dtypes", buf, 8 + hl + sizeof data);
}

/* A .npy file: magic, version, header padded with spaces to a multiple of 64 bytes, data. */
static void npy_seed(const char *name, int major, const char *descr, const char *shape, const void *data, size_t n) {
    char dict[256];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t pre = major == 1 ? 10 : 12, total = pre + (size_t)dl + 1;
    size_t padded = (total + 63) / 64 * 64;
    unsigned char buf[1024];
    size_t hlen = padded - pre;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + pre, dict, (size_t)dl);
    memset(buf + pre + dl, ' ', padded - pre - (size_t)dl - 1);
    buf[padded - 1] = '\n';
    memcpy(buf + padded, data, n);
    put_file("npy", name, buf, padded + n);
}

static void npy_seeds(void) {
    const float f4[6] = {0.5f, -1.0f, 2.0f, 3.25f, -0.0f, 1e-3f};
    const double f8[2] = {1.5, -2.0};
    const int32_t i4[6] = {1, 2, 3, 4, 5, 95};
    const int64_t i8[3] = {101, 2023, 102};
    const unsigned char b1[4] = {1, 1, 0, 1};
    npy_seed("f32-2x3", 1, "<f4", "(2, 3)", f4, sizeof f4);
    npy_seed("f64-2", 1, "<f8", "(2,)", f8, sizeof f8);
    npy_seed("i32-1x6-v2", 2, "<i4", "(1, 6)", i4, sizeof i4);
    npy_seed("i64-3", 1, "<i8", "(3,)", i8, sizeof i8);
    npy_seed("bool-2x2", 1, "|b1", "(2, 2)", b1, sizeof b1);
    npy_seed("u8-1x1x4", 1, "|u1", "(1, 1, 4)", b1, sizeof b1);
    npy_seed("i32-scalar", 1, "<i4", "()", i4, 4);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
        return 1;
    }
    out_dir = argv[1];
    const char *src = getenv("TTC_SOURCE_DIR") ? getenv("TTC_SOURCE_DIR") : TTC_SOURCE_DIR;
    char bert[4096], llama[4096], n300[4096];
    snprintf(bert, sizeof bert, "%s/specs/tiny-bert.yaml", src);
    snprintf(llama, sizeof llama, "%s/specs/tiny-llama.yaml", src);
    snprintf(n300, sizeof n300, "%s/specs/hw/wormhole_n300.yaml", src);
    const char *weights_spec = fuzz_write_tmp("weights-spec.yaml", fuzz_weights_spec, strlen(fuzz_weights_spec));
    plan_seed("tiny-bert", bert, NULL);
    plan_seed("tiny-llama-n300", llama, n300);
    plan_seed("fuzz-weights", weights_spec, NULL);
    safetensors_seeds(weights_spec);
    npy_seeds();
    return 0;
}
