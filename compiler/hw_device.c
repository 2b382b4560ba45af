/* hw_device.c: device descriptors (DEVICE.md §1), one YAML file per system in the device
 * directory; loading checks every field, and an unknown name lists what is there. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw.h"
#include "yaml_util.h"

#ifndef TTC_SOURCE_DIR
#define TTC_SOURCE_DIR "."
#endif

const char *hw_device_dir(void) {
    static _Thread_local char dir[1024];
    const char *data = getenv("TTC_DATA_DIR");
    if (data && *data)
        snprintf(dir, sizeof dir, "%s/devices", data);
    else
        snprintf(dir, sizeof dir, "%s/specs/devices", TTC_SOURCE_DIR);
    return dir;
}

static int hw_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The device names in `dir` (files NAME.yaml), sorted; NULL when the directory cannot be read. */
static char **hw_device_names(const char *dir, int *n) {
    *n = 0;
    DIR *dp = opendir(dir);
    if (!dp) return NULL;
    char **names = NULL;
    int cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".yaml") != 0 || de->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            names = yamlu_realloc(names, sizeof *names * (size_t)cap);
        }
        names[*n] = yamlu_strdup(de->d_name);
        names[*n][len - 5] = 0;
        (*n)++;
    }
    closedir(dp);
    if (*n) qsort(names, (size_t)*n, sizeof *names, hw_name_cmp);
    if (!names) names = yamlu_alloc(sizeof *names);
    return names;
}

