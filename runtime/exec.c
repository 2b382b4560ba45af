/* exec.c: executes a plan's entry points on the emulated device.
 *
 * Activations live in the one arena the memory plan laid out (or, for --check, in a buffer
 * each); the KV cache lives in state buffers that outlast a step. Kernels compute in fp32; after
 * each op the output is rounded to the op's activation format, which is where the emulated
 * device's bf16 activations come from.
 *
 * The emulated mesh: a plan sharded over N chips (passes/shard.h) keeps every chip's tensor in
 * one host buffer, stacked. An op with attrs.chips = N > 1 (other than the collectives, which
 * see all chips at once) runs once per chip, in chip order, on chip c's views: stacked inputs
 * and the output are cut to chip c's slice, replicated inputs are passed whole, and a stacked
 * weight brings chip c's own prepared matrix. Kernels therefore stay single-chip. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nonfinite.h"
#include "numerics.h"
#include "weight_prep.h"
#include "ttc_runtime.h"

TtcStatus ttc_model_open(TtcModel *m, const char *plan_path, TtcError *err) {
    memset(m, 0, sizeof *m);
    return ttc_plan_read(&m->plan, plan_path, err);
}

void ttc_model_from_plan(TtcModel *m, TtcPlan *plan) {
    memset(m, 0, sizeof *m);
    m->plan = *plan;
    memset(plan, 0, sizeof *plan);
}

int ttc_plan_find_role(const TtcPlan *p, TtcRole role, int entry) {
    for (int t = 0; t < p->n_tensors; t++)
        if (p->tensors[t].role == (int32_t)role && p->tensors[t].entry == entry) return t;
    return -1;
}

int ttc_plan_find_entry(const TtcPlan *p, int mode) {
    for (int e = 0; e < p->n_entries; e++)
        if (p->entries[e].mode == mode) return e;
    return -1;
}

int64_t rt_tensor_elems(const RtTensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

static void *alloc_zeroed(int64_t elems) { return calloc((size_t)elems, 4); }

TtcStatus ttc_session_init(TtcSession *s, TtcModel *m, const TtcRunOptions *opt, TtcError *err) {
    memset(s, 0, sizeof *s);

    s->m = m;
    if (opt) s->opt = *opt;
    if (!m->weights) return ttc_fail(err, TTC_E_INTERNAL, "session created before the model's weights were loaded");
    if (s->opt.reference && !m->ref_weights)
        return ttc_fail(err, TTC_E_INTERNAL, "reference session needs the fp32 weights (load with keep_fp32)");
    const TtcPlan *p = &m->plan;
    s->state = calloc((size_t)p->n_tensors + 1, sizeof *s->state);
    if (!s->opt.keep_all) {
        /* aligned_alloc wants a size that is a multiple of the alignment. */
        size_t bytes = ((size_t)p->arena_bytes + 63) / 64 * 64;
        s->arena = aligned_alloc(64, bytes ? bytes : 64);
    } else {
        s->buffers = calloc((size_t)p->n_tensors + 1, sizeof *s->buffers);
    }
    if (!s->state || (!s->arena && !s->buffers)) {
        ttc_session_free(s);
        return ttc_fail(err, TTC_E_INTERNAL, "out of memory for a %lld-byte arena", (long long)p->arena_bytes);
    }
    for (int t = 0; t < p->n_tensors; t++) {
        const TtcTensorDesc *d = &p->tensors[t];
        int64_t n = ttc_shape_max_elems(&d->shape);
        void *buf = NULL;
        if (d->kind == TTC_TENSOR_STATE)
            buf = s->state[t] = alloc_zeroed(n);
        else if (s->buffers && d->kind != TTC_TENSOR_WEIGHT && d->alias < 0)
            buf = s->buffers[t] = alloc_zeroed(n);
        else
            continue;
        if (!buf) {
            ttc_session_free(s);
            return ttc_fail(err, TTC_E_INTERNAL, "out of memory for tensor '%s' (%lld bytes)", d->name,
                            (long long)n * 4);
        }
    }
    return TTC_OK;
}

void ttc_session_free(TtcSession *s) {
    for (int t = 0; s->m && t < s->m->plan.n_tensors; t++) {
        if (s->buffers) free(s->buffers[t]);
        if (s->state) free(s->state[t]);
    }
    free(s->buffers);
    free(s->state);
    free(s->arena);
    memset(s, 0, sizeof *s);
}

