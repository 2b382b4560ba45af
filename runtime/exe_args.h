/* exe_args.h: command-line flags of generated programs (internal to exe_args.c/exe_driver.c).
 *
 * The flags are those of `ttc run` and `ttc generate`, minus the plan argument: the program is
 * the plan. Parsing and messages follow compiler/cli/cli_args.c, with the program's name where
 * ttc prints "ttc run"; errors print with ttc_print_error and values parse with ttc_flag_int /
 * ttc_flag_real (run_cli.h), as ttc's do. */
#ifndef TTC_EXE_ARGS_H
#define TTC_EXE_ARGS_H

#include <stdint.h>

#include "ttc_exe.h"

typedef enum {
    EXE_WEIGHTS,
    EXE_RANDOM_WEIGHTS,
    EXE_INPUT_IDS,
    EXE_TOKEN_TYPE_IDS,
    EXE_ATTENTION_MASK,
    EXE_OUTPUT,
    EXE_OUTPUT_POOLED,
    EXE_REPEAT,
    EXE_PROMPT_IDS, /* generation (decoders) from here on */
    EXE_MAX_NEW_TOKENS,
    EXE_TEMPERATURE,
    EXE_TOP_K,
    EXE_TOP_P,
    EXE_SEED,
    EXE_IGNORE_EOS,
    EXE_OPT_COUNT
} ExeOptId;

typedef struct ExeArgs {
    const char *prog;                /* the program's name, for messages */
    const char *val[EXE_OPT_COUNT];  /* the value given, "" for a flag, NULL when absent */
} ExeArgs;

/* Parses argv[1..]. Returns 0 ok, 1 on a usage error (printed), -1 when --help or --version
 * was printed. */
int exe_parse_args(const TtcExeProgram *prog, int argc, char **argv, ExeArgs *a);
/* An integer flag in [lo, hi] (absent: dflt). 0 ok, 1 bad value (printed). */
int exe_int_arg(const ExeArgs *a, ExeOptId id, int64_t lo, int64_t hi, int64_t dflt, int64_t *out);
/* A real flag in [lo, hi] (absent: dflt). 0 ok, 1 bad value (printed). */
int exe_float_arg(const ExeArgs *a, ExeOptId id, double lo, double hi, double dflt, double *out);
/* The flag's name, e.g. "--input-ids". */
const char *exe_opt_name(ExeOptId id);
/* Whether a usage text names the option `name` as a whole word ("--seq" is not in "--max-seq N"):
 * what ttc's and generated programs' usage lines leave out of the bracketed list. */
int exe_usage_names_option(const char *text, const char *name);
/* One usage line of ttc's or a generated program's help, generated so that it cannot miss an
 * option: `head` ("usage: ttc run"; its width is the indent of continued lines), `required` (the
 * positional arguments and the options they require; may be ""), then words[i] ("[--seq N]")
 * of every option names[i] that `required` does not name, wrapped at 100 columns. */
void exe_usage_line(const char *head, const char *required, const char *const *names, const char *const *words,
                    int n);

#endif
