/* safetensors.c: fuzz target for safetensors files (`--weights`): the header (JSON, dtypes,
 * shapes, offsets) and the data. The bytes go through a temp file (the reader maps its file);
 * every entry the header lists must be found by name, and the float ones are converted. Then
 * the same file is loaded as the weights of a tiny decoder plan (name matching, prefixes, shape
 * checks, per-chip slicing and the device-format conversion), whose seed is in the corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "fuzz.h"
#include "safetensors.h"
#include "ttc_runtime.h"

/* The plan of fuzz_weights_spec, serialized once (each run reads its own copy back). */
static uint8_t *plan_bytes;
static size_t plan_len;

static void compile_once(void) {
    if (plan_bytes) return;
    const char *spec = fuzz_write_tmp("weights-spec.yaml", fuzz_weights_spec, strlen(fuzz_weights_spec));
    CompileOptions o;
    compile_options_init(&o);
    o.spec = spec;
    o.seq = 4;
    TtcPlan p;
    TtcError err = {0};
    if (compile_spec_to_plan(&o, &p, stderr) != 0) fuzz_fail("the weights target's spec does not compile");
    if (ttc_plan_serialize(&p, &plan_bytes, &plan_len, &err)) fuzz_fail("serializing: %s", err.msg);
    ttc_plan_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    compile_once();
    const char *path = fuzz_write_tmp("in.safetensors", data, size);
    TtcSafetensors st;
    TtcError err = {0};
    TtcStatus rc = ttc_st_open(&st, path, &err);
    fuzz_check_user_error(rc, &err, "ttc_st_open");
    if (rc == TTC_OK) {
        for (int32_t i = 0; i < st.n; i++) {
            const TtcStEntry *e = &st.entries[i];
            if (ttc_st_find(&st, e->name) != e) fuzz_fail("entry '%s' is not found by its name", e->name);
            int64_t n = ttc_st_numel(e);
            if (n < 0 || (size_t)n > size) continue; /* only float entries are read; those fit in the file */
            float *dst = malloc((size_t)(n ? n : 1) * sizeof *dst);
            if (!dst) fuzz_fail("out of memory");
            TtcError e2 = {0};
            fuzz_check_user_error(ttc_st_read_f32(&st, e, dst, &e2), &e2, "ttc_st_read_f32");
            free(dst);
        }
        ttc_st_close(&st);
    }

    TtcPlan p;
    if (ttc_plan_parse(&p, plan_bytes, plan_len, "fuzz-weights.plan", &err)) fuzz_fail("plan: %s", err.msg);
    TtcModel m;
    ttc_model_from_plan(&m, &p);
    TtcError e3 = {0};
    fuzz_check_user_error(ttc_model_load_weights(&m, path, size % 2, &e3), &e3, "ttc_model_load_weights");
    ttc_model_close(&m);
    return 0;
}
