/* main.c: `ttc`, the command-line driver. Each subcommand is a row of the table below; its
 * options, usage and help live in its own file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan.h"
#include "ttc_build_version.h" /* generated at build time: TTC_BUILD_COMMIT */

extern const CliCommand cli_compile, cli_run, cli_generate, cli_dump_graph, cli_passes, cli_check, cli_config;
extern const CliCommand cli_profile;
extern const CliCommand cli_import_hf;

static const CliCommand *const commands[] = {&cli_compile, &cli_run,    &cli_generate, &cli_dump_graph,
                                             &cli_check,   &cli_config, &cli_profile, &cli_import_hf, &cli_passes};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

const char *cli_version(void) { return TTC_VERSION_STRING " (" TTC_BUILD_COMMIT ")"; }

static void usage(FILE *out) {
    fprintf(out,
            "usage: ttc COMMAND [ARGS...]\n\n"
            "ttc compiles transformer models described in YAML (an ArchitectureSpec plus hardware-config\n"
            "overlays) into plans that run on an emulated Tenstorrent-class device.\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++) fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n`ttc COMMAND --help` describes one command; `ttc --version` prints the version.\n"
                 "Quick start:\n"
                 "  ttc compile specs/bert-base.yaml --seq 128 -o bert.plan\n"
                 "  ttc run bert.plan --random-weights 1 --input-ids \"101,7592,2088,102\" --output h.npy\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("ttc %s, plan format %d\n", cli_version(), TTC_PLAN_VERSION);
        return 0;
    }
    for (int i = 0; i < n_commands; i++) {
        if (strcmp(commands[i]->name, name) != 0) continue;
        CliArgs *a = calloc(1, sizeof *a);
        if (!a) return 2;
        int rc = cli_parse(commands[i], argc - 2, argv + 2, a);
        if (rc == 0)
            rc = commands[i]->run(commands[i], a);
        else if (rc < 0)
            rc = 0; /* --help */
        free(a);
        return rc;
    }
    const char *names[16];
    for (int i = 0; i < n_commands; i++) names[i] = commands[i]->name;
    const char *close = diag_closest(name, names, n_commands);
    char hint[128];
    snprintf(hint, sizeof hint, close ? "did you mean 'ttc %s'?" : "ttc --help lists the commands%s", close ? close : "");
    return ttc_print_error(hint, "unknown command '%s'", name);
}
