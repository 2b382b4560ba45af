/* test_hw_config.c: hardware-config overlays — devices, the precedence of every level with
 * provenance, --set, errors with their exact text, and patterns that select nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hw.h"
#include "unit.h"

static Diags D;
static HwConfig C;

static void fresh(void) {
    diag_free(&D);
    hw_config_free(&C);
    if (hw_config_init(&C, &D) != 0) diag_print(&D, stderr);
}

static int overlay(const char *text, const char *name) { return hw_config_load_string(&C, text, name, &D); }

static HwResolved resolve(const char *path, const char *type, int mode) {
    HwResolved r;
    hw_resolve(&C, path, type, mode, &r);
    return r;
}

static const Diag *find(const char *msg) {
    for (int i = 0; i < D.n; i++)
        if (strcmp(D.v[i].msg, msg) == 0) return &D.v[i];
    fprintf(stderr, "\nmissing error: %s\n--- diagnostics ---\n", msg);
    diag_print(&D, stderr);
    return NULL;
}

/* An error with this text, at line:col (0:0 = no location), with this hint (NULL = unchecked). */
static void expect_error(const char *msg, int line, int col, const char *hint) {
    const Diag *dg = find(msg);
    CU_ASSERT_PTR_NOT_NULL(dg);
    if (!dg) return;
    CU_ASSERT_EQUAL(dg->loc.line, line);
    CU_ASSERT_EQUAL(dg->loc.col, col);
    if (hint) {
        CU_ASSERT_PTR_NOT_NULL(dg->hint);
        if (dg->hint) CU_ASSERT_STRING_EQUAL(dg->hint, hint);
        if (dg->hint && strcmp(dg->hint, hint) != 0) fprintf(stderr, "\n'%s': hint '%s'\n", msg, dg->hint);
    }
}

static void expect_prov(const HwProv *p, const char *file, int line, int col, const char *origin) {
    if (file) {
        CU_ASSERT_PTR_NOT_NULL(p->file);
        if (p->file) CU_ASSERT_STRING_EQUAL(p->file, file);
    } else {
        CU_ASSERT_PTR_NULL(p->file);
    }
    CU_ASSERT_EQUAL(p->line, line);
    CU_ASSERT_EQUAL(p->col, col);
    CU_ASSERT_STRING_EQUAL(p->origin, origin);
}

/* ---- devices ---- */

