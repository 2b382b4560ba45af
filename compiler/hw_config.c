/* hw_config.c: hardware-config overlays (DESIGN.md §4, hw_version: 1) and --set: each becomes
 * rules on a HwConfig; hw_resolve.c turns rules into one op's configuration. An overlay with
 * errors changes nothing: its rules and its device are rolled back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "yaml_util.h"

#define HW_DEFAULT_DEVICE "wormhole_n150"

static void hw_set_device(HwConfig *c, const HwDevice *dev, HwProv prov) {
    c->device = *dev;
    c->device_prov = prov;
    snprintf(c->builtin_origin, sizeof c->builtin_origin, "built-in default for %s", dev->name);
}

int hw_config_init(HwConfig *c, Diags *d) {
    memset(c, 0, sizeof *c);
    /* A usable name even when the descriptor cannot be read, so later messages make sense. */
    snprintf(c->device.name, sizeof c->device.name, "%s", HW_DEFAULT_DEVICE);
    snprintf(c->builtin_origin, sizeof c->builtin_origin, "built-in default for %s", HW_DEFAULT_DEVICE);
    c->device_prov = (HwProv){NULL, 0, 0, "built-in default"};
    HwDevice dev;
    if (hw_device_load(&dev, HW_DEFAULT_DEVICE, (DiagLoc){0}, d) < 0) return -1;
    hw_set_device(c, &dev, c->device_prov);
    return 0;
}

void hw_config_free(HwConfig *c) {
    for (int i = 0; i < c->n_rules; i++) free(c->rules[i].pattern);
    free(c->rules);
    memset(c, 0, sizeof *c);
}

static HwRule *hw_add_rule(HwConfig *c, int match, const char *pattern, int mode, DiagLoc loc) {
    if (c->n_rules == c->cap_rules) {
        c->cap_rules = c->cap_rules ? c->cap_rules * 2 : 16;
        c->rules = yamlu_realloc(c->rules, sizeof *c->rules * (size_t)c->cap_rules);
    }
    HwRule *r = &c->rules[c->n_rules];
    memset(r, 0, sizeof *r);
    r->match = match;
    r->pattern = yamlu_strdup(pattern);
    r->mode = mode;
    r->seq = c->n_rules;
    r->loc = loc;
    c->n_rules++;
    return r;
}

static void hw_truncate_rules(HwConfig *c, int n) {
    for (int i = n; i < c->n_rules; i++) free(c->rules[i].pattern);
    c->n_rules = n;
}

/* ---- patterns ---- */

/* A `modules:` key (or the path part of --set): a module type, a glob, or an exact path. */
static int hw_classify(const char *pattern) {
    for (int t = 0; t < 6; t++)
        if (strcmp(pattern, hw_module_types[t]) == 0) return HW_MATCH_TYPE;
    return strpbrk(pattern, "*?[") ? HW_MATCH_GLOB : HW_MATCH_PATH;
}

/* Exact paths are ids and module names joined by single dots: [A-Za-z0-9_]+(.[A-Za-z0-9_]+)*. */
static int hw_path_ok(const char *p) {
    int in_part = 0;
    for (const char *c = p; *c; c++) {
        if (*c == '.') {
            if (!in_part) return 0;
            in_part = 0;
        } else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_') {
            in_part = 1;
        } else {
            return 0;
        }
    }
    return in_part;
}

/* Origin names for provenance: where in an overlay a rule was written, by mode and level. */
static const char *hw_origin(int mode, int match) {
    static const char *const origins[3][4] = {
        {"defaults", "modules (type)", "modules (glob)", "modules (path)"},
        {"modes.prefill", "modes.prefill.modules (type)", "modes.prefill.modules (glob)", "modes.prefill.modules (path)"},
        {"modes.decode", "modes.decode.modules (type)", "modes.decode.modules (glob)", "modes.decode.modules (path)"},
    };
    return origins[mode + 1][match];
}

/* ---- values ---- */

/* Checks a block size (tokens per KV-cache block): whole tiles of 32 rows. Returns 0 or a
 * message for the caller to report in its own shape. */
