/* hf_import.c: config.json -> ArchitectureSpec (hf_import.h).
 *
 * The JSON is read once with the project's pull parser (runtime/json_mini.h) into a small tree
 * of the two levels a config uses (top-level keys, and the members of rope_scaling or the items
 * of an eos_token_id list); every value keeps its byte offset so that a problem is reported at
 * the key's line and column. Conversion then reads the tree by key, collecting every problem
 * before giving up, as the spec loader does. */
#include "hf_import.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "json_mini.h"
#include "spec.h"
#include "spec_parse.h"

/* ---- the JSON tree ---- */

typedef struct HfMember HfMember;
typedef struct HfVal {
    char kind;        /* 's' string, 'n' number, 'b' boolean, 'z' null, 'o' object, 'a' array */
    size_t pos;       /* byte offset of the value in the text */
    char *str;        /* 's' */
    double num;       /* 'n' */
    int is_int;       /* 'n' written without fraction or exponent and inside int64: `i` holds it */
    int64_t i;
    int b;            /* 'b' */
    HfMember *members; /* 'o' at the first two levels; deeper containers are only syntax-checked */
    struct HfVal *items; /* 'a', likewise */
    int n;
} HfVal;

struct HfMember {
    char *key;
    HfVal v;
};

typedef struct Ctx {
    Diags *d;
    const char *file;
    TtcJson j;
    TtcError err;
} Ctx;

