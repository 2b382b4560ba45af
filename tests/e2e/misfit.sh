#!/usr/bin/env bash
# misfit.sh: one verdict for "does not fit". A spec too large for its device (DRAM per chip, or
# L1 per core) fails compile, check, run, generate and profile alike: exit status 1, the same
# error and suggestion lines as `ttc check` prints, nothing written. --allow-misfit lets compile
# write the plan (marked as not fitting: run refuses it without the flag) and run execute it on
# the emulator. dump-graph dumps a misfit with warnings. A spec that fits runs where a plan
# goes, with the plan's results bit for bit.
# Prints the exit-code table (command, case, status, first error line) at the end.
source "$(dirname "$0")/lib/harness.bash" misfit

rows=()
row() { rows+=("$(printf '%-9s %-27s %3s  %s' "$1" "$2" "$3" "${4:0:110}")"); }

# runs COMMAND CASE -- ttc ARGS...: expects exit 0 (output in $out) and adds the row
runs() {
  local cmd=$1 case=$2; shift 3
  out=$("$@" 2>&1)
  local got=$?
  row "$cmd" "$case" "$got" ""
  if [ "$got" -eq 0 ]; then ok; else fail "$cmd $case: exit $got, expected 0"; echo "$out" | head -5; fi
}

# file_has DESCRIPTION TEXT FILE: FILE has the fixed string TEXT
file_has() { if grep -qF -- "$2" "$3"; then ok; else fail "$1: $3 lacks '$2'"; fi; }

# The lines that state the verdict: errors (or warnings) and their suggestions, in order.
verdict_lines() { grep -E '^(error|warning): |^  suggestion: ' "$1"; }

# refused CASE COMMAND -- ttc ARGS...: runs it (stdout and stderr apart) and expects exit 1,
# stderr's verdict lines equal to `ttc check`'s for CASE (in $tmp/CASE.check), nothing on stdout
# (check: only its verdict), and no file left at $tmp/out.* (nor a temp file beside it).
refused() {
  local case=$1 cmd=$2; shift 3
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  local got=$?
  row "$cmd" "$case" "$got" "$(grep -m1 '^error: ' "$tmp/stderr")"
  if [ "$got" -eq 1 ]; then ok; else fail "$cmd $case: exit $got, expected 1"; head -5 "$tmp/stderr"; fi
  if diff <(verdict_lines "$tmp/$case.check") <(verdict_lines "$tmp/stderr") >/dev/null; then ok
  else fail "$cmd $case: not the errors ttc check prints"; diff <(verdict_lines "$tmp/$case.check") \
    <(verdict_lines "$tmp/stderr") | head -8; fi
  if [ "$cmd" = check ] || [ ! -s "$tmp/stdout" ]; then ok; else fail "$cmd $case: printed"; head -3 "$tmp/stdout"; fi
  if ! ls "$tmp" | grep -q '^out'; then ok; else fail "$cmd $case: left $(ls "$tmp" | grep '^out')"; fi
}

# Every command of the table on one case: SPEC and the flags that make it not fit, with bounds
# given so that all five compile the same plan (run's own default bounds are the input's).
# Weights: a file that does not exist, so that loading weights before the verdict would change
# the first error (and a 7B model's weights are never read).
all_commands() {
  local case=$1; shift
  "$TTC" check "$@" >/dev/null 2>"$tmp/$case.check"
  if [ "$(verdict_lines "$tmp/$case.check" | grep -c '^error: ')" -ge 1 ]; then ok
  else fail "$case: ttc check reports no error"; cat "$tmp/$case.check"; fi
  local w=(--weights "$tmp/none.safetensors")
  refused "$case" compile -- "$TTC" compile "$@" -o "$tmp/out.plan"
  refused "$case" check -- "$TTC" check "$@"
  refused "$case" run -- "$TTC" run "$@" "${w[@]}" --input-ids 1,2,3 --output "$tmp/out.npy"
  refused "$case" generate -- "$TTC" generate "$@" "${w[@]}" --prompt-ids 1,2,3 --max-new-tokens 4
  refused "$case" profile -- "$TTC" profile "$@" "${w[@]}" --input-ids 1,2,3 --decode-steps 4 --trace "$tmp/out.json"
}

