/* fixture_plan.h: the hand-built plan and byte-level helpers the plan-file tests share
 * (test_plan_io.c: round trips and damaged files; test_plan_validate.c: each rule broken once). */
#ifndef TTC_FIXTURE_PLAN_H
#define TTC_FIXTURE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* The base plan: B=2, S=T=8, H=16, V=32, FFN 32, 2 heads of 8. */
#define DC(n) ((TtcDim){TTC_SYM_NONE, (n)})
#define DB ((TtcDim){TTC_SYM_BATCH, 2})
#define DS ((TtcDim){TTC_SYM_SEQ, 8})
#define DT ((TtcDim){TTC_SYM_CTX, 8})
#define BASE_TENSORS 14
#define BASE_OPS 7
#define BASE_ARENA 9344

/* Building the plan: one tensor / op in place; the whole base plan (room for 2 more of each). */
void set_tensor(TtcPlan *p, int i, const char *name, int kind, int dtype, int role, int init, int64_t offset, int rank,
                TtcDim d0, TtcDim d1, TtcDim d2, TtcDim d3);
TtcOpDesc *set_op(TtcPlan *p, int k, int kind, const char *path, int n_in, int i0, int i1, int i2, int out,
                  TtcOpConfig cfg);
void make_plan(TtcPlan *p);
void add_costs(TtcPlan *p, int per_op);
/* Field-by-field comparison (prints the first difference). */
int plans_equal(const TtcPlan *a, const TtcPlan *b);
int plan_is_empty(const TtcPlan *p);
/* st/err is a failure of class `want` whose message contains `phrase` (and starts with `prefix`). */
int failed_with(TtcStatus st, const TtcError *e, TtcStatus want, const char *prefix, const char *phrase,
                const char *label);
/* Byte-level helpers for hand-edited files. */
uint32_t crc32_ref(const uint8_t *p, size_t n);
uint32_t get32(const uint8_t *p);
void put32(uint8_t *p, uint32_t v);
void fix_crc(uint8_t *buf, size_t len);
void serialize_base(uint8_t **buf, size_t *len);
size_t find_chunk(const uint8_t *buf, size_t len, const char *tag, uint32_t *payload_len);
uint8_t *splice(const uint8_t *buf, size_t len, size_t at, const void *ins, size_t n, size_t *out_len);
TtcStatus parse(const uint8_t *buf, size_t len, TtcPlan *p, TtcError *e);

#endif
