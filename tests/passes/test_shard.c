/* test_shard.c: the `shard` pass (passes/shard.c) on tiny decoders and encoders, stopped right
 * after it: which linears become column- or row-parallel, where the collectives go, KV heads
 * replicated when there are fewer than chips, per-chip head counts, overlay overrides, and the
 * errors for head counts that do not split. Numerics are in tests/e2e/test_shard_numerics.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "compile.h"
#include "unit.h"

/* A two-layer decoder with `heads`/`kv_heads` heads of 8 and a vocabulary of `vocab`. */
static const char *decoder_spec(int heads, int kv_heads, int vocab) {
    char text[2048], name[64];
    snprintf(text, sizeof text,
             "spec_version: 1\n"
             "model: {name: shard-dec, type: decoder, vocab_size: %d, max_sequence_length: 64}\n"
             "layers:\n"
             "  - id: embedding\n    type: embedding\n    params: {hidden_dim: %d, position: none}\n"
             "  - id: layer_{i}\n    repeat: 2\n    type: transformer\n"
             "    params:\n      hidden_dim: %d\n      num_heads: %d\n      num_kv_heads: %d\n      head_dim: 8\n"
             "      ffn_dim: 64\n      ffn_type: gated\n      activation: silu\n      norm_type: rmsnorm\n"
             "      norm_eps: 1.0e-5\n      residual_pattern: pre_norm\n"
             "      attention: {causal: true, bias: false, rope: {theta: 10000.0}}\n"
             "  - id: final_norm\n    type: norm\n    params: {norm_type: rmsnorm, norm_eps: 1.0e-5}\n"
             "  - id: lm_head\n    type: linear\n    params: {input_dim: %d, output_dim: %d}\n",
             vocab, heads * 8, heads * 8, heads, kv_heads, heads * 8, vocab);
    snprintf(name, sizeof name, "shard-dec-%d-%d-%d.yaml", heads, kv_heads, vocab);
    return unit_write_tmp(name, text, strlen(text));
}

static const char *overlay(const char *device) {
    char text[256], name[64];
    snprintf(text, sizeof text, "hw_version: 1\ndevice: %s\n", device);
    snprintf(name, sizeof name, "shard-%s.yaml", device);
    return unit_write_tmp(name, text, strlen(text));
}

static Compilation C;

/* Compiles up to and including `shard` (the whole pipeline when stop_shard is 0); returns the
 * exit status. `set` is one --set assignment or NULL. */
static int run(const char *spec, const char *device, const char *set, int stop_shard) {
    compile_free(&C);
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    const char *hw[1] = {overlay(device)};
    o.hw = hw;
    o.n_hw = 1;
    const char *sets[1] = {set};
    o.sets = sets;
    o.n_sets = set ? 1 : 0;
    o.seq = 16;
    o.max_seq = 32;
    if (stop_shard) o.stop_after = PASS_SHARD;
    return compile_spec(&o, &C);
}

/* The first op of entry `entry` with this path, or NULL. */
static const IrOp *op_at(const char *path, int entry) {
    const Graph *g = &C.graph;
    for (int k = 0; k < g->n_ops; k++)
        if (g->ops[k].entry == entry && strcmp(g->ops[k].d.path, path) == 0) return &g->ops[k];
    return NULL;
}

static const TtcTensorDesc *input(const IrOp *op, int i) { return &C.graph.vals[op->d.in[i]].d; }
static const TtcTensorDesc *output(const IrOp *op) { return &C.graph.vals[op->d.out].d; }

static int count_kind(TtcOpKind kind, int entry) {
    int n = 0;
    for (int k = 0; k < C.graph.n_ops; k++) n += C.graph.ops[k].d.kind == (int32_t)kind && C.graph.ops[k].entry == entry;
    return n;
}

static const char *diag_text(void) {
    static char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    diag_print(&C.diags, f);
    fclose(f);
    return buf;
}