dram=(specs/mistral-7b.yaml --batch 1 --seq 8 --max-seq 16)
l1_act=(specs/tiny-llama.yaml --hw specs/hw/l1-everything.yaml --batch 2048 --seq 64 --max-seq 64)
l1_res=(specs/stories110m.yaml --hw specs/hw/l1-everything.yaml --seq 8 --max-seq 16)
all_commands dram-mistral-7b "${dram[@]}"
all_commands l1-tiny-llama-b2048 "${l1_act[@]}"
all_commands l1-stories110m "${l1_res[@]}"
# the kinds of problem each case is about
file_has "dram case" "error: model 'mistral-7b' (prefill): DRAM needs" "$tmp/dram-mistral-7b.check"
file_has "dram suggestion" "  suggestion: --set ffn.weight_dtype=bfp8 (bfp8 ffn weights, as specs/hw/performance.yaml has them): DRAM 13.51 GiB → 8.59 GiB per chip of 12.00 GiB: fits" "$tmp/dram-mistral-7b.check"
file_has "l1 activations case" "error: module 'layer_0.ffn' (prefill): L1 needs" "$tmp/l1-tiny-llama-b2048.check"
file_has "l1 resident case" "the L1-resident weights and KV caches" "$tmp/l1-stories110m.check"

# run with the input's bounds (no flags): still refused before any weights, naming the problem
"$TTC" run specs/mistral-7b.yaml --weights "$tmp/none.safetensors" --input-ids 1,2,3 >/dev/null 2>"$tmp/stderr"
got=$?
row run "dram, input's bounds" "$got" "$(grep -m1 '^error: ' "$tmp/stderr")"
if [ "$got" -eq 1 ] && grep -q "^error: model 'mistral-7b' (prefill): DRAM needs" "$tmp/stderr"; then ok
else fail "run mistral without flags: exit $got"; head -3 "$tmp/stderr"; fi

# --- --allow-misfit: compile writes the plan, with the problems as warnings ---
for case in dram l1_act; do
  declare -n args=$case
  plan="$tmp/$case.plan"
  "$TTC" compile "${args[@]}" --allow-misfit -o "$plan" >"$tmp/stdout" 2>"$tmp/stderr"
  got=$?
  row compile "$case --allow-misfit" "$got" "$(grep -m1 '^warning: ' "$tmp/stderr")"
  if [ "$got" -eq 0 ] && [ -s "$plan" ]; then ok; else fail "compile $case --allow-misfit: exit $got"; fi
  ref="$tmp/$([ $case = dram ] && echo dram-mistral-7b || echo l1-tiny-llama-b2048).check"
  if diff <(verdict_lines "$ref" | sed 's/^error: /warning: /') <(verdict_lines "$tmp/stderr") >/dev/null; then ok
  else fail "compile $case --allow-misfit: not check's problems as warnings"; fi
  file_has "compile $case --allow-misfit says so" "does not fit wormhole_n150 (--allow-misfit)" "$tmp/stdout"
  # the plan remembers: run, generate and profile refuse it, naming the plan and the problem
  first=$(verdict_lines "$ref" | grep -m1 '^error: ' | sed 's/^error: //')
  for cmd in run generate profile; do
    ids=--input-ids; [ $cmd = generate ] && ids=--prompt-ids
    more=(); [ $cmd = generate ] && more=(--max-new-tokens 2)
    # weights that do not exist: the refusal must come before they are looked for
    "$TTC" $cmd "$plan" --weights "$tmp/none.safetensors" $ids 1,2,3 "${more[@]}" >"$tmp/stdout" 2>"$tmp/stderr"
    got=$?
    row $cmd "$case plan" "$got" "$(grep -m1 '^error: ' "$tmp/stderr")"
    if [ "$got" -eq 1 ] && grep -qxF "error: $plan does not fit wormhole_n150: $first" \
         <(sed 's/ (and [0-9]* more problems\?)$//' "$tmp/stderr"); then ok
    else fail "$cmd $case plan without --allow-misfit: exit $got"; head -3 "$tmp/stderr"; fi
    file_has "$cmd $case plan: hint" "hint: it was compiled with --allow-misfit" "$tmp/stderr"
  done
