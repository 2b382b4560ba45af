/* plan.c: fuzz target for plan files (runtime/PLAN_FORMAT.md), what `ttc run`, `ttc generate`
 * and `ttc profile` read. A plan the reader accepts must serialize to bytes that read back to
 * the same bytes again (a field the writer drops or the reader mangles shows as a difference),
 * must emit as C, and must run: what the validator lets through reaches the runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) fuzz_fail("cannot open /dev/null");
    TtcPlan p;
    TtcError err = {0};
    TtcStatus st = ttc_plan_parse(&p, data, size, "fuzz.plan", &err);
    fuzz_check_user_error(st, &err, "ttc_plan_parse");
    if (st) return 0;

    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    TtcPlan q;
    if (ttc_plan_serialize(&p, &b1, &n1, &err)) fuzz_fail("serializing an accepted plan failed: %s", err.msg);
    if (ttc_plan_parse(&q, b1, n1, "reserialized", &err)) fuzz_fail("a reserialized plan does not read: %s", err.msg);
    if (ttc_plan_serialize(&q, &b2, &n2, &err)) fuzz_fail("serializing the reread plan failed: %s", err.msg);
    if (n1 != n2 || memcmp(b1, b2, n1) != 0) fuzz_fail("plan round trip changed the bytes (%zu -> %zu)", n1, n2);
    free(b1);
    free(b2);
    ttc_plan_free(&q);

    /* C emission of an accepted plan: it may refuse an op form it has no call for (an internal
     * error), but never crash or leak. */
    TtcError ce = {0};
    CgCOptions co = {0};
    (void)cg_c_write(&p, &co, sink, &ce);

    int64_t batch = 1 + (size ? data[size - 1] % 2 : 0), seq = size > 1 ? 1 + data[size - 2] % 8 : 1;
    fuzz_run_plan(&p, 1, batch, seq, 2, data, size, 0);
    return 0;
}
