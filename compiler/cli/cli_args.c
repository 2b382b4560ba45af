/* cli_args.c: option parsing and help text for the subcommands, driven by their CliOpt tables. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exe_args.h"

static int find_opt(const CliCommand *cmd, const char *name, size_t len) {
    for (int i = 0; cmd->opts[i].name; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0) return i;
    return -1;
}

/* "--seq N": an option as the help shows it. */
static void opt_text(const CliOpt *o, char *buf, size_t n) {
    snprintf(buf, n, "%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

/* The usage line: the command's own part (its positional arguments and the options it requires,
 * e.g. "PLAN (--weights W | --random-weights SEED)"), then every other option of the table in
 * brackets (exe_usage_line, shared with generated programs). */
static void print_usage(const CliCommand *cmd) {
    char head[64], word_buf[CLI_MAX_OPTS][96];
    const char *names[CLI_MAX_OPTS], *words[CLI_MAX_OPTS];
    int n = 0;
    snprintf(head, sizeof head, "usage: ttc %s", cmd->name);
    for (; cmd->opts[n].name && n < CLI_MAX_OPTS; n++) {
        char left[80];
        opt_text(&cmd->opts[n], left, sizeof left);
        snprintf(word_buf[n], sizeof word_buf[n], "[%s]%s", left, cmd->opts[n].repeat ? "..." : "");
        names[n] = cmd->opts[n].name;
        words[n] = word_buf[n];
    }
    exe_usage_line(head, cmd->usage, names, words, n);
}

void cli_print_help(const CliCommand *cmd) {
    print_usage(cmd);
    printf("\n%s\n", cmd->summary);
    if (cmd->details) printf("\n%s\n", cmd->details);
    printf("\noptions:\n");
    for (int i = 0; cmd->opts[i].name; i++) {
        char left[80];
        opt_text(&cmd->opts[i], left, sizeof left);
        printf("  %-26s %s%s\n", left, cmd->opts[i].help, cmd->opts[i].repeat ? " (repeatable)" : "");
    }
    printf("  %-26s %s\n", "-h, --help", "show this help");
}

/* The hidden --list-options: the table, one option per line as the help shows it, for the test
 * that checks every option reaches the usage line and the options list (tests/e2e/cli_help.sh). */
static void list_options(const CliCommand *cmd) {
    for (int i = 0; cmd->opts[i].name; i++) {
        char left[80];
        opt_text(&cmd->opts[i], left, sizeof left);
        printf("%s\n", left);
    }
}

static int unknown_option(const CliCommand *cmd, const char *arg, size_t len) {
    const char *names[CLI_MAX_OPTS];
    int n = 0;
    for (; cmd->opts[n].name && n < CLI_MAX_OPTS; n++) names[n] = cmd->opts[n].name;
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)(len < 127 ? len : 127), arg);
    const char *close = diag_closest(word, names, n);
    char hint[192];
    if (close)
        snprintf(hint, sizeof hint, "did you mean '%s'? (see ttc %s --help)", close, cmd->name);
    else
        snprintf(hint, sizeof hint, "see ttc %s --help", cmd->name);
    return ttc_print_error(hint, "ttc %s: unknown option '%s'", cmd->name, word);
}

int cli_parse(const CliCommand *cmd, int argc, char **argv, CliArgs *a) {
    memset(a, 0, sizeof *a);
    int n_opts = 0;
    while (cmd->opts[n_opts].name) n_opts++;
    if (n_opts > CLI_MAX_OPTS) { /* more rows than CliArgs holds: raise CLI_MAX_OPTS (cli.h) */
        fprintf(stderr, "internal: ttc %s declares %d options, CLI_MAX_OPTS is %d\n", cmd->name, n_opts, CLI_MAX_OPTS);
        return 2;
    }
    char who[64]; /* "ttc run": how messages name the command */
    snprintf(who, sizeof who, "ttc %s", cmd->name);
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_pos && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            cli_print_help(cmd);
            return -1;
        }
        if (!only_pos && strcmp(arg, "--list-options") == 0) {
            list_options(cmd);
            return -1;
        }
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && arg[0] == '-' && arg[1] != 0) {
            const char *eq = strchr(arg, '=');
            size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
            int k = find_opt(cmd, arg, len);
            if (k < 0) return unknown_option(cmd, arg, len);
            const CliOpt *o = &cmd->opts[k];
            const char *val;
            if (ttc_flag_value(who, o->name, o->metavar, eq, argc, argv, &i, &val)) return 1;
            if (a->count[k] && !o->repeat)
                return ttc_print_error(NULL, "ttc %s: option %s given twice", cmd->name, o->name);
            if (a->count[k] >= CLI_MAX_VALUES)
                return ttc_print_error(NULL, "ttc %s: option %s given more than %d times", cmd->name, o->name,
                                       CLI_MAX_VALUES);
            a->values[k][a->count[k]++] = val ? val : "";
            continue;
        }
        if (a->n_pos >= cmd->n_pos_max || a->n_pos >= CLI_MAX_POS)
            return ttc_print_error("see ttc --help", "ttc %s: unexpected argument '%s'", cmd->name, arg);
        a->pos[a->n_pos++] = arg;
    }
    if (a->n_pos < cmd->n_pos_min) {
        char hint[320];
        snprintf(hint, sizeof hint, "usage: ttc %s %s [OPTIONS] (see ttc %s --help)", cmd->name, cmd->usage, cmd->name);
        return ttc_print_error(hint, "ttc %s: missing argument", cmd->name);
    }
    return 0;
}

const char *cli_get(const CliCommand *cmd, const CliArgs *a, const char *name) {
    int k = find_opt(cmd, name, strlen(name));
    return (k >= 0 && a->count[k]) ? a->values[k][a->count[k] - 1] : NULL;
}

int cli_flag(const CliCommand *cmd, const CliArgs *a, const char *name) { return cli_get(cmd, a, name) != NULL; }

int cli_all(const CliCommand *cmd, const CliArgs *a, const char *name, const char ***values) {
    int k = find_opt(cmd, name, strlen(name));
    if (k < 0) {
        *values = NULL;
        return 0;
    }
    *values = (const char **)a->values[k];
    return a->count[k];
}

int cli_int(const CliCommand *cmd, const CliArgs *a, const char *name, int64_t lo, int64_t hi, int64_t dflt,
            int64_t *out) {
    return ttc_flag_int(name, cli_get(cmd, a, name), lo, hi, dflt, out);
}
