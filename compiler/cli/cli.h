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
 * --after, --disable-pass, --time-passes, --verbose, --allow-misfit) that `cmd` declares; the
 * spec is a->pos[0]. 0 ok, 1 usage error. */
int cli_compile_options(const CliCommand *cmd, const CliArgs *a, CompileOptions *o);
/* compile_spec, printing every diagnostic; returns 0 or the exit status. */
int cli_compile_spec(const CompileOptions *o, Compilation *c);
/* compile_to_plan, printing every diagnostic (what does not fit as `ttc check` does), then the
 * loader's validation of the plan. 0, or the exit status (*plan empty). Free c either way. */
int cli_compile_plan(const CompileOptions *o, const char *producer, Compilation *c, TtcPlan *plan);

/* The rows run, generate and profile add to their options so that PLAN may be a SPEC, compiled
 * in memory (DESIGN.md §2); with a plan file they are usage errors, but --allow-misfit. */
#define CLI_SPEC_AS_PLAN_OPTS                                                                                        \
    {"--hw", "HW.yaml", 1, "SPEC only: hardware-config overlay, applied in order"},                                 \
    {"--set", "PATH=VALUE", 1, "SPEC only: override one config field (applied last)"},                              \
    {"--batch", "N", 0, "SPEC only: most sequences per run (default: the input's)"},                                \
    {"--seq", "N", 0, "SPEC only: most tokens per sequence (default: the input's)"},                                \
    {"--max-seq", "N", 0, "SPEC only: most tokens of context, decoders (default: what the command needs)"},         \
    {"--disable-pass", "NAME", 1, "SPEC only: skip an optional pass (ttc passes lists them)"},                      \
    {"--allow-misfit", NULL, 0, "run even what does not fit the device (L1 per core, DRAM per chip), on the emulator"}

/* The bounds a SPEC given as PLAN is compiled with where its flags do not say: the input's. */
typedef struct CliBounds {
    int64_t batch, seq, max_seq; /* 0: the compiler's default */
} CliBounds;
/* Opens what run, generate and profile execute: a plan file (told by its magic), or a spec
 * compiled in memory with the flags of CLI_SPEC_AS_PLAN_OPTS and `dflt`. The verdict comes before
 * any weights: a spec that does not fit, or a plan compiled with --allow-misfit, is refused
 * unless --allow-misfit is given. Returns 0 or the exit status, every message printed. */
int cli_open_model(const CliCommand *cmd, const CliArgs *a, const CliBounds *dflt, TtcModel *m);
/* Reads --input-ids, --token-type-ids and --attention-mask once, for the shape a spec is
 * compiled for (values only within the int32 range); cli_inputs_check then bounds the values by
 * the plan's vocabulary and tables (ttc_plan_input_bound). */
TtcStatus cli_inputs_load(const CliCommand *cmd, const CliArgs *a, TtcInputFiles *r, TtcError *err);
TtcStatus cli_inputs_check(const CliCommand *cmd, const CliArgs *a, const TtcPlan *p, const TtcInputFiles *r,
                           TtcError *err);
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
