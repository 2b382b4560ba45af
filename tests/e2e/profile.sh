#!/usr/bin/env bash
# profile.sh: `ttc profile` as a performance engineer meets it: the tables add up to the entry
# totals, a DRAM-bound bf16 FFN gets the bfp8 suggestion with its --set path, --trace writes valid
# JSON with one event per op per track, and bad inputs exit 1 leaving no trace file.
source "$(dirname "$0")/lib/harness.bash" profile
PY=/usr/bin/python3

# The "device total" of entry $1 in $out, and the sum of the cycles column of its op table.
total()   { awk -v e="== $1:" 'index($0, e) == 1 {on = 1} on && /^device total:/ {print $3; exit}' <<<"$out"; }
op_sum()  { awk -v t="ops by device time ($1):" '$0 == t {on = 1; getline; next} on && NF == 0 {on = 0} on {s += $3} END {print s + 0}' <<<"$out"; }
n_ops()   { awk -v e="== $1:" 'index($0, e) == 1 {print $3; exit}' <<<"$out"; }
adds_up() {
  local t s; t=$(total "$1"); s=$(op_sum "$1")
  if [ -n "$t" ] && [ "$t" -gt 0 ] && [ "$t" = "$s" ]; then ok; else fail "$2: op cycles sum to '$s', the $1 total is '$t'"; fi
}
# X events per track in trace $1: "device host"
events() { "$PY" -c 'import json, sys
t = json.load(open(sys.argv[1]))["traceEvents"]
x = [e for e in t if e["ph"] == "X"]
assert all(e["dur"] >= 0 and e["ts"] >= 0 and e["name"] and "kind" in e["args"] for e in x)
print(sum(e["tid"] == 1 for e in x), sum(e["tid"] == 2 for e in x))' "$1"; }

# --- help ---
expect 0 "ttc profile --help" -- "$TTC" profile --help
contains "profile help" "usage: ttc profile"
contains "profile help lists --trace" "--trace OUT.json"
expect 0 "ttc --help" -- "$TTC" --help
contains "ttc --help lists profile" "profile"

# --- an encoder: every table, totals that add up, with and without --top ---
expect 0 "compile tiny-bert" -- "$TTC" compile specs/tiny-bert.yaml --seq 16 -o "$tmp/b.plan"
expect 0 "profile tiny-bert" -- "$TTC" profile "$tmp/b.plan" --random-weights 1 --input-ids "5,6,7,8" --top 0 --repeat 3 --trace "$tmp/b.json"
for h in "ops by device time (prefill):" "modules by device time (prefill):" "op kinds by device time (prefill):" \
         "modules across layers by device time (prefill):" "bottlenecks (prefill):" "device us" "host us" "bound" \
         "host total:" "over 3 runs" "layer_0.attention.sdpa" "wrote $tmp/b.json"; do
  contains "tiny-bert profile" "$h"
done
lacks "tiny-bert has no decode" "== decode"
adds_up prefill "tiny-bert --top 0"
if [ "$(events "$tmp/b.json")" = "$(n_ops prefill) $(n_ops prefill)" ]; then ok; else fail "tiny-bert trace: $(events "$tmp/b.json") X events, $(n_ops prefill) ops"; fi
expect 0 "profile tiny-bert --top 3" -- "$TTC" profile "$tmp/b.plan" --random-weights 1 --input-ids "5,6,7,8" --top 3
contains "--top 3 sums the rest" "more ops)"
adds_up prefill "tiny-bert --top 3"

# --- a decoder: prefill and decode steps, each adding up; the trace covers both ---
expect 0 "compile tiny-llama" -- "$TTC" compile specs/tiny-llama.yaml --seq 16 --max-seq 32 -o "$tmp/l.plan"
expect 0 "profile tiny-llama" -- "$TTC" profile "$tmp/l.plan" --random-weights 2 --input-ids "1,2,3" --decode-steps 4 --top 0 --trace "$tmp/l.json"
contains "decode section" "ops by device time (decode):"
contains "decode steps ran" "then 4 decode steps"
contains "decode host time per step" "over 4 steps"
adds_up prefill "tiny-llama prefill"
adds_up decode "tiny-llama decode"
both=$(( $(n_ops prefill) + $(n_ops decode) ))
if [ "$(events "$tmp/l.json")" = "$both $both" ]; then ok; else fail "tiny-llama trace: $(events "$tmp/l.json") X events, $both ops"; fi

# --- a DRAM-bound bf16 FFN gets bfp8, with the --set path; the suggestion compiles and helps ---
expect 0 "compile stories110m" -- "$TTC" compile specs/stories110m.yaml --seq 8 --max-seq 16 -o "$tmp/s.plan"
expect 0 "profile stories110m" -- "$TTC" profile "$tmp/s.plan" --random-weights 1 --input-ids "1,2,3,4" --decode-steps 1 --top 3
ffn=$(grep -A2 -E '^  [0-9]+\. layer_\*\.ffn:' <<<"$out" | head -3)
if grep -q "linear DRAM-bound" <<<"$ffn" && grep -qF -- "--set 'layer_*.ffn.weight_dtype=bfp8'" <<<"$ffn"; then ok
else fail "DRAM-bound bf16 ffn: no bfp8 suggestion"; echo "$out" | grep -A3 bottlenecks | head; fi
contains "the suggestion names the overlay key" 'modules: {"layer_*.ffn": {weight_dtype: bfp8}}'
contains "config column shows bf16 weights" "w=bf16"
expect 0 "the suggested --set compiles" -- "$TTC" compile specs/stories110m.yaml --seq 8 --max-seq 16 --set 'layer_*.ffn.weight_dtype=bfp8' -o "$tmp/s2.plan"
expect 0 "profile after the change" -- "$TTC" profile "$tmp/s2.plan" --random-weights 1 --input-ids "1,2,3,4" --decode-steps 0 --top 0
lacks "bfp8 ffn is not suggested again" "--set 'layer_*.ffn.weight_dtype=bfp8'"
contains "config column shows bfp8 weights" "w=bfp8"

# --- a plan without per-op estimates: host time only, and it says so ---
expect 0 "compile without cost" -- "$TTC" compile specs/tiny-bert.yaml --disable-pass cost -o "$tmp/nc.plan"
expect 0 "profile without cost" -- "$TTC" profile "$tmp/nc.plan" --random-weights 1 --input-ids "5,6" --trace "$tmp/nc.json"
contains "no cost chunk" "device estimates are unavailable"
contains "no cost: recompile" "recompile"
contains "no cost: ranked by host" "ops by host time (prefill):"
lacks "no cost: no suggestions" "--set"
if [ "$(events "$tmp/nc.json")" = "0 $(n_ops prefill)" ]; then ok; else fail "no-cost trace: $(events "$tmp/nc.json")"; fi

# --- bad inputs: exit 1, a clear error, no trace file ---
bad() { # DESCRIPTION TEXT ARGS...: exit 1, TEXT in the error, nothing at $tmp/bad.json
  local what=$1 text=$2; shift 2
  expect 1 "$what" -- "$TTC" profile "$@" --trace "$tmp/bad.json"
  contains "$what" "$text"
  absent "$what: no trace" "$tmp/bad.json"
}
bad "missing plan" "nope.plan" "$tmp/nope.plan" --random-weights 1 --input-ids 1,2
bad "bad ids" "--input-ids" "$tmp/b.plan" --random-weights 1 --input-ids "1,x"
bad "ids beyond the vocabulary" "vocab" "$tmp/b.plan" --random-weights 1 --input-ids "1,99999"
bad "no weights" "--random-weights" "$tmp/b.plan" --input-ids "1,2"
bad "two weights" "--weights" "$tmp/b.plan" --random-weights 1 --weights "$tmp/w.safetensors" --input-ids "1,2"
bad "decode steps on an encoder" "decoder" "$tmp/b.plan" --random-weights 1 --input-ids "1,2" --decode-steps 2
bad "decode steps beyond the cache" "--max-seq" "$tmp/l.plan" --random-weights 1 --input-ids "1,2,3" --decode-steps 40
bad "bad --top" "--top" "$tmp/b.plan" --random-weights 1 --input-ids "1,2" --top -1
bad "unknown option" "did you mean '--trace'" "$tmp/b.plan" --random-weights 1 --input-ids "1,2" --trac x
expect 1 "unwritable trace" -- "$TTC" profile "$tmp/b.plan" --random-weights 1 --input-ids "1,2" --trace "$tmp/no/dir/t.json"
contains "unwritable trace" "$tmp/no/dir"

summary
