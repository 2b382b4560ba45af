#!/usr/bin/env bash
# cli.sh: the `ttc` command as a user meets it: the documented flows work, and every bad input
# gets a clear error, exit status 1, and no output file.
source "$(dirname "$0")/lib/harness.bash" cli

# --- help and version on every command ---
expect 0 "ttc --help" -- "$TTC" --help
contains "ttc --help" "compile"
expect 0 "ttc --version" -- "$TTC" --version
contains "ttc --version" "ttc 0."
for c in compile run dump-graph passes; do
  expect 0 "ttc $c --help" -- "$TTC" $c --help
  contains "ttc $c --help" "usage: ttc $c"
done
expect 1 "unknown command" -- "$TTC" compiel x
contains "unknown command" "did you mean 'ttc compile'?"
expect 1 "unknown option" -- "$TTC" compile specs/tiny-bert.yaml --sq 4
contains "unknown option" "did you mean '--seq'?"

# --- the main flow ---
expect 0 "compile tiny-bert" -- "$TTC" compile specs/tiny-bert.yaml --batch 2 --seq 16 -o "$tmp/t.plan"
contains "compile summary" "wrote $tmp/t.plan"
expect 0 "run tiny-bert" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "5,6,7,8" --output "$tmp/h.npy" --output-pooled "$tmp/p.npy"
contains "run prints the shape" "hidden  [1, 4, 32]"
contains "run prints timing" "forward"
if head -c 128 "$tmp/h.npy" | grep -qa "'shape': (1, 4, 32)"; then ok; else fail "hidden.npy header shape"; fi
if head -c 128 "$tmp/p.npy" | grep -qa "'shape': (1, 32)"; then ok; else fail "pooled.npy header shape"; fi
expect 0 "check against reference" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "5,6,7,8" --check
contains "check verdict" "every op matches the fp32 reference"

# --- dump-graph ---
expect 0 "dump text" -- "$TTC" dump-graph specs/tiny-bert.yaml --after shape-infer --seq 16
contains "dump shows a shaped q projection" "# layer_0.attention.q [attention]"
contains "dump shows q shape" ": fp32[B,S,32]  # layer_0.attention.q"
first=$out
expect 0 "dump text again" -- "$TTC" dump-graph specs/tiny-bert.yaml --after shape-infer --seq 16
if [ "$first" = "$out" ]; then ok; else fail "text dump is not deterministic"; fi
expect 0 "dump dot" -- "$TTC" dump-graph specs/tiny-bert.yaml -o "$tmp/g.dot"
if command -v dot >/dev/null; then
  expect 0 "dot renders the graph" -- dot -Tsvg "$tmp/g.dot" -o "$tmp/g.svg"
fi
expect 0 "passes" -- "$TTC" passes
contains "passes lists memory-plan" "memory-plan"
expect 1 "unknown pass" -- "$TTC" dump-graph specs/tiny-bert.yaml --after shape-infr
contains "unknown pass" "did you mean 'shape-infer'?"
expect 0 "disable an optional pass" -- "$TTC" compile specs/tiny-bert.yaml --disable-pass verify -o "$tmp/nv.plan"
expect 1 "required pass cannot be disabled" -- "$TTC" compile specs/tiny-bert.yaml --disable-pass memory-plan -o "$tmp/x.plan"
absent "required pass" "$tmp/x.plan"

# --- bad specs: file:line:col, exit 1, no output ---
printf 'spec_version: 1\nmodel: {name: x, type: encoder, vocab_size: 10, max_sequence_length: 8}\nlayers:\n  - id: embedding\n    type: embedding\n    params: {hidden_dim: 8, hiden: 3}\n' > "$tmp/bad.yaml"
expect 1 "unknown spec key" -- "$TTC" compile "$tmp/bad.yaml" -o "$tmp/bad.plan"
contains "unknown spec key location" "bad.yaml:6:"
contains "unknown spec key message" "hiden"
absent "bad spec" "$tmp/bad.plan"
expect 1 "missing spec" -- "$TTC" compile "$tmp/nope.yaml" -o "$tmp/bad.plan"
contains "missing spec" "nope.yaml"
expect 1 "--seq beyond the model" -- "$TTC" compile specs/tiny-bert.yaml --seq 65 -o "$tmp/bad.plan"
contains "--seq beyond the model" "max_sequence_length (64)"
absent "--seq beyond" "$tmp/bad.plan"
expect 1 "bad --batch" -- "$TTC" compile specs/tiny-bert.yaml --batch zero

