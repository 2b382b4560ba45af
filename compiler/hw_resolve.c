/* hw_resolve.c: what every overridable field means (names, allowed values), the built-in
 * defaults per module type, and the resolution of one op's configuration from the rules of
 * all overlays, with provenance. Also the "pattern matched nothing" check. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "yaml_util.h"

const char *const hw_module_types[6] = {"embedding", "attention", "ffn", "norm", "pooler", "lm_head"};

/* ---- fields and their values ---- */

static const struct {
    const char *key;
    int kind;
} hw_fields[HW_FIELD_COUNT] = {
#define X(f, key, kind) {key, kind},
    HW_FIELDS(X)
#undef X
};

/* Spellings in enum order: index = the value stored (TtcDType, TtcFidelity, ... of ttc_types.h,
 * HwKernelVariant, HwKvLayout, HwSharding of hw.h). */
static const char *const hw_names_dtype_act[] = {"fp32", "bf16"};
static const char *const hw_names_dtype_w[] = {"fp32", "bf16", "bfp8", "bfp4"};
static const char *const hw_names_fidelity[] = {"LoFi", "HiFi2", "HiFi3", "HiFi4"};
static const char *const hw_names_bool[] = {"false", "true"};
static const char *const hw_names_layout[] = {"tile", "row_major"};
static const char *const hw_names_memory[] = {"dram", "l1"};
static const char *const hw_names_kernel[] = {"naive", "flash"};
static const char *const hw_names_kv_layout[] = {"contiguous", "paged"};
static const char *const hw_names_sharding[] = {"auto",   "replicate", "column_parallel", "row_parallel",
                                                "height", "width",     "block"};

const char *const *hw_kind_names(int kind, int *n) {
    static const struct {
        const char *const *names;
        int n;
    } kinds[HW_KIND_COUNT] = {
        [HW_KIND_DTYPE_ACT] = {hw_names_dtype_act, 2}, [HW_KIND_DTYPE_W] = {hw_names_dtype_w, 4},
        [HW_KIND_FIDELITY] = {hw_names_fidelity, 4},   [HW_KIND_BOOL] = {hw_names_bool, 2},
        [HW_KIND_LAYOUT] = {hw_names_layout, 2},       [HW_KIND_MEMORY] = {hw_names_memory, 2},
        [HW_KIND_KERNEL] = {hw_names_kernel, 2},       [HW_KIND_KV_LAYOUT] = {hw_names_kv_layout, 2},
        [HW_KIND_BLOCK_SIZE] = {NULL, 0},              [HW_KIND_SHARDING] = {hw_names_sharding, 7},
    };
    if (kind < 0 || kind >= HW_KIND_COUNT) {
        *n = 0;
        return NULL;
    }
    *n = kinds[kind].n;
    return kinds[kind].names;
}

const char *hw_field_key(int field) { return field >= 0 && field < HW_FIELD_COUNT ? hw_fields[field].key : "?"; }

int hw_field_kind(int field) { return field >= 0 && field < HW_FIELD_COUNT ? hw_fields[field].kind : -1; }

int hw_field_from_key(const char *key) {
    for (int f = 0; f < HW_FIELD_COUNT; f++)
        if (strcmp(key, hw_fields[f].key) == 0) return f;
    return -1;
}

const char *hw_value_name(int field, int v) {
    static _Thread_local char num[24];
    int kind = hw_field_kind(field), n = 0;
    if (kind == HW_KIND_BLOCK_SIZE) {
        snprintf(num, sizeof num, "%d", v);
        return num;
    }
    const char *const *names = hw_kind_names(kind, &n);
    return names && v >= 0 && v < n ? names[v] : "?";
}

/* ---- built-in defaults ---- */