/* Megatron layout on 2 chips, in both entry points. */
static void test_column_row_and_collectives(void) {
    CU_ASSERT_FATAL(run(decoder_spec(4, 2, 96), "wormhole_n300", NULL, 1) == 0);
    for (int e = 0; e < 2; e++) {
        static const char *const column[] = {"layer_0.attention.q", "layer_0.attention.k", "layer_0.attention.v",
                                              "layer_0.ffn.up", "layer_0.ffn.gate", "lm_head"};
        for (size_t i = 0; i < sizeof column / sizeof column[0]; i++) {
            const IrOp *op = op_at(column[i], e);
            CU_ASSERT_FATAL(op != NULL);
            CU_ASSERT_EQUAL(op->d.attrs.chips, 2);
            CU_ASSERT_EQUAL(input(op, 1)->shard_chips, 2);
            CU_ASSERT_EQUAL(input(op, 1)->shard_dim, 0); /* rows of [out, in]: output columns */
            CU_ASSERT_EQUAL(output(op)->shape.d[0].size, 2);
        }
        static const char *const row[] = {"layer_0.attention.out", "layer_1.ffn.down"};
        for (size_t i = 0; i < 2; i++) {
            const IrOp *op = op_at(row[i], e);
            CU_ASSERT_FATAL(op != NULL);
            CU_ASSERT_EQUAL(input(op, 1)->shard_dim, 1);
            CU_ASSERT_EQUAL(op[1].d.kind, TTC_OP_ALL_REDUCE); /* right after: partial sums never leak */
            CU_ASSERT_EQUAL(op[1].d.in[0], op->d.out);
            CU_ASSERT_EQUAL(op[1].d.attrs.chips, 2);
        }
        /* norms, residuals and the embedding stay replicated */
        static const char *const whole[] = {"embedding.word", "layer_0.attention_norm", "layer_0.attention.residual",
                                            "final_norm"};
        for (size_t i = 0; i < 4; i++) {
            const IrOp *op = op_at(whole[i], e);
            CU_ASSERT_FATAL(op != NULL);
            CU_ASSERT_EQUAL(op->d.attrs.chips, 0);
            CU_ASSERT_EQUAL(output(op)->shard_chips, 0);
        }
        CU_ASSERT_EQUAL(count_kind(TTC_OP_ALL_REDUCE, e), 4); /* 2 layers x (attention, ffn) */
        CU_ASSERT_EQUAL(count_kind(TTC_OP_ALL_GATHER, e), 1); /* the logits */
        const IrOp *lm = op_at("lm_head", e);
        CU_ASSERT_EQUAL(lm[1].d.kind, TTC_OP_ALL_GATHER);
        CU_ASSERT_EQUAL(output(&lm[1])->role, TTC_ROLE_LOGITS);
        CU_ASSERT_EQUAL(output(lm)->role, TTC_ROLE_NONE);
        CU_ASSERT_EQUAL(output(&lm[1])->shape.d[2].size, 96);
    }
    /* the cache is stacked once, shared by both entry points */
    const IrOp *upd = op_at("layer_0.attention.k_cache", 1);
    CU_ASSERT_FATAL(upd != NULL);
    CU_ASSERT_EQUAL(input(upd, 1)->shard_chips, 2);
    CU_ASSERT_EQUAL(input(upd, 1)->shape.rank, 4);
    CU_ASSERT_EQUAL(input(upd, 1)->shape.d[3].size, 8); /* 2 KV heads of 8 over 2 chips */
}

