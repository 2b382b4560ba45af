/* plan.c: fuzz target for plan files (runtime/PLAN_FORMAT.md), what `ttc run`, `ttc generate`
 * and `ttc profile` read. A plan the reader accepts must serialize to bytes that read back to
 * the same bytes again (a field the writer drops or the reader mangles shows as a difference),
 * must emit as C, and must run: what the validator lets through reaches the runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "fuzz.h"

/* CRC-32/IEEE (PLAN_FORMAT.md), table-driven: computed on every input. */
static uint32_t crc32_of(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) fuzz_fail("cannot open /dev/null");
    TtcPlan p;
    TtcError err = {0};
    TtcStatus st = ttc_plan_parse(&p, data, size, "fuzz.plan", &err);
    fuzz_check_user_error(st, &err, "ttc_plan_parse");
    if (st == TTC_OK) ttc_plan_free(&p);
    /* Nearly every mutation breaks the file's CRC, which would stop it at the first check: the
     * rest of the reader sees the same bytes with the CRC made right. */
    if (size < 20) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) fuzz_fail("out of memory");
    memcpy(fixed, data, size);
    uint32_t crc = crc32_of(fixed, size - 4);
    for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    TtcError err2 = {0};
    st = ttc_plan_parse(&p, fixed, size, "fuzz.plan", &err2);
    free(fixed);
    fuzz_check_user_error(st, &err2, "ttc_plan_parse (CRC fixed)");
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
