/* cmd_config.c: `ttc config`: every resolved hardware-config field of every module, per mode,
 * with where it came from (file:line:col and the overlay section, --set, or the built-in default
 * for the device). Ops that resolve identically in every mode are shown as one group, so that a
 * 32-layer model prints a page, not thousands of lines; --show narrows it to one module path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const CliOpt config_opts[] = {
    {"--hw", "HW.yaml", 1, "hardware-config overlay, applied in order"},
    {"--set", "PATH=VALUE", 1, "override one config field (applied last)"},
    {"--show", "MODULE_PATH", 0, "only the ops under this module path, e.g. layer_15.attention"},
    {0},
};

/* An op's resolution in every mode of the graph (one per entry point). */
typedef struct OpConfig {
    int op;
    HwResolved r[TTC_MAX_ENTRIES];
    int group; /* index of the first op with the same resolution, or its own */
} OpConfig;

static int prov_equal(const HwProv *a, const HwProv *b) {
    return a->line == b->line && a->col == b->col &&
           (a->file == b->file || (a->file && b->file && !strcmp(a->file, b->file))) &&
           (a->origin == b->origin || (a->origin && b->origin && !strcmp(a->origin, b->origin)));
}

static int field_equal(const HwResolved *a, const HwResolved *b, int f) {
    return a->v[f] == b->v[f] && prov_equal(&a->prov[f], &b->prov[f]);
}

static int same_config(const OpConfig *a, const OpConfig *b, int modes, const Graph *g) {
    if (strcmp(g->ops[a->op].module_type, g->ops[b->op].module_type) != 0) return 0;
    for (int m = 0; m < modes; m++)
        for (int f = 0; f < HW_FIELD_COUNT; f++)
            if (!field_equal(&a->r[m], &b->r[m], f)) return 0;
    return 1;
}

static void print_prov(const HwProv *p) {
    if (p->file)
        printf("%s:%d:%d (%s)", p->file, p->line, p->col, p->origin ? p->origin : "file");
    else
        printf("%s", p->origin ? p->origin : "built-in default");
}

/* The paths of a group, short: digit runs become '*' (with a count when that merged several),
 * then the common dotted prefix is factored out: layer_*.attention.{q,k,v} (96 ops). */
static void print_group_name(const Graph *g, const OpConfig *ops, int n, int group) {
    char **names = calloc((size_t)n + 1, sizeof *names);
    int count = 0, members = 0;
    for (int i = 0; i < n && names; i++) {
        if (ops[i].group != group) continue;
        members++;
        const char *p = g->ops[ops[i].op].d.path;
        char buf[TTC_NAME_MAX], *o = buf;
        for (const char *c = p; *c && o < buf + sizeof buf - 1;) {
            if (*c >= '0' && *c <= '9') {
                *o++ = '*';
                while (*c >= '0' && *c <= '9') c++;
            } else {
                *o++ = *c++;
            }
        }
        *o = 0;
        int seen = 0;
        for (int j = 0; j < count && !seen; j++) seen = strcmp(names[j], buf) == 0;
        if (!seen) names[count++] = strdup(buf);
    }
    /* Exact paths when collapsing digits merges nothing (one layer's module, --show). */
    int exact = count == members;
    if (exact)
        for (int i = 0, k = 0; i < n && names; i++)
            if (ops[i].group == group) {
                free(names[k]);
                names[k++] = strdup(g->ops[ops[i].op].d.path);
            }
    size_t prefix = 0;
    if (count > 1) {
        prefix = strlen(names[0]);
        for (int j = 1; j < count; j++) {
            size_t k = 0;
            while (k < prefix && names[j][k] == names[0][k]) k++;
            prefix = k;
        }
        while (prefix > 0 && names[0][prefix - 1] != '.') prefix--;
    }
    if (count == 1) {
        printf("%s", names[0]);
    } else if (names) {
        printf("%.*s{", (int)prefix, names[0]);
        for (int j = 0; j < count; j++) {
            if (j == 12) {
                printf(",...");
                break;
            }
            printf("%s%s", j ? "," : "", names[j] + prefix);
        }
        printf("}");
    }
    if (!exact || members > count) printf(" (%d ops)", members);
    for (int j = 0; j < count; j++) free(names[j]);
    free(names);
}

static void print_group(const Graph *g, const OpConfig *ops, int n, int group, int modes) {
    const OpConfig *c = &ops[group];
    print_group_name(g, ops, n, group);
    printf("  [%s]\n", g->ops[c->op].module_type);
    for (int f = 0; f < HW_FIELD_COUNT; f++) {
        int differs = 0;
        for (int m = 1; m < modes; m++) differs |= !field_equal(&c->r[0], &c->r[m], f);
        for (int m = 0; m < (differs ? modes : 1); m++) {
            char label[48];
            snprintf(label, sizeof label, "%s%s%s", hw_field_key(f), differs ? " in " : "",
                     differs ? g->entries[m].name : "");
            printf("    %-30s %-16s ", label, hw_value_name(f, c->r[m].v[f]));
            print_prov(&c->r[m].prov[f]);
            printf("\n");
        }
    }
}

