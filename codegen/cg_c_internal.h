/* cg_c_internal.h: what the parts of the C emitter share (cg_c.c: the file's layout;
 * cg_c_names.c: identifiers and module grouping; cg_c_ops.c: one op as a kernel call;
 * cg_c_tables.c: the plan's tables as C initializers). */
#ifndef TTC_CG_C_INTERNAL_H
#define TTC_CG_C_INTERNAL_H

#include <stdio.h>

#include "cg.h"

#define CG_ID_MAX 192

/* A run of consecutive ops of one module in one entry point: one C function. */
typedef struct CgGroup {
    int first, n;               /* op range */
    char module[TTC_NAME_MAX];  /* module path, e.g. layer_0.attention */
    char fn[CG_ID_MAX];         /* the function's name, e.g. layer_0_attention_prefill */
} CgGroup;

typedef struct CgC {
    const TtcPlan *p;
    const CgCOptions *o;
    int decoder;
    char (*field)[CG_ID_MAX];   /* per tensor: the Model field of a weight or cache, "" if none */
    char (*local)[CG_ID_MAX];   /* per tensor: its local variable in the function being written */
    CgGroup *groups;            /* every entry's functions, in op order */
    int n_groups;
    /* What the function being written uses, so that its prologue declares only that. */
    int uses_sym[TTC_SYM_COUNT];
    int uses_model;
} CgC;

/* ---- cg_c_names.c ---- */

/* A C identifier from `s`: letters, digits and '_' kept, anything else '_'; never empty, never
 * starting with a digit. */
void cg_c_ident(char *dst, size_t n, const char *s);
/* Whether `id` must not be used for a generated name: C keywords, names the generated file or
 * its headers define (ttc_*, TTC_*, the entry points, libc functions). */
int cg_c_reserved(const char *id);
/* Fills c->groups and the Model field names. 0 ok, -1 out of memory. */
int cg_c_plan_names(CgC *c);
/* Names the locals of group g's function in c->local (clearing the previous group's). 0 ok,
 * -1 out of memory. */
int cg_c_name_locals(CgC *c, const CgGroup *g);
/* The module of an op path: everything before the last '.', or the path itself at top level. */
void cg_c_module_of(const char *path, char *module, size_t n);

/* ---- cg_c_ops.c ---- */

/* A dim as C: "B", "S", "T" or the constant (and notes the symbol as used). */
const char *cg_c_dim(CgC *c, TtcDim d, char *buf, size_t n);
/* The product of dims [from, to) of a shape as C, e.g. "B * S * 32" ("1" when empty). */
const char *cg_c_dims_product(CgC *c, const TtcShape *s, int from, int to, char *buf, size_t n);
/* "[B,S,32] bf16" for a comment. */
const char *cg_c_shape_text(const TtcTensorDesc *d, char *buf, size_t n);
/* Writes op k of the plan as its kernel call plus the rounding to its activation format. */
TtcStatus cg_c_emit_op(CgC *c, int k, FILE *out, TtcError *err);

/* ---- cg_c_tables.c ---- */

/* Prints a C string literal for s. */
void cg_c_string(FILE *out, const char *s);
/* Prints s inside a C comment ("*" "/" cannot end it early). */
void cg_c_comment_text(FILE *out, const char *s);
/* The ops table forward declaration, then (at the end of the file) tensors, ops and entries. */
void cg_c_write_tables(CgC *c, FILE *out);
/* Enum name of a dtype, e.g. "TTC_BF16". */
const char *cg_c_dtype_enum(int dtype);

#endif
