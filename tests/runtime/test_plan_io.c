/* test_plan_io.c: plan files (runtime/plan_io.c, runtime/plan_validate.c, PLAN_FORMAT.md).
 *
 * A small hand-built plan (embeddings, layernorm, one attention core, an FFN up-projection)
 * round-trips through memory and disk; every truncation and byte flip of its file is rejected
 * cleanly; hand-edited files (new version, unknown chunk, huge counts) behave as documented; and
 * each validation rule is broken once, both in memory and through a serialized file. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "unit.h"

/* ---- the base plan: B=2, S=T=8, H=16, V=32, FFN 32, 2 heads of 8 ---- */

#define DC(n) ((TtcDim){TTC_SYM_NONE, (n)})
#define DB ((TtcDim){TTC_SYM_BATCH, 2})
#define DS ((TtcDim){TTC_SYM_SEQ, 8})
#define DT ((TtcDim){TTC_SYM_CTX, 8})
#define BASE_TENSORS 14
#define BASE_OPS 7
#define BASE_ARENA 9344

static void set_tensor(TtcPlan *p, int i, const char *name, int kind, int dtype, int role, int init, int64_t offset,
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

static TtcOpDesc *set_op(TtcPlan *p, int k, int kind, const char *path, int n_in, int i0, int i1, int i2, int out,
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
static void make_plan(TtcPlan *p) {
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
static void add_costs(TtcPlan *p, int per_op) {
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
static int plans_equal(const TtcPlan *a, const TtcPlan *b) {
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

static int plan_is_empty(const TtcPlan *p) {
    return p->tensors == NULL && p->ops == NULL && p->n_tensors == 0 && p->n_ops == 0;
}

/* st/err must be a failure of class `want` whose message contains `phrase` (and starts with
 * `prefix` when given); otherwise explains on stderr. */
static int failed_with(TtcStatus st, const TtcError *e, TtcStatus want, const char *prefix, const char *phrase,
                       const char *label) {
    int ok = st == want && e->status == want && strstr(e->msg, phrase) &&
             (!prefix || strncmp(e->msg, prefix, strlen(prefix)) == 0);
    if (!ok)
        fprintf(stderr, "\n[%s] expected status %d with '%s', got %d: '%s' (hint '%s')\n", label, (int)want, phrase,
                (int)st, e->msg, e->hint);
    return ok;
}

/* An independent bitwise CRC-32 (IEEE), so the test checks the library's table against the spec. */
static uint32_t crc32_ref(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void fix_crc(uint8_t *buf, size_t len) { put32(buf + len - 4, crc32_ref(buf, len - 4)); }

static void serialize_base(uint8_t **buf, size_t *len) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    TtcStatus st = ttc_plan_serialize(&p, buf, len, &e);
    CU_ASSERT_EQUAL_FATAL(st, TTC_OK);
    ttc_plan_free(&p);
}

/* Offset of the chunk with `tag` (its tag byte), walking the chunk list as PLAN_FORMAT.md says. */
static size_t find_chunk(const uint8_t *buf, size_t len, const char *tag, uint32_t *payload_len) {
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
static uint8_t *splice(const uint8_t *buf, size_t len, size_t at, const void *ins, size_t n, size_t *out_len) {
    uint8_t *o = malloc(len + n);
    memcpy(o, buf, at);
    memcpy(o + at, ins, n);
    memcpy(o + at + n, buf + at, len - at);
    *out_len = len + n;
    return o;
}

static TtcStatus parse(const uint8_t *buf, size_t len, TtcPlan *p, TtcError *e) {
    ttc_error_clear(e);
    return ttc_plan_parse(p, buf, len, "plan.bin", e);
}

/* ================================ round trips ================================ */

static void test_base_plan_is_valid(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    CU_ASSERT_EQUAL(ttc_plan_validate(&p, "base", &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    ttc_plan_free(&p);
    CU_ASSERT_TRUE(plan_is_empty(&p));
    ttc_plan_free(&p); /* twice is harmless */
    TtcPlan zero = {0};
    ttc_plan_free(&zero);
}

static void test_roundtrip_memory(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    CU_ASSERT_EQUAL(memcmp(buf, "TTCPLAN\0", 8), 0);
    CU_ASSERT_EQUAL(get32(buf + 8), TTC_PLAN_VERSION);
    CU_ASSERT_EQUAL(get32(buf + 12), 4);
    CU_ASSERT_EQUAL(get32(buf + len - 4), crc32_ref(buf, len - 4));
    CU_ASSERT_EQUAL(parse(buf, len, &q, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_TRUE(plans_equal(&p, &q));
    /* Writing what was read gives the same bytes: nothing is lost or reinterpreted. */
    CU_ASSERT_EQUAL(ttc_plan_serialize(&q, &buf2, &len2, &e), TTC_OK);
    CU_ASSERT_TRUE(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
    ttc_plan_free(&p);
    ttc_plan_free(&q);
}

/* Device estimates ride in the optional COST chunk: entry totals, and per-op records when the
 * compiler attached them. Both forms round-trip byte for byte. */
static void test_roundtrip_costs(void) {
    for (int per_op = 0; per_op < 2; per_op++) {
        TtcPlan p, q;
        TtcError e = {0};
        make_plan(&p);
        add_costs(&p, per_op);
        uint8_t *buf = NULL, *buf2 = NULL;
        size_t len = 0, len2 = 0;
        CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
        CU_ASSERT_EQUAL(get32(buf + 12), 5);
        uint32_t n = 0;
        size_t at = find_chunk(buf, len, "COST", &n);
        CU_ASSERT_EQUAL(n, 4 + 36 + 4 + (per_op ? BASE_OPS * 40 : 0));
        CU_ASSERT_EQUAL(get32(buf + at + 8), 1); /* one entry point */
        CU_ASSERT_EQUAL(parse(buf, len, &q, &e), TTC_OK);
        if (e.status) ttc_error_print(&e);
        CU_ASSERT_TRUE(plans_equal(&p, &q));
        CU_ASSERT_EQUAL(q.entries[0].clock_khz, 1350000);
        CU_ASSERT_EQUAL(q.entries[0].device_bound, TTC_BOUND_DRAM);
        CU_ASSERT_EQUAL(!!q.op_costs, per_op);
        if (per_op && q.op_costs) CU_ASSERT_EQUAL(q.op_costs[3].cores, 4);
        if (per_op && q.op_costs) CU_ASSERT_EQUAL(q.op_costs[2].bound, TTC_BOUND_ETHERNET);
        CU_ASSERT_EQUAL(ttc_plan_serialize(&q, &buf2, &len2, &e), TTC_OK);
        CU_ASSERT_TRUE(len2 == len && memcmp(buf, buf2, len) == 0);
        free(buf);
        free(buf2);
        ttc_plan_free(&p);
        ttc_plan_free(&q);
    }
    CU_ASSERT_STRING_EQUAL(ttc_bound_name(TTC_BOUND_NOC), "NoC");
    CU_ASSERT_STRING_EQUAL(ttc_bound_name(TTC_BOUND_ETHERNET), "ethernet");
    CU_ASSERT_STRING_EQUAL(ttc_bound_name(4), "?");
}

/* A plan written before the COST chunk existed (or by a compiler that skipped the cost pass)
 * loads with zero estimates and no per-op costs. */
static void test_plans_without_cost_load(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    add_costs(&p, 1);
    uint8_t *buf;
    size_t len, n_old;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "COST", &n);
    uint8_t *old = malloc(len);
    memcpy(old, buf, at); /* everything before COST, then the checksum */
    n_old = at + 4;
    put32(old + 12, 4);
    fix_crc(old, n_old);
    CU_ASSERT_EQUAL(parse(old, n_old, &q, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_PTR_NULL(q.op_costs);
    CU_ASSERT_EQUAL(q.entries[0].device_cycles, 0);
    CU_ASSERT_EQUAL(q.entries[0].clock_khz, 0);
    CU_ASSERT_FALSE(ttc_plan_has_cost(&q));
    ttc_plan_free(&q);
    free(old);
    free(buf);
    ttc_plan_free(&p);
}

/* COST counts must agree with ENTR and OPS_, whatever order the chunks come in. */
static void test_cost_counts_must_match(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    add_costs(&p, 1);
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "COST", &n);
    /* one op record short: drop the last 40 bytes of the payload */
    uint8_t *shorter = malloc(len);
    size_t end = at + 8 + n;
    memcpy(shorter, buf, end - 40);
    memcpy(shorter + end - 40, buf + end, len - end);
    put32(shorter + at + 4, n - 40);
    put32(shorter + at + 8 + 4 + 36, BASE_OPS - 1);
    fix_crc(shorter, len - 40);
    CU_ASSERT_TRUE(failed_with(parse(shorter, len - 40, &q, &e), &e, TTC_E_USER, "plan.bin: chunk COST",
                               "has 6 op costs, the plan has 7 ops", "cost ops"));
    /* the same without any op record: totals only, which is allowed */
    size_t cut = BASE_OPS * 40;
    memcpy(shorter, buf, end - cut);
    memcpy(shorter + end - cut, buf + end, len - end);
    put32(shorter + at + 4, n - (uint32_t)cut);
    put32(shorter + at + 8 + 4 + 36, 0);
    fix_crc(shorter, len - cut);
    CU_ASSERT_EQUAL(parse(shorter, len - cut, &q, &e), TTC_OK);
    CU_ASSERT_PTR_NULL(q.op_costs);
    CU_ASSERT_EQUAL(q.entries[0].device_cycles, 987654321);
    ttc_plan_free(&q);
    free(shorter);
    /* two entry records for a plan with one entry point */
    uint8_t rec[36] = {0};
    size_t n2;
    uint8_t *longer = splice(buf, len, at + 8 + 4 + 36, rec, sizeof rec, &n2);
    put32(longer + at + 4, n + 36);
    put32(longer + at + 8, 2);
    fix_crc(longer, n2);
    CU_ASSERT_TRUE(failed_with(parse(longer, n2, &q, &e), &e, TTC_E_USER, "plan.bin: chunk COST",
                               "has 2 entry points, the plan has 1", "cost entries"));
    /* COST first: the counts are still checked against the chunks that follow */
    uint8_t *moved = malloc(len);
    memcpy(moved, buf, 16);
    memcpy(moved + 16, buf + at, 8 + n);
    memcpy(moved + 16 + 8 + n, buf + 16, at - 16);
    memcpy(moved + at + 8 + n, buf + at + 8 + n, len - (at + 8 + n));
    fix_crc(moved, len);
    CU_ASSERT_EQUAL(parse(moved, len, &q, &e), TTC_OK);
    CU_ASSERT_TRUE(plans_equal(&p, &q));
    ttc_plan_free(&q);
    free(moved);
    free(longer);
    free(buf);
    ttc_plan_free(&p);
}

/* A plan with no ops has no entry point to run: the loader says so instead of running nothing. */
static void test_empty_plan_rejected(void) {
    TtcPlan p = {0}, q;
    TtcError e = {0};
    snprintf(p.model_name, sizeof p.model_name, "empty");
    p.version = TTC_PLAN_VERSION;
    p.model_type = TTC_MODEL_DECODER;
    p.vocab_size = p.max_batch = p.max_seq = p.max_ctx = 1;
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &q, &e), &e, TTC_E_USER, "plan.bin", "entry count 0 must be 1..4",
                               "empty plan"));
    CU_ASSERT_TRUE(plan_is_empty(&q));
    free(buf);
}

static void test_serialize_refuses_impossible_counts(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    uint8_t *buf = (uint8_t *)&p; /* must be reset to NULL on failure */
    size_t len = 7;
    p.n_ops = -1;
    CU_ASSERT_EQUAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_E_INTERNAL);
    CU_ASSERT_PTR_NULL(buf);
    CU_ASSERT_EQUAL(len, 0);
    p.n_ops = BASE_OPS;
    ttc_plan_free(&p);
}

static int count_temp_files(const char *prefix) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", prefix);
    char *slash = strrchr(dir, '/');
    CU_ASSERT_PTR_NOT_NULL_FATAL(slash);
    *slash = 0;
    const char *base = slash + 1;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *ent; (ent = readdir(d));)
        if (strncmp(ent->d_name, base, strlen(base)) == 0 && strstr(ent->d_name, ".tmp")) n++;
    closedir(d);
    return n;
}

static void test_roundtrip_file(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    const char *path = unit_tmp_path("plan.bin");
    unlink(path);
    CU_ASSERT_EQUAL(ttc_plan_write(&p, path, &e), TTC_OK);
    p.max_batch = 2; /* a second write replaces the first */
    CU_ASSERT_EQUAL(ttc_plan_write(&p, path, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_EQUAL(ttc_plan_read(&q, path, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_TRUE(plans_equal(&p, &q));
    CU_ASSERT_EQUAL(count_temp_files(path), 0);
    ttc_plan_free(&p);
    ttc_plan_free(&q);
    unlink(path);
}

static void test_write_into_missing_directory(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    char path[800];
    snprintf(path, sizeof path, "%s/plan.bin", unit_tmp_path("no-such-dir"));
    TtcStatus st = ttc_plan_write(&p, path, &e);
    CU_ASSERT_TRUE(failed_with(st, &e, TTC_E_USER, NULL, "does not exist", "missing dir"));
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
    CU_ASSERT_NOT_EQUAL(access(unit_tmp_path("no-such-dir"), F_OK), 0);
    ttc_plan_free(&p);
}

static void test_write_over_directory_leaves_nothing(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    const char *dir = unit_tmp_path("a-directory");
    mkdir(dir, 0777);
    TtcStatus st = ttc_plan_write(&p, dir, &e);
    CU_ASSERT_TRUE(failed_with(st, &e, TTC_E_USER, NULL, "directory", "write over dir"));
    struct stat sb;
    CU_ASSERT_TRUE(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
    CU_ASSERT_EQUAL(count_temp_files(dir), 0);
    rmdir(dir);
    ttc_plan_free(&p);
}

static void test_read_errors(void) {
    TtcPlan p;
    TtcError e = {0};
    const char *missing = unit_tmp_path("missing.plan");
    unlink(missing);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, missing, &e), &e, TTC_E_USER, NULL, "missing.plan", "missing"));
    CU_ASSERT_TRUE(strstr(e.msg, "No such file") != NULL);
    CU_ASSERT_TRUE(plan_is_empty(&p));

    const char *dir = unit_tmp_path("dir.plan");
    mkdir(dir, 0777);
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, dir, &e), &e, TTC_E_USER, NULL, "is a directory", "dir"));
    CU_ASSERT_TRUE(e.hint[0] != 0);
    rmdir(dir);

    const char *empty = unit_write_tmp("empty.plan", "", 0);
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, empty, &e), &e, TTC_E_USER, empty, "truncated: 0 bytes", "empty"));
    unlink(empty);

    const char *tiny = unit_write_tmp("tiny.plan", "TTCPL", 5);
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, tiny, &e), &e, TTC_E_USER, tiny, "truncated: 5 bytes", "tiny"));
    unlink(tiny);

    const char *text = "model: x\n"; /* shorter than any plan: still named for what it is */
    const char *yaml = unit_write_tmp("spec.yaml", text, strlen(text));
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, yaml, &e), &e, TTC_E_USER, yaml, "not a ttc plan file", "yaml"));
    unlink(yaml);
}

