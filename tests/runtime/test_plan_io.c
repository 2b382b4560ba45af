/* test_plan_io.c: plan files (runtime/plan_io.c, PLAN_FORMAT.md).
 *
 * A small hand-built plan (fixture_plan.c: embeddings, layernorm, one attention core, an FFN
 * up-projection) round-trips through memory and disk; every truncation and byte flip of its file
 * is rejected cleanly; hand-edited files (new version, unknown chunk, huge counts) behave as
 * documented. The validation rules are broken one at a time in test_plan_validate.c. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_plan.h"
#include "plan.h"
#include "unit.h"

/* ================================ round trips ================================ */

static void test_base_plan_is_valid(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    CU_ASSERT_EQUAL(ttc_plan_validate(&p, "base", &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    ttc_plan_free(&p);
    CU_ASSERT_TRUE(plan_is_empty(&p));
    ttc_plan_free(&p); /* twice is harmless */
    TtcPlan zero = {0};
    ttc_plan_free(&zero);
}

static void test_roundtrip_memory(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    CU_ASSERT_EQUAL(memcmp(buf, "TTCPLAN\0", 8), 0);
    CU_ASSERT_EQUAL(get32(buf + 8), TTC_PLAN_VERSION);
    CU_ASSERT_EQUAL(get32(buf + 12), 4);
    CU_ASSERT_EQUAL(get32(buf + len - 4), crc32_ref(buf, len - 4));
    CU_ASSERT_EQUAL(parse(buf, len, &q, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_TRUE(plans_equal(&p, &q));
    /* Writing what was read gives the same bytes: nothing is lost or reinterpreted. */
    CU_ASSERT_EQUAL(ttc_plan_serialize(&q, &buf2, &len2, &e), TTC_OK);
    CU_ASSERT_TRUE(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
    ttc_plan_free(&p);
    ttc_plan_free(&q);
}

/* Device estimates ride in the optional COST chunk: entry totals, and per-op records when the
 * compiler attached them. Both forms round-trip byte for byte. */
static void test_roundtrip_costs(void) {
    for (int per_op = 0; per_op < 2; per_op++) {
        TtcPlan p, q;
        TtcError e = {0};
        make_plan(&p);
        add_costs(&p, per_op);
        uint8_t *buf = NULL, *buf2 = NULL;
        size_t len = 0, len2 = 0;
        CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
        CU_ASSERT_EQUAL(get32(buf + 12), 5);
        uint32_t n = 0;
        size_t at = find_chunk(buf, len, "COST", &n);
        CU_ASSERT_EQUAL(n, 4 + 36 + 4 + (per_op ? BASE_OPS * 40 : 0));
        CU_ASSERT_EQUAL(get32(buf + at + 8), 1); /* one entry point */
        CU_ASSERT_EQUAL(parse(buf, len, &q, &e), TTC_OK);
        if (e.status) ttc_error_print(&e);
        CU_ASSERT_TRUE(plans_equal(&p, &q));
        CU_ASSERT_EQUAL(q.entries[0].clock_khz, 1350000);
        CU_ASSERT_EQUAL(q.entries[0].device_bound, TTC_BOUND_DRAM);
        CU_ASSERT_EQUAL(!!q.op_costs, per_op);
        if (per_op && q.op_costs) CU_ASSERT_EQUAL(q.op_costs[3].cores, 4);
        if (per_op && q.op_costs) CU_ASSERT_EQUAL(q.op_costs[2].bound, TTC_BOUND_ETHERNET);
        CU_ASSERT_EQUAL(ttc_plan_serialize(&q, &buf2, &len2, &e), TTC_OK);
        CU_ASSERT_TRUE(len2 == len && memcmp(buf, buf2, len) == 0);
        free(buf);
        free(buf2);
        ttc_plan_free(&p);
        ttc_plan_free(&q);
    }
    CU_ASSERT_STRING_EQUAL(ttc_bound_name(TTC_BOUND_NOC), "NoC");
    CU_ASSERT_STRING_EQUAL(ttc_bound_name(TTC_BOUND_ETHERNET), "ethernet");
    CU_ASSERT_STRING_EQUAL(ttc_bound_name(4), "?");
}

/* A plan written before the COST chunk existed (or by a compiler that skipped the cost pass)
 * loads with zero estimates and no per-op costs. */
static void test_plans_without_cost_load(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    add_costs(&p, 1);
    uint8_t *buf;
    size_t len, n_old;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "COST", &n);
    uint8_t *old = malloc(len);
    memcpy(old, buf, at); /* everything before COST, then the checksum */
    n_old = at + 4;
    put32(old + 12, 4);
    fix_crc(old, n_old);
    CU_ASSERT_EQUAL(parse(old, n_old, &q, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_PTR_NULL(q.op_costs);
    CU_ASSERT_EQUAL(q.entries[0].device_cycles, 0);
    CU_ASSERT_EQUAL(q.entries[0].clock_khz, 0);
    CU_ASSERT_FALSE(ttc_plan_has_cost(&q));
    ttc_plan_free(&q);
    free(old);
    free(buf);
    ttc_plan_free(&p);
}

/* The record that a plan does not fit (--allow-misfit) rides in the optional MISF chunk: it
 * round-trips byte for byte, a plan that fits has none, and its fields are checked like any. */
static void test_misfit_record(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    CU_ASSERT_EQUAL(get32(buf + 12), 4); /* fits: no MISF chunk */
    CU_ASSERT_PTR_NULL(memmem(buf, len, "MISF", 4));
    free(buf);

    p.n_misfits = 3;
    snprintf(p.misfit, sizeof p.misfit, "model 'x' (prefill): DRAM needs 13.60 GiB per chip, n150 has 12.00 GiB");
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    CU_ASSERT_EQUAL(get32(buf + 12), 5);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "MISF", &n);
    CU_ASSERT_FATAL(at > 0);
    CU_ASSERT_EQUAL(n, 4 + 4 + strlen(p.misfit));
    CU_ASSERT_EQUAL(get32(buf + at + 8), 3);
    CU_ASSERT_EQUAL_FATAL(parse(buf, len, &q, &e), TTC_OK);
    CU_ASSERT_TRUE(plans_equal(&p, &q));
    CU_ASSERT_EQUAL(q.n_misfits, 3);
    CU_ASSERT_STRING_EQUAL(q.misfit, p.misfit);
    CU_ASSERT_EQUAL(ttc_plan_serialize(&q, &buf2, &len2, &e), TTC_OK);
    CU_ASSERT_TRUE(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);
    ttc_plan_free(&q);

    /* a count of 0 is no record at all: refused, as the writer never makes one */
    put32(buf + at + 8, 0);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &q, &e), &e, TTC_E_USER, "plan.bin: chunk MISF",
                               "problem count 0 must be 1..1000000", "misfit count"));
    put32(buf + at + 8, 3);
    /* a problem text longer than the record holds */
    put32(buf + at + 12, 5000);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &q, &e), &e, TTC_E_USER, "plan.bin: chunk MISF",
                               "first problem is 5000 bytes long, at most 1023", "misfit text"));
    /* twice */
    put32(buf + at + 12, (uint32_t)strlen(p.misfit));
    size_t n2;
    uint8_t *twice = splice(buf, len, at, buf + at, 8 + n, &n2);
    put32(twice + 12, 6);
    fix_crc(twice, n2);
    CU_ASSERT_TRUE(failed_with(parse(twice, n2, &q, &e), &e, TTC_E_USER, "plan.bin", "chunk MISF: appears twice",
                               "misfit twice"));
    free(twice);
    free(buf);
    ttc_plan_free(&p);
}

