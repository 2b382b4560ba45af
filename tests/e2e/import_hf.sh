#!/usr/bin/env bash
# import_hf.sh: `ttc import-hf`: Hugging Face config.json files (small Llama, Qwen2 and BERT
# shapes, and the published Llama-3.2-1B one) become specs that compile and run; a bad or
# unsupported config is an error naming the file and key, exit 1, and no file at -o.
source "$(dirname "$0")/lib/harness.bash" import_hf

expect 0 "import-hf --help" -- "$TTC" import-hf --help
contains "import-hf --help" "usage: ttc import-hf CONFIG.json [-o SPEC.yaml]"
expect 0 "ttc --help" -- "$TTC" --help
contains "ttc --help lists import-hf" "import-hf "
expect 1 "import-hf without a config" -- "$TTC" import-hf

# --- a Llama-shaped decoder: import, compile, run, generate ---
mkdir -p "$tmp/tiny-llama-hf"
cat > "$tmp/tiny-llama-hf/config.json" <<'EOF'
{
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "bos_token_id": 1,
  "eos_token_id": [2, 3],
  "hidden_act": "silu",
  "hidden_size": 32,
  "intermediate_size": 48,
  "max_position_embeddings": 64,
  "model_type": "llama",
  "num_attention_heads": 4,
  "num_hidden_layers": 2,
  "num_key_value_heads": 2,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 2.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 32, "rope_type": "llama3"},
  "rope_theta": 500000.0,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "vocab_size": 96
}
EOF
expect 0 "import llama to stdout" -- "$TTC" import-hf "$tmp/tiny-llama-hf/config.json"
contains "header names the config" "# tiny-llama-hf: imported from $tmp/tiny-llama-hf/config.json (model_type llama)"
contains "header names the version" "# by ttc import-hf 0."
contains "model line" "model: {name: tiny-llama-hf, type: decoder, vocab_size: 96, max_sequence_length: 64, eos_token_id: 2}"
contains "kv heads" "      num_kv_heads: 2"
contains "rope" "rope: {theta: 500000.0, scaling: {type: llama3, factor: 2.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position: 32}}"
contains "tied" "tied_to: embedding"
expect 0 "import llama -o" -- "$TTC" import-hf "$tmp/tiny-llama-hf/config.json" -o "$tmp/llama.yaml"
present "spec written" "$tmp/llama.yaml"
contains "says what next" "ttc compile $tmp/llama.yaml"
expect 0 "compile the imported llama" -- "$TTC" compile "$tmp/llama.yaml" --seq 8 --max-seq 16 -o "$tmp/llama.plan"
expect 0 "run it" -- "$TTC" run "$tmp/llama.plan" --random-weights 1 --input-ids "1,5,9" --output "$tmp/logits.npy"
if head -c 128 "$tmp/logits.npy" | grep -qa "'shape': (1, 3, 96)"; then ok; else fail "logits.npy shape"; fi
expect 0 "check it against the reference" -- "$TTC" run "$tmp/llama.plan" --random-weights 1 --input-ids "1,5,9" --check
contains "reference verdict" "every op matches the fp32 reference"
expect 0 "generate with it" -- "$TTC" generate "$tmp/llama.plan" --random-weights 1 --prompt-ids "1,5" --max-new-tokens 4

# --- a Qwen2-shaped decoder (q/k/v biases, window off) and a BERT encoder ---
mkdir -p "$tmp/q"
printf '{"model_type": "qwen2", "vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 2,
 "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48, "rms_norm_eps": 1e-06,
 "rope_theta": 1000000.0, "sliding_window": 64, "use_sliding_window": false, "max_window_layers": 2,
 "max_position_embeddings": 64, "tie_word_embeddings": true, "_name_or_path": "Qwen/tiny-qwen2"}\n' > "$tmp/q/config.json"
expect 0 "import qwen2" -- "$TTC" import-hf "$tmp/q/config.json" -o "$tmp/qwen.yaml"
out=$(cat "$tmp/qwen.yaml")
contains "qwen2 name from _name_or_path" "name: tiny-qwen2"
contains "qwen2 qkv bias" "        qkv_bias: true"
lacks "qwen2 window off" "sliding_window"
expect 0 "compile qwen2" -- "$TTC" compile "$tmp/qwen.yaml" --seq 8 -o "$tmp/qwen.plan"
expect 0 "run qwen2" -- "$TTC" run "$tmp/qwen.plan" --random-weights 2 --input-ids "3,4,5"