/* 8 query heads and 2 KV heads on 8 chips: one query head per chip, KV head c*2/8 replicated. */
static void test_kv_heads_replicated(void) {
    CU_ASSERT_FATAL(run(decoder_spec(8, 2, 96), "wormhole_t3k", NULL, 1) == 0);
    const IrOp *k = op_at("layer_0.attention.k", 0), *q = op_at("layer_0.attention.q", 0);
    CU_ASSERT_FATAL(k && q);
    CU_ASSERT_EQUAL(input(q, 1)->shard_parts, 8);
    CU_ASSERT_EQUAL(input(k, 1)->shard_parts, 2);
    CU_ASSERT_EQUAL(input(k, 1)->shape.d[1].size, 8); /* one head of 8 per chip */
    const IrOp *rope = op_at("layer_0.attention.k_rope", 0);
    CU_ASSERT_FATAL(rope != NULL);
    CU_ASSERT_EQUAL(rope->d.attrs.heads, 1);
    /* the fused attention (kernel_variant: flash, the default) takes stacked q, k, v */
    const IrOp *sdpa = op_at("layer_0.attention.sdpa", 0);
    CU_ASSERT_FATAL(sdpa != NULL);
    CU_ASSERT_EQUAL(sdpa->d.attrs.chips, 8);
    CU_ASSERT_EQUAL(sdpa->d.attrs.heads, 1);
    CU_ASSERT_EQUAL(sdpa->d.attrs.kv_heads, 1);
    CU_ASSERT_EQUAL(output(sdpa)->shape.d[0].size, 8);
    /* unfused attention: the scores fold the chips into the heads dim */
    CU_ASSERT_FATAL(run(decoder_spec(8, 2, 96), "wormhole_t3k", "attention.kernel_variant=naive", 1) == 0);
    const IrOp *scores = op_at("layer_0.attention.scores", 0), *ctx = op_at("layer_0.attention.context", 0);
    CU_ASSERT_FATAL(scores && ctx);
    CU_ASSERT_EQUAL(scores->d.attrs.heads, 1);
    CU_ASSERT_EQUAL(scores->d.attrs.kv_heads, 1);
    CU_ASSERT_EQUAL(ctx->d.attrs.kv_heads, 1);
    CU_ASSERT_EQUAL(output(scores)->shard_dim, 1);
    CU_ASSERT_EQUAL(output(scores)->shape.d[1].size, 8);
}

static void test_heads_that_do_not_divide(void) {
    CU_ASSERT_EQUAL(run(decoder_spec(4, 2, 96), "wormhole_t3k", NULL, 1), 1);
    const char *t = diag_text();
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "module 'layer_0.attention': 4 query heads do not divide over 8 chips"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "wormhole_n300"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "sharding: replicate"));
    /* 24 query heads split over 8 chips, but 6 KV heads neither split over 8 nor divide 8 */
    CU_ASSERT_EQUAL(run(decoder_spec(24, 6, 96), "wormhole_t3k", NULL, 1), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(diag_text(), "6 KV heads neither divide over 8 chips nor replicate evenly"));
}

/* `sharding: replicate` keeps a module whole: no collective for it, the other layer unchanged. */
static void test_replicate_override(void) {
    CU_ASSERT_FATAL(run(decoder_spec(4, 2, 96), "wormhole_n300", "layer_0.attention.sharding=replicate", 1) == 0);
    const IrOp *q = op_at("layer_0.attention.q", 0), *out = op_at("layer_0.attention.out", 0);
    CU_ASSERT_FATAL(q && out);
    CU_ASSERT_EQUAL(q->d.attrs.chips, 0);
    CU_ASSERT_EQUAL(input(q, 1)->shard_chips, 0);
    CU_ASSERT_EQUAL(out->d.attrs.chips, 0);
    CU_ASSERT_NOT_EQUAL(out[1].d.kind, TTC_OP_ALL_REDUCE);
    CU_ASSERT_EQUAL(op_at("layer_1.attention.q", 0)->d.attrs.chips, 2);
    CU_ASSERT_EQUAL(count_kind(TTC_OP_ALL_REDUCE, 0), 3);
    /* column_parallel on the ffn down projection: its split input is gathered first, its output
     * gathered for the residual */
    CU_ASSERT_FATAL(run(decoder_spec(4, 2, 96), "wormhole_n300", "layer_1.ffn.down.sharding=column_parallel", 1) == 0);
    const IrOp *down = op_at("layer_1.ffn.down", 0);
    CU_ASSERT_FATAL(down != NULL);
    CU_ASSERT_EQUAL(input(down, 1)->shard_dim, 0);
    CU_ASSERT_EQUAL(down[-1].d.kind, TTC_OP_ALL_GATHER);
    CU_ASSERT_EQUAL(down[1].d.kind, TTC_OP_ALL_GATHER);
}

