/* exe_args.c: flags and --help of generated programs. */
#include "exe_args.h"

#include <stdio.h>
#include <string.h>

#include "run_cli.h"

typedef struct ExeOpt {
    const char *name;
    const char *metavar; /* NULL for a flag */
    const char *help;
} ExeOpt;

/* Help texts are ttc run's and ttc generate's. */
static const ExeOpt exe_opts[EXE_OPT_COUNT] = {
    [EXE_WEIGHTS] = {"--weights", "W.safetensors", "weights with Hugging Face names"},
    [EXE_RANDOM_WEIGHTS] = {"--random-weights", "SEED", "seeded random weights instead of a file"},
    [EXE_INPUT_IDS] = {"--input-ids", "IDS", "token ids: a .npy [batch, seq] or [seq], or a list \"101,2023,102\""},
    [EXE_TOKEN_TYPE_IDS] = {"--token-type-ids", "IDS", "segment ids, same shape as the input ids (default zeros)"},
    [EXE_ATTENTION_MASK] = {"--attention-mask", "MASK", "1 = attend, 0 = padding, same shape (default all ones)"},
    [EXE_OUTPUT] = {"--output", "OUT.npy", "write the last hidden state [batch, seq, hidden] (decoders: logits "
                                           "[batch, seq, vocab]) (float32)"},
    [EXE_OUTPUT_POOLED] = {"--output-pooled", "OUT.npy", "write the pooler output [batch, hidden] (encoders with a "
                                                         "pooler)"},
    [EXE_REPEAT] = {"--repeat", "N", "run the forward N times and report best and median time (default 1)"},
    [EXE_PROMPT_IDS] = {"--prompt-ids", "IDS", "generate: prompt token ids, a .npy [batch, seq] or [seq], or a list "
                                               "\"1,2,3\""},
    [EXE_MAX_NEW_TOKENS] = {"--max-new-tokens", "N", "tokens to generate per sequence"},
    [EXE_TEMPERATURE] = {"--temperature", "T", "sample with this temperature (default 0: greedy)"},
    [EXE_TOP_K] = {"--top-k", "K", "sample among the K most likely tokens only"},
    [EXE_TOP_P] = {"--top-p", "P", "sample among the most likely tokens whose mass reaches P"},
    [EXE_SEED] = {"--seed", "S", "sampling seed (default 0); the same seed gives the same tokens"},
    [EXE_IGNORE_EOS] = {"--ignore-eos", NULL, "keep going after the end-of-sequence token"},
};

const char *exe_opt_name(ExeOptId id) { return exe_opts[id].name; }

int exe_usage_names_option(const char *text, const char *name) {
    size_t len = strlen(name);
    for (const char *s = strstr(text, name); s; s = strstr(s + 1, name)) {
        int starts = s == text || strchr(" ([|", s[-1]) != NULL;
        int ends = s[len] == 0 || strchr(" )]|=", s[len]) != NULL;
        if (starts && ends) return 1;
    }
    return 0;
}

#define USAGE_WIDTH 100

void exe_usage_line(const char *head, const char *required, const char *const *names, const char *const *words,
                    int n) {
    int indent = printf("%s", head), col = indent;
    if (*required) col += printf(" %s", required);
    for (int i = 0; i < n; i++) {
        if (exe_usage_names_option(required, names[i])) continue;
        int w = (int)strlen(words[i]);
        if (col + 1 + w > USAGE_WIDTH && col > indent) col = printf("\n%*s", indent, "") - 1;
        col += printf(" %s", words[i]);
    }
    printf("\n");
}

/* The usage line of options [from, to) of the table after `lead` ("usage:" or blanks) and name. */
static void print_usage_line(const char *lead, const char *name, const char *required, int from, int to) {
    char head[256], word_buf[EXE_OPT_COUNT][96];
    const char *names[EXE_OPT_COUNT], *words[EXE_OPT_COUNT];
    snprintf(head, sizeof head, "%s %s", lead, name);
    for (int i = from; i < to; i++) {
        snprintf(word_buf[i - from], sizeof word_buf[0], "[%s%s%s]", exe_opts[i].name, exe_opts[i].metavar ? " " : "",
                 exe_opts[i].metavar ? exe_opts[i].metavar : "");
        names[i - from] = exe_opts[i].name;
        words[i - from] = word_buf[i - from];
    }
    exe_usage_line(head, required, names, words, to - from);
}

