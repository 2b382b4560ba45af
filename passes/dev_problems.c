/* dev_problems.c: collecting and reporting the device-memory pass's problems (dev_problems.h). */
#include "dev_problems.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

DevProblem *dev_problem_add(DevProblems *ps, int entry, int dram, const char *module, const char *text,
                            const char *hint) {
    if (ps->n == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 16;
        DevProblem *nv = realloc(ps->v, sizeof *nv * (size_t)cap);
        if (!nv) {
            ps->oom = 1;
            return NULL;
        }
        ps->v = nv;
        ps->cap = cap;
    }
    DevProblem *p = &ps->v[ps->n++];
    memset(p, 0, sizeof *p);
    p->entry_mask = 1 << entry;
    p->dram = dram;
    p->count = 1;
    snprintf(p->module, sizeof p->module, "%s", module);
    p->text = xstrdup(text);
    p->hint = xstrdup(hint);
    ps->oom |= !p->text || !p->hint;
    return p;
}

AdviceChange *dev_problem_fix(DevProblem *p) {
    static AdviceChange overflow; /* writes beyond the cap go nowhere */
    if (!p || p->n_fixes >= DEV_MAX_FIXES) {
        memset(&overflow, 0, sizeof overflow);
        return &overflow;
    }
    AdviceChange *c = &p->fixes[p->n_fixes++];
    memset(c, 0, sizeof *c);
    return c;
}

/* `s` with every numbered component of `module` (layer_15) written as a glob (layer_*), so that
 * the same problem in every layer compares equal. Malloc'ed. */
static char *generic(const char *s, const char *module) {
    size_t cap = strlen(s) + 1;
    char *out = malloc(cap), *o = out;
    if (!out) return NULL;
    while (*s) {
        int replaced = 0;
        for (const char *c = module; *c && !replaced;) {
            const char *end = strchr(c, '.');
            size_t n = end ? (size_t)(end - c) : strlen(c);
            int digits = 0;
            for (size_t i = 0; i < n; i++) digits |= c[i] >= '0' && c[i] <= '9';
            if (digits && strncmp(s, c, n) == 0 && !(s[n] >= '0' && s[n] <= '9')) {
                for (size_t i = 0; i < n;) {
                    if (c[i] >= '0' && c[i] <= '9') {
                        *o++ = '*';
                        while (i < n && c[i] >= '0' && c[i] <= '9') i++;
                    } else {
                        *o++ = c[i++];
                    }
                }
                s += n;
                replaced = 1;
            }
            c = end ? end + 1 : c + n;
        }
        if (!replaced) *o++ = *s++;
    }
    *o = 0;
    return out;
}

static int same_generic(const DevProblem *a, const DevProblem *b) {
    char *x[3] = {generic(a->module, a->module), generic(a->text, a->module), generic(a->hint, a->module)};
    char *y[3] = {generic(b->module, b->module), generic(b->text, b->module), generic(b->hint, b->module)};
    int same = a->dram == b->dram;
    for (int i = 0; i < 3; i++) {
        same = same && x[i] && y[i] && strcmp(x[i], y[i]) == 0;
        free(x[i]);
        free(y[i]);
    }
    return same;
}

/* Replaces `*s` by its generic form (module numbers as globs). 0, or -1 when out of memory. */
static int make_generic(char **s, const char *module) {
    char *g = generic(*s, module);
    if (!g) return -1;
    free(*s);
    *s = g;
    return 0;
}

/* Merges problems that differ only in the layer number (and then in the mode): 32 layers whose
 * FFN weights do not fit make one problem about 'layer_*.ffn', whose fixes name the glob. */
void dev_problems_merge(const Graph *g, DevProblems *ps) {
    for (int i = 0; i < ps->n; i++) {
        DevProblem *p = &ps->v[i];
        if (!p->count) continue;
        int modules = 1, masks = p->entry_mask;
        const DevProblem *last = p; /* the last distinct module merged in, to name the range */
        for (int j = i + 1; j < ps->n; j++) {
            DevProblem *q = &ps->v[j];
            if (!q->count || !same_generic(p, q)) continue;
            int seen = strcmp(p->module, q->module) == 0;
            for (int k = i + 1; k < j && !seen; k++)
                seen = ps->v[k].count == 0 && ps->v[k].dram == q->dram &&
                       strcmp(ps->v[k].module, q->module) == 0 && same_generic(p, &ps->v[k]);
            modules += !seen;
            if (!seen) last = q;
            masks |= q->entry_mask;
            q->count = 0;
        }
        p->entry_mask = masks;
        p->modes[0] = 0;
        for (int e = 0; e < g->n_entries; e++)
            if (masks & (1 << e))
                snprintf(p->modes + strlen(p->modes), sizeof p->modes - strlen(p->modes), "%s%s",
                         p->modes[0] ? ", " : "", g->entries[e].name);
        p->count = modules;
        if (p->module[0] == 0) {
            snprintf(p->who, sizeof p->who, "model '%s'", g->model_name);
            continue;
        }
        if (modules == 1) {
            snprintf(p->who, sizeof p->who, "module '%s'", p->module);
            continue;
        }
        char *module = generic(p->module, p->module);
        snprintf(p->who, sizeof p->who, "modules '%s' (%d of them, %s to %s)", module ? module : "?", modules,
                 p->module, last->module);
        for (int f = 0; f < p->n_fixes; f++)
            for (int k = 0; k < p->fixes[f].n_sets; k++) {
                char *x = generic(p->fixes[f].sets[k], p->module);
                if (x) snprintf(p->fixes[f].sets[k], sizeof p->fixes[f].sets[k], "%s", x);
                ps->oom |= !x;
                free(x);
            }
        ps->oom |= make_generic(&p->text, p->module) != 0 || make_generic(&p->hint, p->module) != 0;
        if (module) snprintf(p->module, sizeof p->module, "%s", module);
        ps->oom |= !module;
        free(module);
    }
}

void dev_problems_report(const Graph *g, DevProblems *ps, int as_warnings, Diags *d) {
    dev_problems_merge(g, ps);
    for (int i = 0; i < ps->n; i++) {
        const DevProblem *p = &ps->v[i];
        if (!p->count) continue;
        DiagLoc none = {0};
        Diag *dg = as_warnings ? diag_warning(d, none, "%s (%s): %s", p->who, p->modes, p->text ? p->text : "?")
                              : diag_error(d, none, "%s (%s): %s", p->who, p->modes, p->text ? p->text : "?");
        if (p->hint && p->hint[0]) diag_hint(dg, "%s", p->hint);
    }
}

void dev_problems_free(DevProblems *ps) {
    for (int i = 0; i < ps->n; i++) {
        free(ps->v[i].text);
        free(ps->v[i].hint);
    }
    free(ps->v);
}

