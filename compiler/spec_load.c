/* spec_load.c: the ArchitectureSpec loader (DESIGN.md §3, spec_version: 1): the document, the
 * model block, the layer list, the rules between layers, and `repeat` expansion. The params
 * of each layer type are parsed in spec_layers.c. Every problem is reported; nothing stops at
 * the first one except a spec_version this ttc does not read. */
#include <stdlib.h>
#include <string.h>

#include "spec_parse.h"

/* ---- model ---- */

/* model: {name: NAME, type: encoder|decoder, vocab_size: V, max_sequence_length: S, eos_token_id?: E} */
static void spec_parse_model(Spec *s, SpecParse *p, yaml_node_t *m) {
    static const char *const keys[] = {"name", "type", "vocab_size", "max_sequence_length", "eos_token_id"};
    static const char *const types[] = {"encoder", "decoder"};
    YamluDoc *y = p->y;
    if (yamlu_expect_map(y, m, NULL, "model") < 0) return;
    yamlu_check_keys(y, m, keys, 5, "model");
    yaml_node_t *v;
    if ((v = yamlu_require(y, m, "name", "model"))) yamlu_string(y, v, "model", "name", &s->name);
    int type = -1;
    if ((v = yamlu_require(y, m, "type", "model")) && yamlu_enum(y, v, "model", "type", "model type", types, 2, &type) == 0)
        s->type = type;
    p->model_type = type;
    if ((v = yamlu_require(y, m, "vocab_size", "model")) &&
        spec_limited_int(p, v, "model", "vocab_size", 1, SPEC_LIMIT_VOCAB, &s->vocab_size) == 0)
        p->vocab_size = s->vocab_size;
    if ((v = yamlu_require(y, m, "max_sequence_length", "model")))
        spec_limited_int(p, v, "model", "max_sequence_length", 1, SPEC_LIMIT_SEQ, &s->max_sequence_length);
    if ((v = yamlu_get(y, m, "eos_token_id", NULL)) &&
        yamlu_int(y, v, "model", "eos_token_id", 0, INT64_MAX, &s->eos_token_id) == 0 && p->vocab_size > 0 &&
        s->eos_token_id >= p->vocab_size) {
        Diag *dg = diag_error(p->d, yamlu_loc(y, v), "model: eos_token_id (%lld) must be less than vocab_size (%lld)",
                              (long long)s->eos_token_id, (long long)p->vocab_size);
        diag_hint(dg, "token ids index the embedding table, which has vocab_size rows");
    }
}

/* ---- one entry of layers: ---- */

/* Number of `{i}` placeholders in a layer id, or -1 when the id has characters that cannot
 * appear in a module path (module paths join ids with '.'). */
static int spec_id_placeholders(const char *id) {
    int n = 0;
    for (const char *c = id; *c; c++) {
        if (strncmp(c, "{i}", 3) == 0) {
            n++;
            c += 2;
        } else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_')) {
            return -1;
        }
    }
    return n;
}

/* - id: NAME            letters, digits, '_'; `{i}` stands for the copy number under repeat
 *   repeat?: N          N copies: layer_{i} -> layer_0 .. layer_{N-1}
 *   type: embedding|transformer|pooler|norm|linear
 *   params: {...}       per type, see spec_layers.c */
