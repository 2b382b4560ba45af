/* fixture_plan.c: see fixture_plan.h. */
#include "fixture_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"



void set_tensor(TtcPlan *p, int i, const char *name, int kind, int dtype, int role, int init, int64_t offset,
                       int rank, TtcDim d0, TtcDim d1, TtcDim d2, TtcDim d3) {
    TtcTensorDesc *t = &p->tensors[i];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = kind;
    t->dtype = dtype;
    t->role = role;
    t->init = init;
    t->offset = offset;
    t->entry = kind == TTC_TENSOR_WEIGHT || kind == TTC_TENSOR_STATE ? -1 : 0;
    t->alias = -1;
    t->shape.rank = rank;
    t->shape.d[0] = d0;
    t->shape.d[1] = d1;
    t->shape.d[2] = d2;
    t->shape.d[3] = d3;
}

TtcOpDesc *set_op(TtcPlan *p, int k, int kind, const char *path, int n_in, int i0, int i1, int i2, int out,
                         TtcOpConfig cfg) {
    TtcOpDesc *op = &p->ops[k];
    op->kind = kind;
    snprintf(op->path, sizeof op->path, "%s", path);
    op->n_in = n_in;
    op->in[0] = i0;
    op->in[1] = i1;
    op->in[2] = i2;
    op->out = out;
    op->cfg = cfg;
    return op;
}

/* Room for two extra tensors and ops so rules about extra elements can be broken in place. */
void make_plan(TtcPlan *p) {
    memset(p, 0, sizeof *p);
    p->version = TTC_PLAN_VERSION;
    snprintf(p->model_name, sizeof p->model_name, "tiny-bert");
    p->model_type = TTC_MODEL_ENCODER;
    snprintf(p->device, sizeof p->device, "wormhole_n150");
    p->vocab_size = 32;
    p->eos_token_id = 31;
    p->mesh_rows = p->mesh_cols = 1;
    p->max_batch = 2;
    p->max_seq = 8;
    p->max_ctx = 8;
    p->arena_bytes = BASE_ARENA;
    snprintf(p->producer, sizeof p->producer, "ttc %s: test_plan_io", TTC_VERSION_STRING);
    p->tensors = calloc(BASE_TENSORS + 2, sizeof *p->tensors);
    p->ops = calloc(BASE_OPS + 2, sizeof *p->ops);
    p->n_tensors = BASE_TENSORS;
    p->n_ops = BASE_OPS;
    p->n_entries = 1;
    p->entries[0] = (TtcEntry){.name = "prefill", .mode = 0, .first_op = 0, .n_ops = BASE_OPS, .max_seq = 8,
                               .arena_bytes = BASE_ARENA};
    TtcDim z = DC(0);
    enum { IN = TTC_TENSOR_INPUT, W = TTC_TENSOR_WEIGHT, A = TTC_TENSOR_ACT };
    set_tensor(p, 0, "input_ids", IN, TTC_I32, TTC_ROLE_INPUT_IDS, 0, 0, 2, DB, DS, z, z);
    set_tensor(p, 1, "attention_mask", IN, TTC_I32, TTC_ROLE_ATTENTION_MASK, 0, 64, 2, DB, DT, z, z);
    set_tensor(p, 2, "embeddings.word_embeddings.weight", W, TTC_BF16, 0, TTC_INIT_NORMAL, 0, 2, DC(32), DC(16), z, z);
    set_tensor(p, 3, "embeddings.LayerNorm.weight", W, TTC_F32, 0, TTC_INIT_NORM_GAIN, 0, 1, DC(16), z, z, z);
    set_tensor(p, 4, "embeddings.LayerNorm.bias", W, TTC_F32, 0, TTC_INIT_NORM_BIAS, 0, 1, DC(16), z, z, z);
    set_tensor(p, 5, "emb", A, TTC_F32, 0, 0, 128, 3, DB, DS, DC(16), z);
    set_tensor(p, 6, "ln", A, TTC_BF16, 0, 0, 1152, 3, DB, DS, DC(16), z);
    set_tensor(p, 7, "scores", A, TTC_F32, 0, 0, 2176, 4, DB, DC(2), DS, DT);
    set_tensor(p, 8, "probs", A, TTC_BF16, 0, 0, 3200, 4, DB, DC(2), DS, DT);
    set_tensor(p, 9, "context", A, TTC_BF16, TTC_ROLE_HIDDEN, 0, 4224, 3, DB, DS, DC(16), z);
    set_tensor(p, 10, "encoder.layer.0.intermediate.dense.weight", W, TTC_BFP8, 0, 0, 0, 2, DC(32), DC(16), z, z);
    set_tensor(p, 11, "encoder.layer.0.intermediate.dense.bias", W, TTC_BF16, 0, 0, 0, 1, DC(32), z, z, z);
    set_tensor(p, 12, "ffn", A, TTC_F32, 0, 0, 5248, 3, DB, DS, DC(32), z);
    set_tensor(p, 13, "ffn_act", A, TTC_BFP4, 0, 0, 7296, 3, DB, DS, DC(32), z); /* ends at BASE_ARENA */

    TtcOpConfig hifi = {TTC_F32, TTC_F32, TTC_FIDELITY_HIFI4, 1, TTC_LAYOUT_ROW_MAJOR, TTC_MEM_DRAM};
    TtcOpConfig fast = {TTC_BF16, TTC_BFP8, TTC_FIDELITY_LOFI, 0, TTC_LAYOUT_TILE, TTC_MEM_L1};
    TtcOpConfig mid = {TTC_BF16, TTC_BF16, TTC_FIDELITY_HIFI2, 1, TTC_LAYOUT_TILE, TTC_MEM_DRAM};
    set_op(p, 0, TTC_OP_EMBEDDING, "embeddings.word_embeddings", 2, 0, 2, 0, 5, hifi);
    set_op(p, 1, TTC_OP_LAYERNORM, "embeddings.LayerNorm", 3, 5, 3, 4, 6, hifi)->attrs.eps = 1e-12f;
    TtcOpDesc *op = set_op(p, 2, TTC_OP_ATTN_SCORES, "layer_0.attention.scores", 2, 6, 6, 0, 7, mid);
    op->attrs = (TtcAttrs){.scale = 0.35355339f, .heads = 2, .kv_heads = 2, .head_dim = 8};
    op = set_op(p, 3, TTC_OP_SOFTMAX, "layer_0.attention.softmax", 2, 7, 1, 0, 8, mid);
    op->attrs = (TtcAttrs){.causal = 1, .window = 4, .has_mask = 1};
    op = set_op(p, 4, TTC_OP_ATTN_CONTEXT, "layer_0.attention.context", 2, 8, 6, 0, 9, mid);
    op->attrs = (TtcAttrs){.heads = 2, .kv_heads = 1, .head_dim = 8}; /* grouped-query */
    set_op(p, 5, TTC_OP_LINEAR, "layer_0.intermediate.dense", 3, 9, 10, 11, 12, fast);
    set_op(p, 6, TTC_OP_GELU, "layer_0.intermediate.act", 1, 12, 0, 0, 13, fast)->attrs.eps = -0.0f;
}

