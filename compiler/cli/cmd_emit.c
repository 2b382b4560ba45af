/* cmd_emit.c: `ttc compile --emit c|exe`. */
#include "cli.h"

int cli_emit_c(const TtcPlan *plan, const CompileOptions *o, int exe, const char *out) {
    (void)plan;
    (void)o;
    (void)out;
    return cli_error("the C code generator is being written (issue: C code generation); use --emit plan",
                     "--emit %s is not available in this build", exe ? "exe" : "c");
}