static void hw_unknown_device(const char *name, DiagLoc where, Diags *d) {
    const char *dir = hw_device_dir();
    int n = 0;
    char **names = hw_device_names(dir, &n);
    Diag *dg = diag_error(d, where, "unknown device '%s'", name);
    if (!names) {
        diag_hint(dg, "the device directory '%s' cannot be read; set TTC_DATA_DIR to the directory holding devices/", dir);
        return;
    }
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(names[i]) + 2;
    char *list = yamlu_alloc(len);
    for (int i = 0; i < n; i++) {
        if (i) strcat(list, ", ");
        strcat(list, names[i]);
    }
    const char *close = diag_closest(name, (const char *const *)names, n);
    if (close)
        diag_hint(dg, "did you mean '%s'? available: %s", close, list);
    else if (n)
        diag_hint(dg, "available: %s", list);
    else
        diag_hint(dg, "no device descriptors in '%s'", dir);
    free(list);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* A descriptor file (values from DEVICE.md §1):
 *   name: NAME                  must match the file name
 *   chips: N                    1..1024
 *   mesh_shape: [ROWS, COLS]    physical arrangement, ROWS * COLS = chips
 *   grid: [X, Y]                compute cores per chip, columns x rows
 *   l1_bytes: B                 usable L1 per core
 *   dram_bytes: B               per chip
 *   dram_banks: N
 *   dram_gbps: G                GB/s per chip
 *   clock_ghz: G
 *   noc_bytes_per_cycle: N
 *   eth_gbps: G                 GB/s per direction per link (0 allowed on one chip)
 *   dram_latency_cycles: N */
static void hw_parse_device(YamluDoc *y, const char *name, HwDevice *dev) {
    static const char *const keys[] = {"name",     "chips",     "mesh_shape", "grid",     "l1_bytes",
                                       "dram_bytes", "dram_banks", "dram_gbps", "clock_ghz", "noc_bytes_per_cycle",
                                       "eth_gbps", "dram_latency_cycles"};
    yaml_node_t *root = yamlu_root(y), *v;
    char *ctx = yamlu_printf("device '%s'", name);
    if (!root || !yamlu_is_map(root)) {
        diag_error(y->d, yamlu_loc(y, root), "%s: a device descriptor must be a mapping, got %s", ctx, yamlu_kind_name(root));
        free(ctx);
        return;
    }
    yamlu_check_keys(y, root, keys, 12, ctx);
    char *file_name = NULL;
    if ((v = yamlu_require(y, root, "name", ctx)) && yamlu_string(y, v, ctx, "name", &file_name) == 0 &&
        strcmp(file_name, name) != 0) {
        Diag *dg = diag_error(y->d, yamlu_loc(y, v), "%s: the descriptor names itself '%s'", ctx, file_name);
        diag_hint(dg, "name must match the file name, %s.yaml", name);
    }
    free(file_name);
    snprintf(dev->name, sizeof dev->name, "%s", name);
    int64_t x = 0;
    double g = 0;
    if ((v = yamlu_require(y, root, "chips", ctx)) && yamlu_int(y, v, ctx, "chips", 1, 1024, &x) == 0) dev->chips = (int)x;
    int64_t pair[2];
    if ((v = yamlu_require(y, root, "mesh_shape", ctx)) && yamlu_int_pair(y, v, ctx, "mesh_shape", 1, 1024, pair) == 0) {
        dev->mesh_rows = (int)pair[0];
        dev->mesh_cols = (int)pair[1];
        if (dev->chips > 0 && pair[0] * pair[1] != dev->chips)
            diag_error(y->d, yamlu_loc(y, v), "%s: mesh_shape [%d, %d] does not hold its %d chips", ctx, dev->mesh_rows,
                       dev->mesh_cols, dev->chips);
    }
    if ((v = yamlu_require(y, root, "grid", ctx)) && yamlu_int_pair(y, v, ctx, "grid", 1, 64, pair) == 0) {
        dev->grid_x = (int)pair[0];
        dev->grid_y = (int)pair[1];
    }
    /* Ranges: wide enough for any Tenstorrent-class part, narrow enough to catch unit slips
     * (MB for bytes, MHz for GHz). */
    if ((v = yamlu_require(y, root, "l1_bytes", ctx)) && yamlu_int(y, v, ctx, "l1_bytes", 65536, (int64_t)64 << 20, &x) == 0)
        dev->l1_bytes = x;
    if ((v = yamlu_require(y, root, "dram_bytes", ctx)) &&
        yamlu_int(y, v, ctx, "dram_bytes", (int64_t)1 << 20, (int64_t)1 << 40, &x) == 0)
        dev->dram_bytes = x;
    if ((v = yamlu_require(y, root, "dram_banks", ctx)) && yamlu_int(y, v, ctx, "dram_banks", 1, 64, &x) == 0)
        dev->dram_banks = (int)x;
    if ((v = yamlu_require(y, root, "dram_gbps", ctx)) && yamlu_double(y, v, ctx, "dram_gbps", 0, 1, 100000, &g) == 0)
        dev->dram_gbps = g;
    if ((v = yamlu_require(y, root, "clock_ghz", ctx)) && yamlu_double(y, v, ctx, "clock_ghz", 0.1, 0, 10, &g) == 0)
        dev->clock_ghz = g;
    if ((v = yamlu_require(y, root, "noc_bytes_per_cycle", ctx)) &&
        yamlu_int(y, v, ctx, "noc_bytes_per_cycle", 1, 1024, &x) == 0)
        dev->noc_bytes_per_cycle = (int)x;
    if ((v = yamlu_require(y, root, "eth_gbps", ctx)) && yamlu_double(y, v, ctx, "eth_gbps", 0, 0, 10000, &g) == 0) {
        dev->eth_gbps = g;
        if (g == 0 && dev->chips > 1)
            diag_error(y->d, yamlu_loc(y, v), "%s: eth_gbps must be positive for a system of %d chips", ctx, dev->chips);
    }
    if ((v = yamlu_require(y, root, "dram_latency_cycles", ctx)) &&
        yamlu_int(y, v, ctx, "dram_latency_cycles", 1, 100000, &x) == 0)
        dev->dram_latency_cycles = (int)x;
    free(ctx);
}

int hw_device_load(HwDevice *dev, const char *name, DiagLoc where, Diags *d) {
    /* Names become file names: anything but [a-z0-9_] could leave the directory. */
    int ok = name && *name && strlen(name) < sizeof dev->name;
    for (const char *c = name ? name : ""; *c && ok; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
    char *path = ok ? yamlu_printf("%s/%s.yaml", hw_device_dir(), name) : NULL;
    if (!ok || access(path, R_OK) != 0) {
        hw_unknown_device(name ? name : "", where, d);
        free(path);
        return -1;
    }
    int before = d->n_errors;
    YamluDoc y;
    HwDevice tmp;
    memset(&tmp, 0, sizeof tmp);
    if (yamlu_load_file(&y, path, d) == 0) hw_parse_device(&y, name, &tmp);
    yamlu_free(&y);
    free(path);
    if (d->n_errors != before) return -1;
    *dev = tmp;
    return 0;
}