/* ============================ damaged files ============================ */

static void test_every_truncation_fails(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    int bad = 0;
    for (size_t n = 0; n < len; n++) {
        TtcPlan p;
        TtcError e;
        /* a fresh copy of exactly n bytes, so ASan sees any read past the end */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        TtcStatus st = parse(cut, n, &p, &e);
        if (st != TTC_E_USER || !plan_is_empty(&p) || !e.msg[0]) bad++;
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

/* The checksum hides truncations from the parser; re-checksumming each cut exposes the parser's
 * own length checks to every boundary. */
static void test_every_truncation_with_valid_checksum_fails(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    int bad = 0;
    for (size_t body = 16; body < len - 4; body++) {
        uint8_t *cut = malloc(body + 4);
        memcpy(cut, buf, body);
        fix_crc(cut, body + 4);
        TtcPlan p;
        TtcError e;
        TtcStatus st = parse(cut, body + 4, &p, &e);
        if (st != TTC_E_USER || !plan_is_empty(&p) || strncmp(e.msg, "plan.bin", 8) != 0) {
            fprintf(stderr, "\nbody %zu: status %d '%s'\n", body, (int)st, e.msg);
            bad++;
        }
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

/* The COST chunk's own length checks, at every boundary. */
static void test_every_cost_truncation_fails(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    add_costs(&p, 1);
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    ttc_plan_free(&p);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "COST", &n);
    int bad = 0;
    for (uint32_t keep = 0; keep < n; keep++) {
        size_t cut_len = at + 8 + keep + 4;
        uint8_t *cut = malloc(cut_len);
        memcpy(cut, buf, at + 8 + keep);
        put32(cut + at + 4, keep);
        fix_crc(cut, cut_len);
        TtcPlan q;
        TtcStatus st = parse(cut, cut_len, &q, &e);
        /* keep == 44: entry totals and an op count of 7 with no records: refused by the count bound */
        if (st != TTC_E_USER || !plan_is_empty(&q) || !strstr(e.msg, "chunk COST")) {
            fprintf(stderr, "\nkeep %u: status %d '%s'\n", (unsigned)keep, (int)st, e.msg);
            bad++;
        }
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

static void test_every_byte_flip_is_detected(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    int bad = 0;
    for (size_t i = 0; i < len; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            buf[i] ^= masks[m];
            TtcPlan p;
            TtcError e;
            if (parse(buf, len, &p, &e) != TTC_E_USER || !plan_is_empty(&p)) bad++;
            buf[i] ^= masks[m];
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

/* With the checksum recomputed, a flipped byte reaches the parser and the validator: the plan
 * must then either load (e.g. a changed letter in a name) or fail as a user error. */
static void test_byte_flips_past_the_checksum_never_crash(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    static const uint8_t masks[] = {0x01, 0x02, 0x10, 0x80, 0xFF};
    int bad = 0, rejected = 0, total = 0;
    for (size_t i = 0; i < len - 4; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            buf[i] ^= masks[m];
            fix_crc(buf, len);
            TtcPlan p;
            TtcError e;
            TtcStatus st = parse(buf, len, &p, &e);
            if (st == TTC_E_USER) rejected++;
            else if (st != TTC_OK) bad++;
            ttc_plan_free(&p);
            buf[i] ^= masks[m];
            total++;
        }
    /* Random multi-byte damage, from a fixed seed so failures reproduce. */
    uint32_t seed = 12345;
    for (int it = 0; it < 3000; it++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, buf, len);
        for (int k = 0; k < 1 + it % 4; k++) {
            seed = seed * 1664525u + 1013904223u;
            size_t at = (seed >> 8) % (len - 4);
            seed = seed * 1664525u + 1013904223u;
            copy[at] = (uint8_t)(seed >> 24);
        }
        fix_crc(copy, len);
        TtcPlan p;
        TtcError e;
        TtcStatus st = parse(copy, len, &p, &e);
        if (st != TTC_OK && st != TTC_E_USER) bad++;
        ttc_plan_free(&p);
        free(copy);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(rejected > total / 2); /* most structural bytes matter */
    free(buf);
}

static void test_checksum_mismatch(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    buf[len / 2] ^= 0x04;
    TtcPlan p;
    TtcError e;
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin",
                               "plan.bin: corrupted (checksum mismatch", "crc"));
    CU_ASSERT_STRING_EQUAL(e.hint, "recompile with ttc compile");
    free(buf);
}

static void test_bad_magic(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    buf[0] = 'X';
    TtcPlan p;
    TtcError e;
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin", "not a ttc plan file", "magic"));
    CU_ASSERT_TRUE(e.hint[0] != 0);
    free(buf);
}

static void test_newer_version(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    put32(buf + 8, 2);
    fix_crc(buf, len);
    TtcPlan p;
    TtcError e;
    CU_ASSERT_EQUAL(parse(buf, len, &p, &e), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(e.msg, "plan.bin was written by a newer ttc (format version 2); this ttc reads version 1");
    CU_ASSERT_TRUE(strstr(e.hint, "recompile") != NULL);
    /* the version is read before the checksum, which a newer format may compute differently */
    put32(buf + 8, 7);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, NULL, "newer ttc (format version 7)", "v7"));
    put32(buf + 8, 0);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, NULL, "unsupported format version 0", "v0"));
    free(buf);
}

static void test_unknown_chunks_are_skipped(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    TtcPlan want, got;
    TtcError e;
    make_plan(&want);
    static const uint8_t extra[] = {'X', 'T', 'R', 'A', 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    static const uint8_t empty[] = {'Z', 'Z', 'Z', 'Z', 0, 0, 0, 0};
    /* between META and TENS, and at the very end, and an empty one first */
    size_t at_tens = find_chunk(buf, len, "TENS", NULL);
    size_t n1, n2, n3;
    uint8_t *b1 = splice(buf, len, at_tens, extra, sizeof extra, &n1);
    uint8_t *b2 = splice(b1, n1, n1 - 4, extra, sizeof extra, &n2);
    uint8_t *b3 = splice(b2, n2, 16, empty, sizeof empty, &n3);
    put32(b3 + 12, 7);
    fix_crc(b3, n3);
    CU_ASSERT_EQUAL(parse(b3, n3, &got, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_TRUE(plans_equal(&want, &got));
    ttc_plan_free(&got);

    /* an unknown chunk still has to fit in the file */
    put32(b3 + 16 + 4, 1u << 30);
    fix_crc(b3, n3);
    CU_ASSERT_TRUE(failed_with(parse(b3, n3, &got, &e), &e, TTC_E_USER, "plan.bin: chunk ZZZZ",
                               "payload needs 1073741824 bytes", "huge unknown"));
    free(b1);
    free(b2);
    free(b3);
    ttc_plan_free(&want);
    free(buf);
}

static void test_chunk_structure_errors(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    TtcPlan p;
    TtcError e;
    uint32_t tens_len, meta_len;
    size_t at_tens = find_chunk(buf, len, "TENS", &tens_len);
    size_t at_meta = find_chunk(buf, len, "META", &meta_len);

    /* TENS removed, count lowered to match */
    uint8_t *b = malloc(len);
    size_t n = len - (8 + tens_len);
    memcpy(b, buf, at_tens);
    memcpy(b + at_tens, buf + at_tens + 8 + tens_len, len - at_tens - 8 - tens_len);
    put32(b + 12, 3);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin", "required chunk TENS is missing",
                               "missing TENS"));
    free(b);

    /* META twice */
    b = splice(buf, len, at_meta, buf + at_meta, 8 + meta_len, &n);
    put32(b + 12, 5);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin", "chunk META: appears twice", "dup"));
    free(b);

    /* bytes after the last chunk */
    b = splice(buf, len, len - 4, "abc", 3, &n);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin", "3 bytes between the last", "tail"));
    free(b);

    /* a known chunk longer than its fields */
    b = splice(buf, len, at_meta + 8 + meta_len, "pad!", 4, &n);
    put32(b + at_meta + 4, meta_len + 4);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin: chunk META",
                               "4 bytes left over", "meta pad"));
    free(b);

    /* more chunks announced than present */
    put32(buf + 12, 5);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk #4",
                               "chunk header needs 8 bytes", "count"));
    put32(buf + 12, 4);
    fix_crc(buf, len);

    /* tensor count: over the limit, and more than the chunk could hold (nothing allocated) */
    uint32_t real = get32(buf + at_tens + 8);
    put32(buf + at_tens + 8, 1000001);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS",
                               "tensor count is 1000001, at most 1000000", "limit"));
    put32(buf + at_tens + 8, 900000);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS",
                               "tensor count is 900000, but the", "bomb"));
    put32(buf + at_tens + 8, real);

    /* model name length far past the buffer */
    put32(buf + at_meta + 8, 0xFFFFFFF0u);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk META",
                               "model name is 4294967280 bytes long, at most 159", "name len"));
    free(buf);
}

