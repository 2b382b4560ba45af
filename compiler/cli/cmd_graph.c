/* cmd_graph.c: `ttc dump-graph` (text or Graphviz DOT after any pass) and `ttc passes`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "cli.h"
#include "file_util.h"

static const CliOpt dump_opts[] = {
    {"--hw", "HW.yaml", 1, "hardware-config overlay, applied in order"},
    {"--set", "PATH=VALUE", 1, "override one config field (applied last)"},
    {"--after", "PASS", 0, "stop after this pass (default: the whole pipeline)"},
    {"--mode", "MODE", 0, "entry point: prefill (default) or decode"},
    {"--batch", "N", 0, "most sequences per run (default 1)"},
    {"--seq", "N", 0, "most tokens per sequence"},
    {"--max-seq", "N", 0, "most tokens of context, decoders"},
    {"--disable-pass", "NAME", 1, "skip an optional pass"},
    {"-o", "OUT.dot", 0, "write Graphviz DOT here instead of text to stdout"},
    {"--collapse", NULL, 0, "DOT: draw layer_0 and one node for the later layers of the same structure"},
    {0},
};

int cmd_dump_graph(const CliCommand *cmd, const CliArgs *a) {
    CompileOptions o;
    if (cli_compile_options(cmd, a, &o)) return 1;
    /* A graph is worth looking at whether or not it fits: what does not is printed as warnings
     * (with the checked fixes), and the dump goes on. */
    o.allow_misfit = 1;
    Compilation f;
    int rc = cli_compile_spec(&o, &f);
    const char *out = cli_get(cmd, a, "-o");
    if (rc == 0 && !out) {
        ir_dump_text(&f.graph, cli_get(cmd, a, "--mode") ? o.mode : -1, stdout);
    } else if (rc == 0) {
        TtcAtomicFile af;
        TtcError err = {0};
        if (ttc_atomic_open(&af, out, &err) == TTC_OK) {
            cg_dot_write_ex(&f.graph, o.mode, cli_flag(cmd, a, "--collapse"), af.f);
            ttc_atomic_commit(&af, &err);
        }
        if (err.status != TTC_OK) {
            ttc_error_print(&err);
            rc = err.status;
        } else {
            fprintf(stderr, "wrote %s (%d ops); render with: dot -Tsvg %s -o graph.svg\n", out, f.graph.n_ops, out);
        }
    }
    compile_free(&f);
    return rc;
}

const CliCommand cli_dump_graph = {
    "dump-graph",
    "print the IR after any pass, as text or Graphviz DOT",
    "SPEC.yaml",
    "Without -o the deterministic text form goes to stdout; with -o a DOT file is written\n"
    "(modules are clusters; render with `dot -Tsvg OUT.dot -o graph.svg`). A model that does not\n"
    "fit the device is dumped all the same, its problems printed as warnings (ttc check: errors).",
    1,
    1,
    dump_opts,
    cmd_dump_graph,
};

static const CliOpt no_opts[] = {{0}};

int cmd_passes(const CliCommand *cmd, const CliArgs *a) {
    printf("passes, in pipeline order (use with --after and --disable-pass):\n");
    for (int i = 0; i < pass_default_pipeline_len; i++) {
        PassId p = pass_default_pipeline[i];
        printf("  %-14s %s\n", pass_name(p), pass_summary(p));
    }
    return 0;
}

const CliCommand cli_passes = {
    "passes", "list the compiler passes with one-line summaries", "", NULL, 0, 0, no_opts, cmd_passes,
};