/* Lowest precedence: what a module gets when no overlay says anything, chosen per module type so
 * that every spec runs accurately with no overlay (PCC >= 0.99 against fp32, checked by
 * tests/e2e/test_*_numerics.c) and per device family, looked up by the device name's prefix.
 *
 * Every module: bf16 activations and weights in tiles in DRAM, fp32 destination accumulation
 * (bf16 accumulation rounds once per 32-deep k chunk: thousands of roundings on long k).
 *   attention: HiFi4 and fp32 scores: softmax turns small score errors into large weight errors,
 *              and the score matmuls are a small share of the time.
 *   ffn:       HiFi2: bf16 weights keep all their bits in the two phases, the activations lose
 *              their last mantissa bit, and the largest matmuls run at twice HiFi4's speed.
 *   lm_head:   HiFi2, for the same reason; it is DRAM-bound when decoding anyway.
 *   embedding, norm, pooler: HiFi4 (cheap ops; the pooler is one small matmul).
 * kv_cache.dtype's built-in value is never read: without an overlay the cache holds activations in
 * their format (passes/precision.c), so a fp32 reference plan keeps a fp32 cache.
 * Fusion is on wherever it applies (passes/fuse.c): it changes speed and memory, not results, so
 * attention gets fused_qkv and the flash kernel, and every module matmul epilogues and
 * residual+norm fusion; the other modules' fused_qkv / kernel_variant are never read.
 * Wormhole and Blackhole share the matrix unit, formats and fidelity phases (DEVICE.md §1, §4),
 * so today their rows agree; a family whose trade-offs differ gets rows of its own here, and
 * the first row matching (family, type) wins, with NULL matching any. */
#define HW_BUILTIN(fam, t, fid, fused)                                                                              \
    {fam,                                                                                                          \
     t,                                                                                                            \
     {[HW_F_act_dtype] = TTC_BF16, [HW_F_weight_dtype] = TTC_BF16, [HW_F_fidelity] = fid, [HW_F_fp32_acc] = 1,     \
      [HW_F_layout] = TTC_LAYOUT_TILE, [HW_F_memory] = TTC_MEM_DRAM, [HW_F_fused_qkv] = fused,                      \
      [HW_F_kernel_variant] = (fused) ? HW_KERNEL_FLASH : HW_KERNEL_NAIVE, [HW_F_score_dtype] = TTC_F32,           \
      [HW_F_kv_dtype] = TTC_BF16, [HW_F_kv_layout] = HW_KV_CONTIGUOUS, [HW_F_kv_block_size] = 32,                   \
      [HW_F_sharding] = HW_SHARD_AUTO, [HW_F_fuse_epilogue] = 1, [HW_F_fuse_residual_norm] = 1}}

static const struct {
    const char *family; /* device name prefix ("wormhole", "blackhole"); NULL: any device */
    const char *type;   /* module type; NULL: any other module type */
    int v[HW_FIELD_COUNT];
} hw_builtin_rows[] = {
    HW_BUILTIN(NULL, "embedding", TTC_FIDELITY_HIFI4, 0), HW_BUILTIN(NULL, "attention", TTC_FIDELITY_HIFI4, 1),
    HW_BUILTIN(NULL, "ffn", TTC_FIDELITY_HIFI2, 0),       HW_BUILTIN(NULL, "norm", TTC_FIDELITY_HIFI4, 0),
    HW_BUILTIN(NULL, "pooler", TTC_FIDELITY_HIFI4, 0),    HW_BUILTIN(NULL, "lm_head", TTC_FIDELITY_HIFI2, 0),
    HW_BUILTIN(NULL, NULL, TTC_FIDELITY_HIFI4, 0), /* any other module type: the safe choice */
};
#undef HW_BUILTIN

static int hw_family_matches(const char *family, const char *device) {
    if (!family) return 1;
    size_t n = strlen(family);
    return device && strncmp(device, family, n) == 0 && (device[n] == '_' || device[n] == 0);
}