/* Replaces the first occurrence of `from` with as many bytes of `to` (which may hold a NUL) and
 * fixes the checksum. */
static void patch_text(uint8_t *buf, size_t len, const char *from, const char *to) {
    uint8_t *at = memmem(buf, len, from, strlen(from));
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    memcpy(at, to, strlen(from));
    fix_crc(buf, len);
}

static void test_names_in_the_file(void) {
    TtcPlan p;
    TtcError e;
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    patch_text(buf, len, "gelu", "gelx");
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER,
                               "plan.bin: chunk OPS_, op 6 ('layer_0.intermediate.act')", "unknown op 'gelx'", "op"));
    free(buf);

    serialize_base(&buf, &len);
    patch_text(buf, len, "bfp4", "bfp5");
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS, tensor 13 ('ffn_act')",
                               "dtype: unknown dtype 'bfp5'", "dtype"));
    free(buf);

    serialize_base(&buf, &len);
    patch_text(buf, len, "input_ids", "input\0ids");
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS, tensor 0",
                               "name contains a NUL byte", "nul"));
    free(buf);
}

/* ============================ validation rules ============================ */

typedef struct Violation {
    const char *label;
    void (*mutate)(TtcPlan *p);
    const char *phrase;       /* in ttc_plan_validate's message */
    const char *parse_phrase; /* in the loader's message, when it stops earlier (NULL: same) */
    int memory_only;          /* cannot be serialized safely (counts larger than arrays) */
} Violation;

