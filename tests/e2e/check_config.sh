#!/usr/bin/env bash
# check_config.sh: `ttc check` (every problem, module path, mode and suggestion; exit 1 when any),
# `ttc config` (every resolved field with the file:line:col, --set or built-in default it came
# from), and the device lines of the compile summary.
source "$(dirname "$0")/lib/harness.bash" check

# field NAME VALUE FROM: one line of `ttc config` output, columns squeezed
field() {
  if tr -s ' ' <<<"$out" | grep -qxF -- " $1 $2 $3"; then ok; else fail "config: no line '$1 $2 $3'"; echo "$out" | head -30; fi
}

# --- help ---
for c in check config; do
  expect 0 "ttc $c --help" -- "$TTC" $c --help
  contains "ttc $c --help" "usage: ttc $c SPEC.yaml"
done
expect 0 "ttc --help" -- "$TTC" --help
contains "ttc --help lists check" "check "
contains "ttc --help lists config" "config "
expect 0 "passes" -- "$TTC" passes
contains "passes lists device-memory" "device-memory"
contains "passes lists cost" "cost "

# --- check: nothing to report ---
expect 0 "check tiny-bert" -- "$TTC" check specs/tiny-bert.yaml
contains "check tiny-bert" "ttc check: tiny-bert on wormhole_n150: no problems"
contains "check tiny-bert shows the fit" "prefill  L1 peak"
expect 0 "check tiny-bert, everything in L1" -- "$TTC" check specs/tiny-bert.yaml --hw specs/hw/l1-everything.yaml
contains "check tiny-bert l1" "no problems"
expect 0 "check tiny-llama on every device" -- "$TTC" check specs/tiny-llama.yaml --hw specs/hw/blackhole_p100.yaml
contains "check on blackhole" "tiny-llama on blackhole_p100: no problems"

# --- check: an 8B model with everything in L1 ---
expect 1 "check llama 8B l1-everything" -- "$TTC" check specs/llama-3.1-8b.yaml --hw specs/hw/l1-everything.yaml
contains "l1: ffn weights, merged over layers" "error: modules 'layer_*.ffn' (32 of them, layer_0.ffn to layer_31.ffn) (prefill, decode): weights need 5.25 MiB per core in L1"
contains "l1: suggestion, checked" "  suggestion: --set layer_*.ffn.memory=dram (the weights then stay in DRAM and stream through circular buffers): 'layer_*.ffn' fits L1; other modules still do not"
contains "l1: a module and mode" "error: module 'lm_head' (prefill): L1 needs"
contains "l1: the rest together" "error: model 'llama-3.1-8b' (prefill, decode): the L1-resident weights"
contains "l1: verdict" "ttc check: llama-3.1-8b on wormhole_n150: 5 problems (5 errors, 0 warnings)"
# the suggestion works: with the named modules back in DRAM the errors about them go away
expect 1 "check after the suggested fixes" -- "$TTC" check specs/llama-3.1-8b.yaml --hw specs/hw/l1-everything.yaml \
  --set embedding.memory=dram --set ffn.memory=dram --set lm_head.memory=dram --set attention.memory=dram
lacks "fixed: no L1 errors" "L1"
contains "fixed: DRAM remains" "error: model 'llama-3.1-8b' (prefill): DRAM needs"

# --- check: the default 8B on one Wormhole chip does not fit DRAM (an error, as in compile) ---
expect 1 "check llama 8B" -- "$TTC" check specs/llama-3.1-8b.yaml
contains "dram problem" "error: model 'llama-3.1-8b' (prefill): DRAM needs 15.16 GiB per chip, wormhole_n150 has 12.00 GiB"
contains "dram verdict" "ttc check: llama-3.1-8b on wormhole_n150: 1 problem (1 error, 0 warnings)"
contains "dram suggestion, with its effect" "suggestion: --set ffn.weight_dtype=bfp8 (bfp8 ffn weights, as specs/hw/performance.yaml has them): DRAM 15.16 GiB → 10.24 GiB per chip of 12.00 GiB: fits"
expect 0 "check llama 8B with the suggestion" -- "$TTC" check specs/llama-3.1-8b.yaml --set ffn.weight_dtype=bfp8
contains "fits after the suggestion" "no problems"
# Tensor parallel over 8 chips: about 1/8 of the 15 GiB of weights per chip (the embedding is replicated).
expect 0 "check llama 8B on t3k" -- "$TTC" check specs/llama-3.1-8b.yaml --hw specs/hw/wormhole_t3k.yaml
contains "t3k: fits once sharded" "llama-3.1-8b on wormhole_t3k: no problems"