static const char *hw_block_size_problem(int64_t v) {
    if (v < 32 || v > 65536) return "must be between 32 and 65536";
    if (v % 32) return "must be a multiple of 32 (one tile of rows)";
    return NULL;
}

/* Values that parse but that nothing implements yet: an error where they are written rather than
 * a setting silently ignored. value -1: any value of the field. */
static const struct {
    int field, value;
    const char *what, *hint;
} hw_unsupported[] = {
    {HW_F_kv_layout, HW_KV_PAGED, "paged KV cache is not supported yet",
     "remove layout or use contiguous"},
    {HW_F_kv_block_size, -1, "kv_cache.block_size is not supported yet (it sizes the blocks of a paged KV cache)",
     "remove block_size: the cache is contiguous"},
    {HW_F_score_dtype, TTC_BF16, "score_dtype: bf16 is not supported yet: attention scores are fp32 on every path",
     "remove score_dtype or use fp32"},
};

/* The row of hw_unsupported for field f = v, or -1. */
static int hw_unsupported_row(int f, int v) {
    for (size_t i = 0; i < sizeof hw_unsupported / sizeof hw_unsupported[0]; i++)
        if (hw_unsupported[i].field == f && (hw_unsupported[i].value < 0 || hw_unsupported[i].value == v))
            return (int)i;
    return -1;
}

/* One field's value from YAML into r. */
static void hw_parse_value(YamluDoc *y, HwRule *r, int f, yaml_node_t *key, yaml_node_t *v, const char *ctx) {
    int kind = hw_field_kind(f), n = 0, val = 0;
    const char *fkey = hw_field_key(f);
    int ok = -1;
    if (kind == HW_KIND_BOOL) {
        ok = yamlu_bool(y, v, ctx, fkey, &val);
    } else if (kind == HW_KIND_BLOCK_SIZE) {
        int64_t x = 0;
        ok = yamlu_int(y, v, ctx, fkey, 1, INT64_MAX, &x);
        const char *problem = ok == 0 ? hw_block_size_problem(x) : NULL;
        if (problem) {
            diag_error(y->d, yamlu_loc(y, v), "%s: %s %s, got %lld", ctx, fkey, problem, (long long)x);
            ok = -1;
        }
        val = (int)x;
    } else {
        const char *const *names = hw_kind_names(kind, &n);
        ok = yamlu_enum(y, v, ctx, fkey, fkey, names, n, &val);
    }
    if (ok != 0) return;
    int unsupported = hw_unsupported_row(f, val);
    if (unsupported >= 0) {
        Diag *dg = diag_error(y->d, yamlu_loc(y, key), "%s: %s", ctx, hw_unsupported[unsupported].what);
        diag_hint(dg, "%s", hw_unsupported[unsupported].hint);
        return;
    }
    r->set_mask |= 1u << f;
    r->v[f] = val;
    DiagLoc l = yamlu_loc(y, key);
    r->prov[f] = (HwProv){l.file, l.line, l.col, hw_origin(r->mode, r->match)};
}

/* kv_cache: {dtype?: fp32|bf16|bfp8|bfp4, layout?: contiguous|paged, block_size?: N} */
static void hw_parse_kv_cache(YamluDoc *y, HwRule *r, yaml_node_t *m, const char *ctx) {
    static const char *const keys[] = {"dtype", "layout", "block_size"};
    if (yamlu_expect_map(y, m, ctx, "kv_cache") < 0) return;
    char *context = yamlu_printf("%s kv_cache", ctx);
    yamlu_check_keys(y, m, keys, 3, context);
    free(context);
    for (int i = 0; i < yamlu_map_len(m); i++) {
        yaml_node_t *k, *v;
        yamlu_pair(y, m, i, &k, &v);
        const char *s = yamlu_str(k);
        if (!s || yamlu_enum_index(s, keys, 3) < 0) continue;
        char full[32];
        snprintf(full, sizeof full, "kv_cache.%s", s);
        hw_parse_value(y, r, hw_field_from_key(full), k, v, ctx);
    }
}