static void *tensor_data(TtcSession *s, int t) {
    const TtcTensorDesc *d = &s->m->plan.tensors[t];
    if (d->kind == TTC_TENSOR_WEIGHT) return s->opt.reference ? s->m->ref_weights[t] : s->m->weights[t];
    if (d->kind == TTC_TENSOR_STATE) return s->state[t];
    if (d->alias >= 0) return s->state[d->alias];
    return s->buffers ? s->buffers[t] : s->arena + d->offset;
}

void *ttc_session_tensor(TtcSession *s, int t, RtTensor *view) {
    if (t < 0 || t >= s->m->plan.n_tensors) return NULL;
    const TtcTensorDesc *d = &s->m->plan.tensors[t];
    void *data = tensor_data(s, t);
    if (view) {
        const TtcShape *sh = &d->shape;
        memset(view, 0, sizeof *view);
        view->data = data;
        view->rank = sh->rank;
        for (int i = 0; i < sh->rank; i++) view->dims[i] = ttc_dim_actual(sh->d[i], &s->bind);
        /* The cache keeps its full capacity per sequence: the state itself is seen whole, and a
         * view of it [B, context, F] steps over that capacity from one sequence to the next. */
        int cache = d->kind == TTC_TENSOR_STATE ? t : d->alias;
        if (cache >= 0 && s->m->plan.tensors[cache].shape.rank >= 3) {
            /* [B, capacity, F], or stacked per chip [N, B, capacity, F]: each chip's cache keeps
             * the plan's maximum batch, so dim 0 steps over the whole allocation below it. */
            const TtcShape *cs = &s->m->plan.tensors[cache].shape;
            if (d->kind == TTC_TENSOR_STATE) view->dims[cs->rank - 2] = cs->d[cs->rank - 2].size;
            view->stride0 = 1;
            for (int i = 1; i < cs->rank; i++) view->stride0 *= cs->d[i].size;
        }
    }
    return data;
}

const float *ttc_session_output(TtcSession *s, TtcRole role, RtTensor *view) {
    return ttc_session_tensor(s, ttc_plan_find_role(&s->m->plan, role, s->entry), view);
}

/* Copies one [batch, seq] id input of the entry into its place, or fills the default. */
static void place_ids(TtcSession *s, int entry, TtcRole role, const int32_t *src, int32_t fill, int64_t n) {
    int t = ttc_plan_find_role(&s->m->plan, role, entry);
    if (t < 0) return;
    int32_t *dst = tensor_data(s, t);
    if (src)
        memcpy(dst, src, (size_t)n * sizeof *dst);
    else
        for (int64_t i = 0; i < n; i++) dst[i] = fill;
}

static TtcStatus check_ids(const TtcPlan *p, const int32_t *ids, int64_t n, int64_t seq, TtcError *err) {
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= p->vocab_size) {
            ttc_fail(err, TTC_E_USER, "input id %d at [%lld, %lld] is outside the vocabulary [0, %lld)", ids[i],
                     (long long)(i / seq), (long long)(i % seq), (long long)p->vocab_size);
            ttc_hint(err, "were the ids made by this model's tokenizer?");
            return TTC_E_USER;
        }
    return TTC_OK;
}

TtcStatus ttc_check_inputs(const TtcPlan *p, const TtcInputs *in, TtcError *err) {
    if (!in->input_ids) return ttc_fail(err, TTC_E_USER, "no input ids given");
    if (in->batch < 1 || in->seq < 1) return ttc_fail(err, TTC_E_USER, "the input is empty");
    if (in->batch > p->max_batch) {
        ttc_fail(err, TTC_E_USER, "the input has %lld sequences; the plan was compiled for at most %lld",
                 (long long)in->batch, (long long)p->max_batch);
        ttc_hint(err, "recompile with ttc compile --batch %lld", (long long)in->batch);
        return TTC_E_USER;
    }
    if (in->seq > p->entries[0].max_seq) {
        ttc_fail(err, TTC_E_USER, "the input has %lld tokens per sequence; the plan was compiled for at most %lld",
                 (long long)in->seq, (long long)p->entries[0].max_seq);
        ttc_hint(err, "recompile with ttc compile --seq %lld", (long long)in->seq);
        return TTC_E_USER;
    }
    return check_ids(p, in->input_ids, in->batch * in->seq, in->seq, err);
}

