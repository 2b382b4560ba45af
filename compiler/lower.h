/* lower.h: expands a validated ArchitectureSpec into a Graph of ops, one module at a time.
 * Lowering decides the op structure and module paths; shapes come from the shape-infer pass and
 * configurations from the precision pass, so this file stays about "what is computed". */
#ifndef TTC_LOWER_H
#define TTC_LOWER_H

#include "diag.h"
#include "ir.h"
#include "spec.h"

typedef struct LowerOptions {
    int64_t batch;   /* --batch: upper bound of sequences per run */
    int64_t seq;     /* --seq: upper bound of tokens per prompt */
    int64_t max_seq; /* --max-seq: upper bound of context (decoders) */
} LowerOptions;

/* 0 on success; -1 with diagnostics (e.g. --seq beyond the model's positions). */
int lower_spec(const Spec *s, const LowerOptions *o, Graph *g, Diags *d);

#endif
