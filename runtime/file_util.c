/* file_util.c: whole-file reads, mappings and atomic writes (see file_util.h). */
#include "file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The errno of a failed open/read/write as a message with a hint, or an internal error when the
 * machine ran out of memory (the user cannot fix that by changing the input). */
static TtcStatus io_fail(TtcError *err, int e, const char *verb, const char *path) {
    if (e == ENOMEM) return ttc_fail(err, TTC_E_INTERNAL, "cannot %s '%s': out of memory", verb, path);
    ttc_fail(err, TTC_E_USER, "cannot %s '%s': %s", verb, path, strerror(e));
    if (e == ENOENT)
        ttc_hint(err, "check the path (relative paths start from the current directory)");
    else if (e == EACCES || e == EPERM)
        ttc_hint(err, "check the permissions of the file and of its directory");
    else if (e == ENOSPC || e == EDQUOT)
        ttc_hint(err, "free some disk space or write somewhere else");
    return TTC_E_USER;
}

/* Opens for reading and rejects directories, which open(2) accepts but read(2) then refuses. */
static TtcStatus open_for_read(const char *path, int *fd, struct stat *sb, TtcError *err) {
    *fd = -1;
    if (!path || !*path) return ttc_fail(err, TTC_E_USER, "empty file name");
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) return io_fail(err, errno, "open", path);
    if (fstat(f, sb) != 0) {
        int e = errno;
        close(f);
        return io_fail(err, e, "inspect", path);
    }
    if (S_ISDIR(sb->st_mode)) {
        close(f);
        return ttc_fail(err, TTC_E_USER, "'%s' is a directory, expected a file", path);
    }
    *fd = f;
    return TTC_OK;
}