/* COST counts must agree with ENTR and OPS_, whatever order the chunks come in. */
static void test_cost_counts_must_match(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    add_costs(&p, 1);
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "COST", &n);
    /* one op record short: drop the last 40 bytes of the payload */
    uint8_t *shorter = malloc(len);
    size_t end = at + 8 + n;
    memcpy(shorter, buf, end - 40);
    memcpy(shorter + end - 40, buf + end, len - end);
    put32(shorter + at + 4, n - 40);
    put32(shorter + at + 8 + 4 + 36, BASE_OPS - 1);
    fix_crc(shorter, len - 40);
    CU_ASSERT_TRUE(failed_with(parse(shorter, len - 40, &q, &e), &e, TTC_E_USER, "plan.bin: chunk COST",
                               "has 6 op costs, the plan has 7 ops", "cost ops"));
    /* the same without any op record: totals only, which is allowed */
    size_t cut = BASE_OPS * 40;
    memcpy(shorter, buf, end - cut);
    memcpy(shorter + end - cut, buf + end, len - end);
    put32(shorter + at + 4, n - (uint32_t)cut);
    put32(shorter + at + 8 + 4 + 36, 0);
    fix_crc(shorter, len - cut);
    CU_ASSERT_EQUAL(parse(shorter, len - cut, &q, &e), TTC_OK);
    CU_ASSERT_PTR_NULL(q.op_costs);
    CU_ASSERT_EQUAL(q.entries[0].device_cycles, 987654321);
    ttc_plan_free(&q);
    free(shorter);
    /* two entry records for a plan with one entry point */
    uint8_t rec[36] = {0};
    size_t n2;
    uint8_t *longer = splice(buf, len, at + 8 + 4 + 36, rec, sizeof rec, &n2);
    put32(longer + at + 4, n + 36);
    put32(longer + at + 8, 2);
    fix_crc(longer, n2);
    CU_ASSERT_TRUE(failed_with(parse(longer, n2, &q, &e), &e, TTC_E_USER, "plan.bin: chunk COST",
                               "has 2 entry points, the plan has 1", "cost entries"));
    /* COST first: the counts are still checked against the chunks that follow */
    uint8_t *moved = malloc(len);
    memcpy(moved, buf, 16);
    memcpy(moved + 16, buf + at, 8 + n);
    memcpy(moved + 16 + 8 + n, buf + 16, at - 16);
    memcpy(moved + at + 8 + n, buf + at + 8 + n, len - (at + 8 + n));
    fix_crc(moved, len);
    CU_ASSERT_EQUAL(parse(moved, len, &q, &e), TTC_OK);
    CU_ASSERT_TRUE(plans_equal(&p, &q));
    ttc_plan_free(&q);
    free(moved);
    free(longer);
    free(buf);
    ttc_plan_free(&p);
}

