/* ttc_runtime.h: the public runtime API, for the `ttc` command, generated C and embedders.
 *
 *   TtcModel m;  ttc_model_open(&m, "bert.plan", &err);
 *   ttc_model_load_weights(&m, "model.safetensors", 0, &err);   // or ttc_model_random_weights
 *   TtcSession s; ttc_session_init(&s, &m, NULL, &err);
 *   ttc_forward(&s, &inputs, &err);
 *   const float *h = ttc_session_output(&s, TTC_ROLE_HIDDEN, &t);  // t.dims = [batch, seq, hidden]
 *
 * Decoders: ttc_forward runs prefill on the prompt (logits for every position, KV cache filled),
 * then each ttc_decode_step feeds one token per sequence and extends the cache.
 *
 * Every function returns a TtcStatus and fills TtcError; nothing here exits or aborts. */
#ifndef TTC_RUNTIME_H
#define TTC_RUNTIME_H

#include "kernels.h"
#include "plan.h"
#include "ttc_types.h"

typedef struct TtcModel {
    TtcPlan plan;
    float **weights;     /* per tensor index: device-format values (as fp32); NULL for non-weights */
    float **ref_weights; /* per tensor index: the fp32 originals, kept only when asked (reference path) */
    void **prep;         /* per tensor index: kernel-specific data prepared at load (weight_prep.h) */
} TtcModel;

TtcStatus ttc_model_open(TtcModel *m, const char *plan_path, TtcError *err);
/* Adopts an in-memory plan (moved: the model frees it). */
void ttc_model_from_plan(TtcModel *m, TtcPlan *plan);
/* Hugging Face names with or without the model prefix (`bert.` for encoders, `model.` for
 * decoders); other tensors in the file are ignored. `keep_fp32` also keeps the unconverted
 * values for the reference path. */
TtcStatus ttc_model_load_weights(TtcModel *m, const char *safetensors_path, int keep_fp32, TtcError *err);
/* Values are a pure function of (seed, tensor name): reordering a plan does not change them. */
TtcStatus ttc_model_random_weights(TtcModel *m, uint64_t seed, int keep_fp32, TtcError *err);
/* The weights a command line names: exactly one of `weights_path` (--weights FILE) and
 * `seed_text` (--random-weights SEED, a whole number); NULL for the one not given. `who` names
 * the program in the error when both or neither are given. */
TtcStatus ttc_model_load_weights_arg(TtcModel *m, const char *weights_path, const char *seed_text, int keep_fp32,
                                     const char *who, TtcError *err);
/* Called for each tensor ttc_model_write_weights writes, with its Hugging Face name and values,
 * which it may change (a test scaling q and k, or writing a NaN on purpose). */
typedef void (*TtcWeightEdit)(const char *name, float *w, int64_t n, void *user);
/* Writes the model's fp32 weights (loaded with keep_fp32) to a safetensors file under Hugging
 * Face names: a fused weight as its parts, a tied copy once. `edit` may be NULL. Plans whose
 * weights are stacked per chip are refused: write the single-chip plan's. */
TtcStatus ttc_model_write_weights(const TtcModel *m, const char *path, TtcWeightEdit edit, void *user,
                                  TtcError *err);
void ttc_model_close(TtcModel *m);

typedef struct TtcInputs {
    const int32_t *input_ids;      /* [batch, seq] */
    const int32_t *token_type_ids; /* [batch, seq] or NULL (zeros) */
    const int32_t *attention_mask; /* [batch, seq] or NULL (all ones) */
    int64_t batch, seq;
} TtcInputs;

/* Called after every op with its output (actual dims) and the host time it took. */
typedef void (*TtcOpHook)(void *user, int op_index, const RtTensor *out, double ms);

typedef struct TtcRunOptions {
    int reference;   /* reference kernels on fp32 weights, no format emulation (the golden path) */
    int keep_all;    /* give every tensor its own buffer (no reuse) so all outputs stay readable */
    int nan_check;   /* stop at the first op whose output holds NaN or inf (nonfinite.h), TTC_E_USER */
    TtcOpHook on_op;
    void *user;
} TtcRunOptions;

typedef struct TtcSession {
    TtcModel *m;
    TtcRunOptions opt;
    uint8_t *arena;    /* planned arena (keep_all: NULL) */
    void **buffers;    /* keep_all: one buffer per input/activation tensor */
    float **state;     /* per tensor index: the KV cache buffers (state tensors), else NULL */
    TtcBindings bind;  /* actual symbol sizes of the last step */
    int entry;         /* entry point of the last step */
    int64_t batch;     /* decoders: sequences in flight */
    int64_t past;      /* decoders: tokens per sequence already in the KV cache */
} TtcSession;

TtcStatus ttc_session_init(TtcSession *s, TtcModel *m, const TtcRunOptions *opt, TtcError *err);
/* The checks in front of ttc_forward and ttc_decode_step, for callers that run the entry points
 * some other way (generated code): inputs within the bounds of the plan's first entry point and
 * ids within the vocabulary; a decode step on a decoder, after a prompt, with room left in the
 * KV cache and `ids` (s->batch of them) within the vocabulary. */
TtcStatus ttc_check_inputs(const TtcPlan *p, const TtcInputs *in, TtcError *err);
TtcStatus ttc_check_decode_step(const TtcSession *s, const int32_t *ids, TtcError *err);
/* Checks the inputs against the plan's bounds and the vocabulary, then runs every op of the
 * first entry point (encoders: the forward; decoders: prefill, which starts a new KV cache). */
TtcStatus ttc_forward(TtcSession *s, const TtcInputs *in, TtcError *err);
/* Decoders: one more token per sequence (`ids` has s->batch entries) through the decode entry
 * point; its logits are ttc_session_output(s, TTC_ROLE_LOGITS) with dims [batch, 1, vocab]. */
TtcStatus ttc_decode_step(TtcSession *s, const int32_t *ids, TtcError *err);
/* The data of tensor `t` after a forward, with its actual dims in *view (may be NULL). */
void *ttc_session_tensor(TtcSession *s, int t, RtTensor *view);
/* The output with `role` (TTC_ROLE_HIDDEN, TTC_ROLE_POOLED, TTC_ROLE_LOGITS), or NULL. */
const float *ttc_session_output(TtcSession *s, TtcRole role, RtTensor *view);
void ttc_session_free(TtcSession *s);
/* Sets up a step of `seq` tokens for `batch` sequences after s->past cached ones: the symbol
 * bindings and the threads the step's kernels use. ttc_forward and ttc_decode_step call it;
 * generated programs, which run their own entry points, call it too. */
void ttc_session_begin_step(TtcSession *s, int64_t batch, int64_t seq);

/* The tensor index with `role` in entry point `entry` (outputs and inputs exist per entry), or -1. */
int ttc_plan_find_role(const TtcPlan *p, TtcRole role, int entry);
/* The entry point with `mode` (0 prefill, 1 decode), or -1. */
int ttc_plan_find_entry(const TtcPlan *p, int mode);

#endif