#define MUT(name, body) \
    static void name(TtcPlan *p) { body; }

MUT(m_model_type, p->model_type = 2)
MUT(m_model_type_neg, p->model_type = -1)
MUT(m_vocab, p->vocab_size = 0)
MUT(m_eos, p->eos_token_id = 32)
MUT(m_batch, p->max_batch = 0)
MUT(m_seq, p->max_seq = -1)
MUT(m_ctx, p->max_ctx = 0)
MUT(m_ctx_small, p->max_ctx = 4)
MUT(m_arena_neg, p->arena_bytes = -64)
MUT(m_device_unterminated, memset(p->device, 'd', sizeof p->device))
MUT(m_too_many_tensors, p->n_tensors = 1000001)
MUT(m_neg_ops, p->n_ops = -2)
MUT(m_kind, p->tensors[3].kind = 4)
MUT(m_dtype, p->tensors[3].dtype = 9)
MUT(m_role, p->tensors[5].role = 7)
MUT(m_init, p->tensors[3].init = 5)
MUT(m_rank0, p->tensors[3].shape.rank = 0)
MUT(m_rank5, p->tensors[3].shape.rank = 5)
MUT(m_size0, p->tensors[2].shape.d[1].size = 0)
MUT(m_size_neg, p->tensors[2].shape.d[0].size = -32)
MUT(m_sym, p->tensors[5].shape.d[2].sym = 4)
MUT(m_sym_neg, p->tensors[5].shape.d[2].sym = -1)
MUT(m_bound_batch, p->tensors[0].shape.d[0].size = 3)
MUT(m_bound_seq, p->tensors[0].shape.d[1].size = 7)
MUT(m_bound_ctx, p->tensors[1].shape.d[1].size = 9)
MUT(m_overflow, p->tensors[2].shape.d[0].size = p->tensors[2].shape.d[1].size = (int64_t)1 << 31)
MUT(m_offset_neg, p->tensors[6].offset = -64)
MUT(m_offset_unaligned, p->tensors[6].offset = 1153)
MUT(m_offset_past_arena, p->tensors[13].offset = 7360)
MUT(m_offset_huge, p->tensors[13].offset = INT64_MAX / 64 * 64)
MUT(m_arena_small, p->arena_bytes = p->entries[0].arena_bytes = BASE_ARENA - 64)
MUT(m_entry_arena, p->entries[0].arena_bytes = BASE_ARENA + 64)
MUT(m_entry_cover, p->entries[0].n_ops = BASE_OPS - 1)
MUT(m_entry_count, p->n_entries = 0)
MUT(m_entry_seq, p->entries[0].max_seq = 9)
MUT(m_entry_of_weight, p->tensors[2].entry = 0)
MUT(m_entry_of_act, p->tensors[5].entry = 1)
MUT(m_alias_weight, p->tensors[5].alias = 2)
static void m_rope_odd(TtcPlan *p) {
    p->ops[6].kind = TTC_OP_ROPE;
    p->ops[6].attrs = (TtcAttrs){.heads = 2, .head_dim = 7, .rope_theta = 1e4f};
}
MUT(m_weight_offset, p->tensors[10].offset = 64)
MUT(m_role_on_act, p->tensors[5].role = TTC_ROLE_INPUT_IDS)
MUT(m_role_twice, p->tensors[1].role = TTC_ROLE_INPUT_IDS)
MUT(m_input_no_role, p->tensors[1].role = TTC_ROLE_NONE)
MUT(m_input_output_role, p->tensors[1].role = TTC_ROLE_LOGITS)
MUT(m_weight_role, p->tensors[2].role = TTC_ROLE_HIDDEN)
MUT(m_tensor_unterminated, memset(p->tensors[3].name, 'n', TTC_NAME_MAX))
MUT(m_op_kind, p->ops[6].kind = 99)
MUT(m_arity_high, p->ops[6].n_in = 2; p->ops[6].in[1] = 5)
MUT(m_arity_low, p->ops[5].n_in = 1)
MUT(m_arity_5, p->ops[6].n_in = 5)
MUT(m_arity_neg, p->ops[6].n_in = -1)
MUT(m_input_999, p->ops[5].in[2] = 999)
MUT(m_input_neg, p->ops[5].in[0] = -1)
MUT(m_output_999, p->ops[6].out = 999)
MUT(m_output_weight, p->ops[6].out = 10)
MUT(m_output_input, p->ops[6].out = 0)
MUT(m_output_twice, p->ops[6].out = 12)
MUT(m_own_output, p->ops[6].in[0] = 13)
MUT(m_order, TtcOpDesc t = p->ops[5]; p->ops[5] = p->ops[6]; p->ops[6] = t)
MUT(m_never_produced, p->n_tensors++;
    set_tensor(p, 14, "orphan", TTC_TENSOR_ACT, TTC_F32, 0, 0, 0, 3, DB, DS, DC(16), DC(0)))
