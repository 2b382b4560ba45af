/* profile.c: host timings per op, the tables and bottlenecks `ttc profile` prints, and its
 * trace file (profile.h). Suggestions come from profile_advice.c. */
#include "profile.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"

TtcStatus ttc_profile_init(TtcProfile *pf, const TtcPlan *p, int samples_per_op, TtcError *err) {
    memset(pf, 0, sizeof *pf);
    pf->plan = p;
    pf->per_op_cost = p->op_costs != NULL;
    pf->cap = samples_per_op > 0 ? samples_per_op : 1;
    size_t n = (size_t)p->n_ops + 1;
    pf->samples = calloc(n * (size_t)pf->cap, sizeof *pf->samples);
    pf->n_samples = calloc(n, sizeof *pf->n_samples);
    pf->host_ms = calloc(n, sizeof *pf->host_ms);
    if (!pf->samples || !pf->n_samples || !pf->host_ms) {
        ttc_profile_free(pf);
        return ttc_fail(err, TTC_E_INTERNAL, "out of memory for %d ops x %d timings", p->n_ops, samples_per_op);
    }
    return TTC_OK;
}

void ttc_profile_on_op(void *user, int op, const RtTensor *out, double ms) {
    TtcProfile *pf = user;
    (void)out;
    if (op < 0 || op >= pf->plan->n_ops || pf->n_samples[op] >= pf->cap) return;
    pf->samples[(size_t)op * (size_t)pf->cap + (size_t)pf->n_samples[op]++] = ms;
}

static int entry_of(const TtcPlan *p, int k) {
    for (int e = 0; e < p->n_entries; e++)
        if (k >= p->entries[e].first_op && k < p->entries[e].first_op + p->entries[e].n_ops) return e;
    return -1;
}

void ttc_profile_finish(TtcProfile *pf) {
    const TtcPlan *p = pf->plan;
    for (int k = 0; k < p->n_ops; k++) {
        int n = pf->n_samples[k], e = entry_of(p, k);
        if (n == 0 || e < 0) continue;
        double *v = pf->samples + (size_t)k * (size_t)pf->cap;
        ttc_sort_doubles(v, (size_t)n);
        pf->host_ms[k] = v[n / 2];
        pf->ran[e] = 1;
        if (n > pf->runs[e]) pf->runs[e] = n;
    }
}

void ttc_profile_free(TtcProfile *pf) {
    free(pf->samples);
    free(pf->n_samples);
    free(pf->host_ms);
    memset(pf, 0, sizeof *pf);
}

/* ---- names ---- */

/* Whether a path component is a repeated layer's id: it ends in "_<digits>". */
static int repeated_component(const char *c, size_t len, size_t *digits_at) {
    size_t i = len;
    while (i > 0 && isdigit((unsigned char)c[i - 1])) i--;
    if (i == len || i < 2 || c[i - 1] != '_') return 0;
    *digits_at = i;
    return 1;
}

void ttc_profile_module(const char *op_path, char *buf, size_t n) {
    const char *first_dot = strchr(op_path, '.'), *last_dot = strrchr(op_path, '.');
    size_t at;
    if (!last_dot || (first_dot == last_dot && repeated_component(op_path, (size_t)(first_dot - op_path), &at))) {
        snprintf(buf, n, "%s", op_path);
        return;
    }
    snprintf(buf, n, "%.*s", (int)(last_dot - op_path), op_path);
}

void ttc_profile_pattern(const char *path, char *buf, size_t n) {
    size_t o = 0;
    if (n == 0) return;
    for (const char *c = path; *c && o + 1 < n;) {
        const char *end = strchr(c, '.');
        size_t len = end ? (size_t)(end - c) : strlen(c), at;
        size_t keep = repeated_component(c, len, &at) ? at : len;
        for (size_t i = 0; i < keep && o + 1 < n; i++) buf[o++] = c[i];
        if (keep < len && o + 1 < n) buf[o++] = '*';
        if (!end) break;
        if (o + 1 < n) buf[o++] = '.';
        c = end + 1;
    }
    buf[o] = 0;
}

double ttc_profile_device_us(const TtcPlan *p, int e, int64_t cycles) {
    int64_t khz = p->entries[e].clock_khz;
    return khz > 0 ? (double)cycles * 1e3 / (double)khz : 0;
}

static int has_weight(const TtcOpDesc *op) { return op->kind == TTC_OP_LINEAR || op->kind == TTC_OP_EMBEDDING; }

