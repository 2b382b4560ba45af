# torch_check.bash: what torch_bert.sh and torch_llama.sh share (sourced, never run: ctest runs
# tests/e2e/*.sh only).
#
#     source "$(dirname "${BASH_SOURCE[0]}")/lib/torch_check.bash" NAME TOOL SPEC
#
# NAME prefixes the verdicts ("NAME: PASS"), TOOL is a tools/ script, SPEC a specs/ file. Exits
# 77 (skipped) without Debian's interpreter; then `self_test` and `cross_check [ARGS...]` run the
# tool, each returning only when it passed and otherwise ending the script with 77 (skipped:
# python3-torch is missing) or 1.
set -u

SKIP=77
src_dir=${TTC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
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

name=$1
tool=$src_dir/tools/$2
spec=$src_dir/specs/$3

# The tool's own checks (its torch reference against torch.nn modules), so that a failure in
# cross_check points at ttc rather than at the reference.
self_test() {
    "$python" "$tool" --self-test --spec "$spec"
    local rc=$?
    if [ $rc -ne 0 ]; then
        [ $rc -eq $SKIP ] && exit $SKIP
        echo "FAIL: $(basename "$tool") --self-test (exit $rc)" >&2
        exit 1
    fi
}

# ttc against the tool's torch reference, with the tool's extra ARGS.
cross_check() {
    "$python" "$tool" --spec "$spec" --ttc "$TTC_BIN" "$@"
    local rc=$?
    case $rc in
        0) ;;
        "$SKIP") echo "$name: SKIP"; exit $SKIP ;;
        *) echo "$name: FAIL (exit $rc)" >&2; exit 1 ;;
    esac
}
