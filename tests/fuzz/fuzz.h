/* fuzz.h: what the libFuzzer targets in tests/fuzz/ share. Each <kind>.c defines
 * LLVMFuzzerTestOneInput over one untrusted input ttc reads; it is linked either with libFuzzer
 * (the TTC_FUZZ build, clang) or with replay.c's main() (every build: the ctest cases fuzz/<kind>
 * replay the seed corpus and the regression inputs).
 *
 * A target treats as findings what a sanitizer cannot see: an internal error (status 2) out of a
 * parser fed hostile bytes, a failure without a message, a round trip that changes the data. It
 * reports them through fuzz_fail(), which aborts so that libFuzzer keeps the input. */
#ifndef TTC_FUZZ_H
#define TTC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "ttc_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz finding: <message>" to stderr and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A failed parse must be a user error with a message; anything else is a finding. */
void fuzz_check_user_error(TtcStatus st, const TtcError *err, const char *what);
/* The bytes as a NUL-terminated string (the YAML and JSON readers take C strings); free it. */
char *fuzz_cstr(const uint8_t *data, size_t size);
/* A path of this process's own under $TMPDIR (or /tmp): "<dir>/ttc-fuzz-<pid>-<name>". The
 * path-only readers (safetensors maps its file, npy reads one) get the bytes through it. */
const char *fuzz_tmp_path(const char *name);
/* Writes the bytes to fuzz_tmp_path(name) and returns that path. */
const char *fuzz_write_tmp(const char *name, const void *data, size_t size);

/* A tiny decoder spec (YAML) whose plan the safetensors target loads fuzzed weights into. */
extern const char fuzz_weights_spec[];

/* Runs a plan (moved: freed here) the way `ttc run` / `ttc generate` do: seeded random weights,
 * a forward of `batch` x `seq` ids taken from `ids` (wrapped into the vocabulary), then up to
 * `decode_steps` decode steps for decoders. Plans whose weights, cache and arena would take more
 * than a few MB are skipped (the runtime sizes them from the plan, and the plan reader bounds
 * them only by what the host could hold). `strict`: the plan came from the compiler, so any
 * failure is a finding; otherwise a failure must be a user error with a message. 1 when it ran,
 * 0 when skipped or refused. */
int fuzz_run_plan(TtcPlan *plan, uint64_t seed, int64_t batch, int64_t seq, int decode_steps, const uint8_t *ids,
                  size_t n_ids, int strict);

#endif
