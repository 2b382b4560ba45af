/* cli_advice.h: printing what does not fit the device with checked fixes (cli_advice.c). */
#ifndef TTC_CLI_ADVICE_H
#define TTC_CLI_ADVICE_H

#include "advice.h"

/* Prints the device-memory problems of `c` (compiled from `o`), each followed by the fixes that
 * fix it when tried ("  suggestion: --set ...: DRAM 13.60 GiB → 8.68 GiB per chip of 12.00 GiB:
 * fits"), at most ADVICE_MAX_TRIES compiles per problem; with `verbose` also what was dropped.
 * The pass reported the problems, merged, as c->diags.v[dm[0] .. dm[1] - 1] in the same order:
 * each is printed with its diagnostic's severity. */
/* `before` is what the candidates are measured against: c's figures when c was compiled by
 * advice_compile(o) (ttc check), or NULL to recompile o that way (c stopped at the misfit). */
void cli_print_device_problems(const CompileOptions *o, Compilation *c, const int dm[2], const AdviceFigures *before,
                               int verbose);

#endif