done

# ... and run executes it on the emulator when told again; the spec runs the same way, bit for bit
runs run "l1_act plan --allow-misfit" -- "$TTC" run "$tmp/l1_act.plan" --allow-misfit --random-weights 1 \
  --input-ids 1,2,3 --output "$tmp/l1_plan.npy"
runs run "l1_act --allow-misfit" -- "$TTC" run "${l1_act[@]}" --allow-misfit --random-weights 1 \
  --input-ids 1,2,3 --output "$tmp/l1_spec.npy"
if [ -s "$tmp/l1_plan.npy" ] && cmp -s "$tmp/l1_plan.npy" "$tmp/l1_spec.npy"; then ok
else fail "the allowed L1 spec and its plan give different logits"; fi
runs generate "l1_act --allow-misfit" -- "$TTC" generate "${l1_act[@]}" --allow-misfit --random-weights 1 \
  --prompt-ids 1,2,3 --max-new-tokens 4

# --- dump-graph shows a graph that does not fit: the problems as warnings, the DOT written ---
runs dump-graph "dram-mistral-7b" -- "$TTC" dump-graph specs/mistral-7b.yaml -o "$tmp/mistral.dot"
if [ -s "$tmp/mistral.dot" ] && grep -q '^digraph' "$tmp/mistral.dot"; then ok; else fail "dump-graph wrote no DOT"; fi
grep -q "^warning: model 'mistral-7b' (prefill): DRAM needs" <<<"$out" && ok || fail "dump-graph: no misfit warning"

# --- a spec that fits runs where a plan goes, with the plan's results bit for bit ---
runs compile "tiny-llama (fits)" -- "$TTC" compile specs/tiny-llama.yaml -o "$tmp/tiny.plan"
runs run "tiny-llama plan" -- "$TTC" run "$tmp/tiny.plan" --random-weights 1 --input-ids 1,2,3 --output "$tmp/plan.npy"
runs run "tiny-llama spec" -- "$TTC" run specs/tiny-llama.yaml --random-weights 1 --input-ids 1,2,3 \
  --output "$tmp/spec.npy"
if [ -s "$tmp/plan.npy" ] && cmp -s "$tmp/plan.npy" "$tmp/spec.npy"; then ok
else fail "run of the spec differs from compile-then-run"; fi
plan_tokens=$("$TTC" generate "$tmp/tiny.plan" --random-weights 1 --prompt-ids 1,2,3 --max-new-tokens 8 2>/dev/null)
spec_tokens=$("$TTC" generate specs/tiny-llama.yaml --random-weights 1 --prompt-ids 1,2,3 --max-new-tokens 8 2>/dev/null)
if [ -n "$plan_tokens" ] && [ "$plan_tokens" = "$spec_tokens" ]; then ok
else fail "generate: spec '$spec_tokens', plan '$plan_tokens'"; fi
runs profile "tiny-llama spec" -- "$TTC" profile specs/tiny-llama.yaml --random-weights 1 --input-ids 1,2,3 \
  --decode-steps 2
grep -q "profile of tiny-llama (decoder)" <<<"$out" && ok || fail "profile of the spec: no report"

printf '\n%-9s %-27s %3s  %s\n' command case exit "first error line"
printf '%s\n' "${rows[@]}"
summary
