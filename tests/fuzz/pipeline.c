/* pipeline.c: structure-aware fuzz target for the whole compiler and runtime. The fuzz bytes
 * are not parsed as text: they choose a VALID tiny spec and overlay (encoder or decoder, dims,
 * heads and KV heads, head_dim, FFN type, activation, norms, RoPE, biases, tied head; device and
 * mesh among the shipped devices, per-module dtypes, fidelity, fusion switches, KV cache and
 * sharding from the overlay field table, one --set), all small enough that a run takes
 * milliseconds. Then, as `ttc compile` + `ttc run` + `ttc generate` + `--emit c` do: compile,
 * plan file write + read (same bytes), C and DOT emission, a forward with random weights and
 * two decode steps for decoders.
 *
 * Findings: a crash or leak anywhere; an internal error (status 2) from compile; any failure
 * after a compile that succeeded (the plan, the emitters and the runtime must accept what the
 * compiler produced). A user error from compile is allowed (some combinations are refused, e.g.
 * more chips than a split can use); TTC_FUZZ_VERBOSE=1 prints the inputs and diagnostics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "compile.h"
#include "fuzz.h"

/* ---- the bytes as a source of choices ---- */

typedef struct Choices {
    const uint8_t *p;
    size_t n, i;
} Choices;

/* A number in [0, n): one byte per choice (0 once the bytes run out, so short inputs give the
 * first option of everything: a valid minimal model). */
static int pick(Choices *c, int n) {
    if (n <= 1) return 0;
    return c->i < c->n ? c->p[c->i++] % n : 0;
}

/* 1 with probability 1/n. */
static int one_in(Choices *c, int n) { return pick(c, n) == n - 1; }

/* ---- text building ---- */

typedef struct Text {
    char s[8192];
    size_t n;
} Text;

static void add(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(Text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->s + t->n, sizeof t->s - t->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof t->s - t->n) fuzz_fail("generated text too long");
    t->n += (size_t)k;
}

static const char *const activations[] = {"gelu", "gelu_tanh", "silu", "relu", "tanh"};
static const char *const norms[] = {"layernorm", "rmsnorm"};

/* What the spec came out as, for the overlay and the run. */
typedef struct Model {
    int decoder, vocab, max_seq, layers;
} Model;

static void gen_spec(Choices *c, Text *t, Model *m) {
    /* Up to 32 heads, so that every mesh up to the 32-chip galaxy has a split to make. */
    static const int head_counts[] = {1, 2, 4, 8, 16, 32}, head_dims[] = {2, 4, 8}, ffn_dims[] = {8, 16, 24, 32, 64};
    static const int vocabs[] = {8, 16, 32, 50}, max_seqs[] = {8, 16, 32};
    m->decoder = pick(c, 2);
    m->vocab = vocabs[pick(c, 4)];
    m->max_seq = max_seqs[pick(c, 3)];
    m->layers = 1 + pick(c, 2);
    int heads = head_counts[pick(c, 6)], head_dim = head_dims[pick(c, 3)];
    while (heads * head_dim > 64 && head_dim > 2) head_dim /= 2;
    int kv = heads;
    if (m->decoder) /* a divisor of heads: GQA down to one KV head */
        for (int k = pick(c, 4); k > 0 && kv % 2 == 0; k--) kv /= 2;
    /* Decoders may give head_dim explicitly with a hidden size that is not heads * head_dim. */
    int explicit_hd = m->decoder && one_in(c, 3);
    int hidden = explicit_hd && one_in(c, 2) ? 16 : heads * head_dim;
    const char *norm = norms[pick(c, 2)];
    add(t, "spec_version: 1\nmodel: {name: fuzz-model, type: %s, vocab_size: %d, max_sequence_length: %d%s}\n",
        m->decoder ? "decoder" : "encoder", m->vocab, m->max_seq, m->decoder && one_in(c, 2) ? ", eos_token_id: 1" : "");
    /* Decoders have no learned positions yet (a user error, not worth the executions). */
    add(t, "layers:\n  - id: embedding\n    type: embedding\n    params: {hidden_dim: %d, position: %s", hidden,
        !m->decoder && pick(c, 2) ? "learned" : "none");
    if (!m->decoder && pick(c, 2)) add(t, ", token_types: 2");
    if (one_in(c, 2)) add(t, ", norm: %s, norm_eps: 1.0e-12", norms[pick(c, 2)]);
    add(t, "}\n");
    add(t, "  - id: layer_{i}\n    repeat: %d\n    type: transformer\n    params:\n", m->layers);
    add(t, "      hidden_dim: %d\n      num_heads: %d\n", hidden, heads);
    if (m->decoder) add(t, "      num_kv_heads: %d\n", kv);
    if (explicit_hd) add(t, "      head_dim: %d\n", head_dim);
    /* tanh is for poolers only; */
    add(t, "      ffn_dim: %d\n      ffn_type: %s\n      activation: %s\n", ffn_dims[pick(c, 5)],
        pick(c, 2) ? "gated" : "mlp", activations[pick(c, 4)]);
    /* decoders are pre-norm and encoders post-norm (the other two are refused today). */
    add(t, "      norm_type: %s\n      norm_eps: 1.0e-5\n      residual_pattern: %s\n", norm,
        m->decoder ? "pre_norm" : "post_norm");
    int bias = pick(c, 2);
    add(t, "      attention: {causal: %s, bias: %s", m->decoder || one_in(c, 4) ? "true" : "false", bias ? "true" : "false");
    if (one_in(c, 3)) add(t, ", qkv_bias: %s", bias ? "false" : "true");
    if (m->decoder ? !one_in(c, 4) : one_in(c, 4)) {
        add(t, ", rope: {theta: %s", pick(c, 2) ? "10000.0" : "500000.0");
        if (one_in(c, 4))
            add(t, ", scaling: {type: llama3, factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, "
                   "original_max_position: %d}", m->max_seq / 2);
        add(t, "}");
    }
    if (m->decoder && one_in(c, 4)) add(t, ", sliding_window: %d", 2 + 2 * pick(c, 3));
    add(t, "}\n");
    if (m->decoder) {
        add(t, "  - id: final_norm\n    type: norm\n    params: {norm_type: %s, norm_eps: 1.0e-5}\n", norms[pick(c, 2)]);
        int tied = pick(c, 2);
        add(t, "  - id: lm_head\n    type: linear\n    params: {input_dim: %d, output_dim: %d%s%s}\n", hidden, m->vocab,
            tied ? ", tied_to: embedding" : "", !tied && one_in(c, 3) ? ", bias: true" : "");
    } else if (pick(c, 2)) {
        add(t, "  - id: pooler\n    type: pooler\n    params: {hidden_dim: %d, activation: %s}\n", hidden,
            activations[pick(c, 5)]);
    }
}

