/* dev_layout.c: tile geometry, page placement over banks and cores, and where each value of an
 * entry point lives (see dev_layout.h). */
#include "dev_layout.h"
#include "shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t align_up(int64_t n, int64_t a) { return ceil_div(n, a) * a; }

int64_t dev_tile_bytes(int dtype) {
    int tb = ttc_dtype_tile_bytes((TtcDType)dtype);
    return tb > 0 ? tb : 4096;
}

int dev_cores(const HwDevice *dev) {
    int n = dev->grid_x * dev->grid_y;
    return n > 0 ? n : 1;
}

/* Row-major bytes of n elements: fp32/int32 4, bf16 2; the block formats keep their per-tile
 * density (1088 or 576 bytes per 1024 values), since their exponents are shared per 16 values. */
static int64_t row_major_bytes(int64_t n, int dtype) { return ceil_div(n * dev_tile_bytes(dtype), 1024); }

/* A value stacked per chip (passes/shard.h) is measured as the one chip's slice each chip holds:
 * the device figures are per chip, so a weight split over N chips weighs 1/N of the whole. */
DevTensor dev_tensor(const TtcTensorDesc *d, int layout, int memory, int sharding) {
    DevTensor t;
    memset(&t, 0, sizeof t);
    TtcShape shape = shape_chip_slice(d);
    int r = shape.rank;
    int64_t outer = 1;
    for (int i = 0; i < r - 2; i++) outer *= shape.d[i].size;
    int64_t r2 = r >= 2 ? shape.d[r - 2].size : 1;
    t.cols = r >= 1 ? shape.d[r - 1].size : 1;
    t.rows = outer * r2;
    /* Tiles never straddle the dims before the last two: each [r2, cols] slice pads on its own. */
    t.row_tiles = outer * ceil_div(r2, DEV_TILE);
    t.col_tiles = ceil_div(t.cols, DEV_TILE);
    t.layout = layout;
    t.memory = memory;
    t.sharding = sharding;
    if (layout == TTC_LAYOUT_ROW_MAJOR) {
        t.pages = t.rows;
        t.page_bytes = align_up(row_major_bytes(t.cols, d->dtype), DEV_PAGE_ALIGN);
    } else {
        t.pages = t.row_tiles * t.col_tiles;
        t.page_bytes = dev_tile_bytes(d->dtype);
    }
    t.bytes = t.pages * t.page_bytes;
    return t;
}

void dev_shard_grid(const DevTensor *t, const HwDevice *dev, int sharding, int *grid_y, int *grid_x) {
    int64_t gx = dev->grid_x > 0 ? dev->grid_x : 1, gy = dev->grid_y > 0 ? dev->grid_y : 1, n;
    *grid_y = *grid_x = 0;
    switch (sharding) {
    case HW_SHARD_HEIGHT:
    case HW_SHARD_WIDTH:
        n = sharding == HW_SHARD_HEIGHT ? t->row_tiles : t->col_tiles;
        if (n > gx * gy) n = gx * gy;
        if (n < 1) n = 1;
        *grid_y = (int)ceil_div(n, gx);
        *grid_x = (int)(n < gx ? n : gx);
        break;
    case HW_SHARD_BLOCK:
        *grid_y = (int)(t->row_tiles < gy ? (t->row_tiles > 0 ? t->row_tiles : 1) : gy);
        *grid_x = (int)(t->col_tiles < gx ? (t->col_tiles > 0 ? t->col_tiles : 1) : gx);
        break;
    default: break;
    }
}

int dev_field_pinned(const HwResolved *r, int field) {
    const HwProv *p = &r->prov[field];
    return p->file != NULL || (p->origin && strncmp(p->origin, "built-in", 8) != 0);
}

int64_t dev_l1_per_core(const DevTensor *t, const HwDevice *dev) {
    int64_t cores = dev_cores(dev), gx = dev->grid_x > 0 ? dev->grid_x : 1, gy = dev->grid_y > 0 ? dev->grid_y : 1;
    if (t->grid_y > 0 && t->grid_x > 0 && t->sharding != HW_SHARD_BLOCK) cores = (int64_t)t->grid_y * t->grid_x;
    if (t->grid_y > 0 && t->grid_x > 0 && t->sharding == HW_SHARD_BLOCK) {
        gy = t->grid_y;
        gx = t->grid_x;
    }
    int64_t eb = t->page_bytes; /* a tile, or a row */
    int tiles = t->layout == TTC_LAYOUT_TILE;
    int64_t n;
    switch (t->sharding) {
    case HW_SHARD_HEIGHT: /* whole rows (of tiles) per core */
        n = tiles ? ceil_div(t->row_tiles, cores) * t->col_tiles * eb : ceil_div(t->rows, cores) * eb;
        break;
    case HW_SHARD_WIDTH: /* whole columns (of tiles) per core */
        n = tiles ? t->row_tiles * ceil_div(t->col_tiles, cores) * eb
                  : t->rows * align_up(ceil_div(t->page_bytes, cores), DEV_PAGE_ALIGN);
        break;
    case HW_SHARD_BLOCK: /* a [rows/gy, cols/gx] block per core of the grid */
        n = tiles ? ceil_div(t->row_tiles, gy) * ceil_div(t->col_tiles, gx) * eb
                  : ceil_div(t->rows, gy) * align_up(ceil_div(t->page_bytes, gx), DEV_PAGE_ALIGN);
        break;
    default: /* interleaved: pages dealt round-robin, the first cores get one more */
        n = ceil_div(t->pages, cores) * eb;
        break;
    }
    return align_up(n, DEV_PAGE_ALIGN);
}