# --- bad run inputs ---
expect 1 "input longer than --seq" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "$(seq -s, 1 17)" --output "$tmp/o.npy"
contains "input longer than --seq" "at most 16"
absent "input longer" "$tmp/o.npy"
expect 1 "id outside vocab" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "1,128"
contains "id outside vocab" "outside the vocabulary"
expect 1 "bad literal" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "1,x2"
expect 1 "no weights" -- "$TTC" run "$tmp/t.plan" --input-ids "1,2"
contains "no weights" "--random-weights"
expect 1 "missing ids" -- "$TTC" run "$tmp/t.plan" --random-weights 1
expect 1 "weights file missing" -- "$TTC" run "$tmp/t.plan" --weights "$tmp/none.safetensors" --input-ids "1,2"
expect 1 "output into a missing directory" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "1,2" --output "$tmp/no/dir/o.npy"
absent "output into missing dir" "$tmp/no/dir/o.npy"
expect 1 "mask shape mismatch" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "1,2,3" --attention-mask "1,1"
contains "mask shape mismatch" "--attention-mask"

# --- decoders: run, generate, dump the decode entry ---
expect 0 "compile tiny-llama" -- "$TTC" compile specs/tiny-llama.yaml --seq 8 --max-seq 24 -o "$tmp/l.plan"
expect 0 "run a decoder" -- "$TTC" run "$tmp/l.plan" --random-weights 2 --input-ids "1,2,3" --output "$tmp/logits.npy"
contains "decoder logits shape" "logits  [1, 3, 96]"
if head -c 128 "$tmp/logits.npy" | grep -qa "'shape': (1, 3, 96)"; then ok; else fail "logits.npy header shape"; fi
expect 0 "check a decoder (prefill entry only)" -- "$TTC" run "$tmp/l.plan" --random-weights 2 --input-ids "1,2,3" --check
contains "check a decoder" "every op matches the fp32 reference"
expect 0 "greedy generation" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2,3" --max-new-tokens 16
greedy=$(head -1 <<<"$out")
if [ "$(wc -w <<<"$greedy")" -eq 16 ]; then ok; else fail "greedy generation printed '$greedy', not 16 ids"; fi
contains "generate reports speed" "tok/s"
expect 0 "greedy again" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2,3" --max-new-tokens 16
if [ "$(head -1 <<<"$out")" = "$greedy" ]; then ok; else fail "greedy generation is not deterministic"; fi
expect 0 "sampling seed 7" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2,3" --max-new-tokens 16 --temperature 0.8 --top-p 0.9 --seed 7
s7=$(head -1 <<<"$out")
expect 0 "sampling seed 7 again" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2,3" --max-new-tokens 16 --temperature 0.8 --top-p 0.9 --seed 7
if [ "$(head -1 <<<"$out")" = "$s7" ]; then ok; else fail "sampling with one seed is not reproducible"; fi
expect 0 "sampling seed 8" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2,3" --max-new-tokens 16 --temperature 2 --seed 8
if [ "$(head -1 <<<"$out")" != "$s7" ]; then ok; else fail "different seeds gave the same sample"; fi
expect 1 "prompt + new tokens beyond --max-seq" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2,3" --max-new-tokens 22
contains "beyond --max-seq" "--max-seq 25"
expect 1 "prompt longer than --seq" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "$(seq -s, 1 9)" --max-new-tokens 2
contains "prompt longer than --seq" "at most 8"
expect 1 "prompt id outside vocab" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,96" --max-new-tokens 2
expect 1 "top-k without temperature" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2" --max-new-tokens 2 --top-k 5
expect 1 "generate with an encoder plan" -- "$TTC" generate "$tmp/t.plan" --random-weights 2 --prompt-ids "1,2" --max-new-tokens 2
contains "generate with an encoder plan" "encoder plan"
expect 0 "dump decode" -- "$TTC" dump-graph specs/tiny-llama.yaml --seq 8 --max-seq 24 --mode decode
contains "decode entry" "entry decode (seq<=1)"
contains "decode reads the cache" "view-of=@layers.1.v_cache"
expect 1 "--max-seq below --seq" -- "$TTC" compile specs/tiny-llama.yaml --seq 8 --max-seq 4 -o "$tmp/x.plan"
absent "--max-seq below --seq" "$tmp/x.plan"