/* One overlay block's settings: each field of the overlay table given with probability 1/4, a
 * value among its allowed spellings (kv_cache.* go into their own mapping). */
static void gen_fields(Choices *c, Text *t) {
    char kv[256] = "";
    size_t kvn = 0;
    int first = 1;
    add(t, "{");
    for (int f = 0; f < HW_FIELD_COUNT; f++) {
        if (!one_in(c, 4)) continue;
        int n;
        const char *const *names = hw_kind_names(hw_field_kind(f), &n);
        char value[32];
        if (n > 0) snprintf(value, sizeof value, "%s", names[pick(c, n)]);
        else snprintf(value, sizeof value, "%d", 32 * (1 + pick(c, 2))); /* a block size */
        const char *key = hw_field_key(f);
        if (strncmp(key, "kv_cache.", 9) == 0) {
            kvn += (size_t)snprintf(kv + kvn, sizeof kv - kvn, "%s%s: %s", kvn ? ", " : "", key + 9, value);
            continue;
        }
        add(t, "%s%s: %s", first ? "" : ", ", key, value);
        first = 0;
    }
    if (kvn) add(t, "%skv_cache: {%s}", first ? "" : ", ", kv);
    add(t, "}");
}

static const struct Device {
    const char *name;
    int chips;
} devices[] = {{"wormhole_n150", 1}, {"wormhole_n300", 2}, {"blackhole_p100", 1},
               {"blackhole_p150", 1}, {"wormhole_t3k", 8}, {"wormhole_galaxy", 32}};

static void gen_overlay(Choices *c, Text *t) {
    add(t, "hw_version: 1\n");
    /* A multi-chip device at least half the time (n300 the most), so tensor parallelism is
     * fuzzed as much as one chip. */
    static const int multi_chip[] = {1, 1, 4, 5};
    const struct Device *d = pick(c, 2) ? &devices[pick(c, 6)] : &devices[multi_chip[pick(c, 4)]];
    add(t, "device: %s\n", d->name);
    if (d->chips > 1 && pick(c, 2)) {
        int rows = 1;
        for (int k = pick(c, 6); k > 0 && d->chips % (rows * 2) == 0; k--) rows *= 2;
        add(t, "mesh_shape: [%d, %d]\n", rows, d->chips / rows);
    }
    if (pick(c, 2)) {
        add(t, "defaults: ");
        gen_fields(c, t);
        add(t, "\n");
    }
    if (pick(c, 2)) {
        add(t, "modules:\n");
        int any = 0;
        for (int i = 0; i < 6; i++)
            if (one_in(c, 3)) {
                add(t, "  %s: ", hw_module_types[i]);
                gen_fields(c, t);
                add(t, "\n");
                any = 1;
            }
        if (!any) add(t, "  layer_0: {math_fidelity: LoFi}\n");
    }
    if (one_in(c, 3)) {
        add(t, "modes:\n  decode: ");
        gen_fields(c, t);
        add(t, "\n");
    }
}