static void spec_parse_entry(SpecParse *p, yaml_node_t *m, int index, SpecEntry *e) {
    static const char *const keys[] = {"id", "repeat", "type", "params"};
    YamluDoc *y = p->y;
    int before = p->d->n_errors;
    e->loc = yamlu_loc(y, m);
    e->t.loc = e->loc;
    e->ctx = yamlu_printf("layer #%d", index + 1);
    if (yamlu_expect_map(y, m, NULL, e->ctx) < 0) goto done;

    yaml_node_t *v = yamlu_get(y, m, "id", NULL);
    int placeholders = 0;
    if (v && yamlu_string(y, v, e->ctx, "id", &e->t.id) == 0) {
        e->id_loc = yamlu_loc(y, v);
        free(e->ctx);
        e->ctx = yamlu_printf("layer '%s'", e->t.id);
        placeholders = spec_id_placeholders(e->t.id);
        if (placeholders < 0) {
            Diag *dg = diag_error(p->d, e->id_loc, "%s: the id may only contain letters, digits, '_' and '{i}'", e->ctx);
            diag_hint(dg, "ids become module paths such as layer_3.attention, so '.' and spaces are not allowed");
        }
    } else if (!v) {
        yamlu_require(y, m, "id", e->ctx);
    }
    yamlu_check_keys(y, m, keys, 4, e->ctx);

    if ((v = yamlu_get(y, m, "repeat", NULL))) {
        e->repeat_loc = yamlu_loc(y, v);
        spec_limited_int(p, v, e->ctx, "repeat", 1, SPEC_LIMIT_REPEAT, &e->repeat);
    }
    if (e->repeat > 0 && placeholders == 0 && e->t.id) {
        Diag *dg = diag_error(p->d, e->repeat_loc, "%s: repeat needs '{i}' in the id to name each copy", e->ctx);
        diag_hint(dg, "write the id as %s_{i}", e->t.id);
    }
    if (placeholders > 0 && !yamlu_get(y, m, "repeat", NULL)) {
        Diag *dg = diag_error(p->d, e->id_loc, "%s: '{i}' in the id needs repeat", e->ctx);
        diag_hint(dg, "add repeat: N for N copies, or remove '{i}' from the id");
    }

    int type = 0;
    if ((v = yamlu_require(y, m, "type", e->ctx)) &&
        yamlu_enum(y, v, e->ctx, "type", "layer type", spec_layer_type_names, 5, &type) == 0) {
        e->t.type = type;
        e->has_type = 1;
    }
    if (e->has_type && e->repeat > 1 && (type == SPEC_LAYER_EMBEDDING || type == SPEC_LAYER_POOLER)) {
        diag_error(p->d, e->repeat_loc, "%s: %s layers cannot be repeated", e->ctx, spec_layer_type_names[type]);
    }
    /* Without a type there is no way to know which params are right: skip them. */
    if (e->has_type && (v = yamlu_require(y, m, "params", e->ctx))) spec_parse_params(p, e, v);
done:
    e->n_errors = p->d->n_errors - before;
}

/* ---- rules between layers ---- */

/* The width a layer reads and the width it writes (0 when unknown or when it has no input). */
static int64_t spec_in_dim(const SpecEntry *e) {
    switch (e->t.type) {
    case SPEC_LAYER_EMBEDDING: return 0;
    case SPEC_LAYER_LINEAR: return e->t.input_dim;
    default: return e->t.hidden_dim;
    }
}

static int64_t spec_out_dim(const SpecEntry *e) { return e->t.type == SPEC_LAYER_LINEAR ? e->t.output_dim : e->t.hidden_dim; }

static void spec_check_order(SpecParse *p, SpecEntry *es, int n) {
    for (int i = 0; i < n; i++) {
        SpecEntry *e = &es[i];
        if (!e->has_type) continue;
        if (i == 0 && e->t.type != SPEC_LAYER_EMBEDDING) {
            Diag *dg = diag_error(p->d, e->loc, "the first layer must be an embedding layer, but %s is a %s layer",
                                  e->ctx, spec_layer_type_names[e->t.type]);
            diag_hint(dg, "token ids enter the model through an embedding: put a layer with type: embedding first");
        } else if (i > 0 && e->t.type == SPEC_LAYER_EMBEDDING) {
            Diag *dg = diag_error(p->d, e->loc, "%s: embedding layers must come first", e->ctx);
            diag_hint(dg, "move it to the top of layers:");
        }
        if (e->t.type == SPEC_LAYER_POOLER && p->model_type == SPEC_DECODER) {
            Diag *dg = diag_error(p->d, e->loc, "%s: pooler layers belong to encoder models, this model is a decoder",
                                  e->ctx);
            diag_hint(dg, "remove the pooler, or set model.type: encoder");
        }
    }
}

/* Consecutive layers must agree on the width of the hidden state; norm layers without a
 * hidden_dim take the width of the layer before. */
static void spec_check_dims(SpecParse *p, SpecEntry *es, int n) {
    const SpecEntry *prev = NULL;
    int64_t prev_out = 0;
    for (int i = 0; i < n; i++) {
        SpecEntry *e = &es[i];
        if (!e->has_type) {
            prev = NULL;
            continue;
        }
        if (e->t.type == SPEC_LAYER_NORM && e->t.hidden_dim == 0) e->t.hidden_dim = prev_out;
        int64_t in = spec_in_dim(e);
        if (prev && prev_out > 0 && in > 0 && in != prev_out) {
            int linear = e->t.type == SPEC_LAYER_LINEAR;
            Diag *dg = diag_error(p->d, linear ? e->in_loc : e->hidden_loc,
                                  "%s: %s (%lld) does not match the output of %s (%lld)", e->ctx,
                                  linear ? "input_dim" : "hidden_dim", (long long)in, prev->ctx, (long long)prev_out);
            diag_hint(dg, "consecutive layers must agree on the hidden width");
        }
        prev = e;
        prev_out = spec_out_dim(e);
    }
}

