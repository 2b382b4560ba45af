/* cli_model.c: what the commands that execute plans (run, generate) share. */
#include <stdlib.h>

#include "cli.h"

TtcStatus cli_load_weights(const CliCommand *cmd, const CliArgs *a, TtcModel *m, int keep_fp32, TtcError *err) {
    const char *w = cli_get(cmd, a, "--weights"), *seed = cli_get(cmd, a, "--random-weights");
    if (!!w == !!seed) {
        ttc_fail(err, TTC_E_USER, "ttc %s: give exactly one of --weights and --random-weights", cmd->name);
        ttc_hint(err, "--weights model.safetensors, or --random-weights 1 to try the plan without a checkpoint");
        return TTC_E_USER;
    }
    if (w) return ttc_model_load_weights(m, w, keep_fp32, err);
    char *end;
    unsigned long long s = strtoull(seed, &end, 10);
    if (*end || end == seed || *seed == '-')
        return ttc_fail(err, TTC_E_USER, "--random-weights: '%s' is not a whole number", seed);
    return ttc_model_random_weights(m, s, keep_fp32, err);
}