void ttc_profile_config_str(const TtcPlan *p, int k, char *buf, size_t n) {
    const TtcOpDesc *op = &p->ops[k];
    static const char *const fid[] = {"LoFi", "HiFi2", "HiFi3", "HiFi4"};
    int matmul = op->kind == TTC_OP_LINEAR || op->kind == TTC_OP_ATTN_SCORES || op->kind == TTC_OP_ATTN_CONTEXT ||
                 op->kind == TTC_OP_ATTENTION;
    int w = op->kind == TTC_OP_LINEAR ? op->in[1] : op->kind == TTC_OP_EMBEDDING ? op->in[1] : -1;
    char wpart[32] = "";
    if (has_weight(op) && w >= 0 && w < p->n_tensors)
        snprintf(wpart, sizeof wpart, " w=%s", ttc_dtype_name((TtcDType)p->tensors[w].dtype));
    snprintf(buf, n, "a=%s%s%s%s%s %s", ttc_dtype_name((TtcDType)op->cfg.act_dtype), wpart, matmul ? " " : "",
             matmul ? fid[op->cfg.fidelity & 3] : "", matmul && op->cfg.fp32_acc ? " fp32acc" : "",
             op->cfg.memory == TTC_MEM_L1 ? "l1" : "dram");
}

/* ---- tables ---- */

typedef struct Row {
    char name[TTC_NAME_MAX];
    int op;          /* the op (op table), or the heaviest op of the group */
    int n;           /* ops in the row */
    int64_t cycles;  /* device estimate */
    double host_ms;  /* sum of per-op medians */
    int64_t by_bound[TTC_BOUND_COUNT];
} Row;

static int row_bound(const Row *r) {
    int b = 0;
    for (int i = 1; i < TTC_BOUND_COUNT; i++)
        if (r->by_bound[i] > r->by_bound[b]) b = i;
    return b;
}

static int by_cost(const void *a, const void *b) {
    const Row *x = a, *y = b;
    if (x->cycles != y->cycles) return x->cycles > y->cycles ? -1 : 1;
    if (x->host_ms != y->host_ms) return x->host_ms > y->host_ms ? -1 : 1;
    return x->op - y->op;
}

typedef enum { GROUP_OP, GROUP_MODULE, GROUP_PATTERN, GROUP_KIND } GroupBy;

/* The rows of entry e grouped by `by`, sorted by device time (host time without estimates). */
static Row *group_rows(const TtcProfile *pf, int e, GroupBy by, int *n_rows) {
    const TtcPlan *p = pf->plan;
    const TtcEntry *en = &p->entries[e];
    Row *rows = calloc((size_t)en->n_ops + 1, sizeof *rows);
    int n = 0;
    if (!rows) return NULL;
    for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
        char key[TTC_NAME_MAX], module[TTC_NAME_MAX];
        switch (by) {
        case GROUP_OP: snprintf(key, sizeof key, "%s", p->ops[k].path); break;
        case GROUP_MODULE: ttc_profile_module(p->ops[k].path, key, sizeof key); break;
        case GROUP_PATTERN:
            ttc_profile_module(p->ops[k].path, module, sizeof module);
            ttc_profile_pattern(module, key, sizeof key);
            break;
        case GROUP_KIND: snprintf(key, sizeof key, "%s", ttc_op_name((TtcOpKind)p->ops[k].kind)); break;
        }
        int r = 0;
        if (by != GROUP_OP)
            while (r < n && strcmp(rows[r].name, key) != 0) r++;
        else
            r = n;
        if (r == n) {
            memset(&rows[n], 0, sizeof rows[n]);
            snprintf(rows[n].name, sizeof rows[n].name, "%s", key);
            rows[n++].op = k;
        }
        int64_t c = pf->per_op_cost ? p->op_costs[k].cycles : 0;
        if (pf->per_op_cost) {
            rows[r].by_bound[p->op_costs[k].bound % TTC_BOUND_COUNT] += c;
            if (c > p->op_costs[rows[r].op].cycles) rows[r].op = k;
        }
        rows[r].cycles += c;
        rows[r].host_ms += pf->host_ms[k];
        rows[r].n++;
    }
    qsort(rows, (size_t)n, sizeof *rows, by_cost);
    *n_rows = n;
    return rows;
}

typedef struct Totals {
    int64_t cycles;
    double host_ms;
} Totals;

