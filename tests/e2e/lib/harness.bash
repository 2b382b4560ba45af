# harness.bash: what the e2e scripts share (sourced, never run: ctest runs tests/e2e/*.sh only).
#
#     source "$(dirname "$0")/lib/harness.bash" NAME
#
# moves to the source tree, sets $TTC (the ttc binary), makes the scratch directory $tmp
# (NAME.XXXXXX under $TTC_TEST_TMP, removed on exit) and counts checks; the script ends with
# `summary`, which prints "N passed, N failed" and fails when any check did.
set -u
cd "${TTC_SOURCE_DIR:-$(dirname "$0")/../..}"
TTC=${TTC_BIN:-build/ttc}
tmp=$(mktemp -d "${TTC_TEST_TMP:-/tmp}/$1.XXXXXX" 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect STATUS DESCRIPTION -- command...: runs it, keeps stdout+stderr in $out
expect() {
  local want=$1 what=$2; shift 3
  out=$("$@" 2>&1); local got=$?
  if [ "$got" -eq "$want" ]; then ok; else fail "$what: exit $got, expected $want"; echo "$out" | head -20; fi
}
# contains / lacks DESCRIPTION TEXT: $out has / has not the fixed string TEXT
contains() { if grep -qF -- "$2" <<<"$out"; then ok; else fail "$1: output lacks '$2'"; echo "$out" | head -20; fi; }
lacks()    { if grep -qF -- "$2" <<<"$out"; then fail "$1: output has '$2'"; else ok; fi; }
# absent / present DESCRIPTION FILE: FILE does not exist / exists and is not empty
absent()   { if [ ! -e "$2" ]; then ok; else fail "$1: $2 exists"; fi; }
present()  { if [ -s "$2" ]; then ok; else fail "$1: $2 missing or empty"; fi; }

summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
