/* weight_prep.h: turns loaded fp32 weights into what the emulated device holds, once, at load
 * (DESIGN.md §6: never per call): each weight is rounded to its device format, and a kernel may
 * keep extra prepared data per weight (m->prep[t]) that reaches it through RtOpArgs.prep. */
#ifndef TTC_WEIGHT_PREP_H
#define TTC_WEIGHT_PREP_H

#include "ttc_runtime.h"

/* Called by the weight loaders after every weight has its fp32 values in m->weights. */
TtcStatus rt_prepare_weights(TtcModel *m, TtcError *err);
/* What the kernel of chip `chip` receives as RtOpArgs.prep for weight t: the one preparation of
 * an unstacked weight (any chip), chip c's of a weight stacked per chip; NULL when none. */
const void *rt_weight_prep_of(const TtcModel *m, int t, int chip);
/* The same for one weight (the loaders prepare each weight as soon as it is built). */
TtcStatus rt_prepare_weight(TtcModel *m, int t, TtcError *err);
/* Frees weight t's fp32 values when its kernels read only its preparation (LINEAR weights): the
 * model then holds each matmul weight once, in its device format. The loaders call it right
 * after preparing, so the fp32 values of a whole model never coexist; the reference path keeps
 * its own fp32 copy (keep_fp32). */
void rt_release_prepared_source(TtcModel *m, int t);
/* Frees m->prep and everything in it; safe when nothing was prepared. */
void rt_free_prepared(TtcModel *m);

#endif