MUT(m_reads_orphan, m_never_produced(p); p->ops[6].in[0] = 14)
MUT(m_heads0, p->ops[2].attrs.heads = 0)
MUT(m_kv_heads, p->ops[4].attrs.kv_heads = 3)
MUT(m_head_dim, p->ops[4].attrs.head_dim = -8)
MUT(m_eps_nan, p->ops[1].attrs.eps = NAN)
MUT(m_scale_inf, p->ops[2].attrs.scale = INFINITY)
MUT(m_window_neg, p->ops[3].attrs.window = -1)
MUT(m_causal, p->ops[3].attrs.causal = 2)
MUT(m_fidelity, p->ops[0].cfg.fidelity = 4)
MUT(m_fp32_acc, p->ops[0].cfg.fp32_acc = 2)
MUT(m_layout, p->ops[0].cfg.layout = 2)
MUT(m_memory, p->ops[0].cfg.memory = 2)
MUT(m_act_dtype, p->ops[0].cfg.act_dtype = 9)
MUT(m_path_unterminated, memset(p->ops[2].path, 'p', TTC_NAME_MAX))

static const Violation header_rules[] = {
    {"model type", m_model_type, "model type 2 is neither encoder (0) nor decoder (1)", NULL, 0},
    {"model type -1", m_model_type_neg, "model type -1", NULL, 0},
    {"vocab", m_vocab, "vocab_size is 0, must be positive", NULL, 0},
    {"eos", m_eos, "eos_token_id 32 must be -1 (none) or a token id below 32", NULL, 0},
    {"batch", m_batch, "max_batch is 0, must be positive", NULL, 0},
    {"seq", m_seq, "max_seq is -1, must be positive", NULL, 0},
    {"ctx", m_ctx, "max_ctx is 0, must be positive", NULL, 0},
    {"ctx < seq", m_ctx_small, "max_ctx (4) is smaller than max_seq (8)", NULL, 0},
    {"arena", m_arena_neg, "arena_bytes is -64", NULL, 0},
    {"device", m_device_unterminated, "not NUL-terminated", "device is 64 bytes long, at most 63", 0},
    {"tensor count", m_too_many_tensors, "1000001 tensors, must be 0..1000000", NULL, 1},
    {"op count", m_neg_ops, "-2 ops", NULL, 1},
};