# --- check: every problem at once, overlay errors and device problems ---
printf 'hw_version: 1\nmodules:\n  "layr_*.ffn": {memory: dram}\n' > "$tmp/typo.yaml"
expect 1 "check with a typo and L1 problems" -- "$TTC" check specs/llama-3.1-8b.yaml --hw specs/hw/l1-everything.yaml \
  --hw "$tmp/typo.yaml"
contains "typo located" "typo.yaml:3:3: error: modules pattern 'layr_*.ffn' matches no module"
contains "typo hint" "did you mean 'layer_*.ffn'?"
contains "L1 still reported" "error: module 'lm_head' (prefill): L1 needs"
expect 1 "check a missing spec" -- "$TTC" check "$tmp/nope.yaml"
contains "missing spec" "nope.yaml"

# --- compile: the summary per mode; an L1 or DRAM overflow fails (tests/e2e/misfit.sh has the rest) ---
expect 0 "compile tiny-llama" -- "$TTC" compile specs/tiny-llama.yaml -o "$tmp/t.plan"
contains "summary: device" "device wormhole_n150 (1 chip; estimates per chip at the plan's upper bounds):"
contains "summary: prefill" "    prefill  "
contains "summary: decode" "tokens/s), "
contains "summary: L1" "L1 peak "
contains "summary: DRAM" "per chip (of 12.00 GiB)"
expect 1 "compile llama 8B l1-everything" -- "$TTC" compile specs/llama-3.1-8b.yaml --hw specs/hw/l1-everything.yaml \
  -o "$tmp/l1.plan"
if [ ! -e "$tmp/l1.plan" ]; then ok; else fail "a plan that does not fit was written"; fi
expect 1 "compile llama 8B on n150" -- "$TTC" compile specs/llama-3.1-8b.yaml -o "$tmp/8b.plan"
contains "8B: error" "error: model 'llama-3.1-8b' (prefill): DRAM needs"
absent "8B: no plan" "$tmp/8b.plan"
expect 0 "compile llama 8B on n150, allowed" -- "$TTC" compile specs/llama-3.1-8b.yaml --allow-misfit -o "$tmp/8b.plan"
contains "8B allowed: warning" "warning: model 'llama-3.1-8b' (prefill): DRAM needs"
contains "8B allowed: does not fit" "(of 12.00 GiB: does not fit)"
expect 0 "disable the device passes" -- "$TTC" compile specs/llama-3.1-8b.yaml --disable-pass device-memory \
  --disable-pass cost -o "$tmp/8b.plan"
lacks "disabled: no warning" "warning:"
lacks "disabled: no device lines" "per step"

# --- config: provenance of every level ---
cat > "$tmp/p.yaml" <<'EOF'
hw_version: 1
defaults:
  activation_dtype: bf16
modules:
  attention: {weight_dtype: bfp8}
  "layer_*.attention": {math_fidelity: HiFi3}
  layer_1.attention: {layout: row_major}
modes:
  decode: {memory: l1}
EOF
expect 0 "config --show" -- "$TTC" config specs/tiny-llama.yaml --hw "$tmp/p.yaml" \
  --set layer_1.attention.fp32_dest_acc=false --show layer_1.attention
contains "config: the group" "layer_1.attention.{q,k,v,q_rope,k_rope,k_cache,v_cache,scores,softmax,context,out,residual}  [attention]"
field activation_dtype bf16 "$tmp/p.yaml:3:3 (defaults)"
field weight_dtype bfp8 "$tmp/p.yaml:5:15 (modules (type))"
field math_fidelity HiFi3 "$tmp/p.yaml:6:25 (modules (glob))"
field layout row_major "$tmp/p.yaml:7:23 (modules (path))"
field "memory in decode" l1 "$tmp/p.yaml:9:12 (modes.decode)"
field "memory in prefill" dram "built-in default for wormhole_n150"
field fp32_dest_acc false "--set"
field score_dtype fp32 "built-in default for wormhole_n150"
lacks "config: only that module" "layer_0."
# the built-in defaults differ per module type; a device overlay names itself
expect 0 "config with a device" -- "$TTC" config specs/tiny-llama.yaml --hw specs/hw/blackhole_p150.yaml
contains "config: device provenance" "config of tiny-llama for blackhole_p150 (device from specs/hw/blackhole_p150.yaml:5:1 (device))"
contains "config: ffn group" "layer_*.ffn.{up,gate,act,gated,down,residual} (12 ops)  [ffn]"
field math_fidelity HiFi2 "built-in default for blackhole_p150"
field math_fidelity HiFi4 "built-in default for blackhole_p150"
expect 1 "config --show typo" -- "$TTC" config specs/tiny-llama.yaml --show layer_1.atention
contains "config --show typo" "did you mean 'layer_1.attention'?"
expect 1 "config with a bad overlay" -- "$TTC" config specs/tiny-llama.yaml --hw "$tmp/typo.yaml"
contains "config: overlay error" "matches no module"

summary