/* A plan with no ops has no entry point to run: the loader says so instead of running nothing. */
static void test_empty_plan_rejected(void) {
    TtcPlan p = {0}, q;
    TtcError e = {0};
    snprintf(p.model_name, sizeof p.model_name, "empty");
    p.version = TTC_PLAN_VERSION;
    p.model_type = TTC_MODEL_DECODER;
    p.vocab_size = p.max_batch = p.max_seq = p.max_ctx = 1;
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &q, &e), &e, TTC_E_USER, "plan.bin", "entry count 0 must be 1..4",
                               "empty plan"));
    CU_ASSERT_TRUE(plan_is_empty(&q));
    free(buf);
}

static void test_serialize_refuses_impossible_counts(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    uint8_t *buf = (uint8_t *)&p; /* must be reset to NULL on failure */
    size_t len = 7;
    p.n_ops = -1;
    CU_ASSERT_EQUAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_E_INTERNAL);
    CU_ASSERT_PTR_NULL(buf);
    CU_ASSERT_EQUAL(len, 0);
    p.n_ops = BASE_OPS;
    ttc_plan_free(&p);
}

static int count_temp_files(const char *prefix) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", prefix);
    char *slash = strrchr(dir, '/');
    CU_ASSERT_PTR_NOT_NULL_FATAL(slash);
    *slash = 0;
    const char *base = slash + 1;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *ent; (ent = readdir(d));)
        if (strncmp(ent->d_name, base, strlen(base)) == 0 && strstr(ent->d_name, ".tmp")) n++;
    closedir(d);
    return n;
}

