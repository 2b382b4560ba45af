/* overlay.c: fuzz target for hardware-config overlays (hw_version: 1, DESIGN.md §4): apply the
 * overlay, resolve every field for modules of every type in both modes (the precedence rules
 * and globs run on the fuzzed patterns), check for unused patterns, and print the diagnostics. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "hw.h"

/* Module paths like a lowered two-layer model's, one per module type of hw_module_types. */
static const char *const paths[] = {"embedding", "layer_0.attention", "layer_1.ffn", "layer_1.norm_1", "pooler",
                                    "lm_head"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) fuzz_fail("cannot open /dev/null");
    char *text = fuzz_cstr(data, size);
    Diags d = {0};
    HwConfig c;
    if (hw_config_init(&c, &d) != 0) fuzz_fail("hw_config_init failed (is the device directory there?)");
    if (hw_config_load_string(&c, text, "fuzz-overlay.yaml", &d) == 0) {
        for (int i = 0; i < 6; i++)
            for (int mode = HW_MODE_PREFILL; mode <= HW_MODE_DECODE; mode++) {
                HwResolved r;
                TtcOpConfig cfg;
                hw_resolve(&c, paths[i], hw_module_types[i], mode, &r);
                hw_resolved_to_op_config(&r, &cfg);
                for (int f = 0; f < HW_FIELD_COUNT; f++)
                    if (!hw_value_name(f, r.v[f])) fuzz_fail("field %s resolved to a value without a name", hw_field_key(f));
            }
        hw_check_unused(&c, paths, hw_module_types, 6, &d);
    } else if (d.n_errors == 0) {
        fuzz_fail("hw_config_load_string failed without an error");
    }
    diag_print(&d, sink);
    hw_config_free(&c);
    diag_free(&d);
    free(text);
    return 0;
}