static void test_default_device(void) {
    fresh();
    CU_ASSERT_EQUAL(D.n, 0);
    const HwDevice *d = &C.device;
    CU_ASSERT_STRING_EQUAL(d->name, "wormhole_n150");
    CU_ASSERT_EQUAL(d->chips, 1);
    CU_ASSERT_EQUAL(d->mesh_rows, 1);
    CU_ASSERT_EQUAL(d->mesh_cols, 1);
    CU_ASSERT_EQUAL(d->grid_x, 8);
    CU_ASSERT_EQUAL(d->grid_y, 8);
    CU_ASSERT_EQUAL(d->l1_bytes, 1499136);
    CU_ASSERT_EQUAL(d->dram_bytes, (int64_t)12 << 30);
    CU_ASSERT_EQUAL(d->dram_banks, 12);
    CU_ASSERT_DOUBLE_EQUAL(d->dram_gbps, 288.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(d->clock_ghz, 1.0, 1e-12);
    CU_ASSERT_EQUAL(d->noc_bytes_per_cycle, 32);
    CU_ASSERT_DOUBLE_EQUAL(d->eth_gbps, 12.5, 1e-12);
    CU_ASSERT_EQUAL(d->dram_latency_cycles, 358);
    CU_ASSERT_STRING_EQUAL(C.builtin_origin, "built-in default for wormhole_n150");
}

static void test_every_device(void) {
    static const struct {
        const char *name;
        int chips, rows, cols, gx, gy;
        int64_t l1, dram;
        int banks;
        double gbps, ghz;
        int noc, latency;
    } want[] = {
        {"wormhole_n150", 1, 1, 1, 8, 8, 1499136, (int64_t)12 << 30, 12, 288, 1.0, 32, 358},
        {"wormhole_n300", 2, 1, 2, 8, 8, 1499136, (int64_t)12 << 30, 12, 288, 1.0, 32, 358},
        {"wormhole_t3k", 8, 2, 4, 8, 8, 1499136, (int64_t)12 << 30, 12, 288, 1.0, 32, 358},
        {"wormhole_galaxy", 32, 4, 8, 8, 8, 1499136, (int64_t)12 << 30, 12, 288, 1.0, 32, 358},
        {"blackhole_p100", 1, 1, 1, 11, 10, 1572864, (int64_t)28 << 30, 7, 448, 1.35, 64, 529},
        {"blackhole_p150", 1, 1, 1, 13, 10, 1572864, (int64_t)32 << 30, 8, 512, 1.35, 64, 529},
    };
    diag_free(&D);
    for (int i = 0; i < 6; i++) {
        HwDevice d;
        CU_ASSERT_EQUAL_FATAL(hw_device_load(&d, want[i].name, (DiagLoc){0}, &D), 0);
        CU_ASSERT_STRING_EQUAL(d.name, want[i].name);
        CU_ASSERT_EQUAL(d.chips, want[i].chips);
        CU_ASSERT_EQUAL(d.mesh_rows, want[i].rows);
        CU_ASSERT_EQUAL(d.mesh_cols, want[i].cols);
        CU_ASSERT_EQUAL(d.grid_x, want[i].gx);
        CU_ASSERT_EQUAL(d.grid_y, want[i].gy);
        CU_ASSERT_EQUAL(d.l1_bytes, want[i].l1);
        CU_ASSERT_EQUAL(d.dram_bytes, want[i].dram);
        CU_ASSERT_EQUAL(d.dram_banks, want[i].banks);
        CU_ASSERT_DOUBLE_EQUAL(d.dram_gbps, want[i].gbps, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(d.clock_ghz, want[i].ghz, 1e-12);
        CU_ASSERT_EQUAL(d.noc_bytes_per_cycle, want[i].noc);
        CU_ASSERT_EQUAL(d.dram_latency_cycles, want[i].latency);
    }
    CU_ASSERT_EQUAL(D.n, 0);
}

static void test_unknown_device(void) {
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndevice: wormhole_n15\n", "u.yaml"), -1);
    expect_error("unknown device 'wormhole_n15'", 2, 9,
                 "did you mean 'wormhole_n150'? available: blackhole_p100, blackhole_p150, wormhole_galaxy, "
                 "wormhole_n150, wormhole_n300, wormhole_t3k");
    CU_ASSERT_STRING_EQUAL(D.v[0].loc.file, "u.yaml");
    /* Names never reach the file system unless they are plain identifiers. */
    diag_free(&D);
    HwDevice d;
    CU_ASSERT_EQUAL(hw_device_load(&d, "../devices/wormhole_n150", (DiagLoc){0}, &D), -1);
    expect_error("unknown device '../devices/wormhole_n150'", 0, 0,
                 "available: blackhole_p100, blackhole_p150, wormhole_galaxy, wormhole_n150, wormhole_n300, wormhole_t3k");
    CU_ASSERT_STRING_EQUAL(C.device.name, "wormhole_n150"); /* unchanged */
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_data_dir_and_descriptor_checks(void) {
    char root[800], dir[900], path[1000];
    snprintf(root, sizeof root, "%s", unit_tmp_path("data"));
    mkdir(root, 0777);
    snprintf(dir, sizeof dir, "%s/devices", root);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/custom.yaml", dir);
    write_file(path, "name: custom\nchips: 2\nmesh_shape: [2, 1]\ngrid: [4, 4]\nl1_bytes: 1048576\n"
                     "dram_bytes: 1073741824\ndram_banks: 4\ndram_gbps: 100\nclock_ghz: 1.2\n"
                     "noc_bytes_per_cycle: 32\neth_gbps: 12.5\ndram_latency_cycles: 400\n");
    snprintf(path, sizeof path, "%s/broken.yaml", dir);
    write_file(path, "name: other\nchips: 0\nmesh_shape: [1, 1]\ngrid: [8, 8]\nl1_bytes: 1499136\n"
                     "dram_bytes: 12884901888\ndram_gbps: 288\nclock_ghz: 1350\n"
                     "noc_bytes_per_cycle: 32\neth_gbps: 12.5\ndram_latency_cycles: 358\nsram: 1\n");
    setenv("TTC_DATA_DIR", root, 1);
    char want_dir[1000];
    snprintf(want_dir, sizeof want_dir, "%s/devices", root);
    CU_ASSERT_STRING_EQUAL(hw_device_dir(), want_dir);

    diag_free(&D);
    HwDevice d;
    CU_ASSERT_EQUAL(hw_device_load(&d, "custom", (DiagLoc){0}, &D), 0);
    CU_ASSERT_EQUAL(d.chips, 2);
    CU_ASSERT_EQUAL(d.mesh_rows, 2);
    CU_ASSERT_EQUAL(d.grid_x, 4);
    CU_ASSERT_DOUBLE_EQUAL(d.clock_ghz, 1.2, 1e-12);

    memset(&d, 0x5a, sizeof d);
    HwDevice before = d;
    CU_ASSERT_EQUAL(hw_device_load(&d, "broken", (DiagLoc){0}, &D), -1);
    CU_ASSERT_EQUAL(memcmp(&d, &before, sizeof d), 0); /* untouched on failure */
    CU_ASSERT_EQUAL(D.n_errors, 5);
    expect_error("device 'broken': the descriptor names itself 'other'", 1, 7, "name must match the file name, broken.yaml");
    expect_error("device 'broken': chips must be positive, got 0", 2, 8, NULL);
    expect_error("missing required key 'dram_banks' in device 'broken'", 1, 1, NULL);
    expect_error("device 'broken': clock_ghz must be at most 10, got 1350", 8, 12, NULL);
    expect_error("unknown key 'sram' in device 'broken'", 12, 1, NULL);
    CU_ASSERT_STRING_EQUAL(D.v[0].loc.file, path);

    /* The directory has no wormhole_n150: init fails with the list of what is there. */
    diag_free(&D);
    hw_config_free(&C);
    CU_ASSERT_EQUAL(hw_config_init(&C, &D), -1);
    expect_error("unknown device 'wormhole_n150'", 0, 0, "available: broken, custom");
    CU_ASSERT_STRING_EQUAL(C.device.name, "wormhole_n150");

    /* A directory that does not exist. */
    snprintf(path, sizeof path, "%s/nowhere", root);
    setenv("TTC_DATA_DIR", path, 1);
    diag_free(&D);
    CU_ASSERT_EQUAL(hw_device_load(&d, "custom", (DiagLoc){0}, &D), -1);
    char hint[1200];
    snprintf(hint, sizeof hint,
             "the device directory '%s/devices' cannot be read; set TTC_DATA_DIR to the directory holding devices/", path);
    expect_error("unknown device 'custom'", 0, 0, hint);

    unsetenv("TTC_DATA_DIR");
    const char *def = hw_device_dir();
    CU_ASSERT_STRING_EQUAL(def + strlen(def) - strlen("/specs/devices"), "/specs/devices");
}

static void test_device_and_mesh_in_overlays(void) {
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\nmesh_shape: [1, 8]\ndevice: wormhole_t3k\n", "a.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(C.device.name, "wormhole_t3k");
    CU_ASSERT_EQUAL(C.device.chips, 8);
    CU_ASSERT_EQUAL(C.device.mesh_rows, 1); /* device first, then the mesh, whatever the key order */
    CU_ASSERT_EQUAL(C.device.mesh_cols, 8);
    expect_prov(&C.device_prov, "a.yaml", 3, 1, "device");
    HwResolved r = resolve("layer_0.ffn", "ffn", HW_MODE_ANY);
    expect_prov(&r.prov[HW_F_layout], NULL, 0, 0, "built-in default for wormhole_t3k");

    /* A later overlay's device replaces the earlier one, mesh included. */
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndevice: blackhole_p150\n", "b.yaml"), 0);
    CU_ASSERT_STRING_EQUAL(C.device.name, "blackhole_p150");
    CU_ASSERT_EQUAL(C.device.mesh_cols, 1);
    expect_prov(&C.device_prov, "b.yaml", 2, 1, "device");

    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndevice: wormhole_t3k\nmesh_shape: [3, 3]\n", "m.yaml"), -1);
    expect_error("mesh_shape [3, 3] has 9 chips, but wormhole_t3k has 8", 3, 13,
                 "use a shape whose rows * cols is 8, e.g. [1, 8]");
    /* The failed overlay changed nothing, not even the device it named. */
    CU_ASSERT_STRING_EQUAL(C.device.name, "wormhole_n150");
    CU_ASSERT_STRING_EQUAL(C.builtin_origin, "built-in default for wormhole_n150");
    diag_free(&D);
    CU_ASSERT_EQUAL(overlay("hw_version: 1\nmesh_shape: [1]\n", "m.yaml"), -1);
    expect_error("mesh_shape must have two numbers, got 1", 2, 13, NULL);
    diag_free(&D);
    CU_ASSERT_EQUAL(overlay("hw_version: 1\nmesh_shape: [0, 1]\n", "m.yaml"), -1);
    expect_error("mesh_shape must be positive, got 0", 2, 14, NULL);
}

/* ---- precedence ---- */

static const char *const P = "layer_15.attention.qkv"; /* the op every precedence case resolves */

/* Each case writes the higher level FIRST, so order alone cannot explain the winner. */
static const struct {
    const char *name, *text;
    int want; /* TtcFidelity */
    int line, col;
    const char *origin;
} prec_cases[] = {
    {"defaults over built-in", "hw_version: 1\ndefaults: {math_fidelity: LoFi}\n", TTC_FIDELITY_LOFI, 2, 12, "defaults"},
    {"type over defaults", "hw_version: 1\nmodules:\n  attention: {math_fidelity: HiFi2}\ndefaults: {math_fidelity: LoFi}\n",
     TTC_FIDELITY_HIFI2, 3, 15, "modules (type)"},
    {"glob over type",
     "hw_version: 1\nmodules:\n  \"layer_*.attention\": {math_fidelity: HiFi3}\n  attention: {math_fidelity: LoFi}\n",
     TTC_FIDELITY_HIFI3, 3, 25, "modules (glob)"},
    {"path over glob",
     "hw_version: 1\nmodules:\n  layer_15.attention: {math_fidelity: HiFi2}\n  \"layer_*\": {math_fidelity: LoFi}\n",
     TTC_FIDELITY_HIFI2, 3, 24, "modules (path)"},
    {"longer path over shorter",
     "hw_version: 1\nmodules:\n  layer_15.attention: {math_fidelity: HiFi2}\n  layer_15: {math_fidelity: LoFi}\n",
     TTC_FIDELITY_HIFI2, 3, 24, "modules (path)"},
    {"mode over path",
     "hw_version: 1\nmodes:\n  decode: {math_fidelity: LoFi}\nmodules:\n  layer_15.attention.qkv: {math_fidelity: HiFi2}\n",
     TTC_FIDELITY_LOFI, 3, 12, "modes.decode"},
    {"mode module over mode",
     "hw_version: 1\nmodes:\n  decode:\n    modules: {attention: {math_fidelity: HiFi3}}\n    math_fidelity: LoFi\n",
     TTC_FIDELITY_HIFI3, 4, 27, "modes.decode.modules (type)"},
    {"same level: later wins",
     "hw_version: 1\nmodules:\n  \"layer_1*.attention\": {math_fidelity: LoFi}\n  \"layer_*.attention\": {math_fidelity: HiFi3}\n",
     TTC_FIDELITY_HIFI3, 4, 25, "modules (glob)"},
};

static void test_precedence_levels(void) {
    int n = (int)(sizeof prec_cases / sizeof prec_cases[0]);
    for (int i = 0; i < n; i++) {
        fresh();
        int rc = overlay(prec_cases[i].text, "p.yaml");
        CU_ASSERT_EQUAL(rc, 0);
        HwResolved r = resolve(P, "attention", HW_MODE_DECODE);
        CU_ASSERT_EQUAL(r.v[HW_F_fidelity], prec_cases[i].want);
        if (r.v[HW_F_fidelity] != prec_cases[i].want) fprintf(stderr, "\ncase '%s'\n", prec_cases[i].name);
        expect_prov(&r.prov[HW_F_fidelity], "p.yaml", prec_cases[i].line, prec_cases[i].col, prec_cases[i].origin);
    }
    /* Nothing given: the built-in default, with no file. */
    fresh();
    HwResolved r = resolve(P, "attention", HW_MODE_DECODE);
    CU_ASSERT_EQUAL(r.v[HW_F_fidelity], TTC_FIDELITY_HIFI4);
    expect_prov(&r.prov[HW_F_fidelity], NULL, 0, 0, "built-in default for wormhole_n150");
}

static void test_precedence_modes(void) {
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\n"
                            "modules:\n"
                            "  layer_15.attention: {memory: dram, layout: row_major}\n"
                            "modes:\n"
                            "  decode: {memory: l1}\n"
                            "  prefill: {layout: tile}\n",
                            "m.yaml"),
                    0);
    HwResolved dec = resolve(P, "attention", HW_MODE_DECODE);
    HwResolved pre = resolve(P, "attention", HW_MODE_PREFILL);
    HwResolved any = resolve(P, "attention", HW_MODE_ANY);
    CU_ASSERT_EQUAL(dec.v[HW_F_memory], TTC_MEM_L1);
    CU_ASSERT_EQUAL(dec.v[HW_F_layout], TTC_LAYOUT_ROW_MAJOR);
    CU_ASSERT_EQUAL(pre.v[HW_F_memory], TTC_MEM_DRAM);
    CU_ASSERT_EQUAL(pre.v[HW_F_layout], TTC_LAYOUT_TILE);
    CU_ASSERT_EQUAL(any.v[HW_F_memory], TTC_MEM_DRAM); /* no mode: mode blocks do not apply */
    CU_ASSERT_EQUAL(any.v[HW_F_layout], TTC_LAYOUT_ROW_MAJOR);
    expect_prov(&dec.prov[HW_F_memory], "m.yaml", 5, 12, "modes.decode");
    expect_prov(&pre.prov[HW_F_memory], "m.yaml", 3, 24, "modules (path)");
    /* Another module gets the mode block but not the path rule. */
    HwResolved other = resolve("layer_1.ffn.up", "ffn", HW_MODE_DECODE);
    CU_ASSERT_EQUAL(other.v[HW_F_memory], TTC_MEM_L1);
    CU_ASSERT_EQUAL(other.v[HW_F_layout], TTC_LAYOUT_TILE);
}

static void test_precedence_files(void) {
    /* Same level: the later file wins. */
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndefaults: {math_fidelity: LoFi}\n", "a.yaml"), 0);
    CU_ASSERT_EQUAL(overlay("hw_version: 1\n\ndefaults: {math_fidelity: HiFi2}\n", "b.yaml"), 0);
    HwResolved r = resolve(P, "attention", HW_MODE_ANY);
    CU_ASSERT_EQUAL(r.v[HW_F_fidelity], TTC_FIDELITY_HIFI2);
    expect_prov(&r.prov[HW_F_fidelity], "b.yaml", 3, 12, "defaults");

    /* A higher level in an earlier file beats a lower level in a later one. */
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\nmodules: {attention: {math_fidelity: HiFi3}}\n", "a.yaml"), 0);
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndefaults: {math_fidelity: LoFi}\n", "b.yaml"), 0);
    r = resolve(P, "attention", HW_MODE_ANY);
    CU_ASSERT_EQUAL(r.v[HW_F_fidelity], TTC_FIDELITY_HIFI3);
    expect_prov(&r.prov[HW_F_fidelity], "a.yaml", 2, 23, "modules (type)");
    r = resolve("layer_0.ffn.up", "ffn", HW_MODE_ANY);
    CU_ASSERT_EQUAL(r.v[HW_F_fidelity], TTC_FIDELITY_LOFI);

    /* A mode block of an earlier file beats an exact path of a later one, for that mode. */
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\nmodes: {decode: {memory: l1}}\n", "a.yaml"), 0);
    CU_ASSERT_EQUAL(overlay("hw_version: 1\nmodules: {layer_15.attention.qkv: {memory: dram}}\n", "b.yaml"), 0);
    r = resolve(P, "attention", HW_MODE_DECODE);
    CU_ASSERT_EQUAL(r.v[HW_F_memory], TTC_MEM_L1);
    expect_prov(&r.prov[HW_F_memory], "a.yaml", 2, 18, "modes.decode");
}

static void test_precedence_set(void) {
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\n"
                            "modules: {layer_15.attention.qkv: {math_fidelity: HiFi2, memory: dram}}\n"
                            "modes: {decode: {math_fidelity: HiFi3}}\n",
                            "a.yaml"),
                    0);
    /* --set at the lowest level still beats everything from the files, in every mode. */
    CU_ASSERT_EQUAL(hw_config_set(&C, "defaults.math_fidelity=LoFi", &D), 0);
    HwResolved r = resolve(P, "attention", HW_MODE_DECODE);
    CU_ASSERT_EQUAL(r.v[HW_F_fidelity], TTC_FIDELITY_LOFI);
    expect_prov(&r.prov[HW_F_fidelity], NULL, 0, 0, "--set");
    /* Later --set beats an earlier one, whatever their patterns. */
    CU_ASSERT_EQUAL(hw_config_set(&C, "layer_15.attention.math_fidelity=HiFi3", &D), 0);
    CU_ASSERT_EQUAL(hw_config_set(&C, "attention.math_fidelity=HiFi2", &D), 0);
    r = resolve(P, "attention", HW_MODE_PREFILL);
    CU_ASSERT_EQUAL(r.v[HW_F_fidelity], TTC_FIDELITY_HIFI2);
    /* A --set for one mode leaves the other alone. */
    CU_ASSERT_EQUAL(hw_config_set(&C, "modes.decode.memory=l1", &D), 0);
    CU_ASSERT_EQUAL(resolve(P, "attention", HW_MODE_DECODE).v[HW_F_memory], TTC_MEM_L1);
    CU_ASSERT_EQUAL(resolve(P, "attention", HW_MODE_PREFILL).v[HW_F_memory], TTC_MEM_DRAM);
    /* Path and glob patterns select what they name and nothing else. */
    CU_ASSERT_EQUAL(hw_config_set(&C, "layer_1.weight_dtype=bfp4", &D), 0);
    CU_ASSERT_EQUAL(hw_config_set(&C, "modes.prefill.layer_1*.ffn.sharding=row_parallel", &D), 0);
    CU_ASSERT_EQUAL(resolve("layer_1.ffn.up", "ffn", HW_MODE_ANY).v[HW_F_weight_dtype], TTC_BFP4);
    CU_ASSERT_EQUAL(resolve("layer_10.ffn.up", "ffn", HW_MODE_ANY).v[HW_F_weight_dtype], TTC_BF16);
    CU_ASSERT_EQUAL(resolve("layer_10.ffn.up", "ffn", HW_MODE_PREFILL).v[HW_F_sharding], HW_SHARD_ROW_PARALLEL);
    CU_ASSERT_EQUAL(resolve("layer_10.ffn.up", "ffn", HW_MODE_DECODE).v[HW_F_sharding], HW_SHARD_AUTO);
    CU_ASSERT_EQUAL(resolve("layer_1.attention", "attention", HW_MODE_PREFILL).v[HW_F_sharding], HW_SHARD_AUTO);
    /* A bare field means every module; kv_cache fields keep their dot. */
    CU_ASSERT_EQUAL(hw_config_set(&C, "layout=row_major", &D), 0);
    CU_ASSERT_EQUAL(hw_config_set(&C, "attention.kv_cache.dtype=bfp8", &D), 0);
    CU_ASSERT_EQUAL(hw_config_set(&C, "kv_cache.layout=contiguous", &D), 0);
    r = resolve(P, "attention", HW_MODE_ANY);
    CU_ASSERT_EQUAL(r.v[HW_F_layout], TTC_LAYOUT_ROW_MAJOR);
    CU_ASSERT_EQUAL(r.v[HW_F_kv_dtype], TTC_BFP8);
    CU_ASSERT_EQUAL(r.v[HW_F_kv_layout], HW_KV_CONTIGUOUS);
    CU_ASSERT_EQUAL(resolve("layer_0.ffn", "ffn", HW_MODE_ANY).v[HW_F_kv_dtype], TTC_BF16);
    /* What is parsed but not implemented is an error, not a setting silently ignored. */
    CU_ASSERT_EQUAL(D.n, 0);
    CU_ASSERT_EQUAL(hw_config_set(&C, "kv_cache.layout=paged", &D), -1);
    CU_ASSERT_EQUAL(hw_config_set(&C, "attention.kv_cache.block_size=64", &D), -1);
    CU_ASSERT_EQUAL(hw_config_set(&C, "attention.score_dtype=bf16", &D), -1);
    CU_ASSERT_EQUAL(D.n, 3);
    if (D.n == 3) {
        CU_ASSERT_STRING_EQUAL(D.v[0].msg, "--set 'kv_cache.layout=paged': paged KV cache is not supported yet");
        CU_ASSERT_STRING_EQUAL(D.v[0].hint, "remove layout or use contiguous");
        CU_ASSERT_PTR_NOT_NULL(strstr(D.v[1].msg, "kv_cache.block_size is not supported yet"));
        CU_ASSERT_PTR_NOT_NULL(strstr(D.v[2].msg, "score_dtype: bf16 is not supported yet"));
    }
    CU_ASSERT_EQUAL(resolve(P, "attention", HW_MODE_ANY).v[HW_F_kv_layout], HW_KV_CONTIGUOUS);
    diag_free(&D);
    memset(&D, 0, sizeof D);
    CU_ASSERT_EQUAL(hw_config_set(&C, "device=blackhole_p100", &D), 0);
    CU_ASSERT_STRING_EQUAL(C.device.name, "blackhole_p100");
    expect_prov(&C.device_prov, NULL, 0, 0, "--set");
    CU_ASSERT_EQUAL(D.n, 0);
}