/* tied_to names an embedding layer whose [vocab_size, hidden_dim] table the head reuses. */
static void spec_check_tied(SpecParse *p, SpecEntry *es, int n) {
    for (int i = 0; i < n; i++) {
        SpecEntry *e = &es[i];
        if (!e->has_type || e->t.type != SPEC_LAYER_LINEAR || !e->t.tied_to) continue;
        const SpecEntry *target = NULL;
        const char **embeddings = yamlu_alloc(sizeof *embeddings * (size_t)n);
        int n_emb = 0;
        for (int j = 0; j < n; j++) {
            if (es[j].t.id && strcmp(es[j].t.id, e->t.tied_to) == 0) target = &es[j];
            if (es[j].has_type && es[j].t.type == SPEC_LAYER_EMBEDDING && es[j].t.id) embeddings[n_emb++] = es[j].t.id;
        }
        if (!target || !target->has_type || target->t.type != SPEC_LAYER_EMBEDDING) {
            Diag *dg = target && target->has_type
                           ? diag_error(p->d, e->tied_loc, "%s: tied_to '%s' is a %s layer, not an embedding", e->ctx,
                                        e->t.tied_to, spec_layer_type_names[target->t.type])
                           : diag_error(p->d, e->tied_loc, "%s: tied_to '%s' names no embedding layer", e->ctx,
                                        e->t.tied_to);
            const char *close = diag_closest(e->t.tied_to, embeddings, n_emb);
            if (close)
                diag_hint(dg, "did you mean '%s'?", close);
            else if (n_emb > 0)
                diag_hint(dg, "tie the head to an embedding layer, e.g. tied_to: %s", embeddings[0]);
        } else {
            if (target->t.hidden_dim > 0 && e->t.input_dim > 0 && e->t.input_dim != target->t.hidden_dim) {
                Diag *dg = diag_error(p->d, e->in_loc, "%s: input_dim (%lld) must equal the hidden_dim (%lld) of tied embedding '%s'",
                                      e->ctx, (long long)e->t.input_dim, (long long)target->t.hidden_dim, target->t.id);
                diag_hint(dg, "a tied head multiplies by the transposed [vocab_size, hidden_dim] table");
            }
            if (p->vocab_size > 0 && e->t.output_dim > 0 && e->t.output_dim != p->vocab_size) {
                Diag *dg = diag_error(p->d, e->out_loc, "%s: output_dim (%lld) must equal vocab_size (%lld) to reuse the table of '%s'",
                                      e->ctx, (long long)e->t.output_dim, (long long)p->vocab_size, target->t.id);
                diag_hint(dg, "set output_dim: %lld", (long long)p->vocab_size);
            }
        }
        free(embeddings);
    }
}

/* Decoders produce logits over the vocabulary (DESIGN.md §2): the last layer must be a linear
 * layer with vocab_size outputs. */
static void spec_check_decoder_head(SpecParse *p, SpecEntry *es, int n) {
    if (p->model_type != SPEC_DECODER || n == 0 || p->vocab_size <= 0) return;
    const SpecEntry *last = &es[n - 1];
    if (!last->has_type) return;
    if (last->t.type != SPEC_LAYER_LINEAR) {
        Diag *dg = diag_error(p->d, last->loc, "a decoder must end with a linear layer producing vocab_size (%lld) logits; %s is a %s layer",
                              (long long)p->vocab_size, last->ctx, spec_layer_type_names[last->t.type]);
        diag_hint(dg, "add - {id: lm_head, type: linear, params: {input_dim: H, output_dim: %lld, tied_to: embedding}}",
                  (long long)p->vocab_size);
    } else if (last->t.output_dim > 0 && last->t.output_dim != p->vocab_size) {
        Diag *dg = diag_error(p->d, last->out_loc, "%s: a decoder's last layer must produce vocab_size (%lld) logits, got output_dim %lld",
                              last->ctx, (long long)p->vocab_size, (long long)last->t.output_dim);
        diag_hint(dg, "set output_dim: %lld", (long long)p->vocab_size);
    }
}

