/* diag.h: compiler diagnostics, collected in one context and all reported at the end of a phase.
 *
 * Shape (DESIGN.md §7):
 *   specs/llama.yaml:41:7: error: layer 'layer_{i}': num_kv_heads (5) must divide num_heads (32)
 *     hint: Llama-3 uses num_kv_heads: 8
 * Locations are 1-based (libyaml marks are 0-based: add 1 when converting). */
#ifndef TTC_DIAG_H
#define TTC_DIAG_H

#include <stdio.h>

typedef struct DiagLoc {
    const char *file; /* borrowed; NULL when the message has no source location */
    int line;         /* 1-based; 0 = unknown */
    int col;          /* 1-based; 0 = unknown */
} DiagLoc;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagSeverity;

typedef struct Diag {
    DiagSeverity severity;
    DiagLoc loc;
    char *msg;
    char *hint; /* NULL or "what to do" */
} Diag;

typedef struct Diags {
    Diag *v;
    int n, cap;
    int n_errors;
    char **owned_files; /* copies of file names so DiagLoc.file outlives the caller's strings */
    int n_files;
    /* In-memory sources (specs loaded from strings): diag_print shows their lines instead of
     * reading a file of the same name. */
    struct DiagSource *sources;
    int n_sources;
} Diags;

typedef struct DiagSource {
    const char *file; /* interned name (one of owned_files) */
    char *text; /* owned copy */
} DiagSource;

/* Adds a diagnostic and returns it so a hint can be attached. Never fails (out of memory aborts:
 * the compiler is a short-lived process and has nothing to clean up). */
Diag *diag_error(Diags *d, DiagLoc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
Diag *diag_warning(Diags *d, DiagLoc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_hint(Diag *dg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Interns a file name for use in DiagLoc. */
const char *diag_file(Diags *d, const char *path);
/* Registers the text behind `file` for diag_print's source line and caret, for inputs that
 * were never files (spec_load_string, tests). A later call for the same name replaces it. */
void diag_source(Diags *d, const char *file, const char *text);
/* Prints one diagnostic (header, source line with caret when the file is readable, hint). */
void diag_print_one(const Diags *d, const Diag *dg, FILE *out);
/* Prints every diagnostic in order, in the shape above, to `out`. */
void diag_print(const Diags *d, FILE *out);
void diag_free(Diags *d);

/* "did you mean 'x'?" support: the closest candidate within a small edit distance, or NULL.
 * Distance: Levenshtein, where swapping two neighbouring letters is one edit and case is
 * ignored; accepted when <= max(1, strlen(word) / 3). Ties go to the earlier candidate. */
const char *diag_closest(const char *word, const char *const *candidates, int n);

#endif