int64_t dev_dram_per_chip(const DevTensor *t, const HwDevice *dev) {
    int64_t banks = dev->dram_banks > 0 ? dev->dram_banks : 1;
    return ceil_div(t->pages, banks) * t->page_bytes * banks;
}

int *dev_resolve_sharding(const Graph *g, const HwConfig *hw) {
    int *s = calloc((size_t)g->n_ops + 1, sizeof *s);
    if (!s || !hw) return s; /* calloc: HW_SHARD_AUTO, which interleaves */
    for (int k = 0; k < g->n_ops; k++) {
        const IrOp *op = &g->ops[k];
        HwResolved r;
        hw_resolve(hw, op->d.path, op->module_type, g->n_entries ? g->entries[op->entry].mode : 0, &r);
        s[k] = r.v[HW_F_sharding];
    }
    return s;
}

/* A table that a gather reads by rows (token ids pick rows): kept row-major whatever the op's
 * layout, as tilizing it would make every lookup read 32 rows. */
static int is_gather_table(const IrOp *op, int input) {
    return (op->d.kind == TTC_OP_EMBEDDING && input == 1) || (op->d.kind == TTC_OP_POS_EMBEDDING && input == 0);
}

void dev_place_entry(const Graph *g, int entry, const int *sharding, DevValue *vals) {
    memset(vals, 0, sizeof *vals * (size_t)g->n_vals);
    const TtcEntry *e = &g->entries[entry];
    int first_op = e->first_op, last_op = e->first_op + e->n_ops - 1;
    int *row_major = calloc((size_t)g->n_vals + 1, sizeof *row_major);
    for (int k = first_op; k <= last_op; k++) {
        const IrOp *op = &g->ops[k];
        for (int i = 0; i < op->d.n_in; i++) {
            DevValue *v = &vals[op->d.in[i]];
            if (!v->used) {
                v->used = 1;
                v->first = first_op - 1;
                v->owner_op = k; /* inputs and weights: the first reader */
            }
            if (v->last < k) v->last = k;
            if (row_major && is_gather_table(op, i)) row_major[op->d.in[i]] = 1;
        }
        DevValue *o = &vals[op->d.out];
        o->used = 1;
        o->first = k;
        o->owner_op = k;
        if (o->last < k) o->last = k;
    }
    for (int i = 0; i < g->n_vals; i++) {
        DevValue *v = &vals[i];
        if (!v->used) continue;
        const TtcTensorDesc *d = &g->vals[i].d;
        /* Activations are placed by their producer (seen before any reader: ops are in order);
         * the cache by the op that writes it, its only direct reader. */
        v->persistent = d->kind == TTC_TENSOR_WEIGHT || d->kind == TTC_TENSOR_STATE;
        v->view = d->alias >= 0;
        if (v->persistent) {
            v->first = first_op - 1;
            v->last = last_op;
        }
        if (d->role >= TTC_ROLE_HIDDEN) v->last = last_op; /* outputs are read after the last op */
        const TtcOpConfig *cfg = &g->ops[v->owner_op].d.cfg;
        /* Index tensors (ids, masks) and gather tables are row-major; the rest follow the op. */
        int layout = d->dtype == TTC_I32 || (row_major && row_major[i]) ? TTC_LAYOUT_ROW_MAJOR : cfg->layout;
        const IrPlacement *pl = &g->vals[i].place;
        if (pl->set && d->kind == TTC_TENSOR_ACT) {
            v->t = dev_tensor(d, layout, pl->memory, pl->sharding);
            v->t.grid_y = pl->grid_y;
            v->t.grid_x = pl->grid_x;
        } else {
            v->t = dev_tensor(d, layout, cfg->memory, sharding ? sharding[v->owner_op] : HW_SHARD_AUTO);
        }
    }
    free(row_major);
}

void dev_module_of(const IrOp *op, char *out, size_t cap) {
    const char *path = op->d.path, *type = op->module_type;
    size_t tn = strlen(type);
    for (const char *c = path; *c;) {
        const char *end = strchr(c, '.');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        if (n == tn && strncmp(c, type, n) == 0) {
            snprintf(out, cap, "%.*s", (int)(c + n - path), path);
            return;
        }
        if (!end) break;
        c = end + 1;
    }
    snprintf(out, cap, "%s", path);
}

char *dev_bytes_str(int64_t bytes, char *buf, size_t cap) {
    double b = (double)bytes;
    if (bytes >= (int64_t)1 << 30)
        snprintf(buf, cap, "%.2f GiB", b / (1 << 30));
    else if (bytes >= (int64_t)1 << 20)
        snprintf(buf, cap, "%.2f MiB", b / (1 << 20));
    else if (bytes >= 1024)
        snprintf(buf, cap, "%.1f KiB", b / 1024);
    else
        snprintf(buf, cap, "%lld B", (long long)bytes);
    return buf;
}

void dev_bytes_pair_str(int64_t x, int64_t y, char *a, char *b, size_t cap) {
    dev_bytes_str(x, a, cap);
    dev_bytes_str(y, b, cap);
    if (strcmp(a, b) == 0) {
        snprintf(a, cap, "%lld B", (long long)x);
        snprintf(b, cap, "%lld B", (long long)y);
    }
}