TtcStatus ttc_read_file(const char *path, char **buf, size_t *len, TtcError *err) {
    *buf = NULL;
    *len = 0;
    int fd;
    struct stat sb;
    if (open_for_read(path, &fd, &sb, err)) return err->status;
    /* Regular files are read in one allocation of the known size; pipes, other streams and
     * files that report size 0 (/proc) grow the buffer as they go. */
    int regular = S_ISREG(sb.st_mode) && sb.st_size > 0;
    if (regular && (uint64_t)sb.st_size >= (uint64_t)SIZE_MAX / 2) {
        close(fd);
        return ttc_fail(err, TTC_E_USER, "'%s' is too large to read into memory", path);
    }
    size_t cap = regular ? (size_t)sb.st_size + 1 : 4096, n = 0;
    char *p = malloc(cap);
    if (!p) goto oom;
    for (;;) {
        if (n + 1 == cap) {
            if (regular) break; /* got st_size bytes; a file growing under us is cut there */
            if (cap > SIZE_MAX / 4) goto oom;
            char *q = realloc(p, cap * 2);
            if (!q) goto oom;
            p = q;
            cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(p);
            close(fd);
            return io_fail(err, e, "read", path);
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    p[n] = 0;
    *buf = p;
    *len = n;
    return TTC_OK;
oom:
    free(p);
    close(fd);
    return ttc_fail(err, TTC_E_INTERNAL, "cannot read '%s': out of memory", path);
}

TtcStatus ttc_map_file(const char *path, void **map, size_t *len, TtcError *err) {
    *map = NULL;
    *len = 0;
    int fd;
    struct stat sb;
    if (open_for_read(path, &fd, &sb, err)) return err->status;
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return ttc_fail(err, TTC_E_USER, "'%s' is not a regular file (it cannot be memory-mapped)", path);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return ttc_fail(err, TTC_E_USER, "'%s' is too large to map", path);
    }
    size_t n = (size_t)sb.st_size;
    if (n == 0) { /* mmap refuses length 0; an empty file is simply empty */
        close(fd);
        return TTC_OK;
    }
    void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file alive */
    if (m == MAP_FAILED) return io_fail(err, e, "map", path);
    *map = m;
    *len = n;
    return TTC_OK;
}

void ttc_unmap_file(void *map, size_t len) {
    if (map && len) munmap(map, len);
}

/* The directory part of `path`, for messages ("." when there is none). */
static void dir_of(const char *path, char *out, size_t n) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else if (slash == path)
        snprintf(out, n, "/");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

TtcStatus ttc_atomic_open(TtcAtomicFile *af, const char *path, TtcError *err) {
    memset(af, 0, sizeof *af);
    if (!path || !*path) return ttc_fail(err, TTC_E_USER, "empty output file name");
    size_t n = strlen(path);
    af->path = malloc(n + 1);
    af->tmp_path = malloc(n + sizeof ".tmp.XXXXXX");
    if (!af->path || !af->tmp_path) {
        ttc_atomic_abort(af);
        return ttc_fail(err, TTC_E_INTERNAL, "cannot write '%s': out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    /* Same directory as the destination, so the final rename never crosses file systems. */
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL; /* nothing was created: abort must not unlink a stranger's file */
        ttc_atomic_abort(af);
        char dir[512];
        dir_of(path, dir, sizeof dir);
        if (e == ENOENT) {
            ttc_fail(err, TTC_E_USER, "cannot write '%s': directory '%s' does not exist", path, dir);
            ttc_hint(err, "create it first (mkdir -p '%s') or choose another output path", dir);
            return TTC_E_USER;
        }
        if (e == EACCES || e == EPERM || e == EROFS) {
            ttc_fail(err, TTC_E_USER, "cannot write '%s': cannot create files in '%s' (%s)", path, dir,
                     strerror(e));
            ttc_hint(err, "choose an output path in a directory you can write to");
            return TTC_E_USER;
        }
        return io_fail(err, e, "write", path);
    }
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int e = errno;
        close(fd);
        ttc_atomic_abort(af);
        return io_fail(err, e, "write", path);
    }
    return TTC_OK;
}

TtcStatus ttc_atomic_write(TtcAtomicFile *af, const void *data, size_t len, TtcError *err) {
    if (!af->f) return ttc_fail(err, TTC_E_INTERNAL, "atomic write to a file that is not open");
    if (len == 0) return TTC_OK;
    errno = 0;
    if (fwrite(data, 1, len, af->f) != len) return io_fail(err, errno ? errno : EIO, "write", af->path);
    return TTC_OK;
}

TtcStatus ttc_atomic_commit(TtcAtomicFile *af, TtcError *err) {
    if (!af->f || !af->tmp_path) {
        ttc_atomic_abort(af);
        return ttc_fail(err, TTC_E_INTERNAL, "commit of an atomic file that is not open");
    }
    int fd = fileno(af->f);
    errno = 0;
    if (fflush(af->f) != 0 || ferror(af->f)) {
        io_fail(err, errno ? errno : EIO, "write", af->path);
        goto fail;
    }
    /* Some file systems cannot sync (EINVAL); the data is still written, so that is not fatal. */
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
        io_fail(err, errno, "write", af->path);
        goto fail;
    }
    /* mkstemp creates 0600; give the file the permissions any other new file would get.
     * Reading the umask means setting it, which is why it is put back at once. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    FILE *f = af->f;
    af->f = NULL;
    if (fclose(f) != 0) { /* network file systems report write errors only here */
        io_fail(err, errno, "write", af->path);
        goto fail;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        int e = errno;
        if (e == EISDIR)
            ttc_fail(err, TTC_E_USER, "cannot write '%s': it is a directory", af->path);
        else
            io_fail(err, e, "write", af->path);
        goto fail;
    }
    free(af->tmp_path);
    af->tmp_path = NULL;
    ttc_atomic_abort(af); /* frees path; nothing left to remove */
    return TTC_OK;
fail:
    ttc_atomic_abort(af);
    return err ? err->status : TTC_E_USER;
}

void ttc_atomic_abort(TtcAtomicFile *af) {
    if (af->f) fclose(af->f);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
}

TtcStatus ttc_write_file_atomic(const char *path, const void *data, size_t len, TtcError *err) {
    TtcAtomicFile af;
    if (ttc_atomic_open(&af, path, err)) return err->status;
    if (ttc_atomic_write(&af, data, len, err)) {
        ttc_atomic_abort(&af);
        return err->status;
    }
    return ttc_atomic_commit(&af, err);
}
