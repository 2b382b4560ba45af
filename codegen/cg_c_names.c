/* cg_c_names.c: the names a reader sees in generated C.
 *
 * Functions are named after modules (layer_3.attention -> layer_3_attention), Model fields after
 * the Hugging Face tensor names they hold (layers.3.self_attn.q_proj.weight ->
 * layers_3_self_attn_q_proj_weight), and locals after the tensor names relative to the module
 * (layer_3.attention.q inside layer_3_attention -> q). Every name is checked against what the
 * file and its headers already define, so a spec's layer ids can never break the build. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cg_c_internal.h"

void cg_c_ident(char *dst, size_t n, const char *s) {
    size_t k = 0;
    if (isdigit((unsigned char)*s) && k + 2 < n) {
        dst[k++] = 't';
        dst[k++] = '_';
    }
    for (; *s && k + 1 < n; s++) dst[k++] = isalnum((unsigned char)*s) ? *s : '_';
    if (k == 0 && n > 2) dst[k++] = 't';
    dst[k] = 0;
}

static const char *const reserved_words[] = {
    /* C11 keywords */
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Alignas",
    "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn", "_Static_assert",
    "_Thread_local",
    /* what the generated file itself defines or uses as parameters */
    "m", "st", "B", "S", "T", "in", "ids", "model", "tm", "state", "ops", "tensors", "entries", "program", "Model",
    "bind_model", "forward", "prefill", "decode", "main", "argc", "argv", "MAX_BATCH", "MAX_SEQ", "MAX_CTX",
    /* what the runtime headers bring in (stddef, stdint, stdarg, string) */
    "NULL", "size_t", "ptrdiff_t", "offsetof", "va_list", "memcpy", "memmove", "memset", "memcmp", "memchr",
    "strlen", "strcmp", "strncmp", "strcpy", "strncpy", "strcat", "strncat", "strchr", "strrchr", "strstr",
    "strspn", "strcspn", "strpbrk", "strtok", "strerror", "strcoll", "strxfrm", "strdup", "strndup", "index",
    "rindex", "bcopy", "bzero", "bcmp", "ffs", "strsep", "stpcpy", "errno", "assert",
};

int cg_c_reserved(const char *id) {
    static const char *const prefixes[] = {"ttc_", "TTC_", "Ttc", "rt_", "Rt", "int8_", "int16_", "int32_", "int64_",
                                           "uint", "intptr", "intmax", "__"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(id, prefixes[i], strlen(prefixes[i])) == 0) return 1;
    for (size_t i = 0; i < sizeof reserved_words / sizeof reserved_words[0]; i++)
        if (strcmp(id, reserved_words[i]) == 0) return 1;
    return 0;
}

void cg_c_module_of(const char *path, char *module, size_t n) {
    const char *dot = strrchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    if (len >= n) len = n - 1;
    memcpy(module, path, len);
    module[len] = 0;
}

/* `id` made unique among `taken` (n names) and clear of reserved words: "x", "x_2", "x_3"... */
static void unique_ident(char *id, size_t size, char (*taken)[CG_ID_MAX], int n) {
    char base[CG_ID_MAX];
    snprintf(base, sizeof base, "%s%s", id, cg_c_reserved(id) ? "_" : "");
    snprintf(id, size, "%s", base);
    for (int k = 2;; k++) {
        int clash = 0;
        for (int i = 0; i < n && !clash; i++) clash = strcmp(taken[i], id) == 0;
        if (!clash) return;
        snprintf(id, size, "%.*s_%d", (int)(CG_ID_MAX - 12), base, k);
    }
}

/* Splits each entry's ops into runs of one module. A module that comes back later in the same
 * entry (a pre-norm layer's attention_norm and ffn_norm are both "layer_3") cannot name two
 * functions: such runs are named by their op path when they hold one op, else numbered. */
