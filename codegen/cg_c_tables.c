/* cg_c_tables.c: the plan's tensor, op and entry tables as C initializers.
 *
 * They are the same descriptors a plan file holds, because the runtime pieces the generated
 * program reuses read them: the weight loader (names, shapes, formats, random init), weight
 * preparation (which ops read a weight, with what fidelity) and the kernels (attributes,
 * configuration, the module path for error messages). Floats are printed with 9 significant
 * digits, which gives back the same float. */
#include <math.h>
#include <string.h>

#include "cg_c_internal.h"

void cg_c_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch < 32 || ch >= 127)
            fprintf(out, "\\%03o", ch); /* octal escapes stop after 3 digits, unlike \x */
        else if (ch == '?' && s[1] == '?')
            fputs("\\?", out); /* no trigraphs */
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void cg_c_comment_text(FILE *out, const char *s) {
    for (; *s; s++) {
        fputc(*s, out);
        if (*s == '*' && s[1] == '/') fputc(' ', out);
        if (*s == '/' && s[1] == '*') fputc(' ', out);
    }
}

const char *cg_c_dtype_enum(int dtype) {
    static const char *const names[TTC_DTYPE_COUNT] = {
#define X(n, s, hb, tb) [TTC_##n] = "TTC_" #n,
        TTC_DTYPES(X)
#undef X
    };
    return dtype >= 0 && dtype < TTC_DTYPE_COUNT ? names[dtype] : "TTC_F32";
}

static const char *op_enum(int kind) {
    static const char *const names[TTC_OP_COUNT] = {
#define OP(id, name, min_in, max_in, summary) [TTC_OP_##id] = "TTC_OP_" #id,
#include "ops.def"
#undef OP
    };
    return kind >= 0 && kind < TTC_OP_COUNT ? names[kind] : "TTC_OP_COUNT";
}

static const char *enum_name(int v, const char *const *names, int n) { return v >= 0 && v < n ? names[v] : "0"; }

static const char *const kind_enums[] = {"TTC_TENSOR_INPUT", "TTC_TENSOR_WEIGHT", "TTC_TENSOR_ACT",
                                         "TTC_TENSOR_STATE"};
static const char *const role_enums[TTC_ROLE_COUNT] = {"TTC_ROLE_NONE", "TTC_ROLE_INPUT_IDS",
                                                       "TTC_ROLE_TOKEN_TYPE_IDS", "TTC_ROLE_ATTENTION_MASK",
                                                       "TTC_ROLE_HIDDEN", "TTC_ROLE_POOLED", "TTC_ROLE_LOGITS"};
static const char *const init_enums[] = {"TTC_INIT_NORMAL", "TTC_INIT_NORM_GAIN", "TTC_INIT_NORM_BIAS"};
static const char *const sym_enums[TTC_SYM_COUNT] = {"TTC_SYM_NONE", "TTC_SYM_BATCH", "TTC_SYM_SEQ", "TTC_SYM_CTX"};
static const char *const fidelity_enums[] = {"TTC_FIDELITY_LOFI", "TTC_FIDELITY_HIFI2", "TTC_FIDELITY_HIFI3",
                                             "TTC_FIDELITY_HIFI4"};
static const char *const layout_enums[] = {"TTC_LAYOUT_TILE", "TTC_LAYOUT_ROW_MAJOR"};
static const char *const memory_enums[] = {"TTC_MEM_DRAM", "TTC_MEM_L1"};
#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A float literal that reads back as exactly `v` ("0.353553385f", "10000.0f"). */
static void put_float(FILE *out, float v) {
    if (!isfinite(v)) {
        fputs(isnan(v) ? "NAN" : v > 0 ? "INFINITY" : "-INFINITY", out);
        return;
    }
    char buf[48];
    snprintf(buf, sizeof buf, "%.9g", (double)v);
    fputs(buf, out);
    if (!strpbrk(buf, ".e")) fputs(".0", out);
    fputc('f', out);
}

static void put_shape(FILE *out, const TtcShape *s) {
    fprintf(out, "{%d, {", s->rank);
    for (int i = 0; i < s->rank; i++)
        fprintf(out, "%s{%s, %lld}", i ? ", " : "", enum_name(s->d[i].sym, sym_enums, TTC_SYM_COUNT),
                (long long)s->d[i].size);
    fputs("}}", out);
}

/* Tables use designated initializers: each value says which field it is, and a field added to
 * a descriptor later (left 0 here) does not break the build. */
