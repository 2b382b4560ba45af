#!/usr/bin/env bash
# fuse_dumps.sh: `ttc dump-graph --after fuse` shows the fused ops. Each tests/passes/fuse/*.yaml
# is a spec whose comment header gives the command's extra arguments (# ARGS:), lines the dump
# must contain (# CHECK: fixed text) and must not (# CHECK-NOT:), derived by hand from the spec.
# Also: `ttc compile --disable-pass fuse` still works, and --verbose logs one line per rewrite.
source "$(dirname "$0")/lib/harness.bash" fuse_dumps

for spec in tests/passes/fuse/*.yaml; do
  name=$(basename "$spec" .yaml)
  args=$(sed -n 's/^# ARGS: //p' "$spec")
  # shellcheck disable=SC2086
  expect 0 "$name: dump-graph --after fuse" -- "$TTC" dump-graph "$spec" --after fuse $args
  while IFS= read -r line; do contains "$name" "$line"; done < <(sed -n 's/^# CHECK: //p' "$spec")
  while IFS= read -r line; do lacks "$name" "$line"; done < <(sed -n 's/^# CHECK-NOT: //p' "$spec")
done

# The pass is optional: an unfused plan compiles and runs; --verbose names every rewrite.
expect 0 "compile --disable-pass fuse" -- "$TTC" compile specs/tiny-bert.yaml --seq 16 --disable-pass fuse -o "$tmp/unfused.plan"
present "unfused plan" "$tmp/unfused.plan"
expect 0 "run the unfused plan" -- "$TTC" run "$tmp/unfused.plan" --random-weights 1 --input-ids "101,5,6,102"
expect 0 "compile --verbose" -- "$TTC" compile specs/tiny-llama.yaml --seq 8 --max-seq 16 --verbose -o "$tmp/fused.plan"
contains "verbose: attention" "fuse (prefill) attention     layer_0.attention.scores + layer_0.attention.softmax + layer_0.attention.context -> attention layer_0.attention.sdpa"
contains "verbose: qkv" "fuse (decode) qkv           layer_1.attention.q + k + v -> linear layer_1.attention.qkv [32|16|16 rows], rope on q and k in its epilogue"
contains "verbose: epilogue" "fuse (prefill) epilogue      layer_0.ffn.gate + layer_0.ffn.act -> linear layer_0.ffn.gate with a silu epilogue"
contains "verbose: summary" "fuse: 4 attention, 4 qkv, 4 epilogue, 0 residual+norm fusions"

summary