TtcStatus ttc_check_decode_step(const TtcSession *s, const int32_t *ids, TtcError *err) {
    const TtcPlan *p = &s->m->plan;
    if (ttc_plan_find_entry(p, 1) < 0)
        return ttc_fail(err, TTC_E_USER, "plan '%s' has no decode entry point (is it a decoder?)", p->model_name);
    if (s->past < 1) return ttc_fail(err, TTC_E_INTERNAL, "decode step before any prompt was run");
    if (s->past + 1 > p->max_ctx) {
        ttc_fail(err, TTC_E_USER, "sequences would reach %lld tokens; the plan's KV cache holds %lld (--max-seq)",
                 (long long)(s->past + 1), (long long)p->max_ctx);
        ttc_hint(err, "recompile with a larger --max-seq, or ask for fewer new tokens");
        return TTC_E_USER;
    }
    return check_ids(p, ids, s->batch, 1, err);
}

/* Chip `chip`'s view of tensor t, whose whole (stacked) view is *v (see passes/shard.h): dim 0
 * dropped (weights, and activations and caches stacked along dim 0), or dim 1 cut to one chip's
 * contiguous block (shard_dim 1). A cache's per-chip view keeps stepping over its capacity. */
static void chip_view(const TtcPlan *p, int t, int chip, RtTensor *v) {
    const TtcTensorDesc *d = &p->tensors[t];
    int64_t chips = d->shard_chips;
    /* An absent optional operand (no data) stays absent: offsetting NULL is undefined. */
    if (d->kind != TTC_TENSOR_WEIGHT && d->shard_dim == 1) {
        v->dims[1] /= chips;
        if (v->data) v->data = (float *)v->data + chip * rt_tensor_elems(v);
        return;
    }
    if (v->data) v->data = (float *)v->data + chip * rt_stride0(v);
    for (int i = 1; i < v->rank; i++) v->dims[i - 1] = v->dims[i];
    v->rank--;
    int cache = d->kind == TTC_TENSOR_STATE ? t : d->alias;
    v->stride0 = 0;
    if (cache >= 0 && p->tensors[cache].shape.rank >= 3) {
        const TtcShape *cs = &p->tensors[cache].shape;
        v->stride0 = cs->d[cs->rank - 2].size * cs->d[cs->rank - 1].size;
    }
}

/* Chips an op runs on one by one: its group for per-chip ops, 1 for everything else. */
static int op_chip_loop(const TtcOpDesc *op) {
    if (op->attrs.chips <= 1 || op->kind == TTC_OP_ALL_REDUCE || op->kind == TTC_OP_ALL_GATHER) return 1;
    return op->attrs.chips;
}

/* Runs op k's kernel (and its fused epilogue) on chip `chip`'s views of `whole`. */
static TtcStatus run_on_chip(TtcSession *s, const RtKernel *kernels, const RtOpArgs *whole, int chip, int chips) {
    const TtcPlan *p = &s->m->plan;
    const TtcOpDesc *op = whole->op;
    RtOpArgs a = *whole;
    for (int i = 0; i < op->n_in; i++) {
        if (chips > 1 && p->tensors[op->in[i]].shard_chips > 0) chip_view(p, op->in[i], chip, &a.in[i]);
        if (!s->opt.reference) a.prep[i] = rt_weight_prep_of(s->m, op->in[i], chip);
    }
    if (chips > 1 && p->tensors[op->out].shard_chips > 0) chip_view(p, op->out, chip, &a.out);
    TtcStatus rc = kernels[op->kind](&a);
    /* A fused epilogue (matmul + activation) runs the activation's own kernel in place on the
     * fp32 result, before the output is rounded once: what the fused device kernel does. */
    int act = ttc_epilogue_op(op->attrs.epilogue);
    if (rc == TTC_OK && act >= 0) {
        RtOpArgs ep = a;
        ep.n_in = 1;
        ep.in[0] = a.out;
        rc = kernels[act](&ep);
    }
    return rc;
}