/* ---- repeat expansion and unique ids ---- */

/* `id` with every "{i}" replaced by the decimal copy number. */
static char *spec_expand_id(const char *id, int64_t i) {
    char num[24];
    int nl = snprintf(num, sizeof num, "%lld", (long long)i);
    size_t cap = strlen(id) + 1;
    for (const char *c = strstr(id, "{i}"); c; c = strstr(c + 3, "{i}")) cap += (size_t)nl;
    char *out = yamlu_alloc(cap), *o = out;
    for (const char *c = id; *c;) {
        if (strncmp(c, "{i}", 3) == 0) {
            memcpy(o, num, (size_t)nl);
            o += nl;
            c += 3;
        } else {
            *o++ = *c++;
        }
    }
    *o = 0;
    return out;
}

static int spec_expand(Spec *s, SpecParse *p, SpecEntry *es, int n) {
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += es[i].repeat > 0 ? es[i].repeat : 1;
    if (total > spec_limit_max(SPEC_LIMIT_LAYERS)) {
        Diag *dg = diag_error(p->d, es[0].loc, "the layers expand to %lld layers; ttc accepts at most %lld",
                              (long long)total, (long long)spec_limit_max(SPEC_LIMIT_LAYERS));
        diag_hint(dg, "%s", spec_limit_hint(SPEC_LIMIT_LAYERS));
        return -1;
    }
    s->layers = yamlu_alloc(sizeof *s->layers * (size_t)total);
    for (int i = 0; i < n; i++) {
        if (!es[i].t.id) continue;
        int64_t copies = es[i].repeat > 0 ? es[i].repeat : 1;
        for (int64_t k = 0; k < copies; k++) {
            SpecLayer *L = &s->layers[s->n_layers++];
            *L = es[i].t;
            L->id = es[i].repeat > 0 ? spec_expand_id(es[i].t.id, k) : yamlu_strdup(es[i].t.id);
            L->index = es[i].repeat > 0 ? (int)k : 0;
            L->tied_to = yamlu_strdup(es[i].t.tied_to);
        }
    }
    return 0;
}

typedef struct SpecIdRef {
    const char *id;
    int entry;
} SpecIdRef;

static int spec_idref_cmp(const void *a, const void *b) {
    const SpecIdRef *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : x->entry - y->entry;
}

/* Ids must be unique after expansion. Sorting finds collisions in n log n; each pair of
 * entries that collide is reported once, not once per copy. */
static void spec_check_unique(Spec *s, SpecParse *p, SpecEntry *es, int n) {
    SpecIdRef *refs = yamlu_alloc(sizeof *refs * (size_t)(s->n_layers + 1));
    int at = 0;
    for (int i = 0; i < n; i++) {
        if (!es[i].t.id) continue;
        int64_t copies = es[i].repeat > 0 ? es[i].repeat : 1;
        for (int64_t k = 0; k < copies; k++, at++) refs[at] = (SpecIdRef){s->layers[at].id, i};
    }
    qsort(refs, (size_t)at, sizeof *refs, spec_idref_cmp);
    int *reported = yamlu_alloc(sizeof(int) * (size_t)(2 * n + 2)), n_reported = 0;
    for (int i = 1; i < at; i++) {
        if (strcmp(refs[i].id, refs[i - 1].id) != 0) continue;
        int first = refs[i - 1].entry, later = refs[i].entry;
        int seen = 0;
        for (int r = 0; r < n_reported && !seen; r++) seen = reported[2 * r] == first && reported[2 * r + 1] == later;
        if (seen || n_reported > n) continue;
        reported[2 * n_reported] = first;
        reported[2 * n_reported + 1] = later;
        n_reported++;
        Diag *dg = diag_error(p->d, es[later].id_loc, "duplicate layer id '%s'", refs[i].id);
        if (first == later)
            diag_hint(dg, "the copies of %s collide", es[later].ctx);
        else
            diag_hint(dg, "%s at line %d already has this id", es[first].ctx, es[first].id_loc.line);
    }
    free(reported);
    free(refs);
}

/* ---- the document ---- */

