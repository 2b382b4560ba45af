#!/usr/bin/env bash
# torch_llama.sh: cross-check ttc's decoders against a PyTorch float32 Hugging Face Llama
# reference (tools/torch_llama_check.py): specs/tiny-llama.yaml and its variants (MQA, qkv bias,
# attention bias, tied lm_head, sliding window, llama3 rope scaling, GeGLU, eos) with
# specs/hw/reference.yaml: prefill logits from F32, BF16 and F16 weights, greedy generation.
#
# ctest sets TTC_SOURCE_DIR, TTC_BIN and TTC_TEST_TMP; by hand, from the repo root:
#     bash tests/e2e/torch_llama.sh
# Exit status: 0 pass, 1 fail, 77 skipped (Debian's python3-torch not installed).
set -u

SKIP=77
src_dir=${TTC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export TTC_BIN=${TTC_BIN:-$src_dir/build/ttc}
# Debian's torch lives in the system interpreter, not in whatever python3 is first on PATH.
python=${TTC_TORCH_PYTHON:-/usr/bin/python3}

if [ ! -x "$python" ]; then
    echo "SKIP: $python not found (the check needs Debian's python3-torch)"
    exit $SKIP
fi

# The tool's temporary work directories go under the test tree when ctest runs us.
if [ -n "${TTC_TEST_TMP:-}" ]; then
    mkdir -p "$TTC_TEST_TMP" || exit 1
    export TMPDIR=$TTC_TEST_TMP
fi

tool=$src_dir/tools/torch_llama_check.py
spec=$src_dir/specs/tiny-llama.yaml

# First the tool's own checks (its torch reference against torch.nn modules and independent
# formulations), so that a failure below points at ttc rather than at the reference.
"$python" "$tool" --self-test --spec "$spec"
rc=$?
if [ $rc -ne 0 ]; then
    [ $rc -eq $SKIP ] && exit $SKIP
    echo "FAIL: torch_llama_check.py --self-test (exit $rc)" >&2
    exit 1
fi

"$python" "$tool" --spec "$spec" --ttc "$TTC_BIN"
rc=$?
case $rc in
    0) ;;
    "$SKIP") echo "torch_llama: SKIP"; exit $SKIP ;;
    *) echo "torch_llama: FAIL (exit $rc)" >&2; exit 1 ;;
esac

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
