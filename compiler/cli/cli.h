/* cli.h: the `ttc` command: a table of subcommands, each with a declared option list from which
 * parsing, validation and `--help` text are all derived. */
#ifndef TTC_CLI_H
#define TTC_CLI_H

#include <stdint.h>

#include "compile.h"
#include "run_cli.h"
#include "ttc_runtime.h"

#define CLI_MAX_OPTS 32
#define CLI_MAX_VALUES 64
#define CLI_MAX_POS 4

typedef struct CliOpt {
    const char *name;    /* "--seq" */
    const char *metavar; /* "N"; NULL for a flag */
    int repeat;          /* may be given several times */
    const char *help;
} CliOpt;

typedef struct CliArgs {
    const char *values[CLI_MAX_OPTS][CLI_MAX_VALUES];
    int count[CLI_MAX_OPTS];
    const char *pos[CLI_MAX_POS];
    int n_pos;
} CliArgs;

typedef struct CliCommand CliCommand;
struct CliCommand {
    const char *name;
    const char *summary;
    const char *usage;   /* after "ttc NAME ": the positional arguments and the options they
                          * require; --help appends every other option of `opts` */
    const char *details; /* extra help text, may be NULL */
    int n_pos_min, n_pos_max;
    const CliOpt *opts;  /* terminated by {0} */
    int (*run)(const CliCommand *cmd, const CliArgs *a);
};

/* Parses argv (after the command name). Returns 0 ok, 1 on a usage error (already printed),
 * 2 on an internal one (a table longer than CLI_MAX_OPTS), -1 when --help or the hidden
 * --list-options (the table, one option per line, for tests) was printed. */
int cli_parse(const CliCommand *cmd, int argc, char **argv, CliArgs *a);
void cli_print_help(const CliCommand *cmd);

/* Option values: the last one given, or NULL / the default. */
const char *cli_get(const CliCommand *cmd, const CliArgs *a, const char *name);
int cli_flag(const CliCommand *cmd, const CliArgs *a, const char *name);
int cli_all(const CliCommand *cmd, const CliArgs *a, const char *name, const char ***values);
/* Integer option in [lo, hi]; 0 ok (or absent: *out = dflt), 1 on a bad value (printed). */
int cli_int(const CliCommand *cmd, const CliArgs *a, const char *name, int64_t lo, int64_t hi, int64_t dflt,
            int64_t *out);
/* Usage errors are printed with ttc_print_error (run_cli.h), as generated programs print theirs. */

/* Fills compile options from the common flags (--hw, --set, --batch, --seq, --max-seq, --mode,
 * --after, --disable-pass, --time-passes, --verbose) that `cmd` declares. 0 ok, 1 usage error. */
int cli_compile_options(const CliCommand *cmd, const CliArgs *a, CompileOptions *o);
/* compile_spec, printing every diagnostic; returns 0 or the exit status. */
int cli_compile_spec(const CompileOptions *o, Compilation *c);

/* Binds the model's weights from --weights FILE or --random-weights SEED (exactly one). */
TtcStatus cli_load_weights(const CliCommand *cmd, const CliArgs *a, TtcModel *m, int keep_fp32, TtcError *err);

/* "0.1.0 (COMMIT)": the release and the commit this ttc was built from (main.c). */
const char *cli_version(void);

/* The summary `ttc compile` prints after writing `out`. */
void cli_print_compile_summary(const Graph *g, const char *out);
/* --emit c / --emit exe: writes C source for `plan` to `out` (exe: compiles it there instead).
 * Returns 0 or the exit status, errors printed. */
int cli_emit_c(const TtcPlan *plan, const CompileOptions *o, int exe, const char *out);

/* The commands. */
int cmd_compile(const CliCommand *cmd, const CliArgs *a);
int cmd_run(const CliCommand *cmd, const CliArgs *a);
int cmd_dump_graph(const CliCommand *cmd, const CliArgs *a);
int cmd_passes(const CliCommand *cmd, const CliArgs *a);
int cmd_generate(const CliCommand *cmd, const CliArgs *a);

#endif
