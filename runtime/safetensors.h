/* safetensors.h: memory-mapped reader (and a small writer for tests and tools) of the
 * safetensors format: 8-byte little-endian header length, JSON header, raw data. */
#ifndef TTC_SAFETENSORS_H
#define TTC_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "ttc_types.h"

#define TTC_ST_MAX_RANK 8

typedef struct TtcStEntry {
    char *name;
    char dtype[8];  /* as in the file: "F32", "F16", "BF16", "I64", ... */
    int32_t rank;
    int64_t shape[TTC_ST_MAX_RANK];
    size_t begin, end; /* byte offsets into the data section, validated against the file */
} TtcStEntry;

typedef struct TtcSafetensors {
    char *path;
    void *map;       /* whole file, read-only mapping */
    size_t map_len;
    size_t data_off; /* 8 + header length */
    int32_t n;
    TtcStEntry *entries;
} TtcSafetensors;

/* Opens and validates the header (JSON syntax, dtypes, shapes, offsets in range and consistent
 * with dtype x shape). Errors name the file and what is wrong. */
TtcStatus ttc_st_open(TtcSafetensors *st, const char *path, TtcError *err);
const TtcStEntry *ttc_st_find(const TtcSafetensors *st, const char *name);
/* Number of elements of an entry (1 for rank 0). Validated on open: never negative there. */
int64_t ttc_st_numel(const TtcStEntry *e);
/* Converts an F32, F16 or BF16 entry to fp32 into dst (numel floats). Other dtypes: user error. */
TtcStatus ttc_st_read_f32(const TtcSafetensors *st, const TtcStEntry *e, float *dst, TtcError *err);
void ttc_st_close(TtcSafetensors *st);

/* Writer: F32 tensors, written atomically (temp file + rename). */
typedef struct TtcStTensorOut {
    const char *name;
    const float *data;
    int32_t rank;
    int64_t shape[TTC_ST_MAX_RANK];
} TtcStTensorOut;
TtcStatus ttc_st_write_f32(const char *path, const TtcStTensorOut *t, int32_t n, TtcError *err);

#endif