static void print_help(const TtcExeProgram *prog, const char *name) {
    int decoder = prog->model_type == TTC_MODEL_DECODER;
    print_usage_line("usage:", name, "(--weights W.safetensors | --random-weights SEED) --input-ids IDS", 0,
                     EXE_PROMPT_IDS);
    if (decoder)
        print_usage_line("      ", name, "(--weights W.safetensors | --random-weights SEED) --prompt-ids IDS "
                         "--max-new-tokens N", EXE_PROMPT_IDS, EXE_OPT_COUNT);
    printf("\n%s (%s) on an emulated %s, compiled ahead of time: batch <= %lld, seq <= %lld", prog->model_name,
           decoder ? "decoder" : "encoder", prog->device, (long long)prog->max_batch, (long long)prog->max_seq);
    if (decoder) printf(", context <= %lld", (long long)prog->max_ctx);
    printf(".\n");
    if (prog->about && *prog->about) printf("%s\n", prog->about);
    printf("\nWith --input-ids it runs like `ttc run`%s.\n", decoder ? "; with --prompt-ids it generates like `ttc generate`" : "");
    printf("\noptions:\n");
    for (int i = 0; i < EXE_OPT_COUNT; i++) {
        if (!decoder && i >= EXE_PROMPT_IDS) break;
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", exe_opts[i].name, exe_opts[i].metavar ? " " : "",
                 exe_opts[i].metavar ? exe_opts[i].metavar : "");
        printf("  %-26s %s\n", left, exe_opts[i].help);
    }
    printf("  %-26s %s\n", "-h, --help", "show this help");
    printf("  %-26s %s\n", "--version", "show which ttc generated this program");
}

/* The model and the ttc command that generated the program (the plan's producer). */
static void print_version(const TtcExeProgram *prog, const char *name) {
    printf("%s: %s for %s, generated by %s\n", name, prog->model_name, prog->device,
           prog->producer && *prog->producer ? prog->producer : "ttc (producer not recorded)");
}

static int find_opt(const char *arg, size_t len) {
    for (int i = 0; i < EXE_OPT_COUNT; i++)
        if (strlen(exe_opts[i].name) == len && strncmp(exe_opts[i].name, arg, len) == 0) return i;
    return -1;
}

/* Edit distance of two short words (for "did you mean"); long words cost their length. */
static int distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return (int)(la > lb ? la : lb);
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int unknown_option(const char *name, const char *arg, size_t len) {
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)(len < 127 ? len : 127), arg);
    int best = -1, best_d = 3; /* suggest only close names */
    for (int i = 0; i < EXE_OPT_COUNT; i++) {
        int d = distance(word, exe_opts[i].name);
        if (d < best_d) best = i, best_d = d;
    }
    char hint[192];
    if (best >= 0)
        snprintf(hint, sizeof hint, "did you mean '%s'? (see %s --help)", exe_opts[best].name, name);
    else
        snprintf(hint, sizeof hint, "see %s --help", name);
    return ttc_print_error(hint, "%s: unknown option '%s'", name, word);
}

int exe_parse_args(const TtcExeProgram *prog, int argc, char **argv, ExeArgs *a) {
    memset(a, 0, sizeof *a);
    const char *slash = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
    a->prog = slash ? slash + 1 : (argc > 0 && argv[0] ? argv[0] : prog->model_name);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_help(prog, a->prog);
            return -1;
        }
        if (strcmp(arg, "--version") == 0) {
            print_version(prog, a->prog);
            return -1;
        }
        if (arg[0] != '-' || arg[1] == 0)
            return ttc_print_error("the program takes no file argument: the model is built in (see --help)",
                                   "%s: unexpected argument '%s'", a->prog, arg);
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        int k = find_opt(arg, len);
        if (k < 0) return unknown_option(a->prog, arg, len);
        const ExeOpt *o = &exe_opts[k];
        const char *val;
        if (ttc_flag_value(a->prog, o->name, o->metavar, eq, argc, argv, &i, &val)) return 1;
        if (a->val[k]) return ttc_print_error(NULL, "%s: option %s given twice", a->prog, o->name);
        a->val[k] = val ? val : "";
    }
    return 0;
}

int exe_int_arg(const ExeArgs *a, ExeOptId id, int64_t lo, int64_t hi, int64_t dflt, int64_t *out) {
    return ttc_flag_int(exe_opts[id].name, a->val[id], lo, hi, dflt, out);
}

int exe_float_arg(const ExeArgs *a, ExeOptId id, double lo, double hi, double dflt, double *out) {
    return ttc_flag_real(exe_opts[id].name, a->val[id], lo, hi, dflt, out);
}