static void test_roundtrip_file(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    const char *path = unit_tmp_path("plan.bin");
    unlink(path);
    CU_ASSERT_EQUAL(ttc_plan_write(&p, path, &e), TTC_OK);
    p.max_batch = 2; /* a second write replaces the first */
    CU_ASSERT_EQUAL(ttc_plan_write(&p, path, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_EQUAL(ttc_plan_read(&q, path, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_TRUE(plans_equal(&p, &q));
    CU_ASSERT_EQUAL(count_temp_files(path), 0);
    ttc_plan_free(&p);
    ttc_plan_free(&q);
    unlink(path);
}

static void test_write_into_missing_directory(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    char path[800];
    snprintf(path, sizeof path, "%s/plan.bin", unit_tmp_path("no-such-dir"));
    TtcStatus st = ttc_plan_write(&p, path, &e);
    CU_ASSERT_TRUE(failed_with(st, &e, TTC_E_USER, NULL, "does not exist", "missing dir"));
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
    CU_ASSERT_NOT_EQUAL(access(unit_tmp_path("no-such-dir"), F_OK), 0);
    ttc_plan_free(&p);
}

static void test_write_over_directory_leaves_nothing(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    const char *dir = unit_tmp_path("a-directory");
    mkdir(dir, 0777);
    TtcStatus st = ttc_plan_write(&p, dir, &e);
    CU_ASSERT_TRUE(failed_with(st, &e, TTC_E_USER, NULL, "directory", "write over dir"));
    struct stat sb;
    CU_ASSERT_TRUE(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
    CU_ASSERT_EQUAL(count_temp_files(dir), 0);
    rmdir(dir);
    ttc_plan_free(&p);
}

static void test_read_errors(void) {
    TtcPlan p;
    TtcError e = {0};
    const char *missing = unit_tmp_path("missing.plan");
    unlink(missing);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, missing, &e), &e, TTC_E_USER, NULL, "missing.plan", "missing"));
    CU_ASSERT_TRUE(strstr(e.msg, "No such file") != NULL);
    CU_ASSERT_TRUE(plan_is_empty(&p));

    const char *dir = unit_tmp_path("dir.plan");
    mkdir(dir, 0777);
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, dir, &e), &e, TTC_E_USER, NULL, "is a directory", "dir"));
    CU_ASSERT_TRUE(e.hint[0] != 0);
    rmdir(dir);

    const char *empty = unit_write_tmp("empty.plan", "", 0);
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, empty, &e), &e, TTC_E_USER, empty, "truncated: 0 bytes", "empty"));
    unlink(empty);

    const char *tiny = unit_write_tmp("tiny.plan", "TTCPL", 5);
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, tiny, &e), &e, TTC_E_USER, tiny, "truncated: 5 bytes", "tiny"));
    unlink(tiny);

    const char *text = "model: x\n"; /* shorter than any plan: still named for what it is */
    const char *yaml = unit_write_tmp("spec.yaml", text, strlen(text));
    ttc_error_clear(&e);
    CU_ASSERT_TRUE(failed_with(ttc_plan_read(&p, yaml, &e), &e, TTC_E_USER, yaml, "not a ttc plan file", "yaml"));
    unlink(yaml);
}

/* ============================ damaged files ============================ */

