/* cmd_emit.c: `ttc compile --emit c|exe`: the plan as C source (codegen/cg_c.c) and, for exe,
 * that source built by the system C compiler against this build's runtime library and OpenBLAS.
 *
 * Nothing is left at -o unless it is complete: the C goes through the atomic writer, and the
 * executable is linked to a temp name and renamed over -o only when the compiler succeeded. A
 * failed build keeps the generated C next to the output, named in the error, for inspection. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cg.h"
#include "cli.h"
#include "file_util.h"
#include "pass.h"

extern char **environ;

/* Set by CMakeLists.txt for the `ttc` target: where this build's runtime lives. */
#ifndef TTC_RUNTIME_LIB
#define TTC_RUNTIME_LIB "libttc_runtime.a"
#endif
#ifndef TTC_EXE_LINK_FLAGS
#define TTC_EXE_LINK_FLAGS "-lopenblas -lm"
#endif
#define TTC_RUNTIME_INCLUDE TTC_SOURCE_DIR "/runtime"

#define CMD_MAX 8192
#define ARGV_MAX 256

/* Appends `arg` to a command line for humans, quoted for a POSIX shell when needed. */
static void append_word(char *buf, size_t n, const char *arg) {
    size_t k = strlen(buf);
    int plain = *arg != 0;
    for (const char *s = arg; *s && plain; s++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=,:+-@%", *s) != NULL;
    if (k && k + 1 < n) buf[k++] = ' ';
    if (plain) {
        snprintf(buf + k, n - k, "%s", arg);
        return;
    }
    if (k < n) buf[k++] = '\'';
    for (const char *s = arg; *s && k + 5 < n; s++) {
        if (*s == '\'') {
            memcpy(buf + k, "'\\''", 4); /* close, escaped quote, reopen */
            k += 4;
        } else {
            buf[k++] = *s;
        }
    }
    if (k + 1 < n) buf[k++] = '\'';
    buf[k < n ? k : n - 1] = 0;
}

/* The ttc command that regenerates the output: the user's flags, with the bounds made explicit
 * (a default --seq depends on the spec, a rebuild should not). */
static void ttc_command(const TtcPlan *plan, const CompileOptions *o, int exe, const char *out, char *buf, size_t n) {
    char num[32];
    buf[0] = 0;
    append_word(buf, n, "ttc");
    append_word(buf, n, "compile");
    append_word(buf, n, o->spec);
    for (int i = 0; i < o->n_hw; i++) {
        append_word(buf, n, "--hw");
        append_word(buf, n, o->hw[i]);
    }
    for (int i = 0; i < o->n_sets; i++) {
        append_word(buf, n, "--set");
        append_word(buf, n, o->sets[i]);
    }
    const struct { const char *flag; int64_t v; int show; } bounds[] = {
        {"--batch", plan->max_batch, 1},
        {"--seq", plan->max_seq, 1},
        {"--max-seq", plan->max_ctx, plan->model_type == TTC_MODEL_DECODER},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        if (!bounds[i].show) continue;
        snprintf(num, sizeof num, "%lld", (long long)bounds[i].v);
        append_word(buf, n, bounds[i].flag);
        append_word(buf, n, num);
    }
    for (int i = 0; i < o->n_disabled; i++) {
        append_word(buf, n, "--disable-pass");
        append_word(buf, n, pass_name((PassId)o->disabled[i]));
    }
    append_word(buf, n, "--emit");
    append_word(buf, n, exe ? "exe" : "c");
    append_word(buf, n, "-o");
    append_word(buf, n, out);
}

/* The compiler's argv: $CC (split on blanks, e.g. "ccache gcc") or cc, then the flags. Returns
 * the count, or -1 when it does not fit. `words` backs the strings. */
static int compiler_argv(const char *c_path, const char *exe_path, char *words, size_t n, char **argv) {
    const char *cc = getenv("CC");
    if (!cc || !*cc) cc = "cc";
    snprintf(words, n, "%s", cc);
    size_t used = strlen(words) + 1;
    if (used + strlen(TTC_EXE_LINK_FLAGS) + 1 > n) return -1;
    char *link = words + used;
    memcpy(link, TTC_EXE_LINK_FLAGS, strlen(TTC_EXE_LINK_FLAGS) + 1);
    int argc = 0;
    for (char *w = strtok(words, " \t"); w && argc < ARGV_MAX - 16; w = strtok(NULL, " \t")) argv[argc++] = w;
    const char *fixed[] = {"-std=c11", "-O2", "-I", TTC_RUNTIME_INCLUDE, c_path, "-o", exe_path, TTC_RUNTIME_LIB};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) argv[argc++] = (char *)fixed[i];
    for (char *w = strtok(link, " \t"); w && argc < ARGV_MAX - 1; w = strtok(NULL, " \t")) argv[argc++] = w;
    argv[argc] = NULL;
    return argc;
}

static void argv_text(char *const *argv, char *buf, size_t n) {
    buf[0] = 0;
    for (int i = 0; argv[i]; i++) append_word(buf, n, argv[i]);
}

/* A plan the emitter refuses (a form it cannot express yet, e.g. a sharded plan) is the user's to
 * change: exit 1. Anything else it fails on is a ttc bug: exit 2. */
static int report_emit_error(const TtcError *err) {
    if (err->status != TTC_E_USER) fprintf(stderr, "internal: ");
    ttc_error_print(err);
    return err->status == TTC_E_USER ? 1 : 2;
}