static void test_later_fields_and_values(void) {
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\n"
                            "modules:\n"
                            "  attention:\n"
                            "    fused_qkv: true\n"
                            "    kernel_variant: flash\n"
                            "    score_dtype: fp32\n"
                            "    kv_cache: {dtype: bfp8, layout: contiguous}\n"
                            "  ffn: {weight_dtype: bfp8, math_fidelity: LoFi, fp32_dest_acc: false}\n"
                            "  \"layer_*.ffn\": {sharding: column_parallel}\n",
                            "l.yaml"),
                    0);
    HwResolved a = resolve("layer_2.attention.qkv", "attention", HW_MODE_ANY);
    CU_ASSERT_EQUAL(a.v[HW_F_fused_qkv], 1);
    CU_ASSERT_EQUAL(a.v[HW_F_kernel_variant], HW_KERNEL_FLASH);
    CU_ASSERT_EQUAL(a.v[HW_F_score_dtype], TTC_F32);
    CU_ASSERT_EQUAL(a.v[HW_F_kv_dtype], TTC_BFP8);
    CU_ASSERT_EQUAL(a.v[HW_F_kv_layout], HW_KV_CONTIGUOUS);
    CU_ASSERT_EQUAL(a.v[HW_F_kv_block_size], 32);
    expect_prov(&a.prov[HW_F_kv_layout], "l.yaml", 7, 29, "modules (type)");
    CU_ASSERT_EQUAL(a.v[HW_F_sharding], HW_SHARD_AUTO);
    HwResolved f = resolve("layer_2.ffn.down", "ffn", HW_MODE_ANY);
    CU_ASSERT_EQUAL(f.v[HW_F_sharding], HW_SHARD_COLUMN_PARALLEL);
    CU_ASSERT_EQUAL(f.v[HW_F_fused_qkv], 0);
    TtcOpConfig cfg;
    hw_resolved_to_op_config(&f, &cfg);
    CU_ASSERT_EQUAL(cfg.act_dtype, TTC_BF16);
    CU_ASSERT_EQUAL(cfg.weight_dtype, TTC_BFP8);
    CU_ASSERT_EQUAL(cfg.fidelity, TTC_FIDELITY_LOFI);
    CU_ASSERT_EQUAL(cfg.fp32_acc, 0);
    CU_ASSERT_EQUAL(cfg.layout, TTC_LAYOUT_TILE);
    CU_ASSERT_EQUAL(cfg.memory, TTC_MEM_DRAM);
    /* Names for printing. */
    CU_ASSERT_STRING_EQUAL(hw_field_key(HW_F_fidelity), "math_fidelity");
    CU_ASSERT_EQUAL(hw_field_from_key("kv_cache.block_size"), HW_F_kv_block_size);
    CU_ASSERT_EQUAL(hw_field_from_key("fidelity"), -1);
    CU_ASSERT_STRING_EQUAL(hw_value_name(HW_F_fidelity, TTC_FIDELITY_HIFI3), "HiFi3");
    CU_ASSERT_STRING_EQUAL(hw_value_name(HW_F_weight_dtype, TTC_BFP4), "bfp4");
    CU_ASSERT_STRING_EQUAL(hw_value_name(HW_F_fp32_acc, 1), "true");
    CU_ASSERT_STRING_EQUAL(hw_value_name(HW_F_kv_block_size, 64), "64");
    CU_ASSERT_STRING_EQUAL(hw_value_name(HW_F_sharding, HW_SHARD_BLOCK), "block");
    CU_ASSERT_STRING_EQUAL(hw_value_name(HW_F_memory, 7), "?");
}