/* Device estimates as the `device-memory` and `cost` passes attach them (values arbitrary but
 * consistent: each total at least its largest part). */
void add_costs(TtcPlan *p, int per_op) {
    TtcEntry *e = &p->entries[0];
    e->l1_peak_bytes = 123456;
    e->dram_peak_bytes = (int64_t)13 << 30;
    e->device_cycles = 987654321;
    e->clock_khz = 1350000;
    e->device_bound = TTC_BOUND_DRAM;
    if (!per_op) return;
    p->op_costs = calloc(BASE_OPS + 2, sizeof *p->op_costs);
    for (int k = 0; k < BASE_OPS; k++)
        p->op_costs[k] = (TtcOpCost){.compute_cycles = 100 * k, .noc_cycles = 7 + k, .dram_cycles = 50 * k + 3,
                                     .cycles = 100 * k + 358 + (k < 1 ? 3 : 0), .bound = k == 2 ? TTC_BOUND_ETHERNET
                                                                                 : k ? TTC_BOUND_COMPUTE
                                                                                     : TTC_BOUND_NOC,
                                     .cores = 1 + k};
}

/* Field-by-field comparison; prints the first difference so a failure says where. */
int plans_equal(const TtcPlan *a, const TtcPlan *b) {
#define SAME(cond, ...)                            \
    do {                                           \
        if (!(cond)) {                             \
            fprintf(stderr, "plans differ: ");     \
            fprintf(stderr, __VA_ARGS__);          \
            fprintf(stderr, "\n");                 \
            return 0;                              \
        }                                          \
    } while (0)
    SAME(a->version == b->version, "version");
    SAME(strcmp(a->model_name, b->model_name) == 0, "model_name");
    SAME(a->model_type == b->model_type, "model_type");
    SAME(strcmp(a->device, b->device) == 0, "device");
    SAME(a->vocab_size == b->vocab_size && a->max_batch == b->max_batch && a->max_seq == b->max_seq &&
             a->max_ctx == b->max_ctx && a->arena_bytes == b->arena_bytes && a->eos_token_id == b->eos_token_id,
         "sizes");
    SAME(strcmp(a->producer, b->producer) == 0, "producer");
    SAME(a->n_misfits == b->n_misfits && strcmp(a->misfit, b->misfit) == 0, "misfit record");
    SAME(a->n_tensors == b->n_tensors && a->n_ops == b->n_ops, "counts");
    for (int i = 0; i < a->n_tensors; i++) {
        const TtcTensorDesc *x = &a->tensors[i], *y = &b->tensors[i];
        SAME(strcmp(x->name, y->name) == 0, "tensor %d name", i);
        SAME(x->kind == y->kind && x->dtype == y->dtype && x->role == y->role && x->init == y->init,
             "tensor %d enums", i);
        SAME(x->offset == y->offset && x->shape.rank == y->shape.rank, "tensor %d offset/rank", i);
        SAME(x->entry == y->entry && x->alias == y->alias, "tensor %d entry/alias", i);
        for (int d = 0; d < x->shape.rank; d++)
            SAME(x->shape.d[d].sym == y->shape.d[d].sym && x->shape.d[d].size == y->shape.d[d].size,
                 "tensor %d dim %d", i, d);
    }
    for (int k = 0; k < a->n_ops; k++) {
        const TtcOpDesc *x = &a->ops[k], *y = &b->ops[k];
        SAME(x->kind == y->kind && strcmp(x->path, y->path) == 0, "op %d kind/path", k);
        SAME(x->n_in == y->n_in && x->out == y->out, "op %d n_in/out", k);
        for (int j = 0; j < x->n_in; j++) SAME(x->in[j] == y->in[j], "op %d input %d", k, j);
        /* bit patterns: -0.0f and the exact float must survive */
        SAME(memcmp(&x->attrs.eps, &y->attrs.eps, 4) == 0 && memcmp(&x->attrs.scale, &y->attrs.scale, 4) == 0,
             "op %d float attrs", k);
        SAME(x->attrs.heads == y->attrs.heads && x->attrs.kv_heads == y->attrs.kv_heads &&
                 x->attrs.head_dim == y->attrs.head_dim && x->attrs.causal == y->attrs.causal &&
                 x->attrs.window == y->attrs.window && x->attrs.has_mask == y->attrs.has_mask,
             "op %d int attrs", k);
        SAME(memcmp(&x->cfg, &y->cfg, sizeof x->cfg) == 0, "op %d config", k);
        SAME(x->attrs.rope_theta == y->attrs.rope_theta && x->attrs.rope_scaling == y->attrs.rope_scaling &&
                 x->attrs.rope_factor == y->attrs.rope_factor && x->attrs.rope_low_freq == y->attrs.rope_low_freq &&
                 x->attrs.rope_high_freq == y->attrs.rope_high_freq && x->attrs.rope_orig_max == y->attrs.rope_orig_max,
             "op %d rope attrs", k);
    }
    SAME(a->n_entries == b->n_entries, "entry count");
    for (int e = 0; e < a->n_entries; e++)
        SAME(memcmp(&a->entries[e], &b->entries[e], sizeof a->entries[e]) == 0, "entry %d", e);
    SAME(!a->op_costs == !b->op_costs, "op costs present");
    for (int k = 0; a->op_costs && b->op_costs && k < a->n_ops; k++)
        SAME(memcmp(&a->op_costs[k], &b->op_costs[k], sizeof a->op_costs[k]) == 0, "op %d cost", k);
    return 1;
#undef SAME
}