static void print_row(FILE *f, const TtcProfile *pf, int e, const Totals *t, const Row *r, GroupBy by, int more) {
    const TtcPlan *p = pf->plan;
    double hshare = t->host_ms > 0 ? 100.0 * r->host_ms / t->host_ms : 0;
    if (pf->per_op_cost)
        fprintf(f, "  %10.2f %6.1f%% %10lld %-8s", ttc_profile_device_us(p, e, r->cycles),
                t->cycles > 0 ? 100.0 * (double)r->cycles / (double)t->cycles : 0, (long long)r->cycles,
                more ? "-" : ttc_bound_name(row_bound(r)));
    else
        fprintf(f, "  %10s %7s %10s %-8s", "-", "-", "-", "-");
    fprintf(f, " %10.1f %6.1f%%", r->host_ms * 1e3, hshare);
    if (more) {
        fprintf(f, "  (%d more %s)\n", r->n, by == GROUP_OP ? "ops" : by == GROUP_KIND ? "kinds" : "modules");
        return;
    }
    if (by == GROUP_OP) {
        char cfg[96];
        ttc_profile_config_str(p, r->op, cfg, sizeof cfg);
        fprintf(f, "  %-13s %-36s %s\n", ttc_op_name((TtcOpKind)p->ops[r->op].kind), r->name, cfg);
    } else {
        fprintf(f, "  %5d  %s\n", r->n, r->name);
    }
}

static void print_table(FILE *f, const TtcProfile *pf, int e, const Totals *t, GroupBy by, int top) {
    static const char *const titles[] = {"ops", "modules", "modules across layers", "op kinds"};
    static const char *const last[] = {"kind          path                                 config", "  ops  module",
                                       "  ops  module pattern", "  ops  kind"};
    int n;
    Row *rows = group_rows(pf, e, by, &n);
    if (!rows) {
        fprintf(f, "(out of memory)\n");
        return;
    }
    fprintf(f, "\n%s by %s time (%s):\n", titles[by], pf->per_op_cost ? "device" : "host", pf->plan->entries[e].name);
    fprintf(f, "  %10s %7s %10s %-8s %10s %7s  %s\n", "device us", "share", "cycles", "bound", "host us", "share",
            last[by]);
    int shown = top > 0 && top < n ? top : n;
    for (int i = 0; i < shown; i++) print_row(f, pf, e, t, &rows[i], by, 0);
    if (shown < n) {
        Row rest;
        memset(&rest, 0, sizeof rest);
        for (int i = shown; i < n; i++) {
            rest.cycles += rows[i].cycles;
            rest.host_ms += rows[i].host_ms;
        }
        rest.n = n - shown;
        print_row(f, pf, e, t, &rest, by, 1);
    }
    free(rows);
}

/* ---- bottlenecks ---- */

typedef struct Finding {
    TtcSuggestion s;
    int has_change;
    int n, op; /* ops, the heaviest */
    int64_t cycles;
    char names[96]; /* distinct last path components, "up, gate, down" */
} Finding;

static void add_name(char *names, size_t cap, const char *path) {
    const char *last = strrchr(path, '.');
    last = last ? last + 1 : path;
    size_t len = strlen(last);
    for (const char *c = names; (c = strstr(c, last)) != NULL; c++)
        if ((c == names || c[-1] == ' ') && (c[len] == ',' || c[len] == 0)) return;
    size_t used = strlen(names);
    if (used + len + 3 >= cap) return;
    snprintf(names + used, cap - used, "%s%s", used ? ", " : "", last);
}