static void test_every_truncation_fails(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    int bad = 0, exact = 0;
    for (size_t n = 0; n < len; n++) {
        TtcPlan p;
        TtcError e;
        /* a fresh copy of exactly n bytes, so ASan sees any read past the end */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        TtcStatus st = parse(cut, n, &p, &e);
        if (st != TTC_E_USER || !plan_is_empty(&p) || !e.msg[0]) bad++;
        /* Past the fixed header, a cut is named as one, not as a checksum mismatch: with the
         * whole length once the cut is in the last chunk, else with a lower bound. */
        char whole[96], lower[96];
        snprintf(whole, sizeof whole, "plan.bin: truncated: %zu of %zu bytes", n, len);
        snprintf(lower, sizeof lower, "plan.bin: truncated: %zu of at least ", n);
        if (n >= 20 && strstr(e.msg, whole) == NULL && strstr(e.msg, lower) == NULL) {
            fprintf(stderr, "\ncut at %zu: '%s'\n", n, e.msg);
            bad++;
        }
        exact += strstr(e.msg, whole) != NULL;
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(exact > 0); /* cuts inside the last chunk: M is known */
    free(buf);
}

/* The checksum hides truncations from the parser; re-checksumming each cut exposes the parser's
 * own length checks to every boundary. */
static void test_every_truncation_with_valid_checksum_fails(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    int bad = 0;
    for (size_t body = 16; body < len - 4; body++) {
        uint8_t *cut = malloc(body + 4);
        memcpy(cut, buf, body);
        fix_crc(cut, body + 4);
        TtcPlan p;
        TtcError e;
        TtcStatus st = parse(cut, body + 4, &p, &e);
        if (st != TTC_E_USER || !plan_is_empty(&p) || strncmp(e.msg, "plan.bin", 8) != 0) {
            fprintf(stderr, "\nbody %zu: status %d '%s'\n", body, (int)st, e.msg);
            bad++;
        }
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

/* The COST chunk's own length checks, at every boundary. */
static void test_every_cost_truncation_fails(void) {
    TtcPlan p;
    TtcError e = {0};
    make_plan(&p);
    add_costs(&p, 1);
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    ttc_plan_free(&p);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "COST", &n);
    int bad = 0;
    for (uint32_t keep = 0; keep < n; keep++) {
        size_t cut_len = at + 8 + keep + 4;
        uint8_t *cut = malloc(cut_len);
        memcpy(cut, buf, at + 8 + keep);
        put32(cut + at + 4, keep);
        fix_crc(cut, cut_len);
        TtcPlan q;
        TtcStatus st = parse(cut, cut_len, &q, &e);
        /* keep == 44: entry totals and an op count of 7 with no records: refused by the count bound */
        if (st != TTC_E_USER || !plan_is_empty(&q) || !strstr(e.msg, "chunk COST")) {
            fprintf(stderr, "\nkeep %u: status %d '%s'\n", (unsigned)keep, (int)st, e.msg);
            bad++;
        }
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

static void test_every_byte_flip_is_detected(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    int bad = 0;
    for (size_t i = 0; i < len; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            buf[i] ^= masks[m];
            TtcPlan p;
            TtcError e;
            if (parse(buf, len, &p, &e) != TTC_E_USER || !plan_is_empty(&p)) bad++;
            buf[i] ^= masks[m];
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

/* With the checksum recomputed, a flipped byte reaches the parser and the validator: the plan
 * must then either load (e.g. a changed letter in a name) or fail as a user error. */
static void test_byte_flips_past_the_checksum_never_crash(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    static const uint8_t masks[] = {0x01, 0x02, 0x10, 0x80, 0xFF};
    int bad = 0, rejected = 0, total = 0;
    for (size_t i = 0; i < len - 4; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            buf[i] ^= masks[m];
            fix_crc(buf, len);
            TtcPlan p;
            TtcError e;
            TtcStatus st = parse(buf, len, &p, &e);
            if (st == TTC_E_USER) rejected++;
            else if (st != TTC_OK) bad++;
            ttc_plan_free(&p);
            buf[i] ^= masks[m];
            total++;
        }
    /* Random multi-byte damage, from a fixed seed so failures reproduce. */
    uint32_t seed = 12345;
    for (int it = 0; it < 3000; it++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, buf, len);
        for (int k = 0; k < 1 + it % 4; k++) {
            seed = seed * 1664525u + 1013904223u;
            size_t at = (seed >> 8) % (len - 4);
            seed = seed * 1664525u + 1013904223u;
            copy[at] = (uint8_t)(seed >> 24);
        }
        fix_crc(copy, len);
        TtcPlan p;
        TtcError e;
        TtcStatus st = parse(copy, len, &p, &e);
        if (st != TTC_OK && st != TTC_E_USER) bad++;
        ttc_plan_free(&p);
        free(copy);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(rejected > total / 2); /* most structural bytes matter */
    free(buf);
}

static void test_checksum_mismatch(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    buf[len / 2] ^= 0x04;
    TtcPlan p;
    TtcError e;
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin",
                               "plan.bin: corrupted (checksum mismatch", "crc"));
    CU_ASSERT_STRING_EQUAL(e.hint, "recompile with ttc compile");
    free(buf);
}

static void test_bad_magic(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    buf[0] = 'X';
    TtcPlan p;
    TtcError e;
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin", "not a ttc plan file", "magic"));
    CU_ASSERT_TRUE(e.hint[0] != 0);
    free(buf);
}

static void test_newer_version(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    put32(buf + 8, 2);
    fix_crc(buf, len);
    TtcPlan p;
    TtcError e;
    CU_ASSERT_EQUAL(parse(buf, len, &p, &e), TTC_E_USER);
    CU_ASSERT_STRING_EQUAL(e.msg, "plan.bin was written by a newer ttc (format version 2); this ttc reads version 1");
    CU_ASSERT_TRUE(strstr(e.hint, "recompile") != NULL);
    /* the version is read before the checksum, which a newer format may compute differently */
    put32(buf + 8, 7);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, NULL, "newer ttc (format version 7)", "v7"));
    put32(buf + 8, 0);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, NULL, "unsupported format version 0", "v0"));
    free(buf);
}