static void test_reference_overlay(void) {
    fresh();
    char path[1024];
    snprintf(path, sizeof path, "%s/specs/hw/reference.yaml", unit_source_dir());
    CU_ASSERT_EQUAL_FATAL(hw_config_load(&C, path, &D), 0);
    static const char *const types[] = {"embedding", "attention", "ffn", "norm", "pooler", "lm_head"};
    for (int t = 0; t < 6; t++) {
        TtcOpConfig cfg;
        HwResolved r = resolve("x", types[t], HW_MODE_DECODE);
        hw_resolved_to_op_config(&r, &cfg);
        CU_ASSERT_EQUAL(cfg.act_dtype, TTC_F32);
        CU_ASSERT_EQUAL(cfg.weight_dtype, TTC_F32);
        CU_ASSERT_EQUAL(cfg.fidelity, TTC_FIDELITY_HIFI4);
        CU_ASSERT_EQUAL(cfg.fp32_acc, 1);
        CU_ASSERT_EQUAL(r.v[HW_F_score_dtype], TTC_F32);
    }
}

/* ---- errors ---- */

static const struct {
    const char *text, *msg;
    int line, col;
    const char *hint;
} overlay_errors[] = {
    {"hw_version: 2\ndefaults: 3\n", "hw_version 2 is not supported", 1, 13, "this ttc reads hw_version 1"},
    {"defaults: {memory: l1}\n", "missing required key 'hw_version' in the overlay", 1, 1, "add hw_version: 1 as the first line"},
    {"hw_version: 1\ndefault: {memory: l1}\n", "unknown key 'default' in the overlay", 2, 1, "did you mean 'defaults'?"},
    {"hw_version: 1\ndefaults: {math_fidelty: LoFi}\n", "unknown key 'math_fidelty' in defaults", 2, 12,
     "did you mean 'math_fidelity'?"},
    {"hw_version: 1\ndefaults: {math_fidelity: LowFi}\n", "defaults: unknown math_fidelity 'LowFi'", 2, 27,
     "did you mean 'LoFi'?"},
    {"hw_version: 1\ndefaults: {weight_dtype: bfp16}\n", "defaults: unknown weight_dtype 'bfp16'", 2, 26, "did you mean 'bf16'?"},
    {"hw_version: 1\ndefaults: {activation_dtype: bfp8}\n", "defaults: unknown activation_dtype 'bfp8'", 2, 30,
     "expected one of: fp32, bf16"},
    {"hw_version: 1\ndefaults: {memory: l2}\n", "defaults: unknown memory 'l2'", 2, 20, "did you mean 'l1'?"},
    {"hw_version: 1\ndefaults: {layout: rowmajor}\n", "defaults: unknown layout 'rowmajor'", 2, 20, "did you mean 'row_major'?"},
    {"hw_version: 1\ndefaults: {fp32_dest_acc: yes}\n", "defaults: fp32_dest_acc must be true or false, got 'yes'", 2, 27,
     "write true or false"},
    {"hw_version: 1\nmodules: {attention: {kernel_variant: flsh}}\n", "modules 'attention': unknown kernel_variant 'flsh'", 2,
     39, "did you mean 'flash'?"},
    {"hw_version: 1\nmodules: {ffn: {sharding: column}}\n", "modules 'ffn': unknown sharding 'column'", 2, 27,
     "expected one of: auto, replicate, column_parallel, row_parallel, height, width, block"},
    {"hw_version: 1\nmodules: {attention: {kv_cache: {block_size: 33}}}\n",
     "modules 'attention': kv_cache.block_size must be a multiple of 32 (one tile of rows), got 33", 2, 46, NULL},
    {"hw_version: 1\nmodules: {attention: {kv_cache: {block_size: 131072}}}\n",
     "modules 'attention': kv_cache.block_size must be between 32 and 65536, got 131072", 2, 46, NULL},
    {"hw_version: 1\nmodules: {attention: {kv_cache: {layout: pagd}}}\n", "modules 'attention': unknown kv_cache.layout 'pagd'",
     2, 42, "did you mean 'paged'?"},
    {"hw_version: 1\nmodules: {attention: {kv_cache: bf16}}\n", "modules 'attention': kv_cache must be a mapping, got a scalar",
     2, 33, NULL},
    {"hw_version: 1\nmodules: {attention: {kv_cache: {dtyp: bf16}}}\n", "unknown key 'dtyp' in modules 'attention' kv_cache", 2,
     34, "did you mean 'dtype'?"},
    {"hw_version: 1\nmodules: {attention: {score_dtype: fp16}}\n", "modules 'attention': unknown score_dtype 'fp16'", 2, 36,
     NULL},
    {"hw_version: 1\nmodules: {attention: {score_dtype: bf16}}\n",
     "modules 'attention': score_dtype: bf16 is not supported yet: attention scores are fp32 on every path", 2, 23,
     "remove score_dtype or use fp32"},
    {"hw_version: 1\nmodules:\n  attention:\n    kv_cache: {dtype: bfp8, layout: paged}\n",
     "modules 'attention': paged KV cache is not supported yet", 4, 29, "remove layout or use contiguous"},
    {"hw_version: 1\nmodules: {attention: {kv_cache: {block_size: 64}}}\n",
     "modules 'attention': kv_cache.block_size is not supported yet (it sizes the blocks of a paged KV cache)", 2, 34,
     "remove block_size: the cache is contiguous"},
    {"hw_version: 1\nmodules:\n  layer_3..ffn: {memory: l1}\n", "modules: 'layer_3..ffn' is not a module type, glob or path",
     3, 3, "paths are layer ids and module names joined by '.', e.g. layer_3.attention"},
    {"hw_version: 1\nmodules:\n  ffn: l1\n", "modules 'ffn' must be a mapping, got a scalar", 3, 8, NULL},
    {"hw_version: 1\nmodules:\n  ffn: {memory: l1}\n  ffn: {layout: tile}\n", "duplicate key 'ffn' in modules", 4, 3,
     "the first 'ffn' is at line 3; merge the two"},
    {"hw_version: 1\ndefaults: {memory: l1, memory: dram}\n", "duplicate key 'memory' in defaults", 2, 24,
     "the first 'memory' is at line 2; keep one"},
    {"hw_version: 1\ndefaults: {modules: {}}\n", "unknown key 'modules' in defaults", 2, 12, NULL},
    {"hw_version: 1\nmodes: {decod: {memory: l1}}\n", "unknown key 'decod' in modes", 2, 9, "did you mean 'decode'?"},
    {"hw_version: 1\nmodes: {decode: {modules: {ffn: {memory: l3}}}}\n", "modes.decode.modules 'ffn': unknown memory 'l3'", 2,
     42, "did you mean 'l1'?"},
    {"hw_version: 1\ndevice: [a]\n", "device must be a device name, got a sequence", 2, 9, NULL},
    {"", "the overlay is empty", 0, 0, "an overlay starts with hw_version: 1"},
    {"- 1\n", "an overlay must be a mapping with hw_version, device, defaults, modules, modes; got a sequence", 1, 1, NULL},
    {"hw_version: 1\ndefaults: {memory: l1\n", "invalid YAML: did not find expected ',' or '}'", 3, 1, NULL},
};

