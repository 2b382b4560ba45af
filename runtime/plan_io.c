/* plan_io.c: plan files on disk and in memory: serialize, parse, read, write.
 *
 * The byte layout is documented in PLAN_FORMAT.md; keep the two in step. The parser treats the
 * buffer as hostile: every read is checked against the bytes left in its chunk before it happens,
 * every count is bounded before anything is allocated from it, and the finished plan goes through
 * ttc_plan_validate (plan_validate.c) before the caller sees it. */
#include "plan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"

#define PLAN_HEADER_BYTES 16 /* magic, version, chunk count */
#define PLAN_CRC_BYTES 4
#define PLAN_CHUNK_HEADER_BYTES 8 /* tag, payload length */
#define PLAN_MAX_ITEMS 1000000 /* tensors or ops: far beyond any real model, small enough to allocate */
#define PLAN_OP_NAME_MAX 64    /* op and dtype name strings: longest known name is 13 bytes */

/* The smallest encoding of one record (all strings empty, no dims or inputs): a count that would
 * need more bytes than the chunk holds is rejected before the table is allocated. */
#define PLAN_MIN_TENSOR_BYTES (4 + 4 + 4 + 4 + 4 + 4 + 8 + 4 + 4 + 12)
#define PLAN_MIN_OP_BYTES (4 + 4 + 4 + 4 + 32 + 4 + 4 + 4)

static const char plan_recompile_hint[] = "recompile with ttc compile";

/* ---- CRC-32 (IEEE 802.3, reflected, as in zlib and PNG) ---- */