int plan_is_empty(const TtcPlan *p) {
    return p->tensors == NULL && p->ops == NULL && p->n_tensors == 0 && p->n_ops == 0;
}

/* st/err must be a failure of class `want` whose message contains `phrase` (and starts with
 * `prefix` when given); otherwise explains on stderr. */
int failed_with(TtcStatus st, const TtcError *e, TtcStatus want, const char *prefix, const char *phrase,
                       const char *label) {
    int ok = st == want && e->status == want && strstr(e->msg, phrase) &&
             (!prefix || strncmp(e->msg, prefix, strlen(prefix)) == 0);
    if (!ok)
        fprintf(stderr, "\n[%s] expected status %d with '%s', got %d: '%s' (hint '%s')\n", label, (int)want, phrase,
                (int)st, e->msg, e->hint);
    return ok;
}

/* An independent bitwise CRC-32 (IEEE), so the test checks the library's table against the spec. */
uint32_t crc32_ref(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void fix_crc(uint8_t *buf, size_t len) { put32(buf + len - 4, crc32_ref(buf, len - 4)); }

void serialize_base(uint8_t **buf, size_t *len) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    TtcStatus st = ttc_plan_serialize(&p, buf, len, &e);
    CU_ASSERT_EQUAL_FATAL(st, TTC_OK);
    ttc_plan_free(&p);
}

/* Offset of the chunk with `tag` (its tag byte), walking the chunk list as PLAN_FORMAT.md says. */
size_t find_chunk(const uint8_t *buf, size_t len, const char *tag, uint32_t *payload_len) {
    size_t at = 16;
    for (uint32_t c = 0; c < get32(buf + 12) && at + 8 <= len - 4; c++) {
        uint32_t n = get32(buf + at + 4);
        if (memcmp(buf + at, tag, 4) == 0) {
            if (payload_len) *payload_len = n;
            return at;
        }
        at += 8 + n;
    }
    CU_FAIL_FATAL("chunk not found");
    return 0;
}

/* buf[0..at) + ins + buf[at..len): a new malloc'ed buffer (CRC not fixed). */
uint8_t *splice(const uint8_t *buf, size_t len, size_t at, const void *ins, size_t n, size_t *out_len) {
    uint8_t *o = malloc(len + n);
    memcpy(o, buf, at);
    memcpy(o + at, ins, n);
    memcpy(o + at + n, buf + at, len - at);
    *out_len = len + n;
    return o;
}

TtcStatus parse(const uint8_t *buf, size_t len, TtcPlan *p, TtcError *e) {
    ttc_error_clear(e);
    return ttc_plan_parse(p, buf, len, "plan.bin", e);
}