/* A vocabulary that does not divide stays replicated (no all_gather), and the graph still works. */
static void test_vocab_not_divisible(void) {
    CU_ASSERT_FATAL(run(decoder_spec(4, 2, 97), "wormhole_n300", NULL, 0) == 0);
    const IrOp *lm = op_at("lm_head", 0);
    CU_ASSERT_FATAL(lm != NULL);
    CU_ASSERT_EQUAL(lm->d.attrs.chips, 0);
    CU_ASSERT_EQUAL(count_kind(TTC_OP_ALL_GATHER, 0), 0);
    CU_ASSERT_EQUAL(output(lm)->role, TTC_ROLE_LOGITS);
}

/* One chip: the pass changes nothing. */
static void test_single_chip_untouched(void) {
    CU_ASSERT_FATAL(run(decoder_spec(4, 2, 96), "wormhole_n150", NULL, 1) == 0);
    for (int k = 0; k < C.graph.n_ops; k++) CU_ASSERT_EQUAL(C.graph.ops[k].d.attrs.chips, 0);
    for (int v = 0; v < C.graph.n_vals; v++) CU_ASSERT_EQUAL(C.graph.vals[v].d.shard_chips, 0);
}

/* `ttc dump-graph --after shard` shows the collectives and the stacked shapes. */
static void test_dump_shows_collectives(void) {
    CU_ASSERT_FATAL(run(decoder_spec(4, 2, 96), "wormhole_n300", NULL, 1) == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ir_dump_text(&C.graph, -1, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "= all_reduce(%"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "= all_gather(%"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "weight @layers.0.self_attn.q_proj.weight : bf16[2,16,32]"));
    free(buf);
}

/* DOT: collectives and chip counts shown; --collapse keeps layer_0 and folds the rest. */
static void test_dot_collapse(void) {
    CU_ASSERT_FATAL(run(decoder_spec(4, 2, 96), "wormhole_n300", NULL, 1) == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cg_dot_write_ex(&C.graph, 0, 1, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "label=\"layer_1..layer_1 (1 more, same structure)\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "shape=hexagon, label=\"all_reduce"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "over 2 chips"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "x2 chips"));
    CU_ASSERT_PTR_NULL(strstr(buf, "\"layer_1\"")); /* no cluster for the collapsed layer */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "collapsed_layers -> v")); /* into final_norm */
    int open = 0, close = 0;
    for (const char *c = buf; *c; c++) open += *c == '{', close += *c == '}';
    CU_ASSERT_EQUAL(open, close);
    free(buf);
}

static int cleanup(void) {
    compile_free(&C);
    return 0;
}

static CU_TestInfo tests[] = {
    {"column/row parallel linears and collectives", test_column_row_and_collectives},
    {"KV heads replicated when fewer than chips", test_kv_heads_replicated},
    {"head counts that do not split are errors", test_heads_that_do_not_divide},
    {"sharding overrides", test_replicate_override},
    {"vocabulary that does not divide", test_vocab_not_divisible},
    {"one chip is untouched", test_single_chip_untouched},
    {"dump shows collectives", test_dump_shows_collectives},
    {"DOT: collectives, chips, --collapse", test_dot_collapse},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {{"shard", NULL, cleanup, NULL, NULL, tests}, CU_SUITE_INFO_NULL};

int main(void) { return unit_main(suites); }