static int emit_source(const TtcPlan *plan, const CgCOptions *co, const char *out) {
    TtcError err = {0};
    TtcAtomicFile af;
    if (ttc_atomic_open(&af, out, &err) != TTC_OK) {
        ttc_error_print(&err);
        return err.status;
    }
    if (cg_c_write(plan, co, af.f, &err) != TTC_OK) {
        ttc_atomic_abort(&af);
        return report_emit_error(&err);
    }
    if (ttc_atomic_commit(&af, &err) != TTC_OK) {
        ttc_error_print(&err);
        return err.status;
    }
    return 0;
}

/* The mode a program gets when the linker creates it: 0777 less the umask (0755 with the usual
 * 022). The linker writes over the temp file mkstemp reserved (0600) and only adds the execute
 * bits (0711), so the mode is set explicitly. umask() can only be read by setting it: it is put
 * back at once (ttc runs no other thread while it compiles). */
static mode_t program_mode(void) {
    mode_t mask = umask(077);
    umask(mask);
    return 0777 & ~mask;
}

/* Runs argv, waits; returns its exit status, 127 when it could not start (errno in *spawn_err). */
static int run_compiler(char **argv, int *spawn_err) {
    pid_t pid;
    *spawn_err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (*spawn_err) return 127;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 127;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int emit_exe(const TtcPlan *plan, CgCOptions *co, const char *out) {
    size_t len = strlen(out) + 32;
    char *c_path = malloc(len), *exe_tmp = malloc(len), *words = malloc(CMD_MAX), *build = malloc(CMD_MAX);
    char *argv[ARGV_MAX];
    int rc = 0, fd = -1;
    if (!c_path || !exe_tmp || !words || !build) {
        rc = ttc_print_error(NULL, "out of memory");
        goto done;
    }
    /* Both temp files sit next to the output: same file system, so the final rename is atomic. */
    snprintf(c_path, len, "%s.XXXXXX.c", out);
    snprintf(exe_tmp, len, "%s.tmp.XXXXXX", out);
    fd = mkstemps(c_path, 2);
    if (fd < 0) {
        rc = ttc_print_error("check that the output directory exists and is writable", "cannot create %s: %s",
                             c_path, strerror(errno));
        goto done;
    }
    int exe_fd = mkstemp(exe_tmp);
    if (exe_fd < 0) {
        rc = ttc_print_error("check that the output directory exists and is writable", "cannot create %s: %s",
                             exe_tmp, strerror(errno));
        unlink(c_path);
        goto done;
    }
    close(exe_fd);
    if (compiler_argv(c_path, exe_tmp, words, CMD_MAX, argv) < 0) {
        rc = ttc_print_error("shorten $CC", "the C compiler command line is too long");
        unlink(c_path);
        unlink(exe_tmp);
        goto done;
    }
    argv_text(argv, build, CMD_MAX);
    co->build = build;
    FILE *f = fdopen(fd, "w");
    TtcError err = {0};
    if (!f) {
        rc = ttc_print_error(NULL, "cannot write %s: %s", c_path, strerror(errno));
    } else {
        fd = -1; /* the stream owns it now */
        if (cg_c_write(plan, co, f, &err) != TTC_OK) rc = report_emit_error(&err);
        if (fclose(f) != 0 && rc == 0) rc = ttc_print_error(NULL, "cannot write %s: %s", c_path, strerror(errno));
    }
    if (rc) {
        unlink(c_path);
        unlink(exe_tmp);
        goto done;
    }
    int spawn_err = 0, status = run_compiler(argv, &spawn_err);
    if (status != 0) {
        unlink(exe_tmp);
        char hint[512];
        if (spawn_err) {
            unlink(c_path);
            rc = ttc_print_error("install a C compiler, or point CC at one", "cannot run the C compiler '%s': %s",
                                 argv[0], strerror(spawn_err));
            goto done;
        }
        snprintf(hint, sizeof hint, "the generated C is kept at %s; the command was: %s", c_path, build);
        ttc_print_error(hint, "the C compiler '%s' failed (exit status %d) on the generated file %s", argv[0], status,
                        c_path);
        rc = 2; /* the generated C, or the runtime it links, is ttc's responsibility */
        goto done;
    }
    if (chmod(exe_tmp, program_mode()) != 0) {
        rc = ttc_print_error("check that the output directory is writable", "cannot make %s executable: %s",
                             exe_tmp, strerror(errno));
        unlink(exe_tmp);
        unlink(c_path);
        goto done;
    }
    if (rename(exe_tmp, out) != 0) {
        rc = ttc_print_error("check that the output directory is writable", "cannot write %s: %s", out,
                             strerror(errno));
        unlink(exe_tmp);
        unlink(c_path);
        goto done;
    }
    unlink(c_path);
done:
    if (fd >= 0) close(fd);
    free(c_path);
    free(exe_tmp);
    free(words);
    free(build);
    return rc;
}

int cli_emit_c(const TtcPlan *plan, const CompileOptions *o, int exe, const char *out) {
    char command[CMD_MAX];
    ttc_command(plan, o, exe, out, command, sizeof command);
    CgCOptions co = {o->spec, o->hw, o->n_hw, o->sets, o->n_sets, command, NULL};
    if (exe) return emit_exe(plan, &co, out);
    char build[CMD_MAX], exe_name[1024];
    /* How to build it by hand: the same command `--emit exe` runs, named after the file. */
    size_t n = strlen(out);
    snprintf(exe_name, sizeof exe_name, "%.*s", (int)(n > 2 && strcmp(out + n - 2, ".c") == 0 ? n - 2 : n), out);
    if (strcmp(exe_name, out) == 0) snprintf(exe_name, sizeof exe_name, "%s.exe", out);
    char words[CMD_MAX], *argv[ARGV_MAX];
    if (compiler_argv(out, exe_name, words, sizeof words, argv) >= 0) {
        argv_text(argv, build, sizeof build);
        co.build = build;
    }
    return emit_source(plan, &co, out);
}