/* The change of x and the fewer-chips alternatives, each checked (pf->check) before it is shown. */
static void print_finding(FILE *f, const TtcProfile *pf, int e, int i, const Finding *x, int64_t total) {
    const TtcPlan *p = pf->plan;
    const TtcOpDesc *op = &p->ops[x->op];
    const TtcOpCost *c = &p->op_costs[x->op];
    fprintf(f, "  %d. %s: %.1f%% of device time (%d op%s: %s; heaviest %s, %s %s-bound)\n", i, x->s.module,
            total > 0 ? 100.0 * (double)x->cycles / (double)total : 0, x->n, x->n == 1 ? "" : "s", x->names, op->path,
            ttc_op_name((TtcOpKind)op->kind), ttc_bound_name(c->bound));
    if (!x->has_change) {
        fprintf(f, "     no config change: %s\n", x->s.why);
        return;
    }
    if (!pf->check) return; /* nothing unchecked is suggested; the caller says why */
    char effect[256];
    int glob = strchr(x->s.module, '*') != NULL;
    if (pf->check(pf->check_user, p, e, &x->s, NULL, effect, sizeof effect) == 1) {
        fprintf(f, "     try %s: %s   --set %s%s.%s=%s%s\n", x->s.key, x->s.value, glob ? "'" : "", x->s.module,
                x->s.key, x->s.value, glob ? "'" : "");
        fprintf(f, "       effect: %s\n", effect);
        fprintf(f, "       overlay: modules: {%s%s%s: {%s: %s}}", glob ? "\"" : "", x->s.module, glob ? "\"" : "",
                x->s.key, x->s.value);
        size_t ml = strlen(x->s.module);
        if (strcmp(x->s.key, "weight_dtype") == 0 && strcmp(x->s.value, "bfp8") == 0 && ml >= 4 &&
            strcmp(x->s.module + ml - 4, ".ffn") == 0)
            fprintf(f, " (or --hw specs/hw/performance.yaml: bfp8 + LoFi for every ffn)");
        fprintf(f, "\n       why: %s\n", x->s.why);
        if (x->s.caveat[0]) fprintf(f, "       caveat: %s\n", x->s.caveat);
    } else if (pf->verbose) {
        fprintf(f, "     dropped %s: %s (--set %s.%s=%s): %s\n", x->s.key, x->s.value, x->s.module, x->s.key,
                x->s.value, effect);
    } else {
        fprintf(f, "     no config change found that lowers the estimate (--verbose: what was tried)\n");
    }
    for (int d = 0; d < 2 && x->s.devices[d][0]; d++) {
        if (pf->check(pf->check_user, p, e, &x->s, x->s.devices[d], effect, sizeof effect) == 1)
            fprintf(f, "       or fewer chips, in an overlay: device: %s (%s)\n", x->s.devices[d], effect);
        else if (pf->verbose)
            fprintf(f, "       dropped device: %s: %s\n", x->s.devices[d], effect);
    }
}

/* Findings: the entry's ops grouped by (module across layers, suggested change), heaviest first. */
static void print_bottlenecks(FILE *f, const TtcProfile *pf, int e, const Totals *t, int n_show) {
    const TtcPlan *p = pf->plan;
    const TtcEntry *en = &p->entries[e];
    fprintf(f, "\nbottlenecks (%s):\n", en->name);
    if (!pf->per_op_cost) {
        fprintf(f, "  device estimates are unavailable, so there are no config suggestions: the modules above are "
                   "ranked by host time\n");
        return;
    }
    Finding *v = calloc((size_t)en->n_ops + 1, sizeof *v);
    if (!v) {
        fprintf(f, "  (out of memory)\n");
        return;
    }
    int n = 0;
    for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
        Finding x;
        memset(&x, 0, sizeof x);
        x.has_change = ttc_profile_suggest(p, k, &x.s);
        int i = 0;
        while (i < n && !(strcmp(v[i].s.module, x.s.module) == 0 && v[i].has_change == x.has_change &&
                          strcmp(v[i].s.key, x.s.key) == 0 && strcmp(v[i].s.value, x.s.value) == 0))
            i++;
        if (i == n) {
            v[n] = x;
            v[n++].op = k;
        }
        int64_t c = p->op_costs[k].cycles;
        if (c > p->op_costs[v[i].op].cycles) {
            v[i].op = k;
            snprintf(v[i].s.why, sizeof v[i].s.why, "%s", x.s.why); /* the heaviest op's figures */
        }
        v[i].cycles += c;
        v[i].n++;
        add_name(v[i].names, sizeof v[i].names, p->ops[k].path);
    }
    for (int i = 1; i < n; i++) /* insertion sort by cycles: a few dozen findings */
        for (int j = i; j > 0 && v[j].cycles > v[j - 1].cycles; j--) {
            Finding tmp = v[j];
            v[j] = v[j - 1];
            v[j - 1] = tmp;
        }
    for (int i = 0; i < n && i < n_show; i++) print_finding(f, pf, e, i + 1, &v[i], t->cycles);
    free(v);
}

/* Modules whose host share is far above their device share: the emulator's cost, not the device's. */
static void print_emulation_notes(FILE *f, const TtcProfile *pf, int e, const Totals *t) {
    if (!pf->per_op_cost || t->host_ms <= 0 || t->cycles <= 0) return;
    int n;
    Row *rows = group_rows(pf, e, GROUP_PATTERN, &n);
    if (!rows) return;
    for (int i = 0; i < n; i++) {
        double h = rows[i].host_ms / t->host_ms, d = (double)rows[i].cycles / (double)t->cycles;
        if (h >= 0.10 && h >= 3 * d)
            fprintf(f, "  note: %s takes %.1f%% of host time but %.1f%% of device time: that is emulation cost (data "
                       "formats and fidelity emulated on the host), not a device bottleneck\n",
                    rows[i].name, 100 * h, 100 * d);
    }
    free(rows);
}

