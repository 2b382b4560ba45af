/* fuzz_util.c: the helpers of fuzz.h. */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Small enough that a load takes microseconds; untied head, GQA and q/k/v biases so that many
 * kinds of weight are named. The safetensors target loads fuzzed files as its weights;
 * tests/fuzz/seeds.c writes its seed from it. */
const char fuzz_weights_spec[] =
    "spec_version: 1\n"
    "model: {name: fuzz-weights, type: decoder, vocab_size: 16, max_sequence_length: 8}\n"
    "layers:\n"
    "  - {id: embedding, type: embedding, params: {hidden_dim: 8, position: none}}\n"
    "  - id: layer_0\n"
    "    type: transformer\n"
    "    params: {hidden_dim: 8, num_heads: 2, num_kv_heads: 1, head_dim: 4, ffn_dim: 8, ffn_type: gated,\n"
    "             activation: silu, norm_type: rmsnorm, norm_eps: 1.0e-5, residual_pattern: pre_norm,\n"
    "             attention: {causal: true, bias: false, qkv_bias: true, rope: {theta: 10000.0}}}\n"
    "  - {id: final_norm, type: norm, params: {norm_type: rmsnorm, norm_eps: 1.0e-5}}\n"
    "  - {id: lm_head, type: linear, params: {input_dim: 8, output_dim: 16}}\n";


void fuzz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz finding: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void fuzz_check_user_error(TtcStatus st, const TtcError *err, const char *what) {
    if (st == TTC_OK) return;
    if (st != TTC_E_USER) fuzz_fail("%s: status %d (not a user error): %s", what, (int)st, err->msg);
    if (err->status != st || !err->msg[0]) fuzz_fail("%s: failed without a message", what);
}

char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) fuzz_fail("out of memory copying %zu bytes", size);
    if (size) memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* The temp files written so far, removed at exit so that a long campaign leaves none behind. */
static char tmp_paths[8][4096];
static int n_tmp_paths;

static void remove_tmp_files(void) {
    for (int i = 0; i < n_tmp_paths; i++) unlink(tmp_paths[i]);
}

const char *fuzz_tmp_path(const char *name) {
    char path[4096];
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    mkdir(dir, 0777); /* ctest points TMPDIR into the build tree, which may not have it yet */
    snprintf(path, sizeof path, "%s/ttc-fuzz-%ld-%s", dir, (long)getpid(), name);
    for (int i = 0; i < n_tmp_paths; i++)
        if (strcmp(tmp_paths[i], path) == 0) return tmp_paths[i];
    if (n_tmp_paths == (int)(sizeof tmp_paths / sizeof tmp_paths[0])) fuzz_fail("more than 8 temp file names");
    if (n_tmp_paths == 0) atexit(remove_tmp_files);
    snprintf(tmp_paths[n_tmp_paths], sizeof tmp_paths[0], "%s", path);
    return tmp_paths[n_tmp_paths++];
}

const char *fuzz_write_tmp(const char *name, const void *data, size_t size) {
    const char *path = fuzz_tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (!f) fuzz_fail("cannot create '%s'", path);
    int short_write = size && fwrite(data, 1, size, f) != size;
    if (fclose(f) != 0 || short_write) fuzz_fail("cannot write '%s'", path);
    return path;
}
