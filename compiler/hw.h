/* hw.h: hardware-config overlays (DESIGN.md §4, hw_version: 1), device descriptors, and the
 * resolution of one op's configuration with the provenance of every field.
 *
 * Precedence, lowest to highest: built-in module default for the device < `defaults` < module
 * type < path glob < exact path; then `modes.<mode>` on top; overlay files in command-line order;
 * `--set` last. Resolution is a pure function of (config, module path, module type, mode).
 * Details (hw_resolve.c): within the glob and exact-path levels a pattern with more dotted
 * components beats a shorter one (layer_3.attention over layer_3); otherwise, at equal
 * standing, the later rule wins (later line, later file). Every --set beats every file rule,
 * and among --set the later wins whatever its pattern. A path P selects P and P.anything; a
 * glob selects a module when it matches the path or one of its dotted prefixes. */
#ifndef TTC_HW_H
#define TTC_HW_H

#include <stdint.h>
#include "diag.h"
#include "../runtime/ttc_types.h"

/* One row of DEVICE.md §1, loaded from specs/devices/NAME.yaml. */
typedef struct HwDevice {
    char name[64];
    int chips;
    int mesh_rows, mesh_cols;
    int grid_x, grid_y;         /* compute grid per chip */
    int64_t l1_bytes;           /* usable L1 per core */
    int64_t dram_bytes;         /* per chip */
    int dram_banks;
    double dram_gbps;           /* GB/s per chip */
    double clock_ghz;
    int noc_bytes_per_cycle;
    double eth_gbps;            /* GB/s per direction per link */
    int dram_latency_cycles;
} HwDevice;

/* The overridable fields, one row each: NAME (C field of HwValues), yaml key, kind.
 * Fusion switches (passes/fuse.c), read at the module of the ops a fusion replaces: fused_qkv
 * (q/k/v projections as one matmul, RoPE in its epilogue), kernel_variant flash (attention as one
 * tiled online-softmax op), fuse_epilogue (a linear's activation in its epilogue),
 * fuse_residual_norm (a post-norm residual add inside the layernorm).
 * Kinds: DTYPE_ACT (fp32|bf16), DTYPE_W (fp32|bf16|bfp8|bfp4), FIDELITY, BOOL, LAYOUT, MEMORY,
 * KERNEL (flash|naive), KV_LAYOUT (contiguous|paged), BLOCK_SIZE (tokens, a multiple of 32),
 * SHARDING (auto|replicate|column_parallel|row_parallel|height|width|block).
 * The rows after `memory` came with later features (DESIGN.md §4); values nothing implements yet
 * (kv_cache.layout: paged, kv_cache.block_size, score_dtype: bf16) are errors where they are
 * written (hw_config.c's hw_unsupported), not settings silently ignored. `kv_cache.*` rows are the keys
 * of the `kv_cache: {dtype, layout, block_size}` mapping (and of --set ...kv_cache.dtype=bf16). */
#define HW_FIELDS(X)                                              \
    X(act_dtype, "activation_dtype", HW_KIND_DTYPE_ACT)             \
    X(weight_dtype, "weight_dtype", HW_KIND_DTYPE_W)                \
    X(fidelity, "math_fidelity", HW_KIND_FIDELITY)                  \
    X(fp32_acc, "fp32_dest_acc", HW_KIND_BOOL)                      \
    X(layout, "layout", HW_KIND_LAYOUT)                             \
    X(memory, "memory", HW_KIND_MEMORY)                             \
    X(fused_qkv, "fused_qkv", HW_KIND_BOOL)                         \
    X(kernel_variant, "kernel_variant", HW_KIND_KERNEL)             \
    X(score_dtype, "score_dtype", HW_KIND_DTYPE_ACT)                \
    X(kv_dtype, "kv_cache.dtype", HW_KIND_DTYPE_W)                  \
    X(kv_layout, "kv_cache.layout", HW_KIND_KV_LAYOUT)              \
    X(kv_block_size, "kv_cache.block_size", HW_KIND_BLOCK_SIZE)     \
    X(sharding, "sharding", HW_KIND_SHARDING)                       \
    X(fuse_epilogue, "fuse_epilogue", HW_KIND_BOOL)                 \
    X(fuse_residual_norm, "fuse_residual_norm", HW_KIND_BOOL)

typedef enum {
    HW_KIND_DTYPE_ACT,
    HW_KIND_DTYPE_W,
    HW_KIND_FIDELITY,
    HW_KIND_BOOL,
    HW_KIND_LAYOUT,
    HW_KIND_MEMORY,
    HW_KIND_KERNEL,
    HW_KIND_KV_LAYOUT,
    HW_KIND_BLOCK_SIZE,
    HW_KIND_SHARDING,
    HW_KIND_COUNT
} HwKind;

