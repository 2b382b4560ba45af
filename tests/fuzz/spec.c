/* spec.c: fuzz target for ArchitectureSpec YAML (spec_load, DESIGN.md §3): parse and validate,
 * then print every diagnostic (their source excerpts and carets read the text again). A spec
 * that fails must say why: at least one error. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) fuzz_fail("cannot open /dev/null");
    char *text = fuzz_cstr(data, size);
    Diags d = {0};
    Spec s;
    int rc = spec_load_string(&s, text, "fuzz-spec.yaml", &d);
    if (rc == 0) spec_free(&s);
    else if (d.n_errors == 0) fuzz_fail("spec_load_string failed without an error");
    diag_print(&d, sink);
    diag_free(&d);
    free(text);
    return 0;
}
