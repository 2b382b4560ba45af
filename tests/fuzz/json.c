/* json.c: fuzz target for the JSON pull parser (runtime/json_mini.c) the safetensors header and
 * the config.json importer are read with: walk any document the way those readers do, reading
 * every value with the call its first byte asks for (objects and arrays member by member), then
 * ttc_json_finish. Parsing stops at the first error, which must be a user error with a message;
 * the same text is also skipped whole with ttc_json_skip, and both walks must agree. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json_mini.h"

/* The walk refuses nesting deeper than this itself (its recursion is ours, not the parser's);
 * ttc_json_skip has a lower limit of its own, so documents it refuses as too deep are not
 * compared. */
enum { MAX_DEPTH = 200 };

static TtcStatus walk(TtcJson *j, int depth) {
    if (depth > MAX_DEPTH) return ttc_json_fail(j, "nested too deeply for the fuzz walk");
    char *s;
    int64_t i;
    double x;
    int b, r;
    switch (ttc_json_peek(j)) {
    case '{':
        if (ttc_json_object_begin(j)) return TTC_E_USER;
        while ((r = ttc_json_object_next(j, &s)) == 1) {
            free(s);
            if (walk(j, depth + 1)) return TTC_E_USER;
        }
        return r < 0 ? TTC_E_USER : TTC_OK;
    case '[':
        if (ttc_json_array_begin(j)) return TTC_E_USER;
        while ((r = ttc_json_array_next(j)) == 1)
            if (walk(j, depth + 1)) return TTC_E_USER;
        return r < 0 ? TTC_E_USER : TTC_OK;
    case '"':
        if (ttc_json_string(j, &s)) return TTC_E_USER;
        free(s);
        return TTC_OK;
    case 't':
    case 'f':
        return ttc_json_bool(j, &b);
    case 'n':
        return ttc_json_null(j);
    default: {
        /* A number: as an integer when it is one, else as a double (both calls on a copy of
         * the parser state, so each sees the same text). */
        TtcJson k = *j;
        TtcError scratch = {0};
        k.err = &scratch;
        if (ttc_json_int64(&k, &i) == TTC_OK) {
            j->pos = k.pos;
            j->first = k.first;
            return TTC_OK;
        }
        return ttc_json_double(j, &x);
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    TtcError e1 = {0}, e2 = {0};
    TtcJson j1, j2;
    TtcStatus s1 = ttc_json_init(&j1, text, size, "fuzz.json", &e1);
    if (!s1) s1 = walk(&j1, 0);
    if (!s1) s1 = ttc_json_finish(&j1);
    fuzz_check_user_error(s1, &e1, "walk");
    TtcStatus s2 = ttc_json_init(&j2, text, size, "fuzz.json", &e2);
    if (!s2) s2 = ttc_json_skip(&j2);
    if (!s2) s2 = ttc_json_finish(&j2);
    fuzz_check_user_error(s2, &e2, "skip");
    /* Syntax is the same for both walks; the walk also converts, and refuses numbers beyond a
     * double or an int64 where it asked for one (documented), which skipping does not. */
    int too_deep = s2 && strstr(e2.msg, "nested deeper") != NULL;
    int conversion = s1 && !s2 && strstr(e1.msg, "out of range") != NULL;
    if (!too_deep && !conversion && (s1 == TTC_OK) != (s2 == TTC_OK))
        fuzz_fail("walk %s but skip %s: %s%s", s1 ? "failed" : "passed", s2 ? "failed" : "passed", e1.msg, e2.msg);
    free(text);
    return 0;
}