static void test_unknown_chunks_are_skipped(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    TtcPlan want, got;
    TtcError e;
    make_plan(&want);
    static const uint8_t extra[] = {'X', 'T', 'R', 'A', 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    static const uint8_t empty[] = {'Z', 'Z', 'Z', 'Z', 0, 0, 0, 0};
    /* between META and TENS, and at the very end, and an empty one first */
    size_t at_tens = find_chunk(buf, len, "TENS", NULL);
    size_t n1, n2, n3;
    uint8_t *b1 = splice(buf, len, at_tens, extra, sizeof extra, &n1);
    uint8_t *b2 = splice(b1, n1, n1 - 4, extra, sizeof extra, &n2);
    uint8_t *b3 = splice(b2, n2, 16, empty, sizeof empty, &n3);
    put32(b3 + 12, 7);
    fix_crc(b3, n3);
    CU_ASSERT_EQUAL(parse(b3, n3, &got, &e), TTC_OK);
    if (e.status) ttc_error_print(&e);
    CU_ASSERT_TRUE(plans_equal(&want, &got));
    ttc_plan_free(&got);

    /* an unknown chunk still has to fit in the file */
    put32(b3 + 16 + 4, 1u << 30);
    fix_crc(b3, n3);
    CU_ASSERT_TRUE(failed_with(parse(b3, n3, &got, &e), &e, TTC_E_USER, "plan.bin: chunk ZZZZ",
                               "payload needs 1073741824 bytes", "huge unknown"));
    free(b1);
    free(b2);
    free(b3);
    ttc_plan_free(&want);
    free(buf);
}

static void test_chunk_structure_errors(void) {
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    TtcPlan p;
    TtcError e;
    uint32_t tens_len, meta_len;
    size_t at_tens = find_chunk(buf, len, "TENS", &tens_len);
    size_t at_meta = find_chunk(buf, len, "META", &meta_len);

    /* TENS removed, count lowered to match */
    uint8_t *b = malloc(len);
    size_t n = len - (8 + tens_len);
    memcpy(b, buf, at_tens);
    memcpy(b + at_tens, buf + at_tens + 8 + tens_len, len - at_tens - 8 - tens_len);
    put32(b + 12, 3);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin", "required chunk TENS is missing",
                               "missing TENS"));
    free(b);

    /* META twice */
    b = splice(buf, len, at_meta, buf + at_meta, 8 + meta_len, &n);
    put32(b + 12, 5);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin", "chunk META: appears twice", "dup"));
    free(b);

    /* bytes after the last chunk */
    b = splice(buf, len, len - 4, "abc", 3, &n);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin", "3 bytes between the last", "tail"));
    free(b);

    /* a known chunk longer than its fields */
    b = splice(buf, len, at_meta + 8 + meta_len, "pad!", 4, &n);
    put32(b + at_meta + 4, meta_len + 4);
    fix_crc(b, n);
    CU_ASSERT_TRUE(failed_with(parse(b, n, &p, &e), &e, TTC_E_USER, "plan.bin: chunk META",
                               "4 bytes left over", "meta pad"));
    free(b);

    /* more chunks announced than present */
    put32(buf + 12, 5);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk #4",
                               "chunk header needs 8 bytes", "count"));
    put32(buf + 12, 4);
    fix_crc(buf, len);

    /* tensor count: over the limit, and more than the chunk could hold (nothing allocated) */
    uint32_t real = get32(buf + at_tens + 8);
    put32(buf + at_tens + 8, 1000001);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS",
                               "tensor count is 1000001, at most 1000000", "limit"));
    put32(buf + at_tens + 8, 900000);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS",
                               "tensor count is 900000, but the", "bomb"));
    put32(buf + at_tens + 8, real);

    /* model name length far past the buffer */
    put32(buf + at_meta + 8, 0xFFFFFFF0u);
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk META",
                               "model name is 4294967280 bytes long, at most 159", "name len"));
    free(buf);
}