static const Violation tensor_rules[] = {
    {"kind", m_kind, "tensor 3 ('embeddings.LayerNorm.weight'): kind 4 is none of", NULL, 0},
    {"dtype", m_dtype, "tensor 3 ('embeddings.LayerNorm.weight'): dtype 9 must be 0..4", "unknown dtype '?'", 0},
    {"role", m_role, "tensor 5 ('emb'): role 7 must be 0..6", NULL, 0},
    {"init", m_init, "init 5 must be 0..2", NULL, 0},
    {"rank 0", m_rank0, "tensor 3 ('embeddings.LayerNorm.weight'): rank 0 must be 1..4", NULL, 0},
    {"rank 5", m_rank5, "rank 5 must be 1..4", NULL, 0},
    {"size 0", m_size0, "tensor 2 ('embeddings.word_embeddings.weight'): dim 1 has size 0, must be positive", NULL, 0},
    {"size < 0", m_size_neg, "dim 0 has size -32, must be positive", NULL, 0},
    {"symbol", m_sym, "tensor 5 ('emb'): dim 2 has symbol 4, must be 0..3", NULL, 0},
    {"symbol < 0", m_sym_neg, "dim 2 has symbol -1", NULL, 0},
    {"batch bound", m_bound_batch, "dim 0 is bounded by max_batch but has size 3, the plan's max_batch is 2", NULL, 0},
    {"seq bound", m_bound_seq, "dim 1 is bounded by max_seq but has size 7, the plan's max_seq is 8", NULL, 0},
    {"ctx bound", m_bound_ctx, "tensor 1 ('attention_mask'): dim 1 is bounded by max_ctx but has size 9", NULL, 0},
    {"overflow", m_overflow, "shape overflows 64-bit byte sizes", NULL, 0},
    {"offset < 0", m_offset_neg, "tensor 6 ('ln'): arena offset -64 must be a non-negative multiple of 64", NULL, 0},
    {"unaligned", m_offset_unaligned, "arena offset 1153 must be a non-negative multiple of 64", NULL, 0},
    {"past arena", m_offset_past_arena,
     "tensor 13 ('ffn_act'): 2048 bytes at arena offset 7360 overrun entry 'prefill''s arena of 9344 bytes", NULL, 0},
    {"huge offset", m_offset_huge, "overrun entry 'prefill''s arena of 9344 bytes", NULL, 0},
    {"small arena", m_arena_small, "2048 bytes at arena offset 7296 overrun entry 'prefill''s arena of 9280", NULL, 0},
    {"weight offset", m_weight_offset, "has arena offset 64, must be 0", NULL, 0},
    {"entry arena beyond plan arena", m_entry_arena, "entry 0 ('prefill'): mode 0 must be 0 or 1, max_seq 8 in 1..8, "
     "arena 9408 in 0..9344", NULL, 0},
    {"entries cover ops", m_entry_cover, "entry points cover 6 of the 7 ops", NULL, 0},
    {"no entries", m_entry_count, "0 entry points, must be 1..4", "entry count 0 must be 1..4", 0},
    {"entry seq bound", m_entry_seq, "max_seq 9 in 1..8", NULL, 0},
    {"weight in an entry", m_entry_of_weight, "tensor 2 ('embeddings.word_embeddings.weight'): entry 0 must be -1 "
     "(shared)", NULL, 0},
    {"activation of a missing entry", m_entry_of_act, "tensor 5 ('emb'): entry 1 must be an entry point", NULL, 0},
    {"alias of a weight", m_alias_weight, "tensor 5 ('emb'): alias 2 must be -1 or, for an activation, a state", NULL,
     0},
    {"rope with odd head_dim", m_rope_odd, "rope needs positive heads (2), an even head_dim (7)", NULL, 0},
    {"input role on act", m_role_on_act, "tensor 5 ('emb'): role 'input_ids' is only for input tensors", NULL, 0},
    {"role twice", m_role_twice, "tensor 1 ('attention_mask'): role 'input_ids' is already taken by tensor 0", NULL, 0},
    {"input no role", m_input_no_role, "input has role 'none', not an input role", NULL, 0},
    {"input output role", m_input_output_role, "input has role 'logits'", NULL, 0},
    {"weight role", m_weight_role, "weights cannot have role 'hidden'", NULL, 0},
    {"name", m_tensor_unterminated, "tensor 3: name is not NUL-terminated", "name is 160 bytes long, at most 159", 0},
};

