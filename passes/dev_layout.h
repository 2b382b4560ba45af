/* dev_layout.h: how values sit on the emulated device (DEVICE.md §2), shared by the
 * `device-memory` and `cost` passes.
 *
 * A tensor is viewed as [rows, cols] = [prod(all but the last dim), last dim]. In tile layout the
 * last two dims are padded to multiples of 32 and stored as 32x32 tiles of the tensor's format
 * (fp32 4096 bytes, bf16 2048, bfp8 1088, bfp4 576); in row-major layout each row is one page of
 * cols x element bytes. Interleaved buffers deal pages round-robin over the DRAM banks or over the
 * L1 of every core; sharded ones (height, width, block) split [rows, cols] over the core grid.
 *
 * Where a value lives is decided by the configuration of the op that makes it (activations), the
 * op that updates it (the KV cache), or the first op that reads it in the entry point (weights,
 * graph inputs). Weights and the KV cache are resident for a whole entry point; views of the cache
 * have no bytes of their own. Once the `core-shard` pass has run, an activation lives where its
 * IrValue.place says (memory, sharding, core grid) instead of its producer's configuration. */
#ifndef TTC_DEV_LAYOUT_H
#define TTC_DEV_LAYOUT_H

#include <stdint.h>

#include "hw.h"
#include "ir.h"

#define DEV_TILE 32
#define DEV_PAGE_ALIGN 32 /* bytes: DRAM and L1 pages start on 32-byte boundaries */

typedef struct DevTensor {
    int64_t rows, cols;   /* the [rows, cols] view */
    int64_t row_tiles, col_tiles; /* per [rows, cols] after padding the last two dims to 32 */
    int64_t pages, page_bytes;
    int64_t bytes;        /* pages * page_bytes */
    int memory;           /* TtcMemory */
    int layout;           /* TtcLayout */
    int sharding;         /* HwSharding; only height, width and block shard, the rest interleave */
    int grid_y, grid_x;   /* sharded: the cores the shards span; 0: the whole compute grid */
} DevTensor;

/* One value as placed for one entry point. */
typedef struct DevValue {
    int used;       /* the entry point touches it */
    int persistent; /* weights and the KV cache: resident for the whole entry point */
    int view;       /* a view of state: no bytes of its own (reads count the view's bytes) */
    int first, last; /* lifetime in global op indices; inputs start at first_op - 1 */
    int owner_op;   /* the op whose configuration placed it */
    DevTensor t;
} DevValue;

/* Bytes of one 32x32 tile of `dtype` (int32 indices count as fp32). */
int64_t dev_tile_bytes(int dtype);
/* The device geometry of a tensor of `d`'s shape and dtype. */
DevTensor dev_tensor(const TtcTensorDesc *d, int layout, int memory, int sharding);
/* The largest share of the tensor any one core holds in L1, 32-byte aligned. */
int64_t dev_l1_per_core(const DevTensor *t, const HwDevice *dev);
/* The chip's DRAM taken: the fullest bank's pages times the number of banks (banks fill evenly
 * up to one page, and the fullest bank is the one that runs out). */
int64_t dev_dram_per_chip(const DevTensor *t, const HwDevice *dev);
int dev_cores(const HwDevice *dev);
/* The core grid a `sharding` (height, width, block) of t spans: as many cores as there are
 * whole tile rows (height) or tile columns (width) up to the compute grid, filled row by row;
 * block takes min(grid_y, row tiles) x min(grid_x, col tiles). 0 x 0 for interleaved. */
void dev_shard_grid(const DevTensor *t, const HwDevice *dev, int sharding, int *grid_y, int *grid_x);
/* Per-core circular-buffer bytes of one op's program (the model in device_memory.c). */
int64_t dev_cb_bytes(const Graph *g, const IrOp *op);
/* The first op of entry point `entry` at which the device-memory plan's L1 (circular buffers +
 * resident + L1 tensors, per core) exceeds the usable L1; -1 when every op fits, -2 out of memory. */
int dev_l1_overflow_op(const Graph *g, const HwDevice *dev, int entry, const int *sharding);
/* Whether the module configuration of `op` gives field f explicitly (an overlay or --set), rather
 * than leaving the built-in default: the `core-shard` policy chooses only what nobody pinned. */
int dev_field_pinned(const HwResolved *r, int field);

/* Places every value of entry point `entry` into vals[0..g->n_vals). `sharding` holds each op's
 * resolved `sharding` field (HwSharding), indexed by op; NULL means interleaved everywhere. */
void dev_place_entry(const Graph *g, int entry, const int *sharding, DevValue *vals);
/* Each op's resolved `sharding` field for its entry's mode (malloc'ed, n_ops long; NULL on OOM).
 * Without a config every op interleaves. */
int *dev_resolve_sharding(const Graph *g, const HwConfig *hw);

/* The module an op belongs to, for messages and overlays: its path cut after the component that
 * names its module type (layer_3.attention.q -> layer_3.attention, embedding.word -> embedding),
 * else the whole path (layer_3.attention_norm, lm_head). */
void dev_module_of(const IrOp *op, char *out, size_t cap);

/* "1.43 MiB", "12.0 GiB", "576 B": sizes in messages and summaries. Returns buf. */
char *dev_bytes_str(int64_t bytes, char *buf, size_t cap);
/* Two sizes compared in one message (a need and a capacity, a before and an after), in bytes
 * when rounding would print them alike ("16.0 KiB per core, device has 16.0 KiB" would read as
 * if it fit). */
void dev_bytes_pair_str(int64_t x, int64_t y, char *a, char *b, size_t cap);

#endif
