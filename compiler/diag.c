/* diag.c: the diagnostics list of diag.h — collect, print with source line and caret, free,
 * and the edit-distance search behind every "did you mean". */
#include "diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The compiler is a short-lived process: running out of memory while reporting an error leaves
 * nothing sensible to do, and every caller would otherwise need a failure path for reporting. */
static void *diag_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("ttc: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *diag_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = diag_xrealloc(NULL, n);
    memcpy(p, s, n);
    return p;
}

static char *diag_vformat(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return diag_xstrdup("(unprintable message)");
    char *s = diag_xrealloc(NULL, (size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

const char *diag_file(Diags *d, const char *path) {
    if (!path) return NULL;
    for (int i = 0; i < d->n_files; i++) {
        /* Already ours (a DiagLoc built from an earlier call), or the same name again. */
        if (d->owned_files[i] == path || strcmp(d->owned_files[i], path) == 0) return d->owned_files[i];
    }
    d->owned_files = diag_xrealloc(d->owned_files, sizeof *d->owned_files * (size_t)(d->n_files + 1));
    d->owned_files[d->n_files] = diag_xstrdup(path);
    return d->owned_files[d->n_files++];
}

static Diag *diag_add(Diags *d, DiagSeverity sev, DiagLoc loc, const char *fmt, va_list ap) {
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = diag_xrealloc(d->v, sizeof *d->v * (size_t)d->cap);
    }
    Diag *dg = &d->v[d->n++];
    dg->severity = sev;
    dg->loc = loc;
    /* Interning here means callers may pass any string as the file, even a temporary. */
    dg->loc.file = diag_file(d, loc.file);
    dg->msg = diag_vformat(fmt, ap);
    dg->hint = NULL;
    if (sev == DIAG_ERROR) d->n_errors++;
    return dg;
}

Diag *diag_error(Diags *d, DiagLoc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    Diag *dg = diag_add(d, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
    return dg;
}

Diag *diag_warning(Diags *d, DiagLoc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    Diag *dg = diag_add(d, DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
    return dg;
}

void diag_hint(Diag *dg, const char *fmt, ...) {
    if (!dg) return;
    va_list ap;
    va_start(ap, fmt);
    char *h = diag_vformat(fmt, ap);
    va_end(ap);
    free(dg->hint);
    dg->hint = h;
}

void diag_source(Diags *d, const char *file, const char *text) {
    const char *name = diag_file(d, file);
    if (!name || !text) return;
    for (int i = 0; i < d->n_sources; i++) {
        if (d->sources[i].file == name) {
            free(d->sources[i].text);
            d->sources[i].text = diag_xstrdup(text);
            return;
        }
    }
    d->sources = diag_xrealloc(d->sources, sizeof *d->sources * (size_t)(d->n_sources + 1));
    d->sources[d->n_sources].file = name;
    d->sources[d->n_sources].text = diag_xstrdup(text);
    d->n_sources++;
}

/* ---- printing ---- */

/* Whole file as a string, or NULL: the source line is a courtesy, never a reason to fail. */
static char *diag_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = diag_xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, 4096, f);
        len += got;
        if (got < 4096) break;
        if (len > ((size_t)64 << 20)) break; /* no spec is this big; do not read a disk image */
    }
    fclose(f);
    buf[len] = 0;
    return buf;
}

/* Prints line `line` (1-based) of `text` and a caret under column `col` (1-based, counted in
 * characters as libyaml counts them: a UTF-8 sequence is one column). Tabs are copied into
 * the caret line so the caret stays aligned whatever the terminal's tab width. */
static void diag_print_source_line(const char *text, int line, int col, FILE *out) {
    const char *p = text;
    for (int l = 1; l < line; l++) {
        p = strchr(p, '\n');
        if (!p) return;
        p++;
    }
    size_t len = strcspn(p, "\r\n");
    if (len == 0 && col <= 1 && *p == 0) return; /* past the end: nothing useful to show */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        /* Control bytes would garble the terminal; the caret math still counts them. */
        fputc((ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : ch, out);
    }
    fputc('\n', out);
    if (col <= 0) return;
    int seen = 0;
    for (size_t i = 0; i < len && seen < col - 1; i++) {
        unsigned char ch = (unsigned char)p[i];
        if ((ch & 0xC0) == 0x80) continue; /* UTF-8 continuation byte: same column */
        fputc(ch == '\t' ? '\t' : ' ', out);
        seen++;
    }
    for (; seen < col - 1; seen++) fputc(' ', out);
    fputs("^\n", out);
}

static const char *diag_severity_name(DiagSeverity s) {
    switch (s) {
    case DIAG_ERROR: return "error";
    case DIAG_WARNING: return "warning";
    case DIAG_NOTE: return "note";
    }
    return "error";
}

static const char *diag_source_text(const Diags *d, const char *file) {
    for (int i = 0; i < d->n_sources; i++)
        if (d->sources[i].file == file || strcmp(d->sources[i].file, file) == 0) return d->sources[i].text;
    return NULL;
}

/* `cache` keeps the last file read so a file with many errors is read once. */
static void diag_print_with(const Diags *d, const Diag *dg, FILE *out, char **cache_path, char **cache_text) {
    const DiagLoc *l = &dg->loc;
    if (l->file && l->line > 0 && l->col > 0)
        fprintf(out, "%s:%d:%d: ", l->file, l->line, l->col);
    else if (l->file && l->line > 0)
        fprintf(out, "%s:%d: ", l->file, l->line);
    else if (l->file)
        fprintf(out, "%s: ", l->file);
    fprintf(out, "%s: %s\n", diag_severity_name(dg->severity), dg->msg);

    if (l->file && l->line > 0) {
        const char *text = diag_source_text(d, l->file);
        if (!text) {
            if (!*cache_path || strcmp(*cache_path, l->file) != 0) {
                free(*cache_path);
                free(*cache_text);
                *cache_path = diag_xstrdup(l->file);
                *cache_text = diag_read_file(l->file);
            }
            text = *cache_text;
        }
        if (text) diag_print_source_line(text, l->line, l->col, out);
    }
    if (dg->hint) fprintf(out, "  hint: %s\n", dg->hint);
}

void diag_print_one(const Diags *d, const Diag *dg, FILE *out) {
    char *path = NULL, *text = NULL;
    diag_print_with(d, dg, out, &path, &text);
    free(path);
    free(text);
}

void diag_print(const Diags *d, FILE *out) {
    char *path = NULL, *text = NULL;
    for (int i = 0; i < d->n; i++) diag_print_with(d, &d->v[i], out, &path, &text);
    free(path);
    free(text);
}

void diag_free(Diags *d) {
    for (int i = 0; i < d->n; i++) {
        free(d->v[i].msg);
        free(d->v[i].hint);
    }
    free(d->v);
    for (int i = 0; i < d->n_files; i++) free(d->owned_files[i]);
    free(d->owned_files);
    for (int i = 0; i < d->n_sources; i++) free(d->sources[i].text);
    free(d->sources);
    memset(d, 0, sizeof *d);
}

/* ---- did you mean ---- */

/* Levenshtein distance, with two refinements for typos: swapping two neighbouring letters
 * counts as one edit ("modle" for "model"; optimal string alignment), and letters differing
 * only in case cost nothing ("hifi4" for "HiFi4": the same word to the reader). */
static int diag_same(char a, char b) { return tolower((unsigned char)a) == tolower((unsigned char)b); }

static int diag_distance(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    /* Three rows: i-2 (for transpositions), i-1, i. */
    int *rows = diag_xrealloc(NULL, sizeof(int) * 3 * (nb + 1));
    int *r2 = rows, *r1 = rows + (nb + 1), *r0 = rows + 2 * (nb + 1);
    for (size_t j = 0; j <= nb; j++) r1[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        r0[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int best = r1[j - 1] + (diag_same(a[i - 1], b[j - 1]) ? 0 : 1);
            if (r1[j] + 1 < best) best = r1[j] + 1;
            if (r0[j - 1] + 1 < best) best = r0[j - 1] + 1;
            if (i > 1 && j > 1 && diag_same(a[i - 1], b[j - 2]) && diag_same(a[i - 2], b[j - 1]) && r2[j - 2] + 1 < best)
                best = r2[j - 2] + 1;
            r0[j] = best;
        }
        int *t = r2;
        r2 = r1;
        r1 = r0;
        r0 = t;
    }
    int r = r1[nb];
    free(rows);
    return r;
}

const char *diag_closest(const char *word, const char *const *candidates, int n) {
    if (!word || !candidates) return NULL;
    int len = (int)strlen(word);
    int limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        if (!candidates[i]) continue;
        /* Lengths alone bound the distance from below: skip hopeless candidates cheaply. */
        int dl = (int)strlen(candidates[i]) - len;
        if (dl < 0) dl = -dl;
        if (dl >= best_d) continue;
        int dist = diag_distance(word, candidates[i]);
        if (dist < best_d) {
            best_d = dist;
            best = candidates[i];
        }
    }
    return best;
}
