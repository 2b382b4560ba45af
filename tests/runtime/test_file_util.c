/* test_file_util.c: whole-file reads, mappings and the atomic writer (runtime/file_util.c). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_util.h"
#include "unit.h"

static int contains(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

/* Files in the directory of `path` whose names start with its base name followed by ".tmp." —
 * what a writer would leave behind if it failed to clean up. */
static int count_temp_files(const char *path) {
    char dir[768], prefix[768];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void test_read_file(void) {
    const char *path = unit_write_tmp("read.txt", "hello\0world", 11);
    char *buf = NULL;
    size_t len = 0;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    CU_ASSERT_EQUAL(len, 11);
    CU_ASSERT(memcmp(buf, "hello\0world", 11) == 0);
    CU_ASSERT_EQUAL(buf[11], 0); /* NUL after the data for text parsers */
    free(buf);

    path = unit_write_tmp("empty.txt", "", 0);
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_PTR_NOT_NULL(buf);
    if (buf) CU_ASSERT_EQUAL(buf[0], 0);
    free(buf);
}

/* /proc files report size 0 but have content: they must be read as streams. */
static void test_read_proc_file(void) {
    char *buf = NULL;
    size_t len = 0;
    TtcError err = {0};
    if (ttc_read_file("/proc/self/status", &buf, &len, &err) != TTC_OK) return; /* no /proc here */
    CU_ASSERT(len > 0);
    CU_ASSERT(contains(buf, "Name:"));
    free(buf);
}

static void test_read_file_errors(void) {
    char *buf = (char *)1;
    size_t len = 7;
    TtcError err = {0};
    const char *missing = unit_tmp_path("no-such-file");
    CU_ASSERT_EQUAL(ttc_read_file(missing, &buf, &len, &err), TTC_E_USER);
    CU_ASSERT_PTR_NULL(buf);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT(contains(err.msg, "no-such-file"));
    CU_ASSERT(contains(err.msg, "No such file"));

    const char *dir = unit_tmp_path("a-dir");
    mkdir(dir, 0777);
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_read_file(dir, &buf, &len, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "is a directory"));
    CU_ASSERT_PTR_NULL(buf);

    /* root ignores permission bits, so this check only means something for other users */
    if (geteuid() != 0) {
        const char *locked = unit_write_tmp("locked.txt", "x", 1);
        chmod(locked, 0);
        ttc_error_clear(&err);
        CU_ASSERT_EQUAL(ttc_read_file(locked, &buf, &len, &err), TTC_E_USER);
        CU_ASSERT(contains(err.msg, "Permission denied"));
        CU_ASSERT(err.hint[0] != 0);
        chmod(locked, 0600);
        unlink(locked);
    }
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_read_file("", &buf, &len, &err), TTC_E_USER);
    rmdir(dir);
}

static void test_map_file(void) {
    const char *path = unit_write_tmp("map.bin", "abcdef", 6);
    void *map = NULL;
    size_t len = 0;
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_map_file(path, &map, &len, &err), TTC_OK);
    CU_ASSERT_EQUAL(len, 6);
    CU_ASSERT(memcmp(map, "abcdef", 6) == 0);
    ttc_unmap_file(map, len);

    path = unit_write_tmp("map-empty.bin", "", 0);
    CU_ASSERT_EQUAL(ttc_map_file(path, &map, &len, &err), TTC_OK);
    CU_ASSERT_PTR_NULL(map);
    CU_ASSERT_EQUAL(len, 0);
    ttc_unmap_file(map, len);

    CU_ASSERT_EQUAL(ttc_map_file(unit_tmp_path("no-such-map"), &map, &len, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "No such file"));
    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_map_file("/", &map, &len, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "is a directory"));
}

static void test_atomic_write_and_replace(void) {
    const char *path = unit_tmp_path("atomic.txt");
    TtcError err = {0};
    CU_ASSERT_EQUAL_FATAL(ttc_write_file_atomic(path, "first", 5, &err), TTC_OK);
    CU_ASSERT_EQUAL_FATAL(ttc_write_file_atomic(path, "second!", 7, &err), TTC_OK);
    char *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    CU_ASSERT_EQUAL(len, 7);
    CU_ASSERT(memcmp(buf, "second!", 7) == 0);
    free(buf);
    CU_ASSERT_EQUAL(count_temp_files(path), 0);

    /* The file gets ordinary permissions, not mkstemp's 0600. */
    mode_t mask = umask(0);
    umask(mask);
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0666 & ~mask);
    unlink(path);
}

