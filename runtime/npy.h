/* npy.h: NumPy .npy files (format versions 1.0-3.0, C order) and literal id lists. */
#ifndef TTC_NPY_H
#define TTC_NPY_H

#include <stdint.h>
#include "ttc_types.h"

#define TTC_NPY_MAX_RANK 8

/* An array read from a .npy file, converted on read. */
typedef struct TtcNpyArray {
    int32_t rank;
    int64_t shape[TTC_NPY_MAX_RANK];
    int64_t n;      /* number of elements */
    float *f32;     /* set by ttc_npy_read_f32 */
    int32_t *i32;   /* set by ttc_npy_read_i32 */
} TtcNpyArray;

/* Reads float32 or float64 data as fp32. */
TtcStatus ttc_npy_read_f32(const char *path, TtcNpyArray *a, TtcError *err);
/* Reads int32 or int64 (or bool/uint8 for masks) as int32; int64 values outside int32 are errors. */
TtcStatus ttc_npy_read_i32(const char *path, TtcNpyArray *a, TtcError *err);
void ttc_npy_free(TtcNpyArray *a);
/* Writes float32, atomically (temp file + rename): nothing is left at `path` on failure. */
TtcStatus ttc_npy_write_f32(const char *path, const float *data, const int64_t *shape, int32_t rank, TtcError *err);

/* "101,2023,102" -> rank-1 int32 array (whitespace allowed around numbers). Errors name `flag`. */
TtcStatus ttc_ids_parse_literal(const char *text, const char *flag, TtcNpyArray *a, TtcError *err);
/* A command-line id argument: a path ending in .npy is read as a file (any integer dtype; bool
 * only for masks; floats are refused), anything else as a literal list. Every value must lie in
 * [0, bound): the plan's vocab_size for TTC_ROLE_INPUT_IDS, the token type table's rows for
 * TTC_ROLE_TOKEN_TYPE_IDS, 2 for TTC_ROLE_ATTENTION_MASK (ttc_plan_input_bound gives them); the
 * error names the file or flag, the position [b, s] and the value. The result has rank 2
 * [batch, seq]; a rank-1 input becomes [1, seq]. */
TtcStatus ttc_ids_load(const char *arg, const char *flag, TtcRole role, int64_t bound, TtcNpyArray *a,
                       TtcError *err);
/* Checks ids that ttc_ids_load read from `arg` (against a looser bound, e.g. only the int32 range
 * before a spec is compiled for their shape) against [0, bound), with ttc_ids_load's messages. */
TtcStatus ttc_ids_check(const TtcNpyArray *a, const char *arg, const char *flag, TtcRole role, int64_t bound,
                        TtcError *err);

#endif