static const int *hw_builtin(const char *device, const char *module_type) {
    int n = (int)(sizeof hw_builtin_rows / sizeof hw_builtin_rows[0]);
    for (int i = 0; i < n; i++) {
        const char *t = hw_builtin_rows[i].type;
        if (!hw_family_matches(hw_builtin_rows[i].family, device)) continue;
        if (!t || (module_type && strcmp(t, module_type) == 0)) return hw_builtin_rows[i].v;
    }
    return hw_builtin_rows[n - 1].v;
}

/* ---- matching and precedence ---- */

int hw_pattern_matches(int match, const char *pattern, const char *module_path, const char *module_type) {
    switch (match) {
    case HW_MATCH_DEFAULTS: return 1;
    case HW_MATCH_TYPE: return module_type && pattern && strcmp(pattern, module_type) == 0;
    case HW_MATCH_PATH: {
        if (!module_path || !pattern) return 0;
        size_t n = strlen(pattern);
        return strncmp(module_path, pattern, n) == 0 && (module_path[n] == 0 || module_path[n] == '.');
    }
    case HW_MATCH_GLOB: {
        if (!module_path || !pattern) return 0;
        /* The glob selects a module and everything under it: try the path and each of its
         * dotted prefixes ("layer_*.ffn" selects layer_3.ffn.up through layer_3.ffn). */
        char *buf = yamlu_strdup(module_path);
        int hit = 0;
        for (;;) {
            if (fnmatch(pattern, buf, 0) == 0) {
                hit = 1;
                break;
            }
            char *dot = strrchr(buf, '.');
            if (!dot) break;
            *dot = 0;
        }
        free(buf);
        return hit;
    }
    }
    return 0;
}

/* Number of dotted components: "layer_3.attention" is more specific than "layer_3". */
static int hw_specificity(const HwRule *r) {
    if (r->match != HW_MATCH_GLOB && r->match != HW_MATCH_PATH) return 0;
    int n = 1;
    for (const char *c = r->pattern; *c; c++) n += *c == '.';
    return n < 1000 ? n : 999;
}

/* Precedence of a rule, higher wins; rules are visited in order, so at equal rank the later
 * one (a later file, a later line) wins. Order of the parts, most significant first:
 *   --set (all --set rules rank equal: they apply in command-line order)
 *   a modes.<mode> block over everything from the files
 *   level: defaults < module type < path glob < exact path
 *   within a level, the pattern with more dotted components (layer_3.attention over layer_3) */
static long hw_rank(const HwRule *r) {
    if (r->from_set) return 1L << 30;
    return (r->mode != HW_MODE_ANY ? 1L << 20 : 0) + (long)r->match * 1000 + hw_specificity(r);
}

void hw_resolve(const HwConfig *c, const char *module_path, const char *module_type, int mode, HwResolved *out) {
    const int *base = hw_builtin(c->device.name, module_type);
    long best[HW_FIELD_COUNT];
    for (int f = 0; f < HW_FIELD_COUNT; f++) {
        out->v[f] = base[f];
        out->prov[f] = (HwProv){NULL, 0, 0, c->builtin_origin[0] ? c->builtin_origin : "built-in default"};
        best[f] = -1;
    }
    for (int i = 0; i < c->n_rules; i++) {
        const HwRule *r = &c->rules[i];
        if (r->mode != HW_MODE_ANY && r->mode != mode) continue;
        if (!hw_pattern_matches(r->match, r->pattern, module_path, module_type)) continue;
        long rank = hw_rank(r);
        for (int f = 0; f < HW_FIELD_COUNT; f++) {
            if (!(r->set_mask & (1u << f)) || rank < best[f]) continue;
            best[f] = rank;
            out->v[f] = r->v[f];
            out->prov[f] = r->prov[f];
        }
    }
}