mkdir -p "$tmp/tiny-bert-hf"
printf '{"model_type": "bert", "vocab_size": 128, "hidden_size": 32, "num_hidden_layers": 2,
 "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
 "max_position_embeddings": 64, "type_vocab_size": 2, "position_embedding_type": "absolute"}\n' > "$tmp/tiny-bert-hf/config.json"
expect 0 "import bert" -- "$TTC" import-hf "$tmp/tiny-bert-hf/config.json" -o "$tmp/bert.yaml"
# the same model as the shipped tiny-bert, apart from its name and the header
if diff <(grep -v '^#' "$tmp/bert.yaml" | sed 's/name: tiny-bert-hf/name: tiny-bert/') \
        <(grep -v '^#' specs/tiny-bert.yaml) >/dev/null; then
  ok; else fail "imported bert differs from specs/tiny-bert.yaml"; diff <(grep -v '^#' "$tmp/bert.yaml") specs/tiny-bert.yaml; fi
expect 0 "compile bert" -- "$TTC" compile "$tmp/bert.yaml" --seq 8 -o "$tmp/bert.plan"
expect 0 "run bert" -- "$TTC" run "$tmp/bert.plan" --random-weights 1 --input-ids "5,6,7" --output "$tmp/h.npy"
if head -c 128 "$tmp/h.npy" | grep -qa "'shape': (1, 3, 32)"; then ok; else fail "hidden.npy shape"; fi

# --- the published Llama-3.2-1B config compiles (too big to run here) ---
mkdir -p "$tmp/Llama-3.2-1B"
cat > "$tmp/Llama-3.2-1B/config.json" <<'EOF'
{"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
 "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
 "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
 "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
 "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
 "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0,
 "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0", "use_cache": true,
 "vocab_size": 128256}
EOF
expect 0 "import Llama-3.2-1B" -- "$TTC" import-hf "$tmp/Llama-3.2-1B/config.json" -o "$tmp/l1b.yaml"
if diff <(grep -v '^#' "$tmp/l1b.yaml" | sed 's/name: Llama-3.2-1B/name: llama-3.2-1b/') \
        <(grep -v '^#' specs/llama-3.2-1b.yaml) >/dev/null; then ok; else fail "Llama-3.2-1B differs from the shipped spec"; fi
expect 0 "compile Llama-3.2-1B" -- "$TTC" compile "$tmp/l1b.yaml" --seq 16 -o "$tmp/l1b.plan"

# --- errors: exit 1, the file and key named, nothing at -o ---
printf '{"model_type": "llama",\n "hidden_size": 32,}\n' > "$tmp/bad.json"
expect 1 "bad JSON" -- "$TTC" import-hf "$tmp/bad.json" -o "$tmp/bad.yaml"
contains "bad JSON located" "$tmp/bad.json:2:20: error: trailing ',' before '}'"
absent "bad JSON: no output" "$tmp/bad.yaml"
printf '{"model_type": "gpt2", "n_embd": 768}\n' > "$tmp/gpt2.json"
expect 1 "unsupported model type" -- "$TTC" import-hf "$tmp/gpt2.json" -o "$tmp/gpt2.yaml"
contains "unsupported type named" "$tmp/gpt2.json:1:16: error: key 'model_type': model type 'gpt2' is not supported"
contains "supported listed" "hint: supported: bert, llama, mistral, qwen2"
absent "unsupported: no output" "$tmp/gpt2.yaml"
sed 's/"rope_type": "llama3"/"rope_type": "yarn"/' "$tmp/tiny-llama-hf/config.json" > "$tmp/yarn.json"
expect 1 "yarn rope scaling" -- "$TTC" import-hf "$tmp/yarn.json" -o "$tmp/yarn.yaml"
contains "yarn named" "error: key 'rope_scaling.rope_type': RoPE scaling 'yarn' is not supported yet"
absent "yarn: no output" "$tmp/yarn.yaml"
# a failed import leaves an existing file as it was
echo "keep me" > "$tmp/keep.yaml"
expect 1 "failure over an existing file" -- "$TTC" import-hf "$tmp/gpt2.json" -o "$tmp/keep.yaml"
if [ "$(cat "$tmp/keep.yaml")" = "keep me" ]; then ok; else fail "existing -o file was changed"; fi
expect 1 "missing config" -- "$TTC" import-hf "$tmp/none.json"
contains "missing config named" "none.json"
expect 1 "no JSON on stdout on failure" -- "$TTC" import-hf "$tmp/bad.json"
lacks "nothing printed as YAML" "spec_version"

summary