static void test_atomic_stream_use(void) {
    const char *path = unit_tmp_path("atomic-stream.txt");
    TtcError err = {0};
    TtcAtomicFile af;
    CU_ASSERT_EQUAL_FATAL(ttc_atomic_open(&af, path, &err), TTC_OK);
    CU_ASSERT_PTR_NOT_NULL(af.tmp_path);
    CU_ASSERT(!exists(path)); /* nothing at the destination until commit */
    fprintf(af.f, "n=%d;", 42);
    CU_ASSERT_EQUAL(ttc_atomic_write(&af, "ok", 2, &err), TTC_OK);
    CU_ASSERT_EQUAL_FATAL(ttc_atomic_commit(&af, &err), TTC_OK);
    CU_ASSERT_PTR_NULL(af.tmp_path);
    char *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_read_file(path, &buf, &len, &err), TTC_OK);
    CU_ASSERT_STRING_EQUAL(buf, "n=42;ok");
    free(buf);
    ttc_atomic_abort(&af); /* harmless after commit: must not remove the committed file */
    CU_ASSERT(exists(path));
    unlink(path);
}

static void test_atomic_abort_leaves_nothing(void) {
    const char *path = unit_tmp_path("atomic-abort.txt");
    TtcError err = {0};
    TtcAtomicFile af;
    CU_ASSERT_EQUAL_FATAL(ttc_atomic_open(&af, path, &err), TTC_OK);
    CU_ASSERT_EQUAL(ttc_atomic_write(&af, "partial", 7, &err), TTC_OK);
    CU_ASSERT_EQUAL(count_temp_files(path), 1);
    ttc_atomic_abort(&af);
    ttc_atomic_abort(&af); /* twice is fine */
    CU_ASSERT_EQUAL(count_temp_files(path), 0);
    CU_ASSERT(!exists(path));
}

static void test_atomic_missing_directory(void) {
    const char *path = unit_tmp_path("no-such-dir/out.bin");
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_write_file_atomic(path, "x", 1, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "does not exist"));
    CU_ASSERT(contains(err.msg, "no-such-dir"));
    CU_ASSERT(contains(err.hint, "mkdir"));
    CU_ASSERT(!exists(path));
    CU_ASSERT(!exists(unit_tmp_path("no-such-dir")));
}

static void test_atomic_onto_directory(void) {
    const char *dir = unit_tmp_path("out-is-dir");
    mkdir(dir, 0777);
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_write_file_atomic(dir, "x", 1, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "directory"));
    CU_ASSERT_EQUAL(count_temp_files(dir), 0);
    struct stat sb;
    CU_ASSERT(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
    rmdir(dir);

    ttc_error_clear(&err);
    CU_ASSERT_EQUAL(ttc_write_file_atomic("", "x", 1, &err), TTC_E_USER);
}

static void test_atomic_write_failure_cleans_up(void) {
    /* /dev/full is not a directory we can create in; a path inside a regular file fails on
     * open with ENOTDIR. Either way nothing may appear. */
    const char *file = unit_write_tmp("plain-file", "x", 1);
    char path[800];
    snprintf(path, sizeof path, "%s/inner.bin", file);
    TtcError err = {0};
    CU_ASSERT_EQUAL(ttc_write_file_atomic(path, "x", 1, &err), TTC_E_USER);
    CU_ASSERT(contains(err.msg, "inner.bin"));
    unlink(file);
}

static CU_TestInfo file_tests[] = {
    {"read whole file", test_read_file},
    {"read a /proc file (size 0 in stat)", test_read_proc_file},
    {"read errors: missing, directory, permission", test_read_file_errors},
    {"map file", test_map_file},
    {"atomic write and replace", test_atomic_write_and_replace},
    {"atomic writer through the FILE stream", test_atomic_stream_use},
    {"atomic abort leaves nothing", test_atomic_abort_leaves_nothing},
    {"atomic write into a missing directory", test_atomic_missing_directory},
    {"atomic write onto a directory", test_atomic_onto_directory},
    {"atomic write below a regular file", test_atomic_write_failure_cleans_up},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"file_util", NULL, NULL, NULL, NULL, file_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
