#!/usr/bin/env bash
# advice.sh: suggestions are checked before they are given. `ttc profile` recompiles the plan's
# spec with each change and shows only those that lower the estimate (sharding: height on the
# norms made things worse and was offered again after it was applied); `ttc check` shows each fix
# with its DRAM or L1 effect, and applying it makes check pass; a KV cache that does not fit gets
# --max-seq and kv_cache.dtype, not "more DRAM"; what is parsed but not implemented is an error.
source "$(dirname "$0")/lib/harness.bash" advice

# The --set of the first "try" line of $out (without quotes), or "".
first_try() { grep -m1 -- '^     try ' <<<"$out" | sed -e "s/.*--set '\{0,1\}//" -e "s/'\{0,1\}$//"; }
decode_total() { awk '/^== decode:/ {on = 1} on && /^device total:/ {print $3; exit}' <<<"$out"; }

# --- (a) profile: a suggestion that makes things worse is dropped; one that is shown helps ---
# stories110m shows the same advice as Llama-3.2-1B (NoC-bound norms, DRAM-bound bf16 matmuls) in
# a fraction of the time.
expect 0 "compile stories110m" -- "$TTC" compile specs/stories110m.yaml --seq 8 --max-seq 16 -o "$tmp/s.plan"
expect 0 "profile stories110m" -- "$TTC" profile "$tmp/s.plan" --random-weights 1 --input-ids "1,2,3" \
  --decode-steps 1 --top 8 --verbose
contains "height sharding of the norms was tried" "dropped sharding: height"
contains "and found slower" "ms per step: no faster"
lacks "and is not suggested" "try sharding: height"
contains "a shown suggestion has its effect" "       effect: decode "
before=$(decode_total)
change=$(first_try)
if [ -n "$change" ]; then ok; else fail "profile suggests nothing to try"; fi
expect 0 "recompile with the first suggestion ($change)" -- "$TTC" compile specs/stories110m.yaml --seq 8 --max-seq 16 \
  --set "$change" -o "$tmp/s2.plan"
expect 0 "profile again" -- "$TTC" profile "$tmp/s2.plan" --random-weights 1 --input-ids "1,2,3" --decode-steps 1 --top 8
after=$(decode_total)
if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -lt "$before" ]; then ok
else fail "the applied suggestion did not lower the decode estimate: $before -> $after cycles"; fi
if grep -q -- "^     try .*--set '\{0,1\}$change'\{0,1\}$" <<<"$out"; then fail "'$change' is suggested again once applied"
else ok; fi

# A plan whose spec is gone: no unchecked suggestion, one line saying why and what to do.
cp specs/tiny-llama.yaml "$tmp/gone.yaml"
expect 0 "compile a copy of tiny-llama" -- "$TTC" compile "$tmp/gone.yaml" --seq 8 -o "$tmp/g.plan"
rm "$tmp/gone.yaml"
expect 0 "profile without its spec" -- "$TTC" profile "$tmp/g.plan" --random-weights 1 --input-ids "1,2,3" --decode-steps 1
contains "says the suggestions could not be checked" "no config suggestions: they could not be checked, because its spec $tmp/gone.yaml is not found"
contains "and how to fix it" "recompile the plan from its spec"
lacks "no unchecked suggestion" "--set"

# --- (b) check: the DRAM misfit of Mistral-7B on one n150 gets fixes with their effect ---
expect 1 "check mistral-7b" -- "$TTC" check specs/mistral-7b.yaml
contains "a checked DRAM fix" "  suggestion: --set ffn.weight_dtype=bfp8 (bfp8 ffn weights, as specs/hw/performance.yaml has them): DRAM 13.60 GiB → 8.68 GiB per chip of 12.00 GiB: fits"
contains "a larger mesh" "suggestion: device: wormhole_n300 in an overlay (or --set device=wormhole_n300)"
lacks "no unchecked advice" "more DRAM"
sets=$(grep -o -- '^  suggestion: --set [^ ]*' <<<"$out" | sed 's/.*--set //')
n=0
for s in $sets; do
  n=$((n + 1))
  expect 0 "check mistral-7b --set $s" -- "$TTC" check specs/mistral-7b.yaml --set "$s"
  contains "fits with --set $s" "no problems"
done
if [ "$n" -ge 2 ]; then ok; else fail "mistral-7b: $n --set suggestions"; fi
expect 0 "check mistral-7b on the suggested n300" -- "$TTC" check specs/mistral-7b.yaml --set device=wormhole_n300
contains "fits on n300" "no problems"