static void test_overlay_errors(void) {
    int n = (int)(sizeof overlay_errors / sizeof overlay_errors[0]);
    for (int i = 0; i < n; i++) {
        fresh();
        CU_ASSERT_EQUAL(overlay(overlay_errors[i].text, "e.yaml"), -1);
        CU_ASSERT_EQUAL(C.n_rules, 0); /* rolled back */
        expect_error(overlay_errors[i].msg, overlay_errors[i].line, overlay_errors[i].col, overlay_errors[i].hint);
    }
    /* Several errors in one overlay are all reported. */
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndevice: nope\ndefaults: {memory: l2, layout: tiles}\n"
                            "modules: {ffn: {math_fidelity: hifi}}\n",
                            "e.yaml"),
                    -1);
    CU_ASSERT_EQUAL(D.n_errors, 4);
    expect_error("unknown device 'nope'", 2, 9, NULL);
    expect_error("defaults: unknown memory 'l2'", 3, 20, NULL);
    expect_error("defaults: unknown layout 'tiles'", 3, 32, "did you mean 'tile'?");
    expect_error("modules 'ffn': unknown math_fidelity 'hifi'", 4, 32, NULL);
    /* Empty blocks are allowed: a template with nothing filled in yet. */
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndefaults:\nmodules:\nmodes: ~\n", "t.yaml"), 0);
    CU_ASSERT_EQUAL(C.n_rules, 0);
    CU_ASSERT_EQUAL(D.n, 0);
    /* A good overlay after a bad one works from the state before the bad one. */
    CU_ASSERT_EQUAL(overlay("hw_version: 1\ndefaults: {memory: l1}\n", "g.yaml"), 0);
    CU_ASSERT_EQUAL(C.n_rules, 1);
}