/* Every op path and its dotted prefixes, for "did you mean" on --show. */
static void show_not_found(const Graph *g, const char *show) {
    const char **cand = calloc((size_t)g->n_ops * 4 + 1, sizeof *cand);
    char (*store)[TTC_NAME_MAX] = calloc((size_t)g->n_ops * 4 + 1, sizeof *store);
    int n = 0;
    for (int k = 0; k < g->n_ops && cand && store; k++) {
        char buf[TTC_NAME_MAX];
        snprintf(buf, sizeof buf, "%s", g->ops[k].d.path);
        for (;;) {
            int seen = 0;
            for (int j = 0; j < n && !seen; j++) seen = strcmp(cand[j], buf) == 0;
            if (!seen && n < g->n_ops * 4) {
                snprintf(store[n], TTC_NAME_MAX, "%s", buf);
                cand[n] = store[n];
                n++;
            }
            char *dot = strrchr(buf, '.');
            if (!dot) break;
            *dot = 0;
        }
    }
    const char *close = cand ? diag_closest(show, cand, n) : NULL;
    char hint[TTC_NAME_MAX + 64];
    snprintf(hint, sizeof hint, close ? "did you mean '%s'?" : "module paths look like layer_0.attention%s",
             close ? close : "");
    ttc_print_error(hint, "--show: no module '%s' in this model", show);
    free(cand);
    free(store);
}

static int selected(const char *path, const char *show) {
    if (!show) return 1;
    size_t n = strlen(show);
    return strncmp(path, show, n) == 0 && (path[n] == 0 || path[n] == '.');
}

int cmd_config(const CliCommand *cmd, const CliArgs *a) {
    CompileOptions o;
    if (cli_compile_options(cmd, a, &o)) return 1;
    o.stop_after = PASS_PRECISION; /* resolves every op, reports patterns that match nothing */
    Compilation c;
    int rc = cli_compile_spec(&o, &c);
    if (rc) {
        compile_free(&c);
        return rc;
    }
    const Graph *g = &c.graph;
    const char *show = cli_get(cmd, a, "--show");
    int modes = g->n_entries > 0 ? g->n_entries : 1, n = 0;
    OpConfig *ops = calloc((size_t)g->n_ops + 1, sizeof *ops);
    if (!ops) {
        compile_free(&c);
        return ttc_print_error(NULL, "out of memory");
    }
    /* An op exists once per entry point (decode clones prefill): resolve each path once, in
     * every mode, from its first copy. */
    int first_end = g->n_entries ? g->entries[0].first_op + g->entries[0].n_ops : g->n_ops;
    for (int k = 0; k < first_end; k++) {
        const IrOp *op = &g->ops[k];
        if (!selected(op->d.path, show)) continue;
        ops[n].op = k;
        for (int m = 0; m < modes; m++)
            hw_resolve(&c.hw, op->d.path, op->module_type, g->n_entries ? g->entries[m].mode : 0, &ops[n].r[m]);
        ops[n].group = n;
        for (int j = 0; j < n; j++)
            if (ops[j].group == j && same_config(&ops[j], &ops[n], modes, g)) {
                ops[n].group = j;
                break;
            }
        n++;
    }
    if (n == 0) {
        show_not_found(g, show);
        free(ops);
        compile_free(&c);
        return 1;
    }
    printf("config of %s for %s (device from ", g->model_name, c.hw.device.name);
    print_prov(&c.hw.device_prov);
    printf("); modes:");
    for (int m = 0; m < g->n_entries; m++) printf(" %s", g->entries[m].name);
    /* Resolution stops before fusion and sharding, so a config that does not fit still prints:
     * ops are listed as lowered; a fused op takes the config of the ops it replaces. */
    printf("\n(ops as lowered, before fusion: a fused op takes the config of the ops it replaces)\n");
    for (int i = 0; i < n; i++) {
        if (ops[i].group != i) continue;
        printf("\n");
        print_group(g, ops, n, i, modes);
    }
    free(ops);
    compile_free(&c);
    return 0;
}

const CliCommand cli_config = {
    "config",
    "print every resolved hardware-config field per module, with where it came from",
    "SPEC.yaml",
    "For each module (ops resolving alike are grouped) and each mode, every field's value and its\n"
    "source: FILE:LINE:COL (overlay section), --set, or the built-in default for the device.\n"
    "Precedence, lowest first: built-in < defaults < module type < path glob < exact path; a\n"
    "modes.<mode> block on top; later files over earlier; --set last.",
    1,
    1,
    config_opts,
    cmd_config,
};