static void val_free(HfVal *v) {
    free(v->str);
    for (int k = 0; v->members && k < v->n; k++) {
        free(v->members[k].key);
        val_free(&v->members[k].v);
    }
    for (int k = 0; v->items && k < v->n; k++) val_free(&v->items[k]);
    free(v->members);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static DiagLoc loc_at(Ctx *c, size_t pos) {
    DiagLoc l = {c->file, 0, 0};
    ttc_json_line_col(&c->j, pos, &l.line, &l.col);
    return l;
}

static DiagLoc loc_file(Ctx *c) {
    DiagLoc l = {c->file, 0, 0};
    return l;
}

/* Digits only (an optional '-' first) as int64; 0 when the text is not that or overflows. */
static int plain_int(const char *s, size_t n, int64_t *out) {
    size_t k = 0;
    int neg = n > 0 && s[0] == '-';
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (k = (size_t)neg; k < n; k++) {
        if (s[k] < '0' || s[k] > '9') return 0;
        unsigned dg = (unsigned)(s[k] - '0');
        if (v > (limit - dg) / 10) return 0;
        v = v * 10 + dg;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

/* Grows an array of `size`-byte elements to hold n + 1; 0 ok, -1 out of memory. */
static int grow(void **p, int n, size_t size) {
    /* Capacity: 8, then doubling; so it is full exactly when n is 8 or a larger power of two. */
    if (n != 0 && (n < 8 || (n & (n - 1)))) return 0;
    if (n == INT_MAX / 2 + 1) return -1;
    size_t cap = n == 0 ? 8 : (size_t)n * 2;
    void *q = realloc(*p, cap * size);
    if (!q) return -1;
    *p = q;
    return 0;
}

static int by_key(const void *a, const void *b) {
    const HfMember *x = *(const HfMember *const *)a, *y = *(const HfMember *const *)b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->v.pos > y->v.pos) - (x->v.pos < y->v.pos);
}

/* A key given twice is an error: Python would keep the last one silently, and the two copies
 * disagree about the model. Sorting finds them in n log n, whatever the object's size. */
static int check_duplicates(Ctx *c, const HfVal *obj) {
    if (obj->n < 2) return 0;
    const HfMember **sorted = malloc((size_t)obj->n * sizeof *sorted);
    if (!sorted) return ttc_fail(&c->err, TTC_E_INTERNAL, "out of memory"), -1;
    for (int k = 0; k < obj->n; k++) sorted[k] = &obj->members[k];
    qsort(sorted, (size_t)obj->n, sizeof *sorted, by_key);
    int dup = -1;
    for (int k = 1; k < obj->n && dup < 0; k++)
        if (strcmp(sorted[k]->key, sorted[k - 1]->key) == 0) dup = k;
    if (dup >= 0) {
        c->j.pos = sorted[dup]->v.pos;
        ttc_fail(&c->err, TTC_E_USER, "key '%.200s' appears twice", sorted[dup]->key);
    }
    free(sorted);
    return dup >= 0 ? -1 : 0;
}

static int read_value(Ctx *c, HfVal *v, int depth) {
    TtcJson *j = &c->j;
    int ch = ttc_json_peek(j);
    v->pos = j->pos;
    switch (ch) {
    case '"': v->kind = 's'; return ttc_json_string(j, &v->str) ? -1 : 0;
    case 't':
    case 'f': v->kind = 'b'; return ttc_json_bool(j, &v->b) ? -1 : 0;
    case 'n': v->kind = 'z'; return ttc_json_null(j) ? -1 : 0;
    case '{':
    case '[': break;
    default: {
        v->kind = 'n';
        if (ttc_json_double(j, &v->num)) return -1;
        v->is_int = plain_int(j->text + v->pos, j->pos - v->pos, &v->i);
        return 0;
    }
    }
    v->kind = ch == '{' ? 'o' : 'a';
    if (depth >= 2) return ttc_json_skip(j) ? -1 : 0;
    if (ch == '{') {
        ttc_json_object_begin(j);
        char *key;
        int r;
        while ((r = ttc_json_object_next(j, &key)) == 1) {
            if (grow((void **)&v->members, v->n, sizeof *v->members)) {
                free(key);
                return ttc_fail(&c->err, TTC_E_INTERNAL, "out of memory"), -1;
            }
            HfMember *m = &v->members[v->n++];
            memset(m, 0, sizeof *m);
            m->key = key;
            if (read_value(c, &m->v, depth + 1)) return -1;
        }
        return r < 0 ? -1 : check_duplicates(c, v);
    }
    ttc_json_array_begin(j);
    int r;
    while ((r = ttc_json_array_next(j)) == 1) {
        if (grow((void **)&v->items, v->n, sizeof *v->items))
            return ttc_fail(&c->err, TTC_E_INTERNAL, "out of memory"), -1;
        HfVal *it = &v->items[v->n++];
        memset(it, 0, sizeof *it);
        if (read_value(c, it, depth + 1)) return -1;
    }
    return r < 0 ? -1 : 0;
}

/* ---- reading keys ---- */

static const char *kind_name(const HfVal *v) {
    switch (v->kind) {
    case 's': return "a string";
    case 'n': return v->is_int ? "an integer" : "a number";
    case 'b': return v->b ? "true" : "false";
    case 'z': return "null";
    case 'o': return "an object";
    default: return "an array";
    }
}

/* "rope_scaling.factor" or "factor". */
static void key_name(char *buf, size_t n, const char *parent, const char *key) {
    snprintf(buf, n, "%s%s%s", parent ? parent : "", parent ? "." : "", key);
}

/* The value of `key` in object `obj`; NULL when absent (keys are unique: check_duplicates). */
static const HfVal *member(Ctx *c, const HfVal *obj, const char *parent, const char *key) {
    (void)c;
    (void)parent;
    if (!obj || obj->kind != 'o') return NULL;
    for (int k = 0; k < obj->n; k++)
        if (strcmp(obj->members[k].key, key) == 0) return &obj->members[k].v;
    return NULL;
}

/* The getters below return 1 when the key has a usable value (stored in *out), 0 when it is
 * absent or null (and not `required`), -1 after reporting a problem. */
static int absent(Ctx *c, const HfVal *v, const char *parent, const char *key, int required, const char *want) {
    if (!required) return 0;
    char name[128];
    key_name(name, sizeof name, parent, key);
    if (v)
        diag_error(c->d, loc_at(c, v->pos), "key '%s': expected %s, got null", name, want);
    else
        diag_error(c->d, loc_file(c), "missing required key '%s'", name);
    return -1;
}

static int wrong_type(Ctx *c, const HfVal *v, const char *parent, const char *key, const char *want) {
    char name[128];
    key_name(name, sizeof name, parent, key);
    diag_error(c->d, loc_at(c, v->pos), "key '%s': expected %s, got %s", name, want, kind_name(v));
    return -1;
}

/* Value `v` (present, not null) of key `parent.key` as an integer in [lo, hi]. */
static int check_int(Ctx *c, const HfVal *v, const char *parent, const char *key, int64_t lo, int64_t hi,
                     int64_t *out) {
    /* 4096.0 is accepted as 4096: Python writes whole floats that way and means the integer. */
    if (v->kind != 'n' || (!v->is_int && v->num != floor(v->num))) return wrong_type(c, v, parent, key, "an integer");
    if (v->is_int ? v->i < lo || v->i > hi : v->num < (double)lo || v->num > (double)hi) {
        char name[128], text[48];
        key_name(name, sizeof name, parent, key);
        if (v->is_int)
            snprintf(text, sizeof text, "%lld", (long long)v->i);
        else
            snprintf(text, sizeof text, "%g", v->num);
        diag_error(c->d, loc_at(c, v->pos), "key '%s': %s is out of range (%lld to %lld)", name, text, (long long)lo,
                   (long long)hi);
        return -1;
    }
    *out = v->is_int ? v->i : (int64_t)v->num;
    return 1;
}

static int get_int(Ctx *c, const HfVal *obj, const char *parent, const char *key, int required, int64_t lo,
                   int64_t hi, int64_t *out) {
    const HfVal *v = member(c, obj, parent, key);
    if (!v || v->kind == 'z') return absent(c, v, parent, key, required, "an integer");
    return check_int(c, v, parent, key, lo, hi, out);
}

/* get_int up to a row of spec_limits.h: a value past it gets the row's hint. */
static int get_limited_int(Ctx *c, const HfVal *obj, const char *parent, const char *key, int required, int64_t lo,
                           SpecLimitId id, int64_t *out) {
    int before = c->d->n;
    int64_t max = spec_limit_max(id);
    int rc = get_int(c, obj, parent, key, required, lo, max, out);
    const HfVal *v = member(c, obj, parent, key);
    if (rc < 0 && c->d->n > before && v && v->kind == 'n' && (v->is_int ? v->i > max : v->num > (double)max))
        diag_hint(&c->d->v[c->d->n - 1], "%s", spec_limit_hint(id));
    return rc;
}

/* A number in (lo, hi] when lo_open, else [lo, hi]. */
static int get_double(Ctx *c, const HfVal *obj, const char *parent, const char *key, int required, double lo,
                      int lo_open, double hi, double *out) {
    const HfVal *v = member(c, obj, parent, key);
    if (!v || v->kind == 'z') return absent(c, v, parent, key, required, "a number");
    if (v->kind != 'n') return wrong_type(c, v, parent, key, "a number");
    if ((lo_open ? !(v->num > lo) : !(v->num >= lo)) || v->num > hi) {
        char name[128];
        key_name(name, sizeof name, parent, key);
        diag_error(c->d, loc_at(c, v->pos), "key '%s': %g is out of range (%s%g to %g)", name, v->num,
                   lo_open ? "above " : "", lo, hi);
        return -1;
    }
    *out = v->num;
    return 1;
}

static int get_bool(Ctx *c, const HfVal *obj, const char *key, int *out) {
    const HfVal *v = member(c, obj, NULL, key);
    if (!v || v->kind == 'z') return 0;
    if (v->kind != 'b') return wrong_type(c, v, NULL, key, "true or false");
    *out = v->b;
    return 1;
}

static int get_string(Ctx *c, const HfVal *obj, const char *parent, const char *key, int required,
                      const char **out) {
    const HfVal *v = member(c, obj, parent, key);
    if (!v || v->kind == 'z') return absent(c, v, parent, key, required, "a string");
    if (v->kind != 's') return wrong_type(c, v, parent, key, "a string");
    *out = v->str;
    return 1;
}

/* ---- the model ---- */

typedef struct HfModel {
    const char *model_type;
    int decoder;
    char name[129];
    int64_t vocab, max_pos, hidden, layers, heads, kv_heads, head_dim, ffn, token_types, eos, window;
    double eps;
    const char *act;  /* spec spelling */
    int attn_bias, qkv_bias, tie;
    double theta;
    int llama3;
    double factor, low_freq, high_freq;
    int64_t orig_max_pos;
} HfModel;

static const char *const supported_types = "bert, llama, mistral, qwen2";

/* Hugging Face activation names (ACT2FN) and the spec's: "gelu_new" and "gelu_pytorch_tanh" are
 * both the tanh approximation. */
static const char *const act_hf[] = {"gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish"};
static const char *const act_spec[] = {"gelu", "gelu_tanh", "gelu_tanh", "relu", "silu", "silu"};

static void read_activation(Ctx *c, const HfVal *root, HfModel *m) {
    const char *s = NULL;
    m->act = m->decoder ? "silu" : "gelu";
    if (get_string(c, root, NULL, "hidden_act", 0, &s) != 1) return;
    int n = m->decoder ? 6 : 4; /* BERT's own list: gelu, gelu_new, gelu_pytorch_tanh, relu */
    for (int k = 0; k < n; k++)
        if (strcmp(s, act_hf[k]) == 0) {
            m->act = act_spec[k];
            return;
        }
    Diag *dg = diag_error(c->d, loc_at(c, member(c, root, NULL, "hidden_act")->pos),
                          "key 'hidden_act': activation '%.80s' is not supported", s);
    diag_hint(dg, "supported for %s: %s", m->model_type,
              m->decoder ? "silu (swish), gelu, gelu_new, gelu_pytorch_tanh, relu" : "gelu, gelu_new, gelu_pytorch_tanh, relu");
}

/* Keys that change the math in ways the spec cannot express yet: present with a value that
 * matters, they are errors rather than silently ignored. `when`: 'T' true, 'V' any value but
 * null/false/0, '1' a number other than 1. */
static const struct {
    const char *key;
    char when;
    const char *what;
    int bert_only;
} unsupported[] = {
    {"mlp_bias", 'T', "biases on the feed-forward projections are", 0},
    {"hidden_activation", 'V', "Gemma's hidden_activation is", 0},
    {"query_pre_attn_scalar", 'V', "a query scale other than 1/sqrt(head_dim) (Gemma 2) is", 0},
    {"attn_logit_softcapping", 'V', "attention logit soft-capping (Gemma 2) is", 0},
    {"final_logit_softcapping", 'V', "final logit soft-capping (Gemma 2) is", 0},
    {"num_local_experts", 'V', "mixture-of-experts layers are", 0},
    {"num_experts", 'V', "mixture-of-experts layers are", 0},
    {"partial_rotary_factor", '1', "rotary embeddings on part of each head are", 0},
    {"is_decoder", 'T', "a BERT used as a decoder is", 1},
    {"add_cross_attention", 'T', "cross-attention is", 1},
};

static void check_unsupported(Ctx *c, const HfVal *root, int bert) {
    for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++) {
        if (unsupported[k].bert_only && !bert) continue;
        const HfVal *v = member(c, root, NULL, unsupported[k].key);
        if (!v || v->kind == 'z') continue;
        int hit = unsupported[k].when == 'T'   ? v->kind == 'b' && v->b
                  : unsupported[k].when == '1' ? !(v->kind == 'n' && v->num == 1.0)
                                               : !(v->kind == 'b' && !v->b) && !(v->kind == 'n' && v->num == 0);
        if (!hit) continue;
        Diag *dg = diag_error(c->d, loc_at(c, v->pos), "key '%s': %s not supported yet", unsupported[k].key,
                              unsupported[k].what);
        diag_hint(dg, "a spec written without it would compute something else than the model; ttc cannot "
                      "convert this config yet");
    }
}

/* rope_scaling (transformers 4) or rope_parameters (transformers 5, which also holds
 * rope_theta). Only the Llama 3 frequency scaling exists in the spec; "default" means none. */
static void read_rope(Ctx *c, const HfVal *root, HfModel *m) {
    m->theta = 10000.0;
    const HfVal *params = member(c, root, NULL, "rope_parameters");
    if (params && params->kind != 'o' && params->kind != 'z') wrong_type(c, params, NULL, "rope_parameters", "an object");
    if (params && params->kind != 'o') params = NULL;
    if (get_double(c, root, NULL, "rope_theta", 0, 0.0, 1, 1e12, &m->theta) == 0 && params)
        get_double(c, params, "rope_parameters", "rope_theta", 0, 0.0, 1, 1e12, &m->theta);

    const char *parent = "rope_scaling";
    const HfVal *s = member(c, root, NULL, parent);
    if (s && s->kind != 'o' && s->kind != 'z') {
        wrong_type(c, s, NULL, parent, "an object or null");
        return;
    }
    if (!s || s->kind != 'o') {
        s = params;
        parent = "rope_parameters";
    }
    if (!s) return;
    const char *type = NULL, *type_key = "rope_type";
    int got = get_string(c, s, parent, "rope_type", 0, &type);
    if (got == 0) {
        type_key = "type";
        got = get_string(c, s, parent, "type", 0, &type);
    }
    if (got < 0) return;
    if (got == 0) {
        if (s == params) return; /* rope_parameters with only rope_theta */
        Diag *dg = diag_error(c->d, loc_at(c, s->pos), "missing required key '%s.rope_type'", parent);
        diag_hint(dg, "Llama 3 configs give rope_type: \"llama3\"; a config without scaling gives %s: null", parent);
        return;
    }
    if (strcmp(type, "default") == 0) return;
    if (strcmp(type, "llama3") != 0) {
        Diag *dg = diag_error(c->d, loc_at(c, member(c, s, parent, type_key)->pos),
                              "key '%s.%s': RoPE scaling '%.60s' is not supported yet", parent, type_key, type);
        diag_hint(dg, "supported: llama3; without %s the model runs with plain RoPE, exact up to its original "
                      "context length", parent);
        return;
    }
    m->llama3 = 1;
    get_double(c, s, parent, "factor", 1, 0.0, 1, 1e6, &m->factor);
    int lo = get_double(c, s, parent, "low_freq_factor", 1, 0.0, 1, 1e6, &m->low_freq);
    int hi = get_double(c, s, parent, "high_freq_factor", 1, 0.0, 1, 1e6, &m->high_freq);
    get_limited_int(c, s, parent, "original_max_position_embeddings", 1, 1, SPEC_LIMIT_SEQ, &m->orig_max_pos);
    if (lo == 1 && hi == 1 && !(m->high_freq > m->low_freq))
        diag_error(c->d, loc_at(c, member(c, s, parent, "high_freq_factor")->pos),
                   "key '%s.high_freq_factor': %g must be above low_freq_factor (%g)", parent, m->high_freq,
                   m->low_freq);
}

/* Sliding-window attention: Mistral sets sliding_window; Qwen2 sets it too but turns it off with
 * use_sliding_window: false (its class default), and when on, slides only from layer
 * max_window_layers on, which one spec entry for every layer cannot say unless that is all of
 * them or none. */
static void read_window(Ctx *c, const HfVal *root, HfModel *m, int qwen2) {
    int64_t sw = 0;
    if (get_limited_int(c, root, NULL, "sliding_window", 0, 0, SPEC_LIMIT_SEQ, &sw) != 1 || sw == 0) return;
    int use = !qwen2;
    if (get_bool(c, root, "use_sliding_window", &use) < 0 || !use) return;
    if (qwen2) {
        int64_t from = 28; /* Qwen2Config's default */
        if (get_int(c, root, NULL, "max_window_layers", 0, 0, INT64_MAX, &from) < 0) return;
        if (from >= m->layers) return;
        if (from > 0) {
            const HfVal *v = member(c, root, NULL, "max_window_layers");
            Diag *dg = diag_error(c->d, v ? loc_at(c, v->pos) : loc_file(c),
                                  "key 'max_window_layers': a sliding window on layers %lld to %lld only is not "
                                  "supported yet", (long long)from, (long long)m->layers - 1);
            diag_hint(dg, "the spec gives every layer the same attention: set use_sliding_window: false, or "
                          "max_window_layers: 0 to slide in every layer");
            return;
        }
    }
    m->window = sw;
}

/* A model name the spec, file names and generated C comments all take as it is. */
static void set_name(HfModel *m, const char *from, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof m->name - 1; i++) {
        char ch = from[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                 ch == '_' || ch == '-';
        m->name[k++] = ok ? ch : '-';
    }
    m->name[k] = 0;
}

/* The last path component of `path` without trailing slashes: into [*at, *at + *n). */
static void last_component(const char *path, const char **at, size_t *n) {
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/' && path[start - 1] != '\\') start--;
    *at = path + start;
    *n = end - start;
}

/* `_name_or_path` ("meta-llama/Llama-3.2-1B" -> "Llama-3.2-1B"), else the config's directory. */
static void read_name(Ctx *c, const HfVal *root, HfModel *m) {
    const char *s = NULL, *at;
    size_t n = 0;
    if (get_string(c, root, NULL, "_name_or_path", 0, &s) == 1) {
        last_component(s, &at, &n);
        set_name(m, at, n);
    }
    if (m->name[0]) return;
    const char *slash = strrchr(c->file, '/');
    char *dir = NULL;
    if (slash) {
        dir = strndup(c->file, (size_t)(slash - c->file) + (slash == c->file));
    } else {
        dir = realpath(".", NULL); /* "config.json" in the current directory */
    }
    if (dir) {
        last_component(dir, &at, &n);
        if (!(n == 1 && (*at == '.' || *at == '/')) && !(n == 2 && at[0] == '.' && at[1] == '.')) set_name(m, at, n);
        free(dir);
    }
    if (!m->name[0]) snprintf(m->name, sizeof m->name, "imported-model");
}

static void read_eos(Ctx *c, const HfVal *root, HfModel *m) {
    const HfVal *v = member(c, root, NULL, "eos_token_id");
    const char *key = "eos_token_id";
    m->eos = -1;
    /* A list (Llama 3.1 Instruct: [128001, 128008, 128009]): the first ends generation here. */
    if (v && v->kind == 'a') {
        v = v->n > 0 ? &v->items[0] : NULL;
        key = "eos_token_id[0]";
    }
    int64_t e;
    if (!v || v->kind == 'z' || check_int(c, v, NULL, key, 0, INT64_MAX, &e) != 1) return;
    if (m->vocab > 0 && e >= m->vocab) {
        diag_error(c->d, loc_at(c, v->pos), "key '%s': %lld is not below vocab_size (%lld)", key, (long long)e,
                   (long long)m->vocab);
        return;
    }
    m->eos = e;
}

static void read_model(Ctx *c, const HfVal *root, HfModel *m) {
    const HfVal *tv = member(c, root, NULL, "model_type");
    const char *t = NULL;
    if (!tv) {
        Diag *dg = diag_error(c->d, loc_file(c), "missing required key 'model_type'");
        diag_hint(dg, "is this a Hugging Face config.json? supported model types: %s", supported_types);
        return;
    }
    if (get_string(c, root, NULL, "model_type", 1, &t) != 1) return;
    m->model_type = t;
    int bert = !strcmp(t, "bert"), llama = !strcmp(t, "llama"), mistral = !strcmp(t, "mistral"),
        qwen2 = !strcmp(t, "qwen2");
    if (!bert && !llama && !mistral && !qwen2) {
        int gemma = !strncmp(t, "gemma", 5);
        Diag *dg = diag_error(c->d, loc_at(c, tv->pos), "key 'model_type': model type '%.60s' is not supported%s", t,
                              gemma ? " yet" : "");
        if (gemma)
            diag_hint(dg, "Gemma scales the embeddings by sqrt(hidden_size) and offsets its RMSNorm weights by 1, "
                          "which the spec cannot express yet; supported: %s", supported_types);
        else
            diag_hint(dg, "supported: %s", supported_types);
        return;
    }
    m->decoder = !bert;
    read_name(c, root, m);
    check_unsupported(c, root, bert);
    get_limited_int(c, root, NULL, "vocab_size", 1, 1, SPEC_LIMIT_VOCAB, &m->vocab);
    int hid = get_limited_int(c, root, NULL, "hidden_size", 1, 1, SPEC_LIMIT_HIDDEN, &m->hidden);
    get_limited_int(c, root, NULL, "num_hidden_layers", 1, 1, SPEC_LIMIT_REPEAT, &m->layers);
    int heads = get_limited_int(c, root, NULL, "num_attention_heads", 1, 1, SPEC_LIMIT_HEADS, &m->heads);
    get_limited_int(c, root, NULL, "intermediate_size", 1, 1, SPEC_LIMIT_FFN, &m->ffn);
    /* The Hugging Face classes' defaults for a missing max_position_embeddings. */
    m->max_pos = bert ? 512 : llama ? 2048 : mistral ? 4096 * 32 : 32768;
    get_limited_int(c, root, NULL, "max_position_embeddings", 0, 1, SPEC_LIMIT_SEQ, &m->max_pos);
    read_activation(c, root, m);

    if (bert) {
        m->eps = 1e-12;
        get_double(c, root, NULL, "layer_norm_eps", 0, 0.0, 1, 1.0, &m->eps);
        m->token_types = 2;
        get_limited_int(c, root, NULL, "type_vocab_size", 0, 0, SPEC_LIMIT_TOKEN_TYPES, &m->token_types);
        const char *pe = NULL;
        if (get_string(c, root, NULL, "position_embedding_type", 0, &pe) == 1 && strcmp(pe, "absolute") != 0) {
            Diag *dg = diag_error(c->d, loc_at(c, member(c, root, NULL, "position_embedding_type")->pos),
                                  "key 'position_embedding_type': '%.60s' position embeddings are not supported yet",
                                  pe);
            diag_hint(dg, "supported: absolute (learned positions, as bert-base-uncased)");
        }
        if (hid == 1 && heads == 1 && m->hidden % m->heads != 0)
            diag_error(c->d, loc_at(c, member(c, root, NULL, "num_attention_heads")->pos),
                       "key 'num_attention_heads': %lld does not divide hidden_size (%lld)", (long long)m->heads,
                       (long long)m->hidden);
        return;
    }

    m->eps = 1e-6;
    get_double(c, root, NULL, "rms_norm_eps", 0, 0.0, 1, 1.0, &m->eps);
    m->kv_heads = m->heads;
    int kv = get_limited_int(c, root, NULL, "num_key_value_heads", 0, 1, SPEC_LIMIT_HEADS, &m->kv_heads);
    if (kv == 1 && heads == 1 && m->heads % m->kv_heads != 0) {
        Diag *dg = diag_error(c->d, loc_at(c, member(c, root, NULL, "num_key_value_heads")->pos),
                              "key 'num_key_value_heads': %lld does not divide num_attention_heads (%lld)",
                              (long long)m->kv_heads, (long long)m->heads);
        diag_hint(dg, "each key/value head serves an equal group of query heads");
    }
    int hd = get_limited_int(c, root, NULL, "head_dim", 0, 1, SPEC_LIMIT_HEAD_DIM, &m->head_dim);
    if (hd == 0 && hid == 1 && heads == 1) {
        if (m->hidden % m->heads != 0) {
            Diag *dg = diag_error(c->d, loc_at(c, member(c, root, NULL, "num_attention_heads")->pos),
                                  "key 'num_attention_heads': %lld does not divide hidden_size (%lld)",
                                  (long long)m->heads, (long long)m->hidden);
            diag_hint(dg, "give head_dim when hidden_size is not num_attention_heads * head_dim");
        }
        m->head_dim = m->hidden / m->heads;
    }
    if (hd == 1 && m->head_dim % 2 != 0)
        diag_error(c->d, loc_at(c, member(c, root, NULL, "head_dim")->pos),
                   "key 'head_dim': RoPE needs an even head_dim, got %lld", (long long)m->head_dim);
    m->qkv_bias = qwen2; /* Qwen2: biases on q, k, v and none on o, always */
    if (!qwen2) get_bool(c, root, "attention_bias", &m->attn_bias);
    get_bool(c, root, "tie_word_embeddings", &m->tie);
    read_rope(c, root, m);
    read_window(c, root, m, qwen2);
    read_eos(c, root, m);
}

/* ---- writing YAML ---- */

/* The shortest text that reads back as `v`, spelled as the shipped specs do: 500000.0, 1.0e-5. */
static void fmt_double(char *buf, size_t n, double v) {
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.1f", v);
        return;
    }
    char g[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(g, sizeof g, "%.*g", p, v);
        if (strtod(g, NULL) == v) break;
    }
    char *e = strchr(g, 'e');
    if (!e) {
        snprintf(buf, n, "%s", g);
        return;
    }
    *e = 0;
    const char *ex = e + 1;
    char sign = *ex == '-' ? '-' : 0;
    if (*ex == '-' || *ex == '+') ex++;
    while (ex[0] == '0' && ex[1]) ex++;
    /* Cannot be cut: %.17g is at most 24 characters and the buffers hold 40. */
    if (snprintf(buf, n, "%s%se%s%s", g, strchr(g, '.') ? "" : ".0", sign ? "-" : "", ex) >= (int)n) buf[0] = 0;
}

