#!/usr/bin/env bash
# torch_llama.sh: cross-check ttc's decoders against a PyTorch float32 Hugging Face Llama
# reference (tools/torch_llama_check.py): specs/tiny-llama.yaml and its variants (MQA, qkv bias,
# attention bias, tied lm_head, sliding window, llama3 rope scaling, GeGLU, eos) with
# specs/hw/reference.yaml: prefill logits from F32, BF16 and F16 weights, greedy generation.
#
# ctest sets TTC_SOURCE_DIR, TTC_BIN and TTC_TEST_TMP; by hand, from the repo root:
#     bash tests/e2e/torch_llama.sh
# Exit status: 0 pass, 1 fail, 77 skipped (Debian's python3-torch not installed).
source "$(dirname "${BASH_SOURCE[0]}")/lib/torch_check.bash" torch_llama torch_llama_check.py tiny-llama.yaml

self_test
cross_check

# The check must be able to fail: ttc compiles the spec with rope theta doubled while torch
# keeps the right one. Exit 1 (a mismatch) is the expected outcome; 0 would mean the bounds
# cannot see a wrong theta, anything else is an error.
echo
echo "--- expected to FAIL: ttc given rope theta x2 ---"
"$python" "$tool" --spec "$spec" --ttc "$TTC_BIN" --variants base --sabotage rope-theta 2>&1
rc=$?
if [ $rc -ne 1 ]; then
    echo "torch_llama: FAIL (the sabotaged run exited $rc, expected 1: the check did not catch a wrong rope theta)" >&2
    exit 1
fi
echo "--- the wrong rope theta was caught, as it must be ---"
echo "torch_llama: PASS"
exit 0
