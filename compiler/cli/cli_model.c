/* cli_model.c: what the commands that execute plans (run, generate) share. */
#include <stdio.h>

#include "cli.h"

TtcStatus cli_load_weights(const CliCommand *cmd, const CliArgs *a, TtcModel *m, int keep_fp32, TtcError *err) {
    char who[64];
    snprintf(who, sizeof who, "ttc %s", cmd->name);
    return ttc_model_load_weights_arg(m, cli_get(cmd, a, "--weights"), cli_get(cmd, a, "--random-weights"), keep_fp32,
                                      who, err);
}
