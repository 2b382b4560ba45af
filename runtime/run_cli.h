/* run_cli.h: the command-line side of running a plan, shared by the `ttc` command
 * (compiler/cli) and the programs `ttc compile --emit exe` builds (exe_driver.c), so that both
 * read the same flags the same way and print the same messages: usage errors, numeric flag
 * values, the inputs named by --input-ids / --token-type-ids / --attention-mask, and the outputs
 * printed and written after a forward. */
#ifndef TTC_RUN_CLI_H
#define TTC_RUN_CLI_H

#include <stdint.h>

#include "npy.h"
#include "ttc_runtime.h"

/* Prints "error: ..." (and "  hint: ...") to stderr, as ttc_error_print does; returns 1 (the
 * user-error exit status). For what the command itself finds outside any TtcError: mistakes in
 * the command line, files it cannot write. */
int ttc_print_error(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The value of option `name` at argv[*i], whose "=value" part is `eq` (NULL without one): after
 * the '=', else the next argument (*i moves on to it); NULL for a flag (`metavar` NULL), which
 * takes none. 0 ok, 1 on a usage error printed with `who` ("ttc run", or the program's name). */
int ttc_flag_value(const char *who, const char *name, const char *metavar, const char *eq, int argc, char **argv,
                   int *i, const char **val);
/* The value `text` of `flag` as a whole number in [lo, hi]; absent (NULL): *out = dflt.
 * 0 ok, 1 on a bad value (printed, naming the flag). */
int ttc_flag_int(const char *flag, const char *text, int64_t lo, int64_t hi, int64_t dflt, int64_t *out);
/* The same for a real number in [lo, hi]. */
int ttc_flag_real(const char *flag, const char *text, double lo, double hi, double dflt, double *out);

/* The inputs of one forward, as the flags gave them, and the arrays they live in. */
typedef struct TtcInputFiles {
    TtcNpyArray ids, token_type_ids, attention_mask;
    TtcInputs in; /* points into the arrays */
} TtcInputFiles;

/* The exclusive upper bound of the values of the input with `role` (ttc_ids_load): vocab_size for
 * ids, the token type table's rows (1 without one: only 0), 2 for the attention mask; with no plan
 * yet (p NULL), only the int32 range (the mask: 2). */
int64_t ttc_plan_input_bound(const TtcPlan *p, TtcRole role);

/* Loads --input-ids (required: `who` names the program in the error, `hint_more` is appended to
 * its hint) and the optional --token-type-ids and --attention-mask (NULL when absent), which
 * must have the ids' shape. Each argument is a .npy file or a literal list (ttc_ids_load), its
 * values checked against plan `p` (NULL: only the int32 range, for ttc_inputs_check to finish
 * once there is a plan). Free with ttc_inputs_free, also after a failure. */
TtcStatus ttc_inputs_load(TtcInputFiles *f, const TtcPlan *p, const char *who, const char *hint_more,
                          const char *input_ids, const char *token_type_ids, const char *attention_mask,
                          TtcError *err);
/* Checks inputs that ttc_inputs_load read with p NULL (before a spec was compiled for their
 * shape) against plan `p`, with the same messages; the arguments are those given to it. */
TtcStatus ttc_inputs_check(const TtcInputFiles *f, const TtcPlan *p, const char *input_ids, const char *token_type_ids,
                           const char *attention_mask, TtcError *err);
void ttc_inputs_free(TtcInputFiles *f);

/* Prints the output with `role` after a forward: its role, dims and first values (nothing when
 * the model has no such output). */
void ttc_output_print(TtcSession *s, TtcRole role);
/* Writes the output with `role` to `path` as float32 .npy (nothing when `path` is NULL); a model
 * without that output is a user error naming `flag`. */
TtcStatus ttc_output_write(TtcSession *s, TtcRole role, const char *path, const char *flag, TtcError *err);

#endif