static int make_groups(CgC *c) {
    const TtcPlan *p = c->p;
    c->groups = calloc((size_t)p->n_ops + 1, sizeof *c->groups);
    if (!c->groups) return -1;
    for (int e = 0; e < p->n_entries; e++) {
        const TtcEntry *en = &p->entries[e];
        int first_group = c->n_groups;
        for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
            char module[TTC_NAME_MAX];
            cg_c_module_of(p->ops[k].path, module, sizeof module);
            CgGroup *last = c->n_groups > first_group ? &c->groups[c->n_groups - 1] : NULL;
            if (last && strcmp(last->module, module) == 0) {
                last->n++;
                continue;
            }
            CgGroup *g = &c->groups[c->n_groups++];
            g->first = k;
            g->n = 1;
            snprintf(g->module, sizeof g->module, "%s", module);
        }
        for (int i = first_group; i < c->n_groups; i++) {
            CgGroup *g = &c->groups[i];
            int same = 0, nth = 0;
            for (int j = first_group; j < c->n_groups; j++)
                if (strcmp(c->groups[j].module, g->module) == 0) {
                    same++;
                    if (j <= i) nth++;
                }
            char name[CG_ID_MAX];
            if (same == 1)
                cg_c_ident(name, sizeof name, g->module);
            else if (g->n == 1)
                cg_c_ident(name, sizeof name, p->ops[g->first].path);
            else {
                char numbered[TTC_NAME_MAX + 16];
                snprintf(numbered, sizeof numbered, "%s_%d", g->module, nth);
                cg_c_ident(name, sizeof name, numbered);
            }
            /* A decoder's modules exist once per entry point: layer_3_attention_prefill. */
            char mode[sizeof en->name + 4] = "";
            if (c->decoder) cg_c_ident(mode, sizeof mode, en->name);
            snprintf(g->fn, sizeof g->fn, "%.*s%s%s", (int)(CG_ID_MAX - sizeof mode - 2), name, mode[0] ? "_" : "",
                     mode);
        }
    }
    /* Unique over the whole file (a layer id could mimic another's path). */
    char (*taken)[CG_ID_MAX] = calloc((size_t)c->n_groups + 1, sizeof *taken);
    if (!taken) return -1;
    for (int i = 0; i < c->n_groups; i++) {
        unique_ident(c->groups[i].fn, sizeof c->groups[i].fn, taken, i);
        snprintf(taken[i], sizeof taken[i], "%s", c->groups[i].fn);
    }
    free(taken);
    return 0;
}

/* Weights and caches are Model fields named after their tensor names; they must not collide
 * with each other (after '.' became '_'). */
static int make_fields(CgC *c) {
    const TtcPlan *p = c->p;
    char (*taken)[CG_ID_MAX] = calloc((size_t)p->n_tensors + 1, sizeof *taken);
    if (!taken) return -1;
    int n = 0;
    for (int t = 0; t < p->n_tensors; t++) {
        int kind = p->tensors[t].kind;
        if (kind != TTC_TENSOR_WEIGHT && kind != TTC_TENSOR_STATE) continue;
        cg_c_ident(c->field[t], sizeof c->field[t], p->tensors[t].name);
        unique_ident(c->field[t], sizeof c->field[t], taken, n);
        snprintf(taken[n++], sizeof taken[0], "%s", c->field[t]);
    }
    free(taken);
    return 0;
}

int cg_c_plan_names(CgC *c) { return make_groups(c) || make_fields(c) ? -1 : 0; }

/* What a reader calls the tensor: outputs by their role, others by their name without the
 * leading components they share with the module (layer_3.attention.q in layer_3.attention -> q,
 * layer_3.attention_norm -> attention_norm); a module's own output (final_norm) is "out". */
static void local_base(const CgC *c, const CgGroup *g, int t, char *id, size_t n) {
    const TtcTensorDesc *d = &c->p->tensors[t];
    static const char *const role_names[TTC_ROLE_COUNT] = {
        [TTC_ROLE_HIDDEN] = "hidden", [TTC_ROLE_POOLED] = "pooled", [TTC_ROLE_LOGITS] = "logits"};
    if (d->role > 0 && d->role < TTC_ROLE_COUNT && role_names[d->role]) {
        snprintf(id, n, "%s", role_names[d->role]);
        return;
    }
    const char *name = d->name, *mod = g->module;
    size_t skip = 0;
    for (size_t i = 0;; i++) {
        int name_end = name[i] == 0 || name[i] == '.', mod_end = mod[i] == 0 || mod[i] == '.';
        if (name_end && mod_end) {
            skip = name[i] ? i + 1 : i; /* a whole component in common */
            if (!name[i] || !mod[i]) break;
            continue;
        }
        if (name[i] != mod[i]) break;
    }
    cg_c_ident(id, n, name[skip] ? name + skip : "out");
}

int cg_c_name_locals(CgC *c, const CgGroup *g) {
    const TtcPlan *p = c->p;
    for (int t = 0; t < p->n_tensors; t++) c->local[t][0] = 0;
    /* Locals may not shadow the file's functions either. */
    int cap = c->n_groups + 4 * g->n + TTC_MAX_OP_INPUTS + 8;
    char (*taken)[CG_ID_MAX] = calloc((size_t)cap, sizeof *taken);
    int n = 0;
    if (!taken) return -1;
    for (int i = 0; i < c->n_groups; i++) snprintf(taken[n++], sizeof taken[0], "%s", c->groups[i].fn);
    for (int k = g->first; k < g->first + g->n; k++) {
        const TtcOpDesc *op = &p->ops[k];
        for (int i = 0; i <= op->n_in; i++) {
            int t = i < op->n_in ? op->in[i] : op->out;
            int kind = p->tensors[t].kind;
            if (kind == TTC_TENSOR_WEIGHT || kind == TTC_TENSOR_STATE || c->local[t][0]) continue;
            local_base(c, g, t, c->local[t], sizeof c->local[t]);
            unique_ident(c->local[t], sizeof c->local[t], taken, n);
            snprintf(taken[n++], sizeof taken[0], "%s", c->local[t]);
        }
    }
    free(taken);
    return 0;
}
