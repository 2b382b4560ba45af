/* hf_import.h: `ttc import-hf`: a Hugging Face config.json turned into an ArchitectureSpec
 * (DESIGN.md §3, spec_version: 1) that `ttc compile` accepts.
 *
 * Reads model_type bert (encoder) and llama, mistral, qwen2 (decoders). Keys the spec has no
 * meaning for (dropout, initializer_range, torch_dtype, ...) are ignored; keys that change the
 * math in a way the spec cannot express yet (mlp_bias, logit soft-capping, yarn RoPE scaling,
 * mixture of experts, ...) are errors naming the key, so a converted spec is never silently
 * wrong. Optional keys that are absent take the Hugging Face config class's default. */
#ifndef TTC_HF_IMPORT_H
#define TTC_HF_IMPORT_H

#include <stddef.h>

#include "diag.h"

/* Converts the text of a config.json (len bytes, followed by a NUL byte) to spec YAML.
 * `file` names the config in diagnostics and in the YAML's header comment; its directory names
 * the model when the config has no `_name_or_path`. Returns 0 with *yaml malloc'ed, or -1 with
 * every problem found reported to `d` (in the DESIGN.md §7 shape, at the JSON key's line:col)
 * and *yaml NULL. The YAML is checked with spec_load before it is returned. */
int hf_import_string(const char *text, size_t len, const char *file, char **yaml, Diags *d);
/* The same, reading the file at `path`. */
int hf_import_file(const char *path, char **yaml, Diags *d);

#endif