# --- (c) a KV cache that does not fit: --max-seq and kv_cache.dtype, each checked ---
expect 1 "check a 131072-token cache of batch 4" -- "$TTC" check specs/llama-3.2-1b.yaml --batch 4 --max-seq 131072 --verbose
contains "the cache is named" "KV cache 16.00 GiB"
contains "kv_cache.dtype suggested" "  suggestion: --set attention.kv_cache.dtype=bfp8"
contains "with its effect" "DRAM 19.29 GiB → 11.79 GiB per chip of 12.00 GiB: fits"
max=$(grep -o -- '^  suggestion: --max-seq [0-9]*' <<<"$out" | grep -o '[0-9]*$')
if [ -n "$max" ] && [ "$max" -lt 131072 ] && [ "$max" -gt 32768 ]; then ok; else fail "no --max-seq suggestion: '$max'"; fi
contains "weights alone do not help, and say so under --verbose" "dropped: --set ffn.weight_dtype=bfp8"
expect 0 "with the suggested --max-seq" -- "$TTC" check specs/llama-3.2-1b.yaml --batch 4 --max-seq "$max"
contains "--max-seq $max fits" "no problems"
expect 1 "it is the largest: 32 tokens more do not fit" -- "$TTC" check specs/llama-3.2-1b.yaml --batch 4 --max-seq $((max + 32))
expect 0 "with the suggested kv_cache.dtype" -- "$TTC" check specs/llama-3.2-1b.yaml --batch 4 --max-seq 131072 \
  --set attention.kv_cache.dtype=bfp8
contains "bfp8 cache fits" "no problems"

# Llama-3.1-8B with a 128K context: no single change is enough; bfp8 weights and cache with a
# shorter context is, and so is the smallest larger mesh that fits (t3k: n300 does not).
expect 1 "check an 8B with a 128K context" -- "$TTC" check specs/llama-3.1-8b.yaml --max-seq 131072
line=$(grep -m1 -- '^  suggestion: --max-seq' <<<"$out")
max=$(grep -o -- '--max-seq [0-9]*' <<<"$line" | grep -o '[0-9]*$')
if grep -qF -- "--set defaults.weight_dtype=bfp8 --set attention.kv_cache.dtype=bfp8" <<<"$line"; then ok
else fail "8B 128K: no combined suggestion: '$line'"; fi
contains "8B 128K: the smallest mesh that fits" "suggestion: device: wormhole_t3k"
lacks "8B 128K: not the mesh that does not" "suggestion: device: wormhole_n300"
expect 0 "8B 128K with the combined suggestion" -- "$TTC" check specs/llama-3.1-8b.yaml --max-seq "$max" \
  --set defaults.weight_dtype=bfp8 --set attention.kv_cache.dtype=bfp8
expect 0 "8B 128K on t3k" -- "$TTC" check specs/llama-3.1-8b.yaml --max-seq 131072 --set device=wormhole_t3k

# --- (d) parsed but not implemented: errors at file:line:col ---
printf 'hw_version: 1\nmodules:\n  attention:\n    kv_cache: {dtype: bf16, layout: paged}\n' >"$tmp/paged.yaml"
expect 1 "paged KV cache" -- "$TTC" compile specs/tiny-llama.yaml --hw "$tmp/paged.yaml" -o "$tmp/p.plan"
contains "paged: file:line:col" "$tmp/paged.yaml:4:29: error: modules 'attention': paged KV cache is not supported yet"
contains "paged: hint" "hint: remove layout or use contiguous"
absent "paged: no plan" "$tmp/p.plan"
printf 'hw_version: 1\ndefaults:\n  kv_cache: {block_size: 64}\n' >"$tmp/block.yaml"
expect 1 "kv block size" -- "$TTC" check specs/tiny-llama.yaml --hw "$tmp/block.yaml"
contains "block_size: file:line:col" "$tmp/block.yaml:3:14: error: defaults: kv_cache.block_size is not supported yet"
expect 1 "score_dtype bf16" -- "$TTC" compile specs/tiny-llama.yaml --set attention.score_dtype=bf16 -o "$tmp/p.plan"
contains "score_dtype: said so" "score_dtype: bf16 is not supported yet: attention scores are fp32 on every path"
absent "score_dtype: no plan" "$tmp/p.plan"

summary
