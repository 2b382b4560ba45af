/* hf_config.c: fuzz target for Hugging Face config.json (`ttc import-hf`): convert to spec
 * YAML; a conversion that succeeds must give YAML that spec_load accepts (hf_import checks it
 * itself; we load it again so a hole there shows), and a failure must say why. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "hf_import.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) fuzz_fail("cannot open /dev/null");
    char *text = fuzz_cstr(data, size);
    Diags d = {0};
    char *yaml = NULL;
    if (hf_import_string(text, size, "fuzz-model/config.json", &yaml, &d) == 0) {
        if (!yaml) fuzz_fail("hf_import_string succeeded without YAML");
        Diags d2 = {0};
        Spec s;
        if (spec_load_string(&s, yaml, "imported.yaml", &d2) != 0) {
            diag_print(&d2, stderr);
            fuzz_fail("the imported spec does not load:\n%s", yaml);
        }
        spec_free(&s);
        diag_free(&d2);
    } else {
        if (yaml) fuzz_fail("hf_import_string failed but returned YAML");
        if (d.n_errors == 0) fuzz_fail("hf_import_string failed without an error");
    }
    diag_print(&d, sink);
    free(yaml);
    diag_free(&d);
    free(text);
    return 0;
}