static void put_tensors(const TtcPlan *p, FILE *out) {
    fprintf(out, "static const TtcTensorDesc tensors[%d] = {\n", p->n_tensors);
    for (int t = 0; t < p->n_tensors; t++) {
        const TtcTensorDesc *d = &p->tensors[t];
        fprintf(out, "    /* %3d */ {.name = ", t);
        cg_c_string(out, d->name);
        fprintf(out, ", .kind = %s, .dtype = %s", enum_name(d->kind, kind_enums, N_OF(kind_enums)),
                cg_c_dtype_enum(d->dtype));
        if (d->role) fprintf(out, ", .role = %s", enum_name(d->role, role_enums, TTC_ROLE_COUNT));
        if (d->init) fprintf(out, ", .init = %s", enum_name(d->init, init_enums, N_OF(init_enums)));
        fputs(", .shape = ", out);
        put_shape(out, &d->shape);
        if (d->offset) fprintf(out, ", .offset = %lld", (long long)d->offset);
        fprintf(out, ", .entry = %d, .alias = %d},\n", d->entry, d->alias);
    }
    fputs("};\n\n", out);
}

/* Only the attributes an op has: .attrs = {.heads = 4, .kv_heads = 2, .head_dim = 8}. */
static void put_attrs(FILE *out, const TtcAttrs *a) {
    int n = 0;
#define FLOAT_ATTR(f)                                                \
    if (a->f != 0.0f) {                                              \
        fprintf(out, "%s." #f " = ", n++ ? ", " : ", .attrs = {");   \
        put_float(out, a->f);                                        \
    }
#define INT_ATTR(f) \
    if (a->f != 0) fprintf(out, "%s." #f " = %d", n++ ? ", " : ", .attrs = {", (int)a->f);
    FLOAT_ATTR(eps)
    FLOAT_ATTR(scale)
    INT_ATTR(heads)
    INT_ATTR(kv_heads)
    INT_ATTR(head_dim)
    INT_ATTR(causal)
    INT_ATTR(window)
    INT_ATTR(has_mask)
    FLOAT_ATTR(rope_theta)
    INT_ATTR(rope_scaling)
    FLOAT_ATTR(rope_factor)
    FLOAT_ATTR(rope_low_freq)
    FLOAT_ATTR(rope_high_freq)
    INT_ATTR(rope_orig_max)
    INT_ATTR(epilogue) /* fused ops (passes/fuse.c) */
    INT_ATTR(q_col)
    INT_ATTR(k_col)
    INT_ATTR(v_col)
#undef FLOAT_ATTR
#undef INT_ATTR
    if (n) fputc('}', out);
}

static void put_ops(const TtcPlan *p, FILE *out) {
    fprintf(out, "static const TtcOpDesc ops[%d] = {\n", p->n_ops);
    for (int k = 0; k < p->n_ops; k++) {
        const TtcOpDesc *op = &p->ops[k];
        fprintf(out, "    /* %3d */ {.kind = %s, .path = ", k, op_enum(op->kind));
        cg_c_string(out, op->path);
        fprintf(out, ", .n_in = %d, .in = {", op->n_in);
        for (int i = 0; i < TTC_MAX_OP_INPUTS; i++) fprintf(out, "%s%d", i ? ", " : "", i < op->n_in ? op->in[i] : -1);
        fprintf(out, "}, .out = %d", op->out);
        put_attrs(out, &op->attrs);
        const TtcOpConfig *cfg = &op->cfg;
        fprintf(out, ",\n              .cfg = {.act_dtype = %s, .weight_dtype = %s, .fidelity = %s, .fp32_acc = %d, "
                     ".layout = %s, .memory = %s}},\n",
                cg_c_dtype_enum(cfg->act_dtype), cg_c_dtype_enum(cfg->weight_dtype),
                enum_name(cfg->fidelity, fidelity_enums, N_OF(fidelity_enums)), cfg->fp32_acc,
                enum_name(cfg->layout, layout_enums, N_OF(layout_enums)),
                enum_name(cfg->memory, memory_enums, N_OF(memory_enums)));
    }
    fputs("};\n\n", out);
}

/* The entry points' op ranges and memory plans (device estimates are the plan file's business). */
static void put_entries(const TtcPlan *p, FILE *out) {
    fprintf(out, "static const TtcEntry entries[%d] = {\n", p->n_entries);
    for (int e = 0; e < p->n_entries; e++) {
        const TtcEntry *en = &p->entries[e];
        fputs("    {.name = ", out);
        cg_c_string(out, en->name);
        fprintf(out, ", .mode = %d, .first_op = %d, .n_ops = %d, .max_seq = %lld, .arena_bytes = %lld},\n", en->mode,
                en->first_op, en->n_ops, (long long)en->max_seq, (long long)en->arena_bytes);
    }
    fputs("};\n\n", out);
}

void cg_c_write_tables(CgC *c, FILE *out) {
    fprintf(out, "/* ======== the plan's tables ======== */\n\n");
    put_tensors(c->p, out);
    put_ops(c->p, out);
    put_entries(c->p, out);
}