# --- corrupted plans ---
size=$(stat -c %s "$tmp/t.plan")
head -c $((size / 2)) "$tmp/t.plan" > "$tmp/trunc.plan"
expect 1 "truncated plan" -- "$TTC" run "$tmp/trunc.plan" --random-weights 1 --input-ids "1,2"
contains "truncated plan" "trunc.plan"
cp "$tmp/t.plan" "$tmp/flip.plan"
printf '\x55' | dd of="$tmp/flip.plan" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
expect 1 "corrupted plan" -- "$TTC" run "$tmp/flip.plan" --random-weights 1 --input-ids "1,2"
# neither a plan (no magic) nor a spec: the spec loader says what is wrong, at file:line:col
printf '\x01\x02binary' > "$tmp/junk.bin"
expect 1 "neither plan nor spec" -- "$TTC" run "$tmp/junk.bin" --random-weights 1 --input-ids "1,2"
contains "neither plan nor spec" "junk.bin:1:1: error: invalid YAML"
expect 1 "missing plan or spec" -- "$TTC" run "$tmp/nope.plan" --random-weights 1 --input-ids "1,2"
contains "missing plan or spec" "cannot open '$tmp/nope.plan'"

# --- a spec where a plan goes (compiled in memory; tests/e2e/misfit.sh compares it with a plan) ---
expect 0 "run a spec" -- "$TTC" run specs/tiny-bert.yaml --random-weights 1 --input-ids "1,2"
contains "run a spec" "tiny-bert on wormhole_n150: batch 1, seq 2"
expect 0 "generate from a spec" -- "$TTC" generate specs/tiny-llama.yaml --random-weights 2 --prompt-ids "1,2,3" \
  --max-new-tokens 16 --hw specs/hw/accuracy.yaml
# the KV cache a spec gets is what the command needs, cut to the model's context: the command says the rest
expect 1 "generate from a spec, beyond its context" -- "$TTC" generate specs/tiny-llama.yaml --random-weights 2 \
  --prompt-ids "1,2,3" --max-new-tokens 70
contains "beyond its context" "the prompt (3 tokens) plus --max-new-tokens 70 exceed the plan's KV cache of 64 tokens"
expect 0 "profile a spec near its context" -- "$TTC" profile specs/tiny-llama.yaml --random-weights 2 \
  --input-ids "$(seq -s, 1 60)"
contains "profile near its context" "ran: batch 1, 60 tokens, then 4 decode steps"
expect 1 "compile flags with a plan" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "1,2" --seq 4
contains "compile flags with a plan" "ttc run: --seq applies when compiling a spec, and $tmp/t.plan is a plan"
contains "compile flags: hint" "give the spec instead of the plan"
expect 1 "--hw with a plan" -- "$TTC" generate "$tmp/l.plan" --random-weights 2 --prompt-ids "1,2" \
  --max-new-tokens 2 --hw specs/hw/accuracy.yaml
contains "--hw with a plan" "ttc generate: --hw applies when compiling a spec"
expect 1 "a spec's own errors" -- "$TTC" run specs/tiny-bert.yaml --random-weights 1 --input-ids "1,2" \
  --set ffn.weight_dtpe=bf16
contains "a spec's own errors" "weight_dtpe"

summary
