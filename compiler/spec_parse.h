/* spec_parse.h: private to spec_load.c (document, model, layer list, cross-layer checks,
 * repeat expansion) and spec_layers.c (the params of each layer type). */
#ifndef TTC_SPEC_PARSE_H
#define TTC_SPEC_PARSE_H

#include "spec.h"
#include "yaml_util.h"

#include "spec_limits.h" /* the upper bound of every size: one table */

typedef struct SpecParse {
    YamluDoc *y;
    Diags *d;
    int model_type;     /* SpecModelType, or -1 when model.type is missing or bad */
    int64_t vocab_size; /* 0 when unknown */
} SpecParse;

/* One entry of `layers:` as written, before `repeat` expansion. */
typedef struct SpecEntry {
    SpecLayer t;     /* parsed values; t.id is the id as written ("layer_{i}") */
    char *ctx;       /* "layer 'layer_{i}'" (or "layer #3" without an id), for messages */
    int64_t repeat;  /* 0 when not given */
    int has_type;    /* t.type is valid */
    int n_errors;    /* errors reported while parsing this entry */
    DiagLoc loc, id_loc, repeat_loc;
    /* Where the dims that cross-layer checks compare were written (line 0 when absent). */
    DiagLoc hidden_loc, in_loc, out_loc, tied_loc;
} SpecEntry;

extern const char *const spec_layer_type_names[5]; /* indexed by SpecLayerType */

/* Parses `params:` of an entry whose type is known, applies the defaults, and checks the
 * rules that concern this layer alone (heads divide, eps > 0, ...). */
void spec_parse_params(SpecParse *p, SpecEntry *e, yaml_node_t *params);

/* yamlu_int in [min, the row's max]; a value past the max gets the row's hint. 0 ok, -1 on error. */
int spec_limited_int(SpecParse *p, yaml_node_t *v, const char *ctx, const char *key, int64_t min, SpecLimitId id,
                     int64_t *out);

#endif
