/* kernels.h: the kernel interface. Every op in ops.def has a fast kernel (kernels_fast.c:
 * OpenBLAS and own loops, what `ttc run` uses) and a reference kernel (kernels_ref.c: plain,
 * obviously-correct fp32 loops, the golden for tests and `ttc run --check`).
 *
 * Kernels compute in fp32 on fp32 buffers. Emulated formats (bf16 activations, bf16/bfp weights)
 * are applied outside the kernel: weights are converted once at load, outputs are rounded to the
 * op's activation format by the executor after the kernel returns. */
#ifndef TTC_KERNELS_H
#define TTC_KERNELS_H

#include "ttc_types.h"

/* A tensor as a kernel sees it: actual (run-time) dims, dense row-major. */
typedef struct RtTensor {
    void *data; /* float* for fp32/bf16/bfp formats, int32_t* for int32 */
    int32_t rank;
    int64_t dims[TTC_MAX_RANK];
    /* Elements from one dim-0 index to the next; 0 = dense. Views of the KV cache are the one
     * strided case: [batch, context so far, features] inside a [batch, max context, features]
     * buffer. Only the attention ops' k and v inputs accept such views. */
    int64_t stride0;
} RtTensor;

/* Elements between consecutive dim-0 entries of t. */
static inline int64_t rt_stride0(const RtTensor *t) {
    if (t->stride0) return t->stride0;
    int64_t n = 1;
    for (int i = 1; i < t->rank; i++) n *= t->dims[i];
    return n;
}

typedef struct RtOpArgs {
    const TtcOpDesc *op; /* attributes, path (for error messages), config */
    int32_t n_in;
    RtTensor in[TTC_MAX_OP_INPUTS];
    RtTensor out;        /* dims already set by the executor; kernel fills data */
    /* Per input: what weight_prep.c made of a weight at load for this op's kernel (e.g. the
     * operand parts of a fidelity-emulated matmul); NULL when nothing (and on the reference path). */
    const void *prep[TTC_MAX_OP_INPUTS];
    TtcError *err;       /* kernels report bad input (e.g. token id out of range) here */
    const TtcBindings *bind; /* actual symbol sizes: SEQ new tokens, CTX past + new */
    /* The plan was read from a file (TtcPlan.from_file): its validator guarantees memory safety,
     * not each op's operand shapes, so a broken contract is the file's fault (rt_op_fail). */
    int plan_from_file;
} RtOpArgs;

typedef TtcStatus (*RtKernel)(const RtOpArgs *a);

/* Indexed by TtcOpKind. */
extern const RtKernel rt_fast_kernels[TTC_OP_COUNT];
extern const RtKernel rt_ref_kernels[TTC_OP_COUNT];

int64_t rt_tensor_elems(const RtTensor *t);

#endif