/* Runs the ops of entry `e` with the bindings already set. */
static TtcStatus run_entry(TtcSession *s, int e, TtcError *err) {
    const TtcPlan *p = &s->m->plan;
    const TtcEntry *en = &p->entries[e];
    const RtKernel *kernels = s->opt.reference ? rt_ref_kernels : rt_fast_kernels;
    s->entry = e;
    for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
        const TtcOpDesc *op = &p->ops[k];
        RtOpArgs a;
        memset(&a, 0, sizeof a);
        a.op = op;
        a.err = err;
        a.bind = &s->bind;
        a.plan_from_file = p->from_file;
        a.n_in = op->n_in;
        for (int i = 0; i < op->n_in; i++) ttc_session_tensor(s, op->in[i], &a.in[i]);
        ttc_session_tensor(s, op->out, &a.out);
        double t0 = ttc_now_ms();
        int chips = op_chip_loop(op);
        TtcStatus rc = TTC_OK;
        for (int c = 0; c < chips && rc == TTC_OK; c++) rc = run_on_chip(s, kernels, &a, c, chips);
        if (rc != TTC_OK) {
            if (err->status == TTC_OK) ttc_fail(err, rc, "op '%s' (%s) failed", op->path, ttc_op_name(op->kind));
            return err->status;
        }
        /* The emulated device stores activations in the op's format; the reference path is fp32.
         * A cache view's rows are rounded where they are produced (the k/v projections). Rows
         * never straddle chips, so rounding every chip's slice at once is the same. */
        if (!s->opt.reference && op->cfg.act_dtype != TTC_F32 && op->kind != TTC_OP_KV_UPDATE)
            ttc_round_to_dtype(a.out.data, rt_tensor_elems(&a.out), a.out.dims[a.out.rank - 1],
                               (TtcDType)op->cfg.act_dtype);
        if (s->opt.nan_check && ttc_op_output_check(s, k, s->opt.keep_all, err) != TTC_OK) return err->status;
        if (s->opt.on_op) s->opt.on_op(s->opt.user, k, &a.out, ttc_now_ms() - t0);
    }
    return TTC_OK;
}

/* OpenBLAS runs on one thread. The bits of its sgemm depend on its thread count (0.3.21: 1, 2,
 * 3, 4 and 8 threads give as many different results for a 64x128x64 product), and a step's
 * outputs must not depend on the machine's cores or on OPENBLAS_NUM_THREADS. ttc parallelizes
 * its matmuls itself (matmul_emul.c's pool, split by output columns: the same bits for any
 * TTC_THREADS); idle OpenBLAS threads would also busy-wait after every call, taking cores from
 * that pool. tests/e2e/determinism.sh checks both thread counts. */
static void blas_one_thread(void) {
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

void ttc_session_begin_step(TtcSession *s, int64_t batch, int64_t seq) {
    blas_one_thread();
    memset(&s->bind, 0, sizeof s->bind);
    s->bind.v[TTC_SYM_BATCH] = batch;
    s->bind.v[TTC_SYM_SEQ] = seq;
    s->bind.v[TTC_SYM_CTX] = s->past + seq;
}

TtcStatus ttc_forward(TtcSession *s, const TtcInputs *in, TtcError *err) {
    const TtcPlan *p = &s->m->plan;
    if (ttc_check_inputs(p, in, err) != TTC_OK) return err->status;
    s->past = 0; /* a new prompt starts a new cache */
    s->batch = in->batch;
    ttc_session_begin_step(s, in->batch, in->seq);
    int64_t n = in->batch * in->seq;
    place_ids(s, 0, TTC_ROLE_INPUT_IDS, in->input_ids, 0, n);
    place_ids(s, 0, TTC_ROLE_TOKEN_TYPE_IDS, in->token_type_ids, 0, n);
    place_ids(s, 0, TTC_ROLE_ATTENTION_MASK, in->attention_mask, 1, n);
    TtcStatus rc = run_entry(s, 0, err);
    if (rc == TTC_OK) s->past = in->seq;
    return rc;
}

TtcStatus ttc_decode_step(TtcSession *s, const int32_t *ids, TtcError *err) {
    if (ttc_check_decode_step(s, ids, err) != TTC_OK) return err->status;
    int e = ttc_plan_find_entry(&s->m->plan, 1);
    ttc_session_begin_step(s, s->batch, 1);
    place_ids(s, e, TTC_ROLE_INPUT_IDS, ids, 0, s->batch);
    TtcStatus rc = run_entry(s, e, err);
    if (rc == TTC_OK) s->past++;
    return rc;
}