static const Violation op_rules[] = {
    {"kind", m_op_kind, "op 6 ('layer_0.intermediate.act'): kind 99 is not an op", "unknown op '?'", 0},
    {"arity high", m_arity_high, "op 6 ('layer_0.intermediate.act'): gelu takes 1..1 inputs, has 2", NULL, 0},
    {"arity low", m_arity_low, "linear takes 2..3 inputs, has 1", NULL, 0},
    {"arity 5", m_arity_5, "gelu takes 1..1 inputs, has 5", "input count 5 must be 0..4", 0},
    {"arity -1", m_arity_neg, "gelu takes 1..1 inputs, has -1", "input count -1 must be 0..4", 0},
    {"input 999", m_input_999, "op 5 ('layer_0.intermediate.dense'): input 2 refers to tensor 999, plan has 14 tensors",
     NULL, 0},
    {"input -1", m_input_neg, "input 0 refers to tensor -1", NULL, 0},
    {"output 999", m_output_999, "output refers to tensor 999, plan has 14 tensors", NULL, 0},
    {"output weight", m_output_weight,
     "output tensor 10 ('encoder.layer.0.intermediate.dense.weight') is a weight, ops may only produce activations",
     NULL, 0},
    {"output input", m_output_input, "output tensor 0 ('input_ids') is an input", NULL, 0},
    {"output twice", m_output_twice,
     "op 6 ('layer_0.intermediate.act'): output tensor 12 ('ffn') is already produced by op 5", NULL, 0},
    {"own output", m_own_output, "input 0 (tensor 13 'ffn_act') is used before the op that produces it", NULL, 0},
    {"order", m_order, "op 5 ('layer_0.intermediate.act'): input 0 (tensor 12 'ffn') is used before the op that", NULL,
     0},
    {"never produced", m_never_produced, "tensor 14 ('orphan'): activation is never produced by any op", NULL, 0},
    {"reads orphan", m_reads_orphan, "is used before being produced (no op produces it)", NULL, 0},
    {"heads", m_heads0, "op 2 ('layer_0.attention.scores'): heads (0) and kv_heads (2)", NULL, 0},
    {"kv_heads", m_kv_heads, "heads (2) and kv_heads (3) must be positive with kv_heads dividing heads", NULL, 0},
    {"head_dim", m_head_dim, "head_dim (-8) positive", NULL, 0},
    {"eps", m_eps_nan, "op 1 ('embeddings.LayerNorm'): eps (nan) and scale (0) must be finite", NULL, 0},
    {"scale", m_scale_inf, "scale (inf) must be finite", NULL, 0},
    {"window", m_window_neg, "window (-1) not negative", NULL, 0},
    {"causal", m_causal, "causal (2) and has_mask (1) must be 0 or 1", NULL, 0},
    {"fidelity", m_fidelity, "config out of range: fidelity 4 (0..3)", NULL, 0},
    {"fp32_acc", m_fp32_acc, "fp32_acc 2 (0..1)", NULL, 0},
    {"layout", m_layout, "layout 2 (0..1)", NULL, 0},
    {"memory", m_memory, "memory 2 (0..1)", NULL, 0},
    {"act dtype", m_act_dtype, "config dtypes (act 9, weight 0) must be 0..4", "act_dtype: unknown dtype '?'", 0},
    {"path", m_path_unterminated, "op 2: path is not NUL-terminated", "path is 160 bytes long, at most 159", 0},
};