/* SETTINGS: {activation_dtype?, weight_dtype?, math_fidelity?, fp32_dest_acc?, layout?, memory?,
 *            fused_qkv?, kernel_variant?, score_dtype?, kv_cache?: {...}, sharding?}
 * A mode block also takes modules?: {PATTERN: SETTINGS} (allow_modules), read by the caller. */
static void hw_parse_settings(YamluDoc *y, HwRule *r, yaml_node_t *m, const char *ctx, int allow_modules) {
    const char *keys[HW_FIELD_COUNT + 2];
    int n_keys = 0;
    for (int f = 0; f < HW_FIELD_COUNT; f++)
        if (strncmp(hw_field_key(f), "kv_cache.", 9) != 0) keys[n_keys++] = hw_field_key(f);
    keys[n_keys++] = "kv_cache";
    if (allow_modules) keys[n_keys++] = "modules";
    if (yamlu_expect_map(y, m, NULL, ctx) < 0) return;
    yamlu_check_keys(y, m, keys, n_keys, ctx);
    for (int i = 0; i < yamlu_map_len(m); i++) {
        yaml_node_t *k, *v;
        yamlu_pair(y, m, i, &k, &v);
        const char *s = yamlu_str(k);
        if (!s) continue;
        /* The first of duplicate keys counts; check_keys has reported the rest. */
        yaml_node_t *first_key = NULL;
        yamlu_get(y, m, s, &first_key);
        if (first_key != k) continue;
        if (strcmp(s, "kv_cache") == 0) {
            hw_parse_kv_cache(y, r, v, ctx);
            continue;
        }
        int f = hw_field_from_key(s);
        if (f >= 0) hw_parse_value(y, r, f, k, v, ctx);
    }
}

/* modules: {PATTERN: SETTINGS, ...}   PATTERN: a module type (embedding, attention, ffn, norm,
 * pooler, lm_head), a glob over module paths ("layer_*.ffn"), or an exact path ("layer_15.attention"). */
static void hw_parse_modules(HwConfig *c, YamluDoc *y, yaml_node_t *m, int mode, const char *where) {
    if (yamlu_expect_map(y, m, NULL, where) < 0) return;
    for (int i = 0; i < yamlu_map_len(m); i++) {
        yaml_node_t *k, *v;
        yamlu_pair(y, m, i, &k, &v);
        const char *pattern = yamlu_str(k);
        if (!pattern || !*pattern) {
            diag_error(y->d, yamlu_loc(y, k), "%s: keys must be module types, globs or paths, got %s", where,
                       pattern ? "an empty name" : yamlu_kind_name(k));
            continue;
        }
        yaml_node_t *first_key = NULL;
        yamlu_get(y, m, pattern, &first_key);
        if (first_key != k) {
            Diag *dg = diag_error(y->d, yamlu_loc(y, k), "duplicate key '%s' in %s", pattern, where);
            diag_hint(dg, "the first '%s' is at line %d; merge the two", pattern, (int)first_key->start_mark.line + 1);
            continue;
        }
        int match = hw_classify(pattern);
        if (match == HW_MATCH_PATH && !hw_path_ok(pattern)) {
            Diag *dg = diag_error(y->d, yamlu_loc(y, k), "%s: '%s' is not a module type, glob or path", where, pattern);
            diag_hint(dg, "paths are layer ids and module names joined by '.', e.g. layer_3.attention");
            continue;
        }
        char *ctx = yamlu_printf("%s '%s'", where, pattern);
        HwRule *r = hw_add_rule(c, match, pattern, mode, yamlu_loc(y, k));
        hw_parse_settings(y, r, v, ctx, 0);
        free(ctx);
    }
}

