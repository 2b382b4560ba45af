/* file_util.h: whole-file reads, read-only mappings and atomic writes, with errors that say
 * which file and what went wrong (not found, a directory, permission, disk full).
 *
 * Every file ttc produces (plans, weights, .npy outputs) goes through the atomic writer, so a
 * failed or interrupted run never leaves a half-written file at the destination (DESIGN.md §2). */
#ifndef TTC_FILE_UTIL_H
#define TTC_FILE_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include "ttc_types.h"

/* Reads a whole file into a malloc'ed buffer of *len bytes, followed by one NUL byte that is not
 * counted in *len (so text parsers can treat it as a C string). On failure *buf is NULL. */
TtcStatus ttc_read_file(const char *path, char **buf, size_t *len, TtcError *err);

/* Maps a whole regular file read-only. An empty file gives *map == NULL, *len == 0. */
TtcStatus ttc_map_file(const char *path, void **map, size_t *len, TtcError *err);
void ttc_unmap_file(void *map, size_t len);

/* Atomic writer: data goes to a temp file "<path>.tmp.XXXXXX" in the destination's directory,
 * which commit renames over `path` once everything reached the disk. Use:
 *
 *     TtcAtomicFile af;
 *     if (ttc_atomic_open(&af, path, err)) return err->status;
 *     if (ttc_atomic_write(&af, buf, n, err)) goto fail;    // or fprintf(af.f, ...)
 *     return ttc_atomic_commit(&af, err);                    // aborts by itself on failure
 *   fail:
 *     ttc_atomic_abort(&af);
 *
 * Writers may also use af.f directly (fprintf, fwrite): commit checks the stream's error flag. */
typedef struct TtcAtomicFile {
    char *path;     /* destination */
    char *tmp_path; /* the temp file while open; NULL after commit or abort */
    FILE *f;        /* write here */
} TtcAtomicFile;

TtcStatus ttc_atomic_open(TtcAtomicFile *af, const char *path, TtcError *err);
TtcStatus ttc_atomic_write(TtcAtomicFile *af, const void *data, size_t len, TtcError *err);
/* Flushes, syncs, gives the file the usual permissions (0666 minus umask) and renames it to
 * `path`. On failure the temp file is removed and `path` is untouched. Frees `af` either way. */
TtcStatus ttc_atomic_commit(TtcAtomicFile *af, TtcError *err);
/* Removes the temp file and frees `af`. Safe after commit, after a failed open and twice. */
void ttc_atomic_abort(TtcAtomicFile *af);

/* One-shot form of the above for data already in memory. */
TtcStatus ttc_write_file_atomic(const char *path, const void *data, size_t len, TtcError *err);

#endif