void ttc_profile_report(FILE *f, const TtcProfile *pf, int e, int top, int n_bottlenecks) {
    const TtcPlan *p = pf->plan;
    const TtcEntry *en = &p->entries[e];
    Totals t = {0, 0};
    for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
        if (pf->per_op_cost) t.cycles += p->op_costs[k].cycles;
        t.host_ms += pf->host_ms[k];
    }
    fprintf(f, "\n== %s: %d ops ==\n", en->name, en->n_ops);
    if (pf->per_op_cost)
        fprintf(f, "device total: %lld cycles, %.2f us at %.3f GHz (estimated at the plan's bounds), %s-bound\n",
                (long long)t.cycles, ttc_profile_device_us(p, e, t.cycles), (double)en->clock_khz / 1e6,
                ttc_bound_name(en->device_bound));
    else if (en->clock_khz > 0)
        fprintf(f, "device total: %lld cycles, %.2f us (no per-op estimates in this plan), %s-bound\n",
                (long long)en->device_cycles, ttc_profile_device_us(p, e, en->device_cycles),
                ttc_bound_name(en->device_bound));
    fprintf(f, "host total: %.3f ms (sum of per-op medians over %d %s%s)\n", t.host_ms, pf->runs[e],
            en->mode == 1 ? "step" : "run", pf->runs[e] == 1 ? "" : "s");
    print_table(f, pf, e, &t, GROUP_OP, top);
    print_table(f, pf, e, &t, GROUP_MODULE, top);
    print_table(f, pf, e, &t, GROUP_PATTERN, top);
    print_table(f, pf, e, &t, GROUP_KIND, top);
    print_bottlenecks(f, pf, e, &t, n_bottlenecks);
    print_emulation_notes(f, pf, e, &t);
}

/* ---- trace ---- */

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void trace_event(FILE *f, const TtcProfile *pf, int k, int tid, double ts, double dur, int *first) {
    const TtcPlan *p = pf->plan;
    const TtcOpDesc *op = &p->ops[k];
    char cfg[96];
    ttc_profile_config_str(p, k, cfg, sizeof cfg);
    fprintf(f, "%s\n{\"name\":", *first ? "" : ",");
    *first = 0;
    json_str(f, op->path);
    fprintf(f, ",\"cat\":");
    json_str(f, p->entries[entry_of(p, k)].name);
    fprintf(f, ",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"op\":%d,\"kind\":", tid, ts,
            dur, k);
    json_str(f, ttc_op_name((TtcOpKind)op->kind));
    if (pf->per_op_cost)
        fprintf(f, ",\"bound\":\"%s\",\"cycles\":%lld", ttc_bound_name(p->op_costs[k].bound),
                (long long)p->op_costs[k].cycles);
    fprintf(f, ",\"config\":");
    json_str(f, cfg);
    fprintf(f, "}}");
}

TtcStatus ttc_profile_write_trace(const TtcProfile *pf, const char *path, TtcError *err) {
    const TtcPlan *p = pf->plan;
    TtcAtomicFile af;
    if (ttc_atomic_open(&af, path, err) != TTC_OK) return err->status;
    FILE *f = af.f;
    int first = 1;
    fprintf(f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    static const char *const tracks[] = {"", "device (estimated)", "host (median)"};
    for (int tid = pf->per_op_cost ? 1 : 2; tid <= 2; tid++) {
        fprintf(f, "%s\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"%s\"}}",
                first ? "" : ",", tid, tracks[tid]);
        first = 0;
    }
    double ts_dev = 0, ts_host = 0;
    for (int e = 0; e < p->n_entries; e++) {
        if (!pf->ran[e]) continue;
        const TtcEntry *en = &p->entries[e];
        for (int k = en->first_op; k < en->first_op + en->n_ops; k++) {
            if (pf->per_op_cost) {
                double d = ttc_profile_device_us(p, e, p->op_costs[k].cycles);
                trace_event(f, pf, k, 1, ts_dev, d, &first);
                ts_dev += d;
            }
            double h = pf->host_ms[k] * 1e3;
            trace_event(f, pf, k, 2, ts_host, h, &first);
            ts_host += h;
        }
    }
    fprintf(f, "\n]}\n");
    return ttc_atomic_commit(&af, err);
}