/* Values of the later-feature kinds (the others use the TtcDType/TtcFidelity/... enums). */
typedef enum { HW_KERNEL_NAIVE, HW_KERNEL_FLASH } HwKernelVariant;
typedef enum { HW_KV_CONTIGUOUS, HW_KV_PAGED } HwKvLayout;
typedef enum {
    HW_SHARD_AUTO, /* not given: the compiler chooses */
    HW_SHARD_REPLICATE,
    HW_SHARD_COLUMN_PARALLEL,
    HW_SHARD_ROW_PARALLEL,
    HW_SHARD_HEIGHT,
    HW_SHARD_WIDTH,
    HW_SHARD_BLOCK
} HwSharding;

typedef enum {
#define X(f, key, kind) HW_F_##f,
    HW_FIELDS(X)
#undef X
    HW_FIELD_COUNT
} HwField;

/* Where a resolved value came from. */
typedef struct HwProv {
    const char *file; /* interned (Diags); NULL for built-in defaults and --set */
    int line, col;
    const char *origin; /* "built-in default for wormhole_n150", "--set", "file" */
    /* (origin of file rules names their place: "defaults", "modules (type)", "modules (glob)",
     *  "modules (path)", "modes.decode", "modes.decode.modules (type)", ...; "device" for
     *  HwConfig.device_prov. Always static or owned by the HwConfig.) */
} HwProv;

typedef struct HwResolved {
    int v[HW_FIELD_COUNT];   /* enum values as in TtcOpConfig */
    HwProv prov[HW_FIELD_COUNT];
} HwResolved;

typedef enum { HW_MATCH_DEFAULTS, HW_MATCH_TYPE, HW_MATCH_GLOB, HW_MATCH_PATH } HwMatch;
typedef enum { HW_MODE_ANY = -1, HW_MODE_PREFILL = 0, HW_MODE_DECODE = 1 } HwMode;

/* One block of settings from one place (an overlay's `defaults`, a `modules:` entry, a
 * `modes:` block, or one --set). */
typedef struct HwRule {
    int match;          /* HwMatch */
    char *pattern;      /* module type, glob or path; NULL for defaults */
    int mode;           /* HwMode */
    int seq;            /* order of appearance: later beats earlier at equal precedence */
    uint32_t set_mask;  /* bit HwField set when the rule gives that field */
    int v[HW_FIELD_COUNT];
    HwProv prov[HW_FIELD_COUNT];
    DiagLoc loc;        /* of the pattern key, for "matches nothing" errors */
    int from_set;       /* 1: a --set; these apply after every file, in command-line order */
} HwRule;

typedef struct HwConfig {
    HwDevice device;
    HwProv device_prov;
    HwRule *rules;
    int n_rules, cap_rules;
    char builtin_origin[96]; /* "built-in default for <device>": HwProv.origin of built-ins */
} HwConfig;

/* Starts a configuration on the default device (wormhole_n150) with no rules. */
int hw_config_init(HwConfig *c, Diags *d);
/* Applies one overlay file on top (device, defaults, modules, modes). 0 ok, -1 on errors in `d`. */
int hw_config_load(HwConfig *c, const char *path, Diags *d);
int hw_config_load_string(HwConfig *c, const char *text, const char *name, Diags *d);
/* Applies `--set PATH.FIELD=VALUE` (PATH may be a module type, glob, exact path, or "defaults"). */
int hw_config_set(HwConfig *c, const char *assignment, Diags *d);
/* Loads a device descriptor by name from the device directory (see hw_device_dir). */
int hw_device_load(HwDevice *dev, const char *name, DiagLoc where, Diags *d);
/* The directory holding the device descriptors (specs/devices/NAME.yaml): $TTC_DATA_DIR/devices, else the build-time path. */
const char *hw_device_dir(void);

/* Resolves every field for one op. `module_type` is one of: embedding, attention, ffn, norm,
 * pooler, lm_head. Built-in defaults come from the device and the module type. */
void hw_resolve(const HwConfig *c, const char *module_path, const char *module_type, int mode, HwResolved *out);
void hw_resolved_to_op_config(const HwResolved *r, TtcOpConfig *cfg);
/* After resolving every op: patterns that matched no module are errors (with "did you mean"). */
int hw_check_unused(const HwConfig *c, const char *const *module_paths, const char *const *module_types, int n, Diags *d);

void hw_config_free(HwConfig *c);

/* ---- field and value names (for `ttc config`, dumps and messages) ---- */
const char *hw_field_key(int field);          /* "math_fidelity", "kv_cache.dtype" */
int hw_field_kind(int field);                 /* HwKind */
int hw_field_from_key(const char *key);       /* -1 when unknown */
const char *hw_value_name(int field, int v);  /* "HiFi4", "true", "32" (static buffer for sizes) */
/* The allowed spellings of a kind, in enum order; *n gets their count (0 for BLOCK_SIZE). */
const char *const *hw_kind_names(int kind, int *n);
/* The module types overlays may name under `modules:`. */
extern const char *const hw_module_types[6];
/* Does a pattern (module type, glob, or path) of `match` kind select this module? A path
 * selects itself and everything under it ("layer_3" selects "layer_3.attention.qkv"). */
int hw_pattern_matches(int match, const char *pattern, const char *module_path, const char *module_type);

#endif