/* Replaces the first occurrence of `from` with as many bytes of `to` (which may hold a NUL) and
 * fixes the checksum. */
static void patch_text(uint8_t *buf, size_t len, const char *from, const char *to) {
    uint8_t *at = memmem(buf, len, from, strlen(from));
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    memcpy(at, to, strlen(from));
    fix_crc(buf, len);
}

static void test_names_in_the_file(void) {
    TtcPlan p;
    TtcError e;
    uint8_t *buf;
    size_t len;
    serialize_base(&buf, &len);
    patch_text(buf, len, "gelu", "gelx");
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER,
                               "plan.bin: chunk OPS_, op 6 ('layer_0.intermediate.act')", "unknown op 'gelx'", "op"));
    free(buf);

    serialize_base(&buf, &len);
    patch_text(buf, len, "bfp4", "bfp5");
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS, tensor 13 ('ffn_act')",
                               "dtype: unknown dtype 'bfp5'", "dtype"));
    free(buf);

    serialize_base(&buf, &len);
    patch_text(buf, len, "input_ids", "input\0ids");
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &p, &e), &e, TTC_E_USER, "plan.bin: chunk TENS, tensor 0",
                               "name contains a NUL byte", "nul"));
    free(buf);
}

/* SRCE: how the plan was compiled round-trips, every truncation of it fails, and damaged items
 * (a count beyond the limit, an item that is not key=value) are refused with the chunk named. */
