#!/usr/bin/env bash
# determinism.sh: outputs are bit-identical whatever the thread counts, and from run to run.
#
# A BERT-shaped and a Llama-shaped model, wide enough that matmul_emul.c's pool really splits
# their matmuls (a call splits when it has at least 2 x 2^18 multiply-adds and 2 panels of 32
# output features: the prefill projections at every TTC_THREADS below, the decode lm_head over
# up to 4 threads), and with 64-query x 128-key attention blocks, which OpenBLAS would thread.
# Each runs under the built-in defaults, reference.yaml, performance.yaml and as a sharded plan
# (wormhole_n300, two chips), with TTC_THREADS=1, 2, 3 and 8, twice each, and with
# OPENBLAS_NUM_THREADS=1 and 4. Compared exactly: the .npy bytes of a prefill / forward, and
# the ids of a few greedy and a few seeded sampled decode steps (`ttc generate`).
source "$(dirname "$0")/lib/harness.bash" determinism

cat > "$tmp/bert.yaml" <<'YAML'
spec_version: 1
model: {name: det-bert, type: encoder, vocab_size: 512, max_sequence_length: 128}
layers:
  - id: embedding
    type: embedding
    params: {hidden_dim: 256, position: learned, token_types: 2, norm: layernorm, norm_eps: 1.0e-12}
  - id: layer_{i}
    repeat: 2
    type: transformer
    params: {hidden_dim: 256, num_heads: 4, ffn_dim: 1024, ffn_type: mlp, activation: gelu,
             norm_type: layernorm, norm_eps: 1.0e-12, residual_pattern: post_norm,
             attention: {causal: false, bias: true}}
  - id: pooler
    type: pooler
    params: {hidden_dim: 256, activation: tanh}
YAML
cat > "$tmp/llama.yaml" <<'YAML'
spec_version: 1
model: {name: det-llama, type: decoder, vocab_size: 2048, max_sequence_length: 256}
layers:
  - id: embedding
    type: embedding
    params: {hidden_dim: 256, position: none}
  - id: layer_{i}
    repeat: 2
    type: transformer
    params: {hidden_dim: 256, num_heads: 4, num_kv_heads: 2, head_dim: 64, ffn_dim: 512, ffn_type: gated,
             activation: silu, norm_type: rmsnorm, norm_eps: 1.0e-5, residual_pattern: pre_norm,
             attention: {causal: true, bias: false, rope: {theta: 10000.0}}}
  - id: final_norm
    type: norm
    params: {norm_type: rmsnorm, norm_eps: 1.0e-5}
  - id: lm_head
    type: linear
    params: {input_dim: 256, output_dim: 2048}
YAML

# npy_ids FILE ROWS COLS SEED VOCAB: an int32 [ROWS, COLS] .npy of pseudo-random ids below VOCAB
npy_ids() {
  local dict="{'descr': '<i4', 'fortran_order': False, 'shape': ($2, $3), }"
  local hl=$(( (10 + ${#dict} + 1 + 63) / 64 * 64 - 10 )) x=$4 i v
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((hl & 255)))\\x$(printf %02x $((hl >> 8)))"
    printf '%s%*s\n' "$dict" $((hl - ${#dict} - 1)) ""
    for ((i = 0; i < $2 * $3; i++)); do
      x=$(( (x * 1103515245 + 12345) % 2147483648 )); v=$(( (x >> 8) % $5 ))
      printf "\\x$(printf %02x $((v & 255)))\\x$(printf %02x $((v >> 8)))\\x00\\x00"
    done
  } > "$1"
}
npy_ids "$tmp/bert_ids.npy" 2 128 1 512
npy_ids "$tmp/llama_ids.npy" 2 128 2 2048
npy_ids "$tmp/prompt.npy" 2 16 3 2048

# signature MODEL PLAN: one line naming every output of MODEL's runs of PLAN, bit for bit
signature() {
  local o=$tmp/out
  rm -f "$o".*
  if [ "$1" = bert ]; then
    "$TTC" run "$2" --random-weights 5 --input-ids "$tmp/bert_ids.npy" --output "$o.h.npy" \
      --output-pooled "$o.p.npy" >/dev/null 2>"$o.err" || { echo "run failed: $(cat "$o.err")"; return; }
    echo "$(cksum <"$o.h.npy") $(cksum <"$o.p.npy")"
  else
    "$TTC" run "$2" --random-weights 5 --input-ids "$tmp/llama_ids.npy" --output "$o.l.npy" >/dev/null 2>"$o.err" ||
      { echo "run failed: $(cat "$o.err")"; return; }
    local greedy sampled
    greedy=$("$TTC" generate "$2" --random-weights 5 --prompt-ids "$tmp/prompt.npy" --max-new-tokens 5 2>"$o.err") ||
      { echo "generate failed: $(cat "$o.err")"; return; }
    sampled=$("$TTC" generate "$2" --random-weights 5 --prompt-ids "$tmp/prompt.npy" --max-new-tokens 5 \
      --temperature 0.9 --top-k 100 --top-p 0.95 --seed 11 2>"$o.err") ||
      { echo "sampled generate failed: $(cat "$o.err")"; return; }
    # the sampler must be seen to sample: a different stream than greedy's, 5 steps of 2 ids
    [ "$greedy" != "$sampled" ] || echo "sampling gave greedy's tokens"
    [ "$(wc -w <<<"$sampled")" -eq 10 ] || echo "sampled: $(wc -w <<<"$sampled") ids"
    echo "$(cksum <"$o.l.npy") greedy [$(tr '\n' ' ' <<<"$greedy")] sampled [$(tr '\n' ' ' <<<"$sampled")]"
  fi
}

for model in bert llama; do
  bounds=(--batch 2 --seq 128)
  [ $model = llama ] && bounds+=(--max-seq 160)
  for hw in defaults reference performance wormhole_n300; do
    plan=$tmp/$model-$hw.plan
    hwflag=(); [ $hw = defaults ] || hwflag=(--hw "specs/hw/$hw.yaml")
    expect 0 "compile $model $hw" -- "$TTC" compile "$tmp/$model.yaml" "${hwflag[@]}" "${bounds[@]}" -o "$plan"
    [ -s "$plan" ] || continue
    want=""
    for run in 1 2; do
      for threads in 1 2 3 8; do
        got=$(TTC_THREADS=$threads signature $model "$plan")
        if [ -z "$want" ]; then
          want=$got
          case $want in *failed*|*greedy\'s*|*"ids"*) fail "$model $hw: $want"; continue 3 ;; esac
          ok
        elif [ "$got" = "$want" ]; then ok
        else fail "$model $hw: TTC_THREADS=$threads (run $run) differs from TTC_THREADS=1"; echo "  $want"; echo "  $got"
        fi
      done
    done
    for blas in 1 4; do
      got=$(OPENBLAS_NUM_THREADS=$blas TTC_THREADS=2 signature $model "$plan")
      if [ "$got" = "$want" ]; then ok
      else fail "$model $hw: OPENBLAS_NUM_THREADS=$blas differs"; echo "  $want"; echo "  $got"
      fi
    done
  done
done

summary
