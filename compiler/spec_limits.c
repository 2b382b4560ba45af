/* spec_limits.c: the table of spec_limits.h, and the products a compile forms from a spec at its
 * batch and sequence bounds, checked before lowering hands them to the passes. */
#include "spec_limits.h"

#include <stdio.h>

const SpecLimit spec_limits[SPEC_LIMIT_COUNT] = {
#define SPEC_LIMIT_ROW(id, key, max, why) [SPEC_LIMIT_##id] = {key, max, why},
    SPEC_LIMITS(SPEC_LIMIT_ROW)
#undef SPEC_LIMIT_ROW
};

const char *spec_limit_hint(SpecLimitId id) {
    static char buf[256];
    snprintf(buf, sizeof buf, "ttc accepts %s up to %lld: %s; is the value a typo?", spec_limits[id].key,
             (long long)spec_limits[id].max, spec_limits[id].why);
    return buf;
}

static int64_t mul3(int64_t a, int64_t b, int64_t c) { return ttc_mul_sat(ttc_mul_sat(a, b), c); }
static int64_t mul4(int64_t a, int64_t b, int64_t c, int64_t d) { return ttc_mul_sat(mul3(a, b, c), d); }

/* The largest value seen for one row, and where it came from, for the message. */
typedef struct SizeMax {
    int64_t v;
    const SpecLayer *layer;
    const char *what;
} SizeMax;

static void size_max(SizeMax *m, int64_t v, const SpecLayer *L, const char *what) {
    if (v > m->v) *m = (SizeMax){v, L, what};
}

/* Weights, the largest tensor and the largest op of one layer (shapes as lower.c builds them). */
static void layer_sizes(const Spec *s, const SpecLayer *L, int64_t b, int64_t seq, int64_t ctx, int64_t *params,
                        SizeMax *tensor, SizeMax *work) {
    int64_t h = L->hidden_dim, rows = ttc_mul_sat(b, seq);
    switch (L->type) {
    case SPEC_LAYER_EMBEDDING: {
        int64_t table = ttc_mul_sat(s->vocab_size, h);
        int64_t pos = L->position == SPEC_POS_LEARNED ? ttc_mul_sat(s->max_sequence_length, h) : 0;
        *params = ttc_add_sat(ttc_add_sat(table, pos), ttc_mul_sat(L->token_types, h));
        size_max(tensor, table, L, "the embedding table [vocab_size, hidden_dim]");
        size_max(tensor, pos, L, "the position table [max_sequence_length, hidden_dim]");
        size_max(tensor, ttc_mul_sat(rows, h), L, "the embeddings [batch, seq, hidden_dim]");
        break;
    }
    case SPEC_LAYER_TRANSFORMER: {
        int64_t q = ttc_mul_sat(L->num_heads, L->head_dim), kv = ttc_mul_sat(L->num_kv_heads, L->head_dim);
        int64_t ffn_mats = L->ffn_type == SPEC_FFN_GATED ? 3 : 2;
        *params = ttc_add_sat(ttc_mul_sat(h, ttc_add_sat(ttc_mul_sat(2, q), ttc_mul_sat(2, kv))),
                          mul3(ffn_mats, h, L->ffn_dim));
        /* Encoders attend over the prompt; decoders over the KV cache of ctx tokens. */
        int64_t keys = s->type == SPEC_DECODER ? ctx : seq;
        size_max(tensor, mul4(b, L->num_heads, seq, keys), L, "the attention scores [batch, heads, seq, context]");
        size_max(tensor, ttc_mul_sat(rows, L->ffn_dim), L, "the FFN activations [batch, seq, ffn_dim]");
        size_max(tensor, ttc_mul_sat(rows, q), L, "the queries [batch, seq, heads x head_dim]");
        if (s->type == SPEC_DECODER) size_max(tensor, mul3(b, ctx, kv), L, "the KV cache [batch, context, kv_heads x head_dim]");
        size_max(work, mul3(rows, h, L->ffn_dim), L, "the FFN projections");
        size_max(work, mul3(rows, h, q), L, "the query projection");
        size_max(work, mul4(b, L->num_heads, seq, ttc_mul_sat(keys, L->head_dim)), L, "attention");
        break;
    }
    case SPEC_LAYER_LINEAR:
        *params = L->tied_to ? 0 : ttc_mul_sat(L->input_dim, L->output_dim);
        size_max(tensor, ttc_mul_sat(rows, L->output_dim), L, "the output [batch, seq, output_dim]");
        size_max(work, mul3(rows, L->input_dim, L->output_dim), L, "the projection");
        break;
    case SPEC_LAYER_POOLER: *params = ttc_mul_sat(h, h); break;
    default: *params = ttc_mul_sat(2, h); break;
    }
}

/* A product for a message; a saturated one overflowed int64. */
static const char *figure(int64_t v) {
    static char buf[32];
    if (v == INT64_MAX) return "over 2^63";
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return buf;
}

int spec_check_sizes(const Spec *s, int64_t batch, int64_t seq, int64_t ctx, Diags *d) {
    int64_t params = 0;
    SizeMax tensor = {0, NULL, NULL}, work = {0, NULL, NULL};
    for (int i = 0; i < s->n_layers; i++) {
        int64_t p = 0;
        layer_sizes(s, &s->layers[i], batch, seq, ctx, &p, &tensor, &work);
        params = ttc_add_sat(params, p);
    }
    DiagLoc file = {diag_file(d, s->file), 0, 0};
    int bad = 0;
    if (params > spec_limit_max(SPEC_LIMIT_PARAMS)) {
        Diag *dg = diag_error(d, file, "the model has %s parameters; ttc accepts at most %lld", figure(params),
                              (long long)spec_limit_max(SPEC_LIMIT_PARAMS));
        diag_hint(dg, "check hidden_dim, ffn_dim, vocab_size and repeat: %s", spec_limits[SPEC_LIMIT_PARAMS].why);
        bad = 1;
    }
    const struct { const SizeMax *m; SpecLimitId id; } rows[] = {{&tensor, SPEC_LIMIT_TENSOR}, {&work, SPEC_LIMIT_WORK}};
    for (int r = 0; r < 2; r++) {
        const SizeMax *m = rows[r].m;
        if (m->v <= spec_limit_max(rows[r].id)) continue;
        Diag *dg = diag_error(d, m->layer->loc,
                              "layer '%s': %s at batch %lld, seq %lld, context %lld has %s %s; ttc accepts at "
                              "most %lld (%s)", m->layer->id, m->what, (long long)batch, (long long)seq,
                              (long long)ctx, figure(m->v),
                              spec_limits[rows[r].id].key, (long long)spec_limit_max(rows[r].id),
                              spec_limits[rows[r].id].why);
        diag_hint(dg, "compile for less: a smaller --batch, --seq or --max-seq (or smaller dims in the spec)");
        bad = 1;
    }
    return bad ? -1 : 0;
}