static void m_cost_neg(TtcPlan *p) { add_costs(p, 0); p->entries[0].device_cycles = -1; }
static void m_cost_bound(TtcPlan *p) { add_costs(p, 0); p->entries[0].device_bound = TTC_BOUND_COUNT; }
static void m_cost_clock(TtcPlan *p) { add_costs(p, 0); p->entries[0].clock_khz = 0; }
static void m_cost_l1(TtcPlan *p) { add_costs(p, 0); p->entries[0].l1_peak_bytes = -5; }
static void m_op_cost_total(TtcPlan *p) { add_costs(p, 1); p->op_costs[4].cycles = p->op_costs[4].compute_cycles - 1; }
static void m_op_cost_bound(TtcPlan *p) { add_costs(p, 1); p->op_costs[2].bound = -1; }
static void m_op_cost_cores(TtcPlan *p) { add_costs(p, 1); p->op_costs[6].cores = 0; }
static void m_op_cost_neg(TtcPlan *p) { add_costs(p, 1); p->op_costs[1].noc_cycles = -7; }
static void m_op_cost_no_clock(TtcPlan *p) {
    add_costs(p, 1);
    p->entries[0].device_cycles = 0;
    p->entries[0].clock_khz = 0;
}

static const Violation cost_rules[] = {
    {"entry cycles", m_cost_neg, "entry 0 ('prefill'): device estimates out of range", NULL, 0},
    {"entry bound", m_cost_bound, "bound 4 (0..3)", NULL, 0},
    {"entry clock", m_cost_clock, "cycles 987654321 at 0 kHz (positive when there are cycles)", NULL, 0},
    {"entry L1", m_cost_l1, "L1 peak -5", NULL, 0},
    {"op total", m_op_cost_total, "op 4 ('layer_0.attention.context'): cost out of range: compute 400", NULL, 0},
    {"op bound", m_op_cost_bound, "op 2 ('layer_0.attention.scores'): cost out of range", NULL, 0},
    {"op cores", m_op_cost_cores, "cores 0 (positive)", NULL, 0},
    {"op negative", m_op_cost_neg, "NoC -7", NULL, 0},
    {"op costs without clock", m_op_cost_no_clock, "per-op costs need the device clock", NULL, 0},
};

/* Breaks each rule in memory (ttc_plan_validate, as the compiler calls it) and through a file
 * (serialize does not validate, so the bad plan reaches the loader). */
static void check_rules(const Violation *rules, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const Violation *v = &rules[i];
        TtcPlan p, q;
        TtcError e = {0};
        make_plan(&p);
        int32_t real_tensors = p.n_tensors, real_ops = p.n_ops;
        v->mutate(&p);
        CU_ASSERT_TRUE(failed_with(ttc_plan_validate(&p, "mem", &e), &e, TTC_E_USER, "mem: ", v->phrase, v->label));
        if (!v->memory_only) {
            uint8_t *buf;
            size_t len;
            ttc_error_clear(&e);
            CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
            const char *want = v->parse_phrase ? v->parse_phrase : v->phrase;
            CU_ASSERT_TRUE(failed_with(parse(buf, len, &q, &e), &e, TTC_E_USER, "plan.bin", want, v->label));
            CU_ASSERT_TRUE(plan_is_empty(&q));
            CU_ASSERT_TRUE(e.hint[0] != 0);
            free(buf);
        }
        if (v->memory_only) {
            p.n_tensors = real_tensors;
            p.n_ops = real_ops;
        }
        ttc_plan_free(&p);
    }
}

static void test_header_rules(void) { check_rules(header_rules, sizeof header_rules / sizeof header_rules[0]); }
static void test_tensor_rules(void) { check_rules(tensor_rules, sizeof tensor_rules / sizeof tensor_rules[0]); }
static void test_op_rules(void) { check_rules(op_rules, sizeof op_rules / sizeof op_rules[0]); }
static void test_cost_rules(void) { check_rules(cost_rules, sizeof cost_rules / sizeof cost_rules[0]); }

static void test_error_message_shape(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    p.ops[5].in[2] = 999;
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    CU_ASSERT_EQUAL(parse(buf, len, &q, &e), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(e.msg,
                           "plan.bin: op 5 ('layer_0.intermediate.dense'): input 2 refers to tensor 999, plan has 14 "
                           "tensors");
    CU_ASSERT_STRING_EQUAL(e.hint, "recompile with ttc compile");
    free(buf);
    ttc_plan_free(&p);
}

static CU_TestInfo roundtrip_tests[] = {
    {"base plan is valid", test_base_plan_is_valid},
    {"serialize -> parse is identical", test_roundtrip_memory},
    {"device estimates (COST) round-trip", test_roundtrip_costs},
    {"plans without COST load", test_plans_without_cost_load},
    {"COST counts must match the plan", test_cost_counts_must_match},
    {"a plan without ops is rejected", test_empty_plan_rejected},
    {"serialize refuses impossible counts", test_serialize_refuses_impossible_counts},
    {"write -> read is identical", test_roundtrip_file},
    {"write into a missing directory", test_write_into_missing_directory},
    {"write over a directory leaves nothing", test_write_over_directory_leaves_nothing},
    {"read errors", test_read_errors},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo damage_tests[] = {
    {"every truncation fails", test_every_truncation_fails},
    {"every truncation with a valid checksum fails", test_every_truncation_with_valid_checksum_fails},
    {"every COST truncation fails", test_every_cost_truncation_fails},
    {"every byte flip is detected", test_every_byte_flip_is_detected},
    {"byte flips past the checksum never crash", test_byte_flips_past_the_checksum_never_crash},
    {"checksum mismatch", test_checksum_mismatch},
    {"bad magic", test_bad_magic},
    {"newer format version", test_newer_version},
    {"unknown chunks are skipped", test_unknown_chunks_are_skipped},
    {"chunk structure errors", test_chunk_structure_errors},
    {"op and dtype names in the file", test_names_in_the_file},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo rule_tests[] = {
    {"header rules", test_header_rules},
    {"tensor rules", test_tensor_rules},
    {"op rules", test_op_rules},
    {"device estimate rules", test_cost_rules},
    {"error message shape", test_error_message_shape},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"plan_io round trips", NULL, NULL, NULL, NULL, roundtrip_tests},
    {"plan_io damaged files", NULL, NULL, NULL, NULL, damage_tests},
    {"plan_validate rules", NULL, NULL, NULL, NULL, rule_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
