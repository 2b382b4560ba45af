#!/usr/bin/env bash
# torch_bert.sh: cross-check ttc's BERT encoder against a PyTorch float32 reference
# (tools/torch_bert_check.py) on specs/tiny-bert.yaml with specs/hw/reference.yaml.
#
# ctest sets TTC_SOURCE_DIR, TTC_BIN and TTC_TEST_TMP; by hand, from the repo root:
#     bash tests/e2e/torch_bert.sh
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

# The tool's temporary work directory goes under the test tree when ctest runs us.
if [ -n "${TTC_TEST_TMP:-}" ]; then
    mkdir -p "$TTC_TEST_TMP" || exit 1
    export TMPDIR=$TTC_TEST_TMP
fi

tool=$src_dir/tools/torch_bert_check.py
spec=$src_dir/specs/tiny-bert.yaml

# First the tool's own checks (its torch reference against torch.nn modules), so that a failure
# below points at ttc rather than at the reference.
"$python" "$tool" --self-test --spec "$spec"
rc=$?
if [ $rc -ne 0 ]; then
    [ $rc -eq $SKIP ] && exit $SKIP
    echo "FAIL: torch_bert_check.py --self-test (exit $rc)" >&2
    exit 1
fi

"$python" "$tool" --spec "$spec" --ttc "$TTC_BIN"
rc=$?
case $rc in
    0) echo "torch_bert: PASS" ;;
    "$SKIP") echo "torch_bert: SKIP" ;;
    *) echo "torch_bert: FAIL (exit $rc)" >&2; rc=1 ;;
esac
exit $rc
