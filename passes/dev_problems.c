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

void dev_problem_add(DevProblems *ps, int entry, int dram, const char *module, const char *text,
                     const char *hint) {
    if (ps->n == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 16;
        DevProblem *nv = realloc(ps->v, sizeof *nv * (size_t)cap);
        if (!nv) {
            ps->oom = 1;
            return;
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

/* Merges problems that differ only in the layer number (and then in the mode), and reports them:
 * 32 layers whose FFN weights do not fit make one message about 'layer_*.ffn'. */
void dev_problems_report(const Graph *g, DevProblems *ps, int as_warnings, Diags *d) {
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
        char modes[64] = "";
        for (int e = 0; e < g->n_entries; e++)
            if (masks & (1 << e))
                snprintf(modes + strlen(modes), sizeof modes - strlen(modes), "%s%s", modes[0] ? ", " : "",
                         g->entries[e].name);
        int merged = modules > 1;
        char *module = merged ? generic(p->module, p->module) : xstrdup(p->module);
        char *text = merged ? generic(p->text, p->module) : xstrdup(p->text);
        char *hint = merged ? generic(p->hint, p->module) : xstrdup(p->hint);
        char who[3 * TTC_NAME_MAX + 64];
        if (p->module[0] == 0)
            snprintf(who, sizeof who, "model '%s'", g->model_name);
        else if (merged)
            snprintf(who, sizeof who, "modules '%s' (%d of them, %s to %s)", module ? module : "?", modules, p->module,
                     last->module);
        else
            snprintf(who, sizeof who, "module '%s'", module ? module : "?");
        DiagLoc none = {0};
        Diag *dg = as_warnings ? diag_warning(d, none, "%s (%s): %s", who, modes, text ? text : "?")
                              : diag_error(d, none, "%s (%s): %s", who, modes, text ? text : "?");
        if (hint && hint[0]) diag_hint(dg, "%s", hint);
        free(module);
        free(text);
        free(hint);
    }
}

void dev_problems_free(DevProblems *ps) {
    for (int i = 0; i < ps->n; i++) {
        free(ps->v[i].text);
        free(ps->v[i].hint);
    }
    free(ps->v);
}