/* layers: [LAYER, ...]   (at least one; see spec_parse_entry) */
static void spec_parse_layers(Spec *s, SpecParse *p, yaml_node_t *list) {
    YamluDoc *y = p->y;
    if (yamlu_expect_seq(y, list, NULL, "layers") < 0) return;
    int n = yamlu_seq_len(list);
    if (n == 0) {
        Diag *dg = diag_error(p->d, yamlu_loc(y, list), "layers must not be empty");
        diag_hint(dg, "a model needs at least an embedding layer");
        return;
    }
    SpecEntry *es = yamlu_alloc(sizeof *es * (size_t)n);
    for (int i = 0; i < n; i++) spec_parse_entry(p, yamlu_seq_item(y, list, i), i, &es[i]);
    spec_check_order(p, es, n);
    spec_check_dims(p, es, n);
    spec_check_tied(p, es, n);
    spec_check_decoder_head(p, es, n);
    if (spec_expand(s, p, es, n) == 0) spec_check_unique(s, p, es, n);
    for (int i = 0; i < n; i++) {
        free(es[i].t.id);
        free(es[i].t.tied_to);
        free(es[i].ctx);
    }
    free(es);
}

/* spec_version: 1
 * model: {...}
 * layers: [...] */
static void spec_parse_doc(Spec *s, SpecParse *p) {
    static const char *const keys[] = {"spec_version", "model", "layers"};
    YamluDoc *y = p->y;
    yaml_node_t *root = yamlu_root(y);
    if (!root) {
        Diag *dg = diag_error(p->d, (DiagLoc){y->file, 0, 0}, "the spec is empty");
        diag_hint(dg, "a spec starts with spec_version: 1, then model: and layers:");
        return;
    }
    if (!yamlu_is_map(root)) {
        diag_error(p->d, yamlu_loc(y, root), "a spec must be a mapping with spec_version, model and layers, got %s",
                   yamlu_kind_name(root));
        return;
    }
    yaml_node_t *v = yamlu_get(y, root, "spec_version", NULL);
    int64_t version = 0;
    if (!v) {
        Diag *dg = diag_error(p->d, yamlu_loc(y, root), "missing required key 'spec_version' in the spec");
        diag_hint(dg, "add spec_version: 1 as the first line");
    } else if (yamlu_int(y, v, NULL, "spec_version", 0, INT64_MAX, &version) < 0) {
        return;
    } else if (version != 1) {
        /* Other versions may mean other things by the same keys: checking them as version 1
         * would only bury this error under noise. */
        Diag *dg = diag_error(p->d, yamlu_loc(y, v), "spec_version %lld is not supported", (long long)version);
        diag_hint(dg, "this ttc reads spec_version 1");
        return;
    }
    yamlu_check_keys(y, root, keys, 3, "the spec");
    yaml_node_t *model = yamlu_require(y, root, "model", "the spec");
    if (model) spec_parse_model(s, p, model);
    yaml_node_t *layers = yamlu_require(y, root, "layers", "the spec");
    if (layers) spec_parse_layers(s, p, layers);
}

/* `before`: the error count before the YAML was read, so syntax errors count too. */
static int spec_load_doc(Spec *s, YamluDoc *y, const char *path, Diags *d, int loaded, int before) {
    memset(s, 0, sizeof *s);
    s->eos_token_id = -1;
    s->file = yamlu_strdup(path);
    if (loaded == 0) {
        SpecParse p = {y, d, -1, 0};
        spec_parse_doc(s, &p);
    }
    yamlu_free(y);
    if (d->n_errors != before) {
        spec_free(s);
        return -1;
    }
    return 0;
}

int spec_load(Spec *s, const char *path, Diags *d) {
    YamluDoc y;
    int before = d->n_errors;
    int rc = yamlu_load_file(&y, path, d);
    return spec_load_doc(s, &y, path, d, rc, before);
}

int spec_load_string(Spec *s, const char *text, const char *name, Diags *d) {
    YamluDoc y;
    if (!name) name = "<string>";
    int before = d->n_errors;
    int rc = yamlu_load_string(&y, text, name, d);
    return spec_load_doc(s, &y, name, d, rc, before);
}

void spec_free(Spec *s) {
    if (!s) return;
    for (int i = 0; i < s->n_layers; i++) {
        free(s->layers[i].id);
        free(s->layers[i].tied_to);
    }
    free(s->layers);
    free(s->name);
    free(s->file);
    memset(s, 0, sizeof *s);
}