/* modes: {prefill?: SETTINGS + modules?, decode?: SETTINGS + modules?} */
static void hw_parse_modes(HwConfig *c, YamluDoc *y, yaml_node_t *m) {
    static const char *const modes[] = {"prefill", "decode"};
    if (yamlu_expect_map(y, m, NULL, "modes") < 0) return;
    yamlu_check_keys(y, m, modes, 2, "modes");
    for (int i = 0; i < yamlu_map_len(m); i++) {
        yaml_node_t *k, *v;
        yamlu_pair(y, m, i, &k, &v);
        const char *s = yamlu_str(k);
        int mode = s ? yamlu_enum_index(s, modes, 2) : -1;
        if (mode < 0) continue; /* reported by check_keys */
        yaml_node_t *first_key = NULL;
        yamlu_get(y, m, s, &first_key);
        if (first_key != k) continue; /* a duplicate, reported too */
        char *ctx = yamlu_printf("modes.%s", s);
        HwRule *r = hw_add_rule(c, HW_MATCH_DEFAULTS, NULL, mode, yamlu_loc(y, k));
        hw_parse_settings(y, r, v, ctx, 1);
        yaml_node_t *mods = yamlu_is_map(v) ? yamlu_get(y, v, "modules", NULL) : NULL;
        if (mods) {
            char *where = yamlu_printf("%s.modules", ctx);
            hw_parse_modules(c, y, mods, mode, where);
            free(where);
        }
        free(ctx);
    }
}

/* ---- one overlay ---- */

/* hw_version: 1
 * device?: NAME                 a file of specs/devices/ (a later overlay's device replaces it)
 * mesh_shape?: [ROWS, COLS]     a logical view of the device's chips, ROWS * COLS = chips
 * defaults?: SETTINGS
 * modules?: {PATTERN: SETTINGS}
 * modes?: {prefill?: ..., decode?: ...} */
static void hw_parse_overlay(HwConfig *c, YamluDoc *y) {
    static const char *const keys[] = {"hw_version", "device", "mesh_shape", "defaults", "modules", "modes"};
    yaml_node_t *root = yamlu_root(y), *v, *k;
    if (!root) {
        Diag *dg = diag_error(y->d, (DiagLoc){y->file, 0, 0}, "the overlay is empty");
        diag_hint(dg, "an overlay starts with hw_version: 1");
        return;
    }
    if (!yamlu_is_map(root)) {
        diag_error(y->d, yamlu_loc(y, root), "an overlay must be a mapping with hw_version, device, defaults, modules, modes; got %s",
                   yamlu_kind_name(root));
        return;
    }
    int64_t version = 0;
    if (!(v = yamlu_get(y, root, "hw_version", NULL))) {
        Diag *dg = diag_error(y->d, yamlu_loc(y, root), "missing required key 'hw_version' in the overlay");
        diag_hint(dg, "add hw_version: 1 as the first line");
    } else if (yamlu_int(y, v, NULL, "hw_version", 0, INT64_MAX, &version) < 0) {
        return;
    } else if (version != 1) {
        Diag *dg = diag_error(y->d, yamlu_loc(y, v), "hw_version %lld is not supported", (long long)version);
        diag_hint(dg, "this ttc reads hw_version 1");
        return;
    }
    yamlu_check_keys(y, root, keys, 6, "the overlay");

    /* The device comes first whatever the key order: mesh_shape is checked against it. */
    if ((v = yamlu_get(y, root, "device", &k))) {
        const char *name = yamlu_str(v);
        HwDevice dev;
        if (!name || !*name)
            diag_error(y->d, yamlu_loc(y, v), "device must be a device name, got %s", yamlu_kind_name(v));
        else if (hw_device_load(&dev, name, yamlu_loc(y, v), y->d) == 0)
            hw_set_device(c, &dev, (HwProv){y->file, (int)k->start_mark.line + 1, (int)k->start_mark.column + 1, "device"});
    }
    if ((v = yamlu_get(y, root, "mesh_shape", NULL))) {
        int64_t rc[2];
        if (yamlu_int_pair(y, v, NULL, "mesh_shape", 1, 1024, rc) == 0) {
            if (rc[0] * rc[1] != c->device.chips) {
                Diag *dg = diag_error(y->d, yamlu_loc(y, v), "mesh_shape [%lld, %lld] has %lld chips, but %s has %d",
                                      (long long)rc[0], (long long)rc[1], (long long)(rc[0] * rc[1]), c->device.name,
                                      c->device.chips);
                diag_hint(dg, "use a shape whose rows * cols is %d, e.g. [1, %d]", c->device.chips, c->device.chips);
            } else {
                c->device.mesh_rows = (int)rc[0];
                c->device.mesh_cols = (int)rc[1];
            }
        }
    }
    /* `defaults:` with nothing after it is an empty block, as in a template being filled in. */
    if ((v = yamlu_get(y, root, "defaults", &k)) && !yamlu_is_null(v)) {
        HwRule *r = hw_add_rule(c, HW_MATCH_DEFAULTS, NULL, HW_MODE_ANY, yamlu_loc(y, k));
        hw_parse_settings(y, r, v, "defaults", 0);
    }
    if ((v = yamlu_get(y, root, "modules", NULL)) && !yamlu_is_null(v))
        hw_parse_modules(c, y, v, HW_MODE_ANY, "modules");
    if ((v = yamlu_get(y, root, "modes", NULL)) && !yamlu_is_null(v)) hw_parse_modes(c, y, v);
}