void hw_resolved_to_op_config(const HwResolved *r, TtcOpConfig *cfg) {
    cfg->act_dtype = (uint8_t)r->v[HW_F_act_dtype];
    cfg->weight_dtype = (uint8_t)r->v[HW_F_weight_dtype];
    cfg->fidelity = (uint8_t)r->v[HW_F_fidelity];
    cfg->fp32_acc = (uint8_t)r->v[HW_F_fp32_acc];
    cfg->layout = (uint8_t)r->v[HW_F_layout];
    cfg->memory = (uint8_t)r->v[HW_F_memory];
}

/* ---- patterns that select nothing ---- */

static int hw_str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* What a mistyped pattern may have meant: the module types, every module path and each of its
 * dotted prefixes, and (for globs) those prefixes with digit runs turned into '*', so that
 * "layr_*.ffn" finds "layer_*.ffn". Sorted and unique; free each string and the array. */
static char **hw_candidates(const char *const *paths, int n, int globs, int *count) {
    int cap = 6 + 1, len = 0;
    for (int i = 0; i < n; i++) {
        int parts = 1;
        for (const char *c = paths[i] ? paths[i] : ""; *c; c++) parts += *c == '.';
        cap += parts * (globs ? 2 : 1);
    }
    char **v = yamlu_alloc(sizeof *v * (size_t)cap);
    for (int t = 0; t < 6; t++) v[len++] = yamlu_strdup(hw_module_types[t]);
    for (int i = 0; i < n; i++) {
        if (!paths[i]) continue;
        char *p = yamlu_strdup(paths[i]);
        for (;;) {
            v[len++] = yamlu_strdup(p);
            if (globs) {
                char *g = yamlu_alloc(strlen(p) + 1), *o = g;
                for (const char *c = p; *c;) {
                    if (*c >= '0' && *c <= '9') {
                        *o++ = '*';
                        while (*c >= '0' && *c <= '9') c++;
                    } else {
                        *o++ = *c++;
                    }
                }
                v[len++] = g;
            }
            char *dot = strrchr(p, '.');
            if (!dot) break;
            *dot = 0;
        }
        free(p);
    }
    qsort(v, (size_t)len, sizeof *v, hw_str_cmp);
    int u = 0;
    for (int i = 0; i < len; i++) {
        if (u > 0 && strcmp(v[u - 1], v[i]) == 0) {
            free(v[i]);
            continue;
        }
        v[u++] = v[i];
    }
    *count = u;
    return v;
}

/* Type rules are left out: the six types are a closed list checked when the overlay loads, and
 * one overlay may well serve both encoders (with a pooler) and decoders (without). */
int hw_check_unused(const HwConfig *c, const char *const *module_paths, const char *const *module_types, int n, Diags *d) {
    int errors = 0;
    char **cand[2] = {NULL, NULL};
    int n_cand[2] = {0, 0};
    for (int i = 0; i < c->n_rules; i++) {
        const HwRule *r = &c->rules[i];
        if (r->match != HW_MATCH_GLOB && r->match != HW_MATCH_PATH) continue;
        int used = 0;
        for (int m = 0; m < n && !used; m++)
            used = hw_pattern_matches(r->match, r->pattern, module_paths[m], module_types ? module_types[m] : NULL);
        if (used) continue;
        Diag *dg = r->from_set ? diag_error(d, r->loc, "--set pattern '%s' matches no module", r->pattern)
                               : diag_error(d, r->loc, "modules pattern '%s' matches no module", r->pattern);
        int g = r->match == HW_MATCH_GLOB;
        if (!cand[g]) cand[g] = hw_candidates(module_paths, n, g, &n_cand[g]);
        const char *close = diag_closest(r->pattern, (const char *const *)cand[g], n_cand[g]);
        if (close) diag_hint(dg, "did you mean '%s'?", close);
        errors++;
    }
    for (int g = 0; g < 2; g++) {
        for (int i = 0; i < n_cand[g]; i++) free(cand[g][i]);
        free(cand[g]);
    }
    return errors ? -1 : 0;
}