static void test_set_errors(void) {
    static const struct {
        const char *arg, *msg, *hint;
    } cases[] = {
        {"layer_3", "--set 'layer_3': expected PATH.FIELD=VALUE",
         "e.g. --set layer_15.attention.math_fidelity=HiFi4, or defaults.memory=l1"},
        {"=LoFi", "--set '=LoFi': expected PATH.FIELD=VALUE", NULL},
        {"layer_3.math_fidelty=LoFi", "--set 'layer_3.math_fidelty=LoFi': unknown field 'math_fidelty'",
         "did you mean 'math_fidelity'?"},
        /* HiFi5 is one edit from HiFi2, HiFi3 and HiFi4: the first in the list wins a tie. */
        {"layer_3.math_fidelity=HiFi5", "--set 'layer_3.math_fidelity=HiFi5': unknown math_fidelity 'HiFi5'",
         "did you mean 'HiFi2'?"},
        {"layer_3.math_fidelity=", "--set 'layer_3.math_fidelity=': unknown math_fidelity ''", NULL},
        {"ffn.fp32_dest_acc=1", "--set 'ffn.fp32_dest_acc=1': fp32_dest_acc must be true or false, got '1'",
         "write --set ...fp32_dest_acc=true or =false"},
        {"attention.kv_cache.block_size=48",
         "--set 'attention.kv_cache.block_size=48': kv_cache.block_size must be a multiple of 32 (one tile of rows), got '48'",
         NULL},
        {"attention.kv_cache.block_size=big",
         "--set 'attention.kv_cache.block_size=big': kv_cache.block_size must be an integer, got 'big'", NULL},
        {"a..b.memory=l1", "--set 'a..b.memory=l1': 'a..b' is not a module type, glob or path", NULL},
        {"device=wormhole_n301", "unknown device 'wormhole_n301'", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fresh();
        CU_ASSERT_EQUAL(hw_config_set(&C, cases[i].arg, &D), -1);
        CU_ASSERT_EQUAL(C.n_rules, 0);
        expect_error(cases[i].msg, 0, 0, cases[i].hint);
        CU_ASSERT_PTR_NULL(D.v[0].loc.file);
    }
}

/* ---- patterns that select nothing ---- */

static void test_check_unused(void) {
    static const char *const paths[] = {"embedding",        "layer_0.attention.qkv", "layer_0.ffn.up",
                                        "layer_1.attention.qkv", "layer_1.ffn.up",   "pooler"};
    static const char *const types[] = {"embedding", "attention", "ffn", "attention", "ffn", "pooler"};
    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\n"
                            "modules:\n"
                            "  \"layr_*.ffn\": {memory: l1}\n"
                            "  layer_0.atention: {memory: l1}\n"
                            "  lm_head: {memory: l1}\n"
                            "  \"layer_*.ffn\": {memory: l1}\n"
                            "  layer_1: {memory: l1}\n"
                            "modes: {decode: {modules: {\"layer_?\": {memory: dram}, zzzz: {memory: dram}}}}\n",
                            "c.yaml"),
                    0);
    CU_ASSERT_EQUAL(hw_config_set(&C, "layer_9.memory=l1", &D), 0);
    CU_ASSERT_EQUAL(D.n, 0);
    CU_ASSERT_EQUAL(hw_check_unused(&C, paths, types, 6, &D), -1);
    CU_ASSERT_EQUAL(D.n_errors, 4); /* lm_head is a type: one overlay serves models with and without one */
    expect_error("modules pattern 'layr_*.ffn' matches no module", 3, 3, "did you mean 'layer_*.ffn'?");
    expect_error("modules pattern 'layer_0.atention' matches no module", 4, 3, "did you mean 'layer_0.attention'?");
    expect_error("modules pattern 'zzzz' matches no module", 8, 55, NULL);
    expect_error("--set pattern 'layer_9' matches no module", 0, 0, "did you mean 'layer_0'?");
    const Diag *dg = find("modules pattern 'zzzz' matches no module");
    if (dg) CU_ASSERT_PTR_NULL(dg->hint);

    fresh();
    CU_ASSERT_EQUAL(overlay("hw_version: 1\nmodules: {\"*.ffn\": {memory: l1}, layer_1.ffn.up: {memory: l1}}\n", "c.yaml"), 0);
    CU_ASSERT_EQUAL(hw_check_unused(&C, paths, types, 6, &D), 0);
    CU_ASSERT_EQUAL(D.n, 0);
    /* A path selects whole components only: layer_1 is not a prefix of layer_10. */
    CU_ASSERT_EQUAL(hw_pattern_matches(HW_MATCH_PATH, "layer_1", "layer_10.ffn", "ffn"), 0);
    CU_ASSERT_EQUAL(hw_pattern_matches(HW_MATCH_PATH, "layer_1", "layer_1", "ffn"), 1);
    CU_ASSERT_EQUAL(hw_pattern_matches(HW_MATCH_PATH, "layer_1.ffn", "layer_1.ffn.up", "ffn"), 1);
    CU_ASSERT_EQUAL(hw_pattern_matches(HW_MATCH_GLOB, "layer_1?", "layer_12.ffn.up", "ffn"), 1);
    CU_ASSERT_EQUAL(hw_pattern_matches(HW_MATCH_GLOB, "layer_1?", "layer_1.ffn.up", "ffn"), 0);
    CU_ASSERT_EQUAL(hw_pattern_matches(HW_MATCH_TYPE, "ffn", "layer_1.ffn.up", "ffn"), 1);
    CU_ASSERT_EQUAL(hw_pattern_matches(HW_MATCH_TYPE, "ffn", "layer_1.ffn.up", NULL), 0);
}