static uint32_t plan_crc32(const uint8_t *p, size_t n) {
    /* Built per call: 2 KB of work against a file read, and no shared mutable state. */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static uint32_t plan_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ================================ serialize ================================ */

/* A growing byte buffer; a failed allocation is remembered and reported once at the end, so
 * the encoders below stay straight-line. */
typedef struct PlanWriter {
    uint8_t *buf;
    size_t len, cap;
    int oom;
} PlanWriter;

static void plan_wr_bytes(PlanWriter *w, const void *src, size_t n) {
    if (w->oom) return;
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->oom = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->oom = 1;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    if (n) memcpy(w->buf + w->len, src, n);
    w->len += n;
}

static void plan_wr_u8(PlanWriter *w, uint8_t v) { plan_wr_bytes(w, &v, 1); }

static void plan_wr_u32(PlanWriter *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    plan_wr_bytes(w, b, 4);
}

static void plan_wr_i32(PlanWriter *w, int32_t v) { plan_wr_u32(w, (uint32_t)v); }

static void plan_wr_i64(PlanWriter *w, int64_t v) {
    uint64_t u = (uint64_t)v;
    plan_wr_u32(w, (uint32_t)u);
    plan_wr_u32(w, (uint32_t)(u >> 32));
}

static void plan_wr_f32(PlanWriter *w, float v) {
    uint32_t u;
    memcpy(&u, &v, 4); /* bit pattern, so NaN payloads and -0 survive the round trip */
    plan_wr_u32(w, u);
}

/* A string field of an in-memory struct: at most `cap` bytes even when not NUL-terminated, so a
 * corrupt in-memory plan is written as-is (and then rejected by the loader) instead of overread. */
static void plan_wr_str(PlanWriter *w, const char *s, size_t cap) {
    size_t n = strnlen(s, cap);
    plan_wr_u32(w, (uint32_t)n);
    plan_wr_bytes(w, s, n);
}

static size_t plan_wr_chunk_begin(PlanWriter *w, const char tag[4]) {
    plan_wr_bytes(w, tag, 4);
    size_t at = w->len;
    plan_wr_u32(w, 0); /* patched by plan_wr_chunk_end */
    return at;
}

static void plan_wr_chunk_end(PlanWriter *w, size_t at) {
    if (w->oom) return;
    size_t n = w->len - at - 4;
    if (n > UINT32_MAX) {
        w->oom = 1; /* cannot happen below the item limits; treated as a refusal */
        return;
    }
    uint32_t v = (uint32_t)n;
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    memcpy(w->buf + at, b, 4);
}

static int plan_clamp(int32_t v, int hi) { return v < 0 ? 0 : v > hi ? hi : v; }

static void plan_wr_meta(PlanWriter *w, const TtcPlan *p) {
    size_t at = plan_wr_chunk_begin(w, "META");
    plan_wr_str(w, p->model_name, sizeof p->model_name);
    plan_wr_i32(w, p->model_type);
    plan_wr_str(w, p->device, sizeof p->device);
    plan_wr_i64(w, p->vocab_size);
    plan_wr_i64(w, p->max_batch);
    plan_wr_i64(w, p->max_seq);
    plan_wr_i64(w, p->max_ctx);
    plan_wr_i64(w, p->arena_bytes);
    plan_wr_str(w, p->producer, sizeof p->producer);
    plan_wr_i64(w, p->eos_token_id);
    plan_wr_i32(w, p->mesh_rows);
    plan_wr_i32(w, p->mesh_cols);
    plan_wr_chunk_end(w, at);
}

static void plan_wr_name(PlanWriter *w, const char *name) { plan_wr_str(w, name, strlen(name)); }

static void plan_wr_tensors(PlanWriter *w, const TtcPlan *p) {
    size_t at = plan_wr_chunk_begin(w, "TENS");
    plan_wr_u32(w, (uint32_t)p->n_tensors);
    for (int32_t i = 0; i < p->n_tensors; i++) {
        const TtcTensorDesc *t = &p->tensors[i];
        plan_wr_str(w, t->name, sizeof t->name);
        plan_wr_i32(w, t->kind);
        /* An out-of-range dtype is written as "?", which the loader reports as unknown. */
        plan_wr_name(w, ttc_dtype_name((TtcDType)t->dtype));
        plan_wr_i32(w, t->role);
        plan_wr_i32(w, t->init);
        plan_wr_i32(w, t->shape.rank);
        for (int d = 0; d < plan_clamp(t->shape.rank, TTC_MAX_RANK); d++) {
            plan_wr_i32(w, t->shape.d[d].sym);
            plan_wr_i64(w, t->shape.d[d].size);
        }
        plan_wr_i64(w, t->offset);
        plan_wr_i32(w, t->entry);
        plan_wr_i32(w, t->alias);
        plan_wr_i32(w, t->shard_chips);
        plan_wr_i32(w, t->shard_dim);
        plan_wr_i32(w, t->shard_parts);
    }
    plan_wr_chunk_end(w, at);
}

static void plan_wr_ops(PlanWriter *w, const TtcPlan *p) {
    size_t at = plan_wr_chunk_begin(w, "OPS_");
    plan_wr_u32(w, (uint32_t)p->n_ops);
    for (int32_t i = 0; i < p->n_ops; i++) {
        const TtcOpDesc *op = &p->ops[i];
        plan_wr_name(w, ttc_op_name((TtcOpKind)op->kind));
        plan_wr_str(w, op->path, sizeof op->path);
        plan_wr_i32(w, op->n_in);
        for (int k = 0; k < plan_clamp(op->n_in, TTC_MAX_OP_INPUTS); k++) plan_wr_i32(w, op->in[k]);
        plan_wr_i32(w, op->out);
        plan_wr_f32(w, op->attrs.eps);
        plan_wr_f32(w, op->attrs.scale);
        plan_wr_i32(w, op->attrs.heads);
        plan_wr_i32(w, op->attrs.kv_heads);
        plan_wr_i32(w, op->attrs.head_dim);
        plan_wr_i32(w, op->attrs.causal);
        plan_wr_i32(w, op->attrs.window);
        plan_wr_i32(w, op->attrs.has_mask);
        plan_wr_f32(w, op->attrs.rope_theta);
        plan_wr_i32(w, op->attrs.rope_scaling);
        plan_wr_f32(w, op->attrs.rope_factor);
        plan_wr_f32(w, op->attrs.rope_low_freq);
        plan_wr_f32(w, op->attrs.rope_high_freq);
        plan_wr_i32(w, op->attrs.rope_orig_max);
        plan_wr_i32(w, op->attrs.epilogue);
        plan_wr_i32(w, op->attrs.q_col);
        plan_wr_i32(w, op->attrs.k_col);
        plan_wr_i32(w, op->attrs.v_col);
        plan_wr_i32(w, op->attrs.chips);
        plan_wr_name(w, ttc_dtype_name((TtcDType)op->cfg.act_dtype));
        plan_wr_name(w, ttc_dtype_name((TtcDType)op->cfg.weight_dtype));
        plan_wr_u8(w, op->cfg.fidelity);
        plan_wr_u8(w, op->cfg.fp32_acc);
        plan_wr_u8(w, op->cfg.layout);
        plan_wr_u8(w, op->cfg.memory);
    }
    plan_wr_chunk_end(w, at);
}

static void plan_wr_entries(PlanWriter *w, const TtcPlan *p) {
    size_t at = plan_wr_chunk_begin(w, "ENTR");
    int32_t n = p->n_entries < 0 ? 0 : p->n_entries > TTC_MAX_ENTRIES ? TTC_MAX_ENTRIES : p->n_entries;
    plan_wr_u32(w, (uint32_t)n);
    for (int32_t i = 0; i < n; i++) {
        const TtcEntry *e = &p->entries[i];
        plan_wr_str(w, e->name, sizeof e->name);
        plan_wr_i32(w, e->mode);
        plan_wr_i32(w, e->first_op);
        plan_wr_i32(w, e->n_ops);
        plan_wr_i64(w, e->max_seq);
        plan_wr_i64(w, e->arena_bytes);
    }
    plan_wr_chunk_end(w, at);
}

/* Device estimates (optional; written only when the compiler computed them). Entry totals for
 * every entry point, then per-op records or a count of 0 when only totals are known. */
static void plan_wr_cost(PlanWriter *w, const TtcPlan *p) {
    size_t at = plan_wr_chunk_begin(w, "COST");
    int32_t n = p->n_entries < 0 ? 0 : p->n_entries > TTC_MAX_ENTRIES ? TTC_MAX_ENTRIES : p->n_entries;
    plan_wr_u32(w, (uint32_t)n);
    for (int32_t i = 0; i < n; i++) {
        const TtcEntry *e = &p->entries[i];
        plan_wr_i64(w, e->l1_peak_bytes);
        plan_wr_i64(w, e->dram_peak_bytes);
        plan_wr_i64(w, e->device_cycles);
        plan_wr_i64(w, e->clock_khz);
        plan_wr_i32(w, e->device_bound);
    }
    int32_t ops = p->op_costs ? p->n_ops : 0;
    plan_wr_u32(w, (uint32_t)ops);
    for (int32_t k = 0; k < ops; k++) {
        const TtcOpCost *c = &p->op_costs[k];
        plan_wr_i64(w, c->compute_cycles);
        plan_wr_i64(w, c->noc_cycles);
        plan_wr_i64(w, c->dram_cycles);
        plan_wr_i64(w, c->cycles);
        plan_wr_i32(w, c->bound);
        plan_wr_i32(w, c->cores);
    }
    plan_wr_chunk_end(w, at);
}

/* How the plan was compiled (optional): a count, then that many strings "key=value". */
static void plan_wr_source(PlanWriter *w, const TtcPlan *p) {
    size_t at = plan_wr_chunk_begin(w, "SRCE");
    plan_wr_u32(w, (uint32_t)p->n_source);
    for (int32_t i = 0; i < p->n_source; i++) plan_wr_str(w, p->source[i], TTC_PLAN_SOURCE_MAX_BYTES);
    plan_wr_chunk_end(w, at);
}

int ttc_plan_add_source(TtcPlan *p, const char *key, const char *value) {
    size_t n = strlen(key) + 1 + strlen(value) + 1;
    if (p->n_source >= TTC_PLAN_SOURCE_MAX_ITEMS || n > TTC_PLAN_SOURCE_MAX_BYTES) return -1;
    char **v = realloc(p->source, sizeof *v * (size_t)(p->n_source + 1));
    if (!v) return -1;
    p->source = v;
    if (!(v[p->n_source] = malloc(n))) return -1;
    snprintf(v[p->n_source++], n, "%s=%s", key, value);
    return 0;
}

const char *ttc_plan_source_value(const TtcPlan *p, int i, const char *key) {
    size_t n = strlen(key);
    if (i < 0 || i >= p->n_source || strncmp(p->source[i], key, n) != 0 || p->source[i][n] != '=') return NULL;
    return p->source[i] + n + 1;
}

/* The record that the plan does not fit its device (optional; only plans compiled with
 * --allow-misfit have one): the number of problems and the first. */
static void plan_wr_misfit(PlanWriter *w, const TtcPlan *p) {
    size_t at = plan_wr_chunk_begin(w, "MISF");
    plan_wr_u32(w, (uint32_t)p->n_misfits);
    plan_wr_str(w, p->misfit, sizeof p->misfit);
    plan_wr_chunk_end(w, at);
}

int ttc_plan_has_cost(const TtcPlan *p) {
    for (int32_t i = 0; i < p->n_entries && i < TTC_MAX_ENTRIES; i++) {
        const TtcEntry *e = &p->entries[i];
        if (e->l1_peak_bytes || e->dram_peak_bytes || e->device_cycles || e->clock_khz) return 1;
    }
    return p->op_costs != NULL;
}

const char *ttc_bound_name(int bound) {
    static const char *const names[TTC_BOUND_COUNT] = {"compute", "NoC", "DRAM", "ethernet"};
    return bound >= 0 && bound < TTC_BOUND_COUNT ? names[bound] : "?";
}

/* Deliberately does not validate: the compiler validates before writing, and tests need to
 * produce bad files. It only refuses what it cannot encode without reading out of bounds. */
TtcStatus ttc_plan_serialize(const TtcPlan *p, uint8_t **buf, size_t *len, TtcError *err) {
    *buf = NULL;
    *len = 0;
    if (p->n_tensors < 0 || p->n_ops < 0 || (p->n_tensors > 0 && !p->tensors) || (p->n_ops > 0 && !p->ops))
        return ttc_fail(err, TTC_E_INTERNAL, "cannot serialize plan: %d tensors at %p, %d ops at %p",
                        (int)p->n_tensors, (const void *)p->tensors, (int)p->n_ops, (const void *)p->ops);
    PlanWriter w = {0};
    plan_wr_bytes(&w, TTC_PLAN_MAGIC, 8);
    plan_wr_u32(&w, TTC_PLAN_VERSION);
    int cost = ttc_plan_has_cost(p), misfit = p->n_misfits > 0, source = p->n_source > 0 && p->source;
    plan_wr_u32(&w, (uint32_t)(4 + cost + misfit + source)); /* chunks */
    plan_wr_meta(&w, p);
    plan_wr_tensors(&w, p);
    plan_wr_ops(&w, p);
    plan_wr_entries(&w, p);
    if (cost) plan_wr_cost(&w, p);
    if (source) plan_wr_source(&w, p);
    if (misfit) plan_wr_misfit(&w, p);
    if (!w.oom) plan_wr_u32(&w, plan_crc32(w.buf, w.len));
    if (w.oom) {
        free(w.buf);
        return ttc_fail(err, TTC_E_INTERNAL, "out of memory serializing plan '%.*s' (%d tensors, %d ops)",
                        (int)strnlen(p->model_name, sizeof p->model_name), p->model_name, (int)p->n_tensors,
                        (int)p->n_ops);
    }
    *buf = w.buf;
    *len = w.len;
    return TTC_OK;
}

/* ================================== parse ================================== */

typedef struct PlanReader {
    const uint8_t *buf;
    size_t pos;       /* absolute offset of the next byte */
    size_t end;       /* absolute end of the current chunk's payload */
    const char *what; /* file name for messages */
    char chunk[16];   /* printable tag of the current chunk, or "#3" before it is read */
    char item[TTC_NAME_MAX + 32]; /* "tensor 5 ('x')" or "" */
    TtcError *err;
    int32_t cost_entries, cost_ops; /* counts in the COST chunk, checked against ENTR and OPS_ */
} PlanReader;

static TtcStatus plan_rd_fail(PlanReader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static TtcStatus plan_rd_fail(PlanReader *r, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ttc_fail(r->err, TTC_E_USER, "%s: chunk %s%s%s: %s", r->what, r->chunk, r->item[0] ? ", " : "", r->item,
             detail);
    ttc_hint(r->err, "the file is damaged or was not written by ttc; %s", plan_recompile_hint);
    return TTC_E_USER;
}

static TtcStatus plan_rd_need(PlanReader *r, size_t n, const char *field) {
    if (n <= r->end - r->pos) return TTC_OK;
    return plan_rd_fail(r, "%s needs %zu bytes at offset %zu, the chunk has %zu left", field, n, r->pos,
                        r->end - r->pos);
}

static TtcStatus plan_rd_u8(PlanReader *r, const char *field, uint8_t *v) {
    if (plan_rd_need(r, 1, field)) return TTC_E_USER;
    *v = r->buf[r->pos++];
    return TTC_OK;
}

static TtcStatus plan_rd_u32(PlanReader *r, const char *field, uint32_t *v) {
    if (plan_rd_need(r, 4, field)) return TTC_E_USER;
    *v = plan_le32(r->buf + r->pos);
    r->pos += 4;
    return TTC_OK;
}

static TtcStatus plan_rd_i32(PlanReader *r, const char *field, int32_t *v) {
    uint32_t u;
    if (plan_rd_u32(r, field, &u)) return TTC_E_USER;
    memcpy(v, &u, 4); /* two's complement reinterpretation without implementation-defined casts */
    return TTC_OK;
}

static TtcStatus plan_rd_i64(PlanReader *r, const char *field, int64_t *v) {
    if (plan_rd_need(r, 8, field)) return TTC_E_USER;
    uint64_t u = (uint64_t)plan_le32(r->buf + r->pos) | (uint64_t)plan_le32(r->buf + r->pos + 4) << 32;
    memcpy(v, &u, 8);
    r->pos += 8;
    return TTC_OK;
}

static TtcStatus plan_rd_f32(PlanReader *r, const char *field, float *v) {
    uint32_t u;
    if (plan_rd_u32(r, field, &u)) return TTC_E_USER;
    memcpy(v, &u, 4);
    return TTC_OK;
}

/* A length-prefixed string into dst[cap]: at most cap - 1 bytes, no NUL inside (a NUL would
 * silently shorten the name the rest of ttc sees). */
static TtcStatus plan_rd_str(PlanReader *r, const char *field, char *dst, size_t cap) {
    uint32_t n;
    if (plan_rd_u32(r, field, &n)) return TTC_E_USER;
    if (n > cap - 1) return plan_rd_fail(r, "%s is %u bytes long, at most %zu are allowed", field, n, cap - 1);
    if (plan_rd_need(r, n, field)) return TTC_E_USER;
    if (memchr(r->buf + r->pos, 0, n)) return plan_rd_fail(r, "%s contains a NUL byte", field);
    memcpy(dst, r->buf + r->pos, n);
    dst[n] = 0;
    r->pos += n;
    return TTC_OK;
}

static TtcStatus plan_rd_dtype(PlanReader *r, const char *field, int32_t *dtype) {
    char name[PLAN_OP_NAME_MAX];
    if (plan_rd_str(r, field, name, sizeof name)) return TTC_E_USER;
    int d = ttc_dtype_from_name(name);
    if (d < 0) return plan_rd_fail(r, "%s: unknown dtype '%s'", field, name);
    *dtype = d;
    return TTC_OK;
}

/* Bounds a record count by the limit and by what the rest of the chunk could possibly hold. */
static TtcStatus plan_rd_count(PlanReader *r, const char *field, size_t min_record, int32_t *count) {
    uint32_t n;
    if (plan_rd_u32(r, field, &n)) return TTC_E_USER;
    if (n > PLAN_MAX_ITEMS) return plan_rd_fail(r, "%s is %u, at most %d are allowed", field, n, PLAN_MAX_ITEMS);
    if (n > (r->end - r->pos) / min_record)
        return plan_rd_fail(r, "%s is %u, but the %zu bytes left hold at most %zu", field, n, r->end - r->pos,
                            (r->end - r->pos) / min_record);
    *count = (int32_t)n;
    return TTC_OK;
}

static TtcStatus plan_rd_meta(PlanReader *r, TtcPlan *p) {
    if (plan_rd_str(r, "model name", p->model_name, sizeof p->model_name) ||
        plan_rd_i32(r, "model type", &p->model_type) ||
        plan_rd_str(r, "device", p->device, sizeof p->device) ||
        plan_rd_i64(r, "vocab_size", &p->vocab_size) || plan_rd_i64(r, "max_batch", &p->max_batch) ||
        plan_rd_i64(r, "max_seq", &p->max_seq) || plan_rd_i64(r, "max_ctx", &p->max_ctx) ||
        plan_rd_i64(r, "arena_bytes", &p->arena_bytes) ||
        plan_rd_str(r, "producer", p->producer, sizeof p->producer) ||
        plan_rd_i64(r, "eos_token_id", &p->eos_token_id) || plan_rd_i32(r, "mesh rows", &p->mesh_rows) ||
        plan_rd_i32(r, "mesh cols", &p->mesh_cols))
        return TTC_E_USER;
    return TTC_OK;
}

static TtcStatus plan_rd_tensor(PlanReader *r, TtcTensorDesc *t) {
    if (plan_rd_str(r, "name", t->name, sizeof t->name)) return TTC_E_USER;
    size_t at = strlen(r->item);
    snprintf(r->item + at, sizeof r->item - at, " ('%s')", t->name);
    if (plan_rd_i32(r, "kind", &t->kind) || plan_rd_dtype(r, "dtype", &t->dtype) ||
        plan_rd_i32(r, "role", &t->role) || plan_rd_i32(r, "init", &t->init) ||
        plan_rd_i32(r, "rank", &t->shape.rank))
        return TTC_E_USER;
    /* The rank sizes the dims array: check it here; ttc_plan_validate also rejects rank 0. */
    if (t->shape.rank < 0 || t->shape.rank > TTC_MAX_RANK)
        return plan_rd_fail(r, "rank %d must be 1..%d", (int)t->shape.rank, TTC_MAX_RANK);
    for (int d = 0; d < t->shape.rank; d++)
        if (plan_rd_i32(r, "dim symbol", &t->shape.d[d].sym) || plan_rd_i64(r, "dim size", &t->shape.d[d].size))
            return TTC_E_USER;
    if (plan_rd_i64(r, "offset", &t->offset) || plan_rd_i32(r, "entry", &t->entry) ||
        plan_rd_i32(r, "alias", &t->alias) || plan_rd_i32(r, "shard chips", &t->shard_chips) ||
        plan_rd_i32(r, "shard dim", &t->shard_dim) || plan_rd_i32(r, "shard parts", &t->shard_parts))
        return TTC_E_USER;
    return TTC_OK;
}

static TtcStatus plan_rd_tensors(PlanReader *r, TtcPlan *p) {
    int32_t n;
    if (plan_rd_count(r, "tensor count", PLAN_MIN_TENSOR_BYTES, &n)) return TTC_E_USER;
    if (n > 0) {
        p->tensors = calloc((size_t)n, sizeof *p->tensors);
        if (!p->tensors)
            return ttc_fail(r->err, TTC_E_INTERNAL, "%s: out of memory for %d tensors", r->what, (int)n);
    }
    p->n_tensors = n;
    for (int32_t i = 0; i < n; i++) {
        snprintf(r->item, sizeof r->item, "tensor %d", (int)i);
        if (plan_rd_tensor(r, &p->tensors[i])) return TTC_E_USER;
    }
    r->item[0] = 0;
    return TTC_OK;
}

static TtcStatus plan_rd_op(PlanReader *r, TtcOpDesc *op) {
    char name[PLAN_OP_NAME_MAX];
    if (plan_rd_str(r, "op name", name, sizeof name) || plan_rd_str(r, "path", op->path, sizeof op->path))
        return TTC_E_USER;
    size_t at = strlen(r->item);
    snprintf(r->item + at, sizeof r->item - at, " ('%s')", op->path);
    /* By name, so plans survive reordering of ops.def. */
    int kind = ttc_op_from_name(name);
    if (kind < 0) return plan_rd_fail(r, "unknown op '%s'", name);
    op->kind = kind;
    if (plan_rd_i32(r, "input count", &op->n_in)) return TTC_E_USER;
    if (op->n_in < 0 || op->n_in > TTC_MAX_OP_INPUTS)
        return plan_rd_fail(r, "input count %d must be 0..%d", (int)op->n_in, TTC_MAX_OP_INPUTS);
    for (int k = 0; k < op->n_in; k++)
        if (plan_rd_i32(r, "input", &op->in[k])) return TTC_E_USER;
    uint8_t fidelity, fp32_acc, layout, memory;
    int32_t act_dtype, weight_dtype;
    if (plan_rd_i32(r, "output", &op->out) || plan_rd_f32(r, "eps", &op->attrs.eps) ||
        plan_rd_f32(r, "scale", &op->attrs.scale) || plan_rd_i32(r, "heads", &op->attrs.heads) ||
        plan_rd_i32(r, "kv_heads", &op->attrs.kv_heads) || plan_rd_i32(r, "head_dim", &op->attrs.head_dim) ||
        plan_rd_i32(r, "causal", &op->attrs.causal) || plan_rd_i32(r, "window", &op->attrs.window) ||
        plan_rd_i32(r, "has_mask", &op->attrs.has_mask) || plan_rd_f32(r, "rope_theta", &op->attrs.rope_theta) ||
        plan_rd_i32(r, "rope_scaling", &op->attrs.rope_scaling) ||
        plan_rd_f32(r, "rope_factor", &op->attrs.rope_factor) ||
        plan_rd_f32(r, "rope_low_freq", &op->attrs.rope_low_freq) ||
        plan_rd_f32(r, "rope_high_freq", &op->attrs.rope_high_freq) ||
        plan_rd_i32(r, "rope_orig_max", &op->attrs.rope_orig_max) || plan_rd_i32(r, "epilogue", &op->attrs.epilogue) ||
        plan_rd_i32(r, "q_col", &op->attrs.q_col) || plan_rd_i32(r, "k_col", &op->attrs.k_col) ||
        plan_rd_i32(r, "v_col", &op->attrs.v_col) || plan_rd_i32(r, "chips", &op->attrs.chips) ||
        plan_rd_dtype(r, "act_dtype", &act_dtype) ||
        plan_rd_dtype(r, "weight_dtype", &weight_dtype) || plan_rd_u8(r, "fidelity", &fidelity) ||
        plan_rd_u8(r, "fp32_acc", &fp32_acc) || plan_rd_u8(r, "layout", &layout) ||
        plan_rd_u8(r, "memory", &memory))
        return TTC_E_USER;
    op->cfg.act_dtype = (uint8_t)act_dtype; /* < TTC_DTYPE_COUNT: resolved from a known name */
    op->cfg.weight_dtype = (uint8_t)weight_dtype;
    op->cfg.fidelity = fidelity;
    op->cfg.fp32_acc = fp32_acc;
    op->cfg.layout = layout;
    op->cfg.memory = memory;
    return TTC_OK;
}

static TtcStatus plan_rd_ops(PlanReader *r, TtcPlan *p) {
    int32_t n;
    if (plan_rd_count(r, "op count", PLAN_MIN_OP_BYTES, &n)) return TTC_E_USER;
    if (n > 0) {
        p->ops = calloc((size_t)n, sizeof *p->ops);
        if (!p->ops) return ttc_fail(r->err, TTC_E_INTERNAL, "%s: out of memory for %d ops", r->what, (int)n);
    }
    p->n_ops = n;
    for (int32_t i = 0; i < n; i++) {
        snprintf(r->item, sizeof r->item, "op %d", (int)i);
        if (plan_rd_op(r, &p->ops[i])) return TTC_E_USER;
    }
    r->item[0] = 0;
    return TTC_OK;
}

static TtcStatus plan_rd_entries(PlanReader *r, TtcPlan *p) {
    uint32_t n;
    if (plan_rd_u32(r, "entry count", &n)) return TTC_E_USER;
    if (n < 1 || n > TTC_MAX_ENTRIES)
        return plan_rd_fail(r, "entry count %u must be 1..%d", (unsigned)n, TTC_MAX_ENTRIES);
    p->n_entries = (int32_t)n;
    for (uint32_t i = 0; i < n; i++) {
        TtcEntry *e = &p->entries[i];
        snprintf(r->item, sizeof r->item, "entry %u", (unsigned)i);
        if (plan_rd_str(r, "name", e->name, sizeof e->name) || plan_rd_i32(r, "mode", &e->mode) ||
            plan_rd_i32(r, "first op", &e->first_op) || plan_rd_i32(r, "op count", &e->n_ops) ||
            plan_rd_i64(r, "max_seq", &e->max_seq) || plan_rd_i64(r, "arena_bytes", &e->arena_bytes))
            return TTC_E_USER;
    }
    r->item[0] = 0;
    return TTC_OK;
}

#define PLAN_COST_OP_BYTES (4 * 8 + 4 + 4)

static TtcStatus plan_rd_cost(PlanReader *r, TtcPlan *p) {
    uint32_t n;
    if (plan_rd_u32(r, "entry count", &n)) return TTC_E_USER;
    if (n < 1 || n > TTC_MAX_ENTRIES)
        return plan_rd_fail(r, "entry count %u must be 1..%d", (unsigned)n, TTC_MAX_ENTRIES);
    r->cost_entries = (int32_t)n;
    for (uint32_t i = 0; i < n; i++) {
        TtcEntry *e = &p->entries[i];
        snprintf(r->item, sizeof r->item, "entry %u", (unsigned)i);
        if (plan_rd_i64(r, "l1_peak_bytes", &e->l1_peak_bytes) ||
            plan_rd_i64(r, "dram_peak_bytes", &e->dram_peak_bytes) ||
            plan_rd_i64(r, "device_cycles", &e->device_cycles) || plan_rd_i64(r, "clock_khz", &e->clock_khz) ||
            plan_rd_i32(r, "device_bound", &e->device_bound))
            return TTC_E_USER;
    }
    r->item[0] = 0;
    int32_t ops;
    if (plan_rd_count(r, "op count", PLAN_COST_OP_BYTES, &ops)) return TTC_E_USER;
    r->cost_ops = ops;
    if (ops > 0) {
        p->op_costs = calloc((size_t)ops, sizeof *p->op_costs);
        if (!p->op_costs)
            return ttc_fail(r->err, TTC_E_INTERNAL, "%s: out of memory for %d op costs", r->what, (int)ops);
    }
    for (int32_t k = 0; k < ops; k++) {
        TtcOpCost *c = &p->op_costs[k];
        snprintf(r->item, sizeof r->item, "op %d", (int)k);
        if (plan_rd_i64(r, "compute cycles", &c->compute_cycles) || plan_rd_i64(r, "noc cycles", &c->noc_cycles) ||
            plan_rd_i64(r, "dram cycles", &c->dram_cycles) || plan_rd_i64(r, "cycles", &c->cycles) ||
            plan_rd_i32(r, "bound", &c->bound) || plan_rd_i32(r, "cores", &c->cores))
            return TTC_E_USER;
    }
    r->item[0] = 0;
    return TTC_OK;
}

/* SRCE: a count of at most TTC_PLAN_SOURCE_MAX_ITEMS, then each item, a string of at most
 * TTC_PLAN_SOURCE_MAX_BYTES - 1 bytes without NUL, of the shape key=value with a key of
 * [a-z_] letters (unknown keys are kept: the reader of the items decides). */
static TtcStatus plan_rd_source(PlanReader *r, TtcPlan *p) {
    uint32_t n;
    if (plan_rd_u32(r, "item count", &n)) return TTC_E_USER;
    if (n > TTC_PLAN_SOURCE_MAX_ITEMS || n > (r->end - r->pos) / 4)
        return plan_rd_fail(r, "item count %u: at most %d, and at most one per 4 bytes left", (unsigned)n,
                            TTC_PLAN_SOURCE_MAX_ITEMS);
    if (n == 0) return TTC_OK;
    p->source = calloc(n, sizeof *p->source);
    if (!p->source) return ttc_fail(r->err, TTC_E_INTERNAL, "%s: out of memory for %u source items", r->what, n);
    char *item = malloc(TTC_PLAN_SOURCE_MAX_BYTES);
    if (!item) return ttc_fail(r->err, TTC_E_INTERNAL, "%s: out of memory for a source item", r->what);
    TtcStatus st = TTC_OK;
    for (uint32_t i = 0; i < n && !st; i++) {
        snprintf(r->item, sizeof r->item, "item %u", (unsigned)i);
        st = plan_rd_str(r, "item", item, TTC_PLAN_SOURCE_MAX_BYTES);
        size_t key = st ? 0 : strspn(item, "abcdefghijklmnopqrstuvwxyz_");
        if (!st && (key == 0 || item[key] != '='))
            st = plan_rd_fail(r, "'%.40s' is not of the form key=value", item);
        if (!st && !(p->source[i] = malloc(strlen(item) + 1)))
            st = ttc_fail(r->err, TTC_E_INTERNAL, "%s: out of memory for a source item", r->what);
        if (!st) {
            strcpy(p->source[i], item);
            p->n_source = (int32_t)i + 1;
        }
    }
    free(item);
    r->item[0] = 0;
    return st;
}

static TtcStatus plan_rd_misfit(PlanReader *r, TtcPlan *p) {
    uint32_t n;
    if (plan_rd_u32(r, "problem count", &n)) return TTC_E_USER;
    if (n < 1 || n > PLAN_MAX_ITEMS)
        return plan_rd_fail(r, "problem count %u must be 1..%d (a plan that fits has no MISF chunk)", (unsigned)n,
                            PLAN_MAX_ITEMS);
    p->n_misfits = (int32_t)n;
    return plan_rd_str(r, "first problem", p->misfit, sizeof p->misfit);
}

/* Tags go into messages: anything unprintable is shown as '?'. */
static void plan_tag_str(const uint8_t *tag, char out[16]) {
    for (int i = 0; i < 4; i++) out[i] = (tag[i] >= 0x20 && tag[i] < 0x7F) ? (char)tag[i] : '?';
    out[4] = 0;
}

/* Chunks before PLAN_CHUNK_REQUIRED must appear; the rest are optional. */
enum { PLAN_CHUNK_META, PLAN_CHUNK_TENS, PLAN_CHUNK_OPS, PLAN_CHUNK_ENTR, PLAN_CHUNK_REQUIRED,
       PLAN_CHUNK_COST = PLAN_CHUNK_REQUIRED, PLAN_CHUNK_MISF, PLAN_CHUNK_SRCE, PLAN_CHUNK_KNOWN };
static const struct {
    const char *tag;
    TtcStatus (*read)(PlanReader *r, TtcPlan *p);
} plan_chunks[PLAN_CHUNK_KNOWN] = {
    {"META", plan_rd_meta},    {"TENS", plan_rd_tensors}, {"OPS_", plan_rd_ops},
    {"ENTR", plan_rd_entries}, {"COST", plan_rd_cost},    {"MISF", plan_rd_misfit},
    {"SRCE", plan_rd_source},
};

static TtcStatus plan_parse_chunks(PlanReader *r, TtcPlan *p, uint32_t n_chunks, size_t body_end) {
    int seen[PLAN_CHUNK_KNOWN] = {0};
    for (uint32_t c = 0; c < n_chunks; c++) {
        snprintf(r->chunk, sizeof r->chunk, "#%u", (unsigned)c);
        r->end = body_end;
        uint32_t plen;
        if (plan_rd_need(r, PLAN_CHUNK_HEADER_BYTES, "chunk header")) return TTC_E_USER;
        const uint8_t *tag = r->buf + r->pos;
        plan_tag_str(tag, r->chunk);
        r->pos += 4;
        if (plan_rd_u32(r, "chunk length", &plen) || plan_rd_need(r, plen, "payload")) return TTC_E_USER;
        r->end = r->pos + plen;
        int known = -1;
        for (int k = 0; k < PLAN_CHUNK_KNOWN; k++)
            if (memcmp(tag, plan_chunks[k].tag, 4) == 0) known = k;
        if (known < 0) { /* a later format's addition: skip it */
            r->pos = r->end;
            continue;
        }
        if (seen[known]) return plan_rd_fail(r, "appears twice");
        seen[known] = 1;
        TtcStatus st = plan_chunks[known].read(r, p);
        if (st) return st;
        if (r->pos != r->end) return plan_rd_fail(r, "%zu bytes left over after the last field", r->end - r->pos);
    }
    snprintf(r->chunk, sizeof r->chunk, "list");
    if (r->pos != body_end)
        return plan_rd_fail(r, "%zu bytes between the last of the %u chunks and the checksum", body_end - r->pos,
                            (unsigned)n_chunks);
    for (int k = 0; k < PLAN_CHUNK_REQUIRED; k++)
        if (!seen[k]) return plan_rd_fail(r, "required chunk %s is missing", plan_chunks[k].tag);
    /* COST may come before ENTR and OPS_: its counts are checked once all are read. */
    snprintf(r->chunk, sizeof r->chunk, "COST");
    if (seen[PLAN_CHUNK_COST] && r->cost_entries != p->n_entries)
        return plan_rd_fail(r, "has %d entry points, the plan has %d", (int)r->cost_entries, (int)p->n_entries);
    if (seen[PLAN_CHUNK_COST] && r->cost_ops != 0 && r->cost_ops != p->n_ops)
        return plan_rd_fail(r, "has %d op costs, the plan has %d ops (0 is allowed: totals only)", (int)r->cost_ops,
                            (int)p->n_ops);
    return TTC_OK;
}

/* The length the chunk list in the header says the file has (header, chunks, CRC), walked from
 * the chunk lengths alone. Exact when the bytes reach the last chunk's header; otherwise a lower
 * bound (*at_least set): the headers of the chunks past the cut are counted, not their payloads.
 * Each step moves past the end or by at least 8 bytes, so the walk stays within `len`. */
static uint64_t plan_claimed_length(const uint8_t *buf, size_t len, int *at_least) {
    uint64_t pos = PLAN_HEADER_BYTES;
    uint32_t n_chunks = plan_le32(buf + 12);
    *at_least = 0;
    for (uint32_t c = 0; c < n_chunks; c++) {
        if (pos + PLAN_CHUNK_HEADER_BYTES > len) {
            *at_least = 1;
            return pos + (uint64_t)(n_chunks - c) * PLAN_CHUNK_HEADER_BYTES + PLAN_CRC_BYTES;
        }
        pos += PLAN_CHUNK_HEADER_BYTES + (uint64_t)plan_le32(buf + pos + 4);
    }
    return pos + PLAN_CRC_BYTES;
}

TtcStatus ttc_plan_parse(TtcPlan *p, const uint8_t *buf, size_t len, const char *what, TtcError *err) {
    memset(p, 0, sizeof *p);
    if (!what) what = "plan";
    TtcStatus st = TTC_E_USER;
    /* The magic first, as far as the bytes go: a short text file is "not a plan", not "truncated". */
    if (len > 0 && memcmp(buf, TTC_PLAN_MAGIC, len < 8 ? len : 8) != 0) {
        ttc_fail(err, st, "%s: not a ttc plan file (it does not start with TTCPLAN)", what);
        ttc_hint(err, "plan files are written by ttc compile SPEC.yaml --emit plan -o PLAN");
        return st;
    }
    if (len < PLAN_HEADER_BYTES + PLAN_CRC_BYTES) {
        ttc_fail(err, st, "%s: truncated: %zu bytes, a plan file has at least %d", what, len,
                 PLAN_HEADER_BYTES + PLAN_CRC_BYTES);
        ttc_hint(err, "%s", plan_recompile_hint);
        return st;
    }
    /* Before the checksum: a newer format may checksum differently, and its writer deserves
     * the accurate message rather than "corrupted". */
    uint32_t version = plan_le32(buf + 8);
    if (version > TTC_PLAN_VERSION) {
        ttc_fail(err, st, "%s was written by a newer ttc (format version %u); this ttc reads version %d", what,
                 (unsigned)version, TTC_PLAN_VERSION);
        ttc_hint(err, "recompile the plan with this ttc (ttc compile), or upgrade ttc");
        return st;
    }
    if (version < 1) {
        ttc_fail(err, st, "%s: unsupported format version %u", what, (unsigned)version);
        ttc_hint(err, "%s", plan_recompile_hint);
        return st;
    }
    size_t body_end = len - PLAN_CRC_BYTES;
    uint32_t stored = plan_le32(buf + body_end), actual = plan_crc32(buf, body_end);
    int at_least;
    uint64_t claimed = plan_claimed_length(buf, len, &at_least);
    /* A cut file fails its checksum too, but "truncated" says what happened. A file whose
     * checksum holds was not cut: its chunk lengths are judged by the parser below. */
    if (stored != actual && claimed > len) {
        ttc_fail(err, st, "%s: truncated: %zu of %s%" PRIu64 " bytes", what, len, at_least ? "at least " : "",
                 claimed);
        ttc_hint(err, "the file was cut short (an interrupted copy or download?); copy it again or %s",
                 plan_recompile_hint);
        return st;
    }
    if (stored != actual) {
        ttc_fail(err, st, "%s: corrupted (checksum mismatch: stored %08x, computed %08x)", what,
                 (unsigned)stored, (unsigned)actual);
        ttc_hint(err, "%s", plan_recompile_hint);
        return st;
    }
    PlanReader r = {.buf = buf, .pos = PLAN_HEADER_BYTES, .end = body_end, .what = what, .err = err};
    st = plan_parse_chunks(&r, p, plan_le32(buf + 12), body_end);
    if (st) goto fail;
    p->version = version;
    p->from_file = 1;
    st = ttc_plan_validate(p, what, err);
    if (st) {
        ttc_hint(err, "%s", plan_recompile_hint);
        goto fail;
    }
    return TTC_OK;
fail:
    ttc_plan_free(p);
    return st;
}

void ttc_plan_free(TtcPlan *p) {
    if (!p) return;
    free(p->tensors);
    free(p->ops);
    free(p->op_costs);
    for (int32_t i = 0; p->source && i < p->n_source; i++) free(p->source[i]);
    free(p->source);
    memset(p, 0, sizeof *p); /* a second free, or a reuse, sees an empty plan */
}

/* ============================== files ============================== */

/* Both directions go through file_util.c: its reader names "not found" and "is a directory"
 * plainly, and its writer leaves nothing at `path` unless the whole plan reached the disk. */
TtcStatus ttc_plan_write(const TtcPlan *p, const char *path, TtcError *err) {
    uint8_t *buf;
    size_t len;
    TtcStatus st = ttc_plan_serialize(p, &buf, &len, err);
    if (st) return st;
    st = ttc_write_file_atomic(path, buf, len, err);
    free(buf);
    return st;
}

TtcStatus ttc_plan_read(TtcPlan *p, const char *path, TtcError *err) {
    memset(p, 0, sizeof *p);
    char *buf;
    size_t len;
    TtcStatus st = ttc_read_file(path, &buf, &len, err);
    if (st) {
        ttc_hint(err, "pass the plan file that ttc compile wrote (ttc compile SPEC.yaml -o PLAN)");
        return st;
    }
    st = ttc_plan_parse(p, (const uint8_t *)buf, len, path, err);
    free(buf);
    return st;
}