static int hw_apply(HwConfig *c, YamluDoc *y, int loaded, Diags *d, int before) {
    int n_rules = c->n_rules;
    HwDevice dev = c->device;
    HwProv prov = c->device_prov;
    if (loaded == 0) hw_parse_overlay(c, y);
    yamlu_free(y);
    if (d->n_errors == before) return 0;
    hw_truncate_rules(c, n_rules);
    hw_set_device(c, &dev, prov);
    return -1;
}

int hw_config_load(HwConfig *c, const char *path, Diags *d) {
    int before = d->n_errors;
    YamluDoc y;
    int rc = yamlu_load_file(&y, path, d);
    return hw_apply(c, &y, rc, d, before);
}

int hw_config_load_string(HwConfig *c, const char *text, const char *name, Diags *d) {
    int before = d->n_errors;
    YamluDoc y;
    int rc = yamlu_load_string(&y, text, name ? name : "<string>", d);
    return hw_apply(c, &y, rc, d, before);
}

/* ---- --set PATH.FIELD=VALUE ---- */

/* The field an assignment's left side ends with: the longest key that is the whole left side
 * or follows a '.' ("kv_cache.dtype" has a dot of its own). *pattern_len gets the length of
 * what comes before it (without the dot). */
static int hw_split_field(const char *lhs, size_t *pattern_len) {
    size_t n = strlen(lhs);
    int best = -1;
    size_t best_len = 0;
    for (int f = 0; f < HW_FIELD_COUNT; f++) {
        const char *key = hw_field_key(f);
        size_t kl = strlen(key);
        if (kl > n || strcmp(lhs + n - kl, key) != 0) continue;
        if (kl < n && lhs[n - kl - 1] != '.') continue;
        if (kl > best_len) {
            best = f;
            best_len = kl;
        }
    }
    if (best >= 0) *pattern_len = n - best_len - (best_len < n ? 1 : 0);
    return best;
}

static int hw_set_value(const char *text, int f, const char *assignment, Diags *d, int *out) {
    int kind = hw_field_kind(f), n = 0;
    const char *key = hw_field_key(f);
    DiagLoc none = {0};
    if (kind == HW_KIND_BOOL) {
        if (yamlu_parse_bool(text, out) == 0) return 0;
        Diag *dg = diag_error(d, none, "--set '%s': %s must be true or false, got '%s'", assignment, key, text);
        diag_hint(dg, "write --set ...%s=true or =false", key);
        return -1;
    }
    if (kind == HW_KIND_BLOCK_SIZE) {
        int64_t x = 0;
        int rc = yamlu_parse_int(text, &x);
        const char *problem = rc == 0 ? hw_block_size_problem(x) : "must be an integer";
        if (!problem) return *out = (int)x, 0;
        diag_error(d, none, "--set '%s': %s %s, got '%s'", assignment, key, problem, text);
        return -1;
    }
    const char *const *names = hw_kind_names(kind, &n);
    int i = yamlu_enum_index(text, names, n);
    if (i >= 0) return *out = i, 0;
    Diag *dg = diag_error(d, none, "--set '%s': unknown %s '%s'", assignment, key, text);
    yamlu_hint_choices(dg, text, names, n);
    return -1;
}

