/* test_plan_validate.c: each rule of runtime/plan_validate.c broken once on the hand-built plan
 * of fixture_plan.c, in memory and, where it can be written, through a serialized file. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_plan.h"
#include "plan.h"
#include "unit.h"

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

static CU_TestInfo rule_tests[] = {
    {"header rules", test_header_rules},
    {"tensor rules", test_tensor_rules},
    {"op rules", test_op_rules},
    {"device estimate rules", test_cost_rules},
    {"error message shape", test_error_message_shape},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"plan_validate rules", NULL, NULL, NULL, NULL, rule_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