static void test_source_chunk(void) {
    TtcPlan p, q;
    TtcError e = {0};
    make_plan(&p);
    CU_ASSERT_EQUAL(ttc_plan_add_source(&p, "spec", "specs/x.yaml"), 0);
    CU_ASSERT_EQUAL(ttc_plan_add_source(&p, "set", "layer_*.ffn.weight_dtype=bfp8"), 0);
    char big[TTC_PLAN_SOURCE_MAX_BYTES + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CU_ASSERT_EQUAL(ttc_plan_add_source(&p, "hw", big), -1); /* beyond the item limit: refused */
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(ttc_plan_serialize(&p, &buf, &len, &e), TTC_OK);
    ttc_plan_free(&p);
    CU_ASSERT_EQUAL_FATAL(parse(buf, len, &q, &e), TTC_OK);
    CU_ASSERT_EQUAL(q.n_source, 2);
    if (q.n_source == 2) {
        CU_ASSERT_STRING_EQUAL(ttc_plan_source_value(&q, 0, "spec"), "specs/x.yaml");
        CU_ASSERT_STRING_EQUAL(ttc_plan_source_value(&q, 1, "set"), "layer_*.ffn.weight_dtype=bfp8");
        CU_ASSERT_PTR_NULL(ttc_plan_source_value(&q, 1, "spec"));
    }
    ttc_plan_free(&q);
    uint32_t n = 0;
    size_t at = find_chunk(buf, len, "SRCE", &n);
    int bad = 0;
    for (uint32_t keep = 0; keep < n; keep++) {
        size_t cut_len = at + 8 + keep + 4;
        uint8_t *cut = malloc(cut_len);
        memcpy(cut, buf, at + 8 + keep);
        put32(cut + at + 4, keep);
        fix_crc(cut, cut_len);
        TtcStatus st = parse(cut, cut_len, &q, &e);
        if (st != TTC_E_USER || !plan_is_empty(&q) || !strstr(e.msg, "chunk SRCE")) {
            fprintf(stderr, "\nkeep %u: status %d '%s'\n", (unsigned)keep, (int)st, e.msg);
            bad++;
        }
        free(cut);
    }
    CU_ASSERT_EQUAL(bad, 0);
    put32(buf + at + 8, 1u << 30); /* the item count */
    fix_crc(buf, len);
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &q, &e), &e, TTC_E_USER, "plan.bin: chunk SRCE", "item count 1073741824",
                               "count"));
    put32(buf + at + 8, 2);
    patch_text(buf, len, "spec=", "spec:");
    CU_ASSERT_TRUE(failed_with(parse(buf, len, &q, &e), &e, TTC_E_USER, "plan.bin: chunk SRCE, item 0",
                               "is not of the form key=value", "key=value"));
    free(buf);
}

static CU_TestInfo roundtrip_tests[] = {
    {"base plan is valid", test_base_plan_is_valid},
    {"serialize -> parse is identical", test_roundtrip_memory},
    {"device estimates (COST) round-trip", test_roundtrip_costs},
    {"plans without COST load", test_plans_without_cost_load},
    {"COST counts must match the plan", test_cost_counts_must_match},
    {"the misfit record (MISF) round-trips and is checked", test_misfit_record},
    {"a plan without ops is rejected", test_empty_plan_rejected},
    {"serialize refuses impossible counts", test_serialize_refuses_impossible_counts},
    {"write -> read is identical", test_roundtrip_file},
    {"write into a missing directory", test_write_into_missing_directory},
    {"write over a directory leaves nothing", test_write_over_directory_leaves_nothing},
    {"read errors", test_read_errors},
    {"how the plan was compiled (SRCE)", test_source_chunk},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo damage_tests[] = {
    {"every truncation fails", test_every_truncation_fails},
    {"every truncation with a valid checksum fails", test_every_truncation_with_valid_checksum_fails},
    {"every COST truncation fails", test_every_cost_truncation_fails},
    {"every byte flip is detected", test_every_byte_flip_is_detected},
    {"byte flips past the checksum never crash", test_byte_flips_past_the_checksum_never_crash},
    {"checksum mismatch", test_checksum_mismatch},
    {"bad magic", test_bad_magic},
    {"newer format version", test_newer_version},
    {"unknown chunks are skipped", test_unknown_chunks_are_skipped},
    {"chunk structure errors", test_chunk_structure_errors},
    {"op and dtype names in the file", test_names_in_the_file},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"plan_io round trips", NULL, NULL, NULL, NULL, roundtrip_tests},
    {"plan_io damaged files", NULL, NULL, NULL, NULL, damage_tests},
    CU_SUITE_INFO_NULL,
};

int main(void) { return unit_main(suites); }