/* One --set on a module path or type the model has. */
static void gen_set(Choices *c, char *out, size_t n) {
    static const char *const targets[] = {"defaults", "attention", "ffn", "layer_0", "layer_0.attention", "lm_head"};
    int f = pick(c, HW_FIELD_COUNT), k;
    const char *const *names = hw_kind_names(hw_field_kind(f), &k);
    char value[32];
    if (k > 0) snprintf(value, sizeof value, "%s", names[pick(c, k)]);
    else snprintf(value, sizeof value, "%d", 32 * (1 + pick(c, 2)));
    snprintf(out, n, "%s.%s=%s", targets[pick(c, 6)], hw_field_key(f), value);
}

/* Serialized bytes of a plan (freed by the caller). */
static uint8_t *bytes_of(const TtcPlan *p, size_t *len, const char *what) {
    uint8_t *b = NULL;
    TtcError err = {0};
    if (ttc_plan_serialize(p, &b, len, &err)) fuzz_fail("%s: serialize: %s", what, err.msg);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) fuzz_fail("cannot open /dev/null");
    int verbose = getenv("TTC_FUZZ_VERBOSE") != NULL;
    Choices ch = {data, size, 0};
    Text spec = {.n = 0}, hw = {.n = 0};
    Model m;
    gen_spec(&ch, &spec, &m);
    gen_overlay(&ch, &hw);
    char set[160];
    int n_sets = one_in(&ch, 3);
    if (n_sets) gen_set(&ch, set, sizeof set);
    const char *sets[1] = {set};

    CompileOptions o;
    compile_options_init(&o);
    char spec_path[4096], hw_path[4096];
    snprintf(spec_path, sizeof spec_path, "%s", fuzz_write_tmp("pipeline-spec.yaml", spec.s, spec.n));
    snprintf(hw_path, sizeof hw_path, "%s", fuzz_write_tmp("pipeline-hw.yaml", hw.s, hw.n));
    const char *hw_files[1] = {hw_path};
    o.spec = spec_path;
    o.hw = hw_files;
    o.n_hw = 1;
    o.sets = sets;
    o.n_sets = n_sets;
    o.batch = 1 + pick(&ch, 2);
    o.seq = 1 + pick(&ch, 8);
    o.max_seq = m.decoder ? o.seq + pick(&ch, 8) : 0;
    if (verbose)
        fprintf(stderr, "---- spec\n%s---- overlay\n%s---- set %s, batch %lld, seq %lld, max_seq %lld\n", spec.s, hw.s,
                n_sets ? set : "(none)", (long long)o.batch, (long long)o.seq, (long long)o.max_seq);

    Compilation c;
    int rc = compile_spec(&o, &c);
    if (rc == 2 || (rc != 0 && verbose)) diag_print(&c.diags, stderr);
    if (rc == 2) fuzz_fail("internal error compiling a generated spec (see above)");
    if (rc != 0) {
        compile_free(&c);
        return 0;
    }
    cg_dot_write(&c.graph, HW_MODE_PREFILL, sink);
    cg_dot_write_ex(&c.graph, HW_MODE_DECODE, 1, sink);
    TtcPlan plan;
    if (compile_plan_of(&c, "ttc (fuzz)", &plan) != 0) fuzz_fail("compile_plan_of failed");
    compile_free(&c);

    /* The plan file round trip, through the real writer and reader. */
    TtcError err = {0};
    const char *plan_path = fuzz_tmp_path("pipeline.plan");
    if (ttc_plan_write(&plan, plan_path, &err)) fuzz_fail("ttc_plan_write: %s", err.msg);
    TtcPlan back;
    if (ttc_plan_read(&back, plan_path, &err)) fuzz_fail("ttc_plan_read of a compiled plan: %s", err.msg);
    size_t n1, n2;
    uint8_t *b1 = bytes_of(&plan, &n1, "compiled"), *b2 = bytes_of(&back, &n2, "reread");
    if (n1 != n2 || memcmp(b1, b2, n1) != 0) fuzz_fail("the plan file round trip changed the plan");
    free(b1);
    free(b2);
    ttc_plan_free(&back);

    CgCOptions co = {.spec = spec_path, .overlays = hw_files, .n_overlays = 1, .sets = sets, .n_sets = n_sets};
    TtcError cerr = {0}; /* it refuses some plans (sharded ones today) as a user error */
    fuzz_check_user_error(cg_c_write(&plan, &co, sink, &cerr), &cerr, "cg_c_write");

    int64_t batch = 1 + pick(&ch, (int)o.batch), seq = 1 + pick(&ch, (int)o.seq);
    fuzz_run_plan(&plan, 1 + (uint64_t)pick(&ch, 4), batch, seq, 2, data, size, 1);
    return 0;
}