/* A path in a comment line: control characters would end the comment. */
static void put_comment_text(FILE *f, const char *s) {
    for (; *s; s++) fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void write_yaml(FILE *f, const Ctx *c, const HfModel *m) {
    char eps[40], theta[40];
    fmt_double(eps, sizeof eps, m->eps);
    fmt_double(theta, sizeof theta, m->theta);
    fprintf(f, "# %s: imported from ", m->name);
    put_comment_text(f, c->file);
    fprintf(f, " (model_type %s)\n# by ttc import-hf %s. Weights and tokenizer are not read.\n", m->model_type,
            TTC_VERSION_STRING);
    fprintf(f, "spec_version: 1\n");
    /* A leading digit or dot would read as a number; quote the name then. */
    const char *q = (m->name[0] >= 'a' && m->name[0] <= 'z') || (m->name[0] >= 'A' && m->name[0] <= 'Z') ? "" : "\"";
    if (!m->decoder) {
        fprintf(f, "model:\n  name: %s%s%s\n  type: encoder\n  vocab_size: %lld\n  max_sequence_length: %lld\n", q,
                m->name, q, (long long)m->vocab, (long long)m->max_pos);
        fprintf(f, "layers:\n  - id: embedding\n    type: embedding\n");
        fprintf(f, "    params: {hidden_dim: %lld, position: learned, token_types: %lld, norm: layernorm, norm_eps: %s}\n",
                (long long)m->hidden, (long long)m->token_types, eps);
    } else {
        fprintf(f, "model: {name: %s%s%s, type: decoder, vocab_size: %lld, max_sequence_length: %lld", q, m->name, q,
                (long long)m->vocab, (long long)m->max_pos);
        if (m->eos >= 0) fprintf(f, ", eos_token_id: %lld", (long long)m->eos);
        fprintf(f, "}\nlayers:\n  - id: embedding\n    type: embedding\n    params: {hidden_dim: %lld, position: none}\n",
                (long long)m->hidden);
    }
    fprintf(f, "  - id: layer_{i}\n    repeat: %lld\n    type: transformer\n    params:\n", (long long)m->layers);
    fprintf(f, "      hidden_dim: %lld\n      num_heads: %lld\n", (long long)m->hidden, (long long)m->heads);
    if (m->decoder)
        fprintf(f, "      num_kv_heads: %lld\n      head_dim: %lld\n", (long long)m->kv_heads, (long long)m->head_dim);
    fprintf(f, "      ffn_dim: %lld\n      ffn_type: %s\n      activation: %s\n", (long long)m->ffn,
            m->decoder ? "gated" : "mlp", m->act);
    fprintf(f, "      norm_type: %s\n      norm_eps: %s\n      residual_pattern: %s\n",
            m->decoder ? "rmsnorm" : "layernorm", eps, m->decoder ? "pre_norm" : "post_norm");
    if (!m->decoder) {
        fprintf(f, "      attention: {causal: false, bias: true}\n");
        fprintf(f, "  - id: pooler\n    type: pooler\n    params: {hidden_dim: %lld, activation: tanh}\n",
                (long long)m->hidden);
        return;
    }
    fprintf(f, "      attention:\n        causal: true\n        bias: %s\n", m->attn_bias ? "true" : "false");
    if (m->qkv_bias) fprintf(f, "        qkv_bias: true\n");
    fprintf(f, "        rope: {theta: %s", theta);
    if (m->llama3) {
        char fa[40], lo[40], hi[40];
        fmt_double(fa, sizeof fa, m->factor);
        fmt_double(lo, sizeof lo, m->low_freq);
        fmt_double(hi, sizeof hi, m->high_freq);
        fprintf(f, ", scaling: {type: llama3, factor: %s, low_freq_factor: %s, high_freq_factor: %s, "
                   "original_max_position: %lld}", fa, lo, hi, (long long)m->orig_max_pos);
    }
    fprintf(f, "}\n");
    if (m->window > 0) fprintf(f, "        sliding_window: %lld\n", (long long)m->window);
    fprintf(f, "  - id: final_norm\n    type: norm\n    params: {norm_type: rmsnorm, norm_eps: %s}\n", eps);
    fprintf(f, "  - id: lm_head\n    type: linear\n    params: {input_dim: %lld, output_dim: %lld%s}\n",
            (long long)m->hidden, (long long)m->vocab, m->tie ? ", tied_to: embedding" : "");
}

/* The converted spec must load: a config can combine values the importer checks one by one into
 * something the spec loader refuses (a layer too large, say). Its first complaint is reported
 * against the config, since that is what the user can change. */
static int self_check(Ctx *c, const char *yaml) {
    Diags d2 = {0};
    Spec s = {0};
    int rc = spec_load_string(&s, yaml, "converted spec", &d2);
    if (rc == 0) {
        spec_free(&s);
    } else {
        for (int k = 0; k < d2.n; k++) {
            if (d2.v[k].severity != DIAG_ERROR) continue;
            Diag *dg = diag_error(c->d, loc_file(c), "the converted spec is not valid: %s", d2.v[k].msg);
            diag_hint(dg, "%s", d2.v[k].hint ? d2.v[k].hint : "check the config's values against the model card");
            break;
        }
    }
    diag_free(&d2);
    return rc;
}

int hf_import_string(const char *text, size_t len, const char *file, char **yaml, Diags *d) {
    *yaml = NULL;
    Ctx c = {d, diag_file(d, file), {0}, {0}};
    if (memchr(text, 0, len) == NULL) diag_source(d, c.file, text);
    int before = d->n_errors;
    HfVal root = {0};
    int init = ttc_json_init(&c.j, text, len, c.file, &c.err);
    if (init == TTC_OK && ttc_json_peek(&c.j) != '{') {
        /* Said here rather than by the parser: an empty file or an array is not a syntax error. */
        diag_error(d, loc_at(&c, c.j.pos), "expected a JSON object ('{') with the model's configuration%s",
                   ttc_json_peek(&c.j) ? "" : ", the file is empty");
        return -1;
    }
    if (init || read_value(&c, &root, 0) || ttc_json_finish(&c.j)) {
        Diag *dg = diag_error(d, loc_at(&c, c.j.pos), "%s", ttc_json_error_text(&c.j, &c.err));
        diag_hint(dg, "config.json must be one JSON object (RFC 8259: no comments, no trailing commas)");
        val_free(&root);
        return -1;
    }
    HfModel m;
    memset(&m, 0, sizeof m);
    read_model(&c, &root, &m);
    int rc = -1;
    if (d->n_errors == before) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        if (f) {
            write_yaml(f, &c, &m);
            if (fclose(f) == 0 && buf) rc = 0;
        }
        if (rc != 0) diag_error(d, loc_file(&c), "out of memory writing the spec");
        if (rc == 0 && self_check(&c, buf) != 0) rc = -1;
        if (rc == 0)
            *yaml = buf;
        else
            free(buf);
    }
    val_free(&root);
    return rc;
}

int hf_import_file(const char *path, char **yaml, Diags *d) {
    *yaml = NULL;
    char *text = NULL;
    size_t len = 0;
    TtcError err = {0};
    if (ttc_read_file(path, &text, &len, &err)) {
        DiagLoc none = {0};
        Diag *dg = diag_error(d, none, "%s", err.msg);
        if (err.hint[0]) diag_hint(dg, "%s", err.hint);
        return -1;
    }
    int rc = hf_import_string(text, len, path, yaml, d);
    free(text);
    return rc;
}
