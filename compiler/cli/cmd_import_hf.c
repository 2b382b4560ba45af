/* cmd_import_hf.c: `ttc import-hf CONFIG.json [-o SPEC.yaml]`: a Hugging Face config.json as an
 * ArchitectureSpec (the conversion is compiler/hf_import.c). Without -o the YAML goes to stdout,
 * so it can be read or piped; with -o it is written atomically, so a failed import never leaves
 * a file behind (DESIGN.md §2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "file_util.h"
#include "hf_import.h"

static const CliOpt import_opts[] = {
    {"-o", "SPEC.yaml", 0, "write the spec here (default: stdout)"},
    {0},
};

static int cmd_import_hf(const CliCommand *cmd, const CliArgs *a) {
    const char *config = a->pos[0], *out = cli_get(cmd, a, "-o");
    Diags d = {0};
    char *yaml = NULL;
    int rc = hf_import_file(config, &yaml, &d);
    diag_print(&d, stderr);
    diag_free(&d);
    if (rc != 0) return 1;
    size_t n = strlen(yaml);
    if (!out) {
        rc = fwrite(yaml, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : ttc_print_error(NULL, "cannot write the spec to stdout");
    } else {
        TtcError err = {0};
        if (ttc_write_file_atomic(out, yaml, n, &err) != TTC_OK) {
            ttc_error_print(&err);
            rc = err.status;
        } else {
            fprintf(stderr, "wrote %s; next: ttc compile %s\n", out, out);
        }
    }
    free(yaml);
    return rc;
}

const CliCommand cli_import_hf = {
    "import-hf",
    "convert a Hugging Face config.json into an ArchitectureSpec",
    "CONFIG.json",
    "Reads model_type bert (encoder) and llama, mistral, qwen2 (decoders): dimensions, heads and\n"
    "key/value heads, activation, norm eps, RoPE theta and Llama-3 scaling, sliding window, tied\n"
    "embeddings, eos_token_id. Keys that change the math in a way the spec cannot express yet are\n"
    "errors naming the key. The model is named after _name_or_path, else the config's directory.",
    1,
    1,
    import_opts,
    cmd_import_hf,
};
