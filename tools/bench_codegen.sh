#!/usr/bin/env bash
# bench_codegen.sh: a program built by `ttc compile --emit exe` against the plan runtime
# (`ttc run` / `ttc generate` on the same plan), same model, same random weights, same inputs:
#   - bert-base, one sequence of 128 tokens: time per forward (best and median of N runs);
#   - stories110m, a 128-token prompt then 128 decode steps: prefill and decode tokens/s.
# Runs alternate between the two so that machine noise hits both alike. Prints figures and the
# ratio; asserts nothing (DESIGN.md §8).
#
#   tools/bench_codegen.sh [BUILD_DIR] [ROUNDS]      (default: build, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-3}
TTC=$build/ttc
[ -x "$TTC" ] || { echo "error: $TTC not found; build first (cmake --build $build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ids128=$(seq -s, 1000 1127)
best()   { sort -g | head -1; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio()  { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

echo "compiling (plan and executable for each model)..."
"$TTC" compile specs/bert-base.yaml --seq 128 -o "$tmp/bert.plan" >/dev/null
"$TTC" compile specs/bert-base.yaml --seq 128 --emit exe -o "$tmp/bert" >/dev/null
"$TTC" compile specs/stories110m.yaml --seq 128 --max-seq 272 -o "$tmp/stories.plan" >/dev/null
"$TTC" compile specs/stories110m.yaml --seq 128 --max-seq 272 --emit exe -o "$tmp/stories" >/dev/null

# ---- bert-base: forward time; each run does 5 forwards and reports its best ----
forward_ms() { grep -o 'forward [0-9.]* ms' | awk '{print $2}'; }
: >"$tmp/bert_plan.txt"; : >"$tmp/bert_exe.txt"
for ((r = 0; r < rounds; r++)); do
  "$TTC" run "$tmp/bert.plan" --random-weights 1 --input-ids "$ids128" --repeat 5 | forward_ms >>"$tmp/bert_plan.txt"
  "$tmp/bert" --random-weights 1 --input-ids "$ids128" --repeat 5 | forward_ms >>"$tmp/bert_exe.txt"
done
bp=$(best <"$tmp/bert_plan.txt"); be=$(best <"$tmp/bert_exe.txt")
mp=$(median <"$tmp/bert_plan.txt"); me=$(median <"$tmp/bert_exe.txt")

# ---- stories110m: 128-token prefill, then 128 decode steps (--ignore-eos: random weights may
# hit the end token early) ----
gen_rates() { # prints "prefill_tok_s decode_tok_s"
  sed -n 's/.*prefill .* tokens in [0-9.]* ms (\([0-9.]*\) tok\/s); decode [0-9]* steps in [0-9.]* ms (\([0-9.]*\) tok\/s.*/\1 \2/p'
}
: >"$tmp/st_plan.txt"; : >"$tmp/st_exe.txt"
generate() { # RATES_FILE COMMAND...: runs a generation, appends its rates (or shows why it failed)
  local rates=$1; shift
  if ! "$@" --random-weights 1 --prompt-ids "$ids128" --max-new-tokens 129 --ignore-eos >/dev/null 2>"$tmp/err.txt"; then
    cat "$tmp/err.txt" >&2; exit 1
  fi
  gen_rates <"$tmp/err.txt" >>"$rates"
}
for ((r = 0; r < rounds; r++)); do
  generate "$tmp/st_plan.txt" "$TTC" generate "$tmp/stories.plan"
  generate "$tmp/st_exe.txt" "$tmp/stories"
done
# tokens/s: best is the largest
pp=$(awk '{print $1}' "$tmp/st_plan.txt" | sort -gr | head -1); pe=$(awk '{print $1}' "$tmp/st_exe.txt" | sort -gr | head -1)
dp=$(awk '{print $2}' "$tmp/st_plan.txt" | sort -gr | head -1); de=$(awk '{print $2}' "$tmp/st_exe.txt" | sort -gr | head -1)

echo
echo "generated executable vs plan runtime (best of $rounds rounds; host $(nproc) cores)"
printf '%-44s %14s %14s %10s\n' "" "plan runtime" "generated" "ratio"
printf '%-44s %11s ms %11s ms %10s\n' "bert-base seq 128: forward (best)" "$bp" "$be" "$(ratio "$bp" "$be")"
printf '%-44s %11s ms %11s ms %10s\n' "bert-base seq 128: forward (median round)" "$mp" "$me" "$(ratio "$mp" "$me")"
printf '%-44s %9s tok/s %9s tok/s %10s\n' "stories110m: prefill 128 tokens" "$pp" "$pe" "$(ratio "$pe" "$pp")"
printf '%-44s %9s tok/s %9s tok/s %10s\n' "stories110m: decode 128 tokens" "$dp" "$de" "$(ratio "$de" "$dp")"
echo "(ratio > 1: the generated executable is faster)"