/* Malformed overlays never crash and never half-apply. */
static void test_fuzz(void) {
    static const char text[] = "hw_version: 1\ndevice: wormhole_t3k\nmesh_shape: [2, 4]\n"
                               "defaults: {activation_dtype: bf16, math_fidelity: HiFi2}\n"
                               "modules:\n  attention: {kv_cache: {dtype: bf16, layout: paged, block_size: 32}}\n"
                               "  \"layer_*.ffn\": {sharding: column_parallel}\nmodes: {decode: {memory: l1}}\n";
    size_t n = strlen(text);
    char buf[1024];
    for (size_t cut = 0; cut <= n; cut++) {
        fresh();
        memcpy(buf, text, cut);
        buf[cut] = 0;
        int rc = overlay(buf, "f.yaml");
        CU_ASSERT_EQUAL(rc == 0, D.n_errors == 0);
        if (rc) CU_ASSERT_EQUAL(C.n_rules, 0);
    }
    unsigned seed = 7;
    static const char junk[] = "{}[]:-,#&*!|>'\"%\t\n \xfe 0123456789.*?";
    for (int round = 0; round < 300; round++) {
        fresh();
        memcpy(buf, text, n + 1);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            buf[at] = junk[(seed >> 8) % (sizeof junk - 1)];
        }
        int rc = overlay(buf, "f.yaml");
        CU_ASSERT_EQUAL(rc == 0, D.n_errors == 0);
        HwResolved r = resolve("layer_0.ffn", "ffn", HW_MODE_DECODE);
        CU_ASSERT(r.v[HW_F_fidelity] >= 0 && r.v[HW_F_fidelity] <= 3);
    }
    fresh();
    CU_ASSERT_EQUAL(hw_config_set(&C, "", &D), -1);
    CU_ASSERT_EQUAL(hw_config_set(&C, NULL, &D), -1);
    CU_ASSERT_EQUAL(hw_config_set(&C, "=", &D), -1);
    CU_ASSERT_EQUAL(hw_config_set(&C, ".memory=l1", &D), -1);
}

static int cleanup(void) {
    diag_free(&D);
    hw_config_free(&C);
    return 0;
}

static CU_TestInfo device_tests[] = {
    {"default device", test_default_device},
    {"every shipped device", test_every_device},
    {"unknown device", test_unknown_device},
    {"TTC_DATA_DIR and descriptor checks", test_data_dir_and_descriptor_checks},
    {"device and mesh_shape in overlays", test_device_and_mesh_in_overlays},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo resolve_tests[] = {
    {"each level beats the one below", test_precedence_levels},
    {"modes on top", test_precedence_modes},
    {"overlay files in order", test_precedence_files},
    {"--set last", test_precedence_set},
    {"later-feature fields", test_later_fields_and_values},
    {"reference overlay", test_reference_overlay},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo error_tests[] = {
    {"overlay errors", test_overlay_errors},
    {"--set errors", test_set_errors},
    {"patterns that match nothing", test_check_unused},
    {"fuzz", test_fuzz},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo suites[] = {
    {"hw devices", NULL, cleanup, NULL, NULL, device_tests},
    {"hw resolve", NULL, cleanup, NULL, NULL, resolve_tests},
    {"hw errors", NULL, cleanup, NULL, NULL, error_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