int hw_config_set(HwConfig *c, const char *assignment, Diags *d) {
    DiagLoc none = {0};
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq || eq == assignment) {
        Diag *dg = diag_error(d, none, "--set '%s': expected PATH.FIELD=VALUE", assignment ? assignment : "");
        diag_hint(dg, "e.g. --set layer_15.attention.math_fidelity=HiFi4, or defaults.memory=l1");
        return -1;
    }
    char *lhs = yamlu_strdup(assignment);
    lhs[eq - assignment] = 0;
    const char *value = eq + 1;
    int rc = -1;
    if (strcmp(lhs, "device") == 0) {
        HwDevice dev;
        if (hw_device_load(&dev, value, none, d) == 0) {
            hw_set_device(c, &dev, (HwProv){NULL, 0, 0, "--set"});
            rc = 0;
        }
        free(lhs);
        return rc;
    }
    size_t plen = 0;
    int f = hw_split_field(lhs, &plen);
    if (f < 0) {
        const char *dot = strrchr(lhs, '.');
        const char *word = dot ? dot + 1 : lhs;
        const char *keys[HW_FIELD_COUNT];
        for (int i = 0; i < HW_FIELD_COUNT; i++) keys[i] = hw_field_key(i);
        Diag *dg = diag_error(d, none, "--set '%s': unknown field '%s'", assignment, word);
        yamlu_hint_choices(dg, word, keys, HW_FIELD_COUNT);
        free(lhs);
        return -1;
    }
    if (plen == 0 && lhs[0] == '.') {
        diag_error(d, none, "--set '%s': the path before '.%s' is empty", assignment, hw_field_key(f));
        free(lhs);
        return -1;
    }
    lhs[plen] = 0;
    /* PATTERN: "" or "defaults" (every module), "modes.MODE[.PATTERN]", or as a modules: key. */
    const char *pattern = lhs;
    int mode = HW_MODE_ANY;
    if (strncmp(pattern, "modes.", 6) == 0) {
        const char *m = pattern + 6;
        if (strncmp(m, "prefill", 7) == 0 && (m[7] == 0 || m[7] == '.'))
            mode = HW_MODE_PREFILL, pattern = m[7] ? m + 8 : m + 7;
        else if (strncmp(m, "decode", 6) == 0 && (m[6] == 0 || m[6] == '.'))
            mode = HW_MODE_DECODE, pattern = m[6] ? m + 7 : m + 6;
    }
    int match = !*pattern || strcmp(pattern, "defaults") == 0 ? HW_MATCH_DEFAULTS : hw_classify(pattern);
    int v = 0, unsupported;
    if (match == HW_MATCH_PATH && !hw_path_ok(pattern)) {
        Diag *dg = diag_error(d, none, "--set '%s': '%s' is not a module type, glob or path", assignment, pattern);
        diag_hint(dg, "paths are layer ids and module names joined by '.', e.g. layer_3.attention");
    } else if (hw_set_value(value, f, assignment, d, &v) != 0) {
        /* reported */
    } else if ((unsupported = hw_unsupported_row(f, v)) >= 0) {
        Diag *dg = diag_error(d, none, "--set '%s': %s", assignment, hw_unsupported[unsupported].what);
        diag_hint(dg, "%s", hw_unsupported[unsupported].hint);
    } else {
        HwRule *r = hw_add_rule(c, match, match == HW_MATCH_DEFAULTS ? NULL : pattern, mode, none);
        r->from_set = 1;
        r->set_mask = 1u << f;
        r->v[f] = v;
        r->prov[f] = (HwProv){NULL, 0, 0, "--set"};
        rc = 0;
    }
    free(lhs);
    return rc;
}
