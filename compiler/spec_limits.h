/* spec_limits.h: how large a model ttc accepts, in one table. Every size a spec or a Hugging Face
 * config.json gives is checked against its row before anything is sized by it, and the products
 * a compile makes of them (parameters, the largest tensor, the largest op's work at the
 * --batch/--seq/--max-seq bounds) against the last rows, before any pass multiplies them.
 *
 * The maxima leave headroom over the largest public models, and are small enough that no product
 * the compiler forms can overflow int64: with every dim at its maximum, parameter bytes stay
 * below 2^62 (vocab x hidden = 2^39, a layer's matrices < 2^43 elements, x 16384 layers < 2^57,
 * x 4 bytes < 2^59), and the product rows cap what batch and sequence lengths multiply into. */
#ifndef TTC_SPEC_LIMITS_H
#define TTC_SPEC_LIMITS_H

#include <stdint.h>

#include "diag.h"
#include "spec.h"
#include "ttc_types.h" /* ttc_mul_sat, ttc_add_sat */

/* X(ID, key, max, why): `why` ends "...; is it a typo?" in the hint of a value past `max`. */
#define SPEC_LIMITS(X)                                                                                              \
    X(VOCAB, "vocab_size", (int64_t)1 << 22, "the largest public vocabulary has 262,144 tokens (Gemma 3)")         \
    X(SEQ, "max_sequence_length", (int64_t)1 << 24, "the longest public context is 10M tokens (Llama 4 Scout)")    \
    X(HIDDEN, "hidden_dim", (int64_t)1 << 17, "the widest public model has hidden_dim 16,384 (Llama 3.1 405B)")    \
    X(FFN, "ffn_dim", (int64_t)1 << 20, "the widest public FFN has 53,248 units (Llama 3.1 405B)")                  \
    X(LINEAR, "input_dim/output_dim", (int64_t)1 << 22, "a linear layer is at most as wide as the vocabulary")    \
    X(HEADS, "num_heads", 4096, "the most public attention heads is 128 (Llama 3.1 405B)")                         \
    X(HEAD_DIM, "head_dim", 4096, "the largest public head_dim is 256 (Gemma)")                                    \
    X(TOKEN_TYPES, "token_types", (int64_t)1 << 16, "BERT has 2 token types")                                      \
    X(REPEAT, "repeat", 16384,                                                                                    \
      "the deepest public model has 126 layers (Llama 3.1 405B); compile-time benchmarks use 10,000")           \
    X(LAYERS, "layers", 16384, "the layers after repeat expansion; the deepest public model has 126")             \
    X(PARAMS, "parameters", (int64_t)1 << 42, "4.4 trillion; the largest public models have about 2 trillion")    \
    X(TENSOR, "elements of one tensor", (int64_t)1 << 44, "64 TiB as fp32, more than any host holds")              \
    X(WORK, "multiply-adds of one op", (int64_t)1 << 56, "cost estimates count cycles in 64 bits")

typedef enum {
#define SPEC_LIMIT_ID(id, key, max, why) SPEC_LIMIT_##id,
    SPEC_LIMITS(SPEC_LIMIT_ID)
#undef SPEC_LIMIT_ID
    SPEC_LIMIT_COUNT
} SpecLimitId;

typedef struct SpecLimit {
    const char *key;
    int64_t max;
    const char *why;
} SpecLimit;

extern const SpecLimit spec_limits[SPEC_LIMIT_COUNT];

static inline int64_t spec_limit_max(SpecLimitId id) { return spec_limits[id].max; }

/* "ttc accepts hidden_dim up to 131072: the widest public model ...; is it a typo?" for the hint
 * of a value past its row. Returns a static buffer. */
const char *spec_limit_hint(SpecLimitId id);

/* The products of a loaded spec at the compile bounds (batch, seq tokens per prompt, ctx tokens
 * of context): parameters, the largest tensor, the largest op's multiply-adds, each against its
 * row. Reports against the spec file with the figure and what to reduce; -1 when one is over. */
int spec_check_sizes(const Spec *s, int64_t batch, int64_t seq, int64_t ctx, Diags *d);

#endif
