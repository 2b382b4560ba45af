#!/usr/bin/env bash
# cli_help.sh: the small promises of the command line. `ttc --version` names the commit it was
# built from (and the header that carries it is regenerated when the commit changes); every
# command's --help shows every option of its table in the usage line and in the options list;
# generated programs do the same, say which ttc made them, and get the umask's permissions.
source "$(dirname "$0")/lib/harness.bash" cli_help

# --- the commit, at build time ---
expect 0 "ttc --version" -- "$TTC" --version
version=$out
if command -v git >/dev/null && top=$(git rev-parse --show-toplevel 2>/dev/null) &&
   [ "$(realpath "$top")" = "$(realpath .)" ]; then
  head=$(git rev-parse --short=7 HEAD)
  contains "ttc --version names HEAD" "$head"
else
  contains "ttc --version outside git" "(unknown)"
fi
contains "ttc --version names the plan format" "plan format"

# The header generator itself, on a repository of our own: the commit, a new one after a commit,
# -dirty, no rewrite when nothing changed (so nothing recompiles), "unknown" outside git and
# inside a repository the tree is not the top of.
gen() { cmake -DSRC="$1" -DOUT="$2" -P tools/build_version.cmake; }
if command -v git >/dev/null && command -v cmake >/dev/null; then
  repo=$tmp/repo
  mkdir -p "$repo/sub"
  g() { git -C "$repo" -c user.name=t -c user.email=t@t -c commit.gpgsign=false "$@" >/dev/null 2>&1; }
  g init -q && echo a > "$repo/f" && g add f && g commit -q -m one
  gen "$repo" "$tmp/v.h"
  first=$(git -C "$repo" rev-parse --short HEAD)
  out=$(cat "$tmp/v.h"); contains "header names the commit" "TTC_BUILD_COMMIT \"$first\""
  touch -d '2000-01-01' "$tmp/v.h"
  gen "$repo" "$tmp/v.h"
  if [ "$(stat -c %Y "$tmp/v.h")" = "$(date -d 2000-01-01 +%s)" ]; then ok; else fail "unchanged commit rewrote the header"; fi
  echo b > "$repo/f" && g commit -q -am two
  gen "$repo" "$tmp/v.h"
  second=$(git -C "$repo" rev-parse --short HEAD)
  out=$(cat "$tmp/v.h"); contains "header follows a new commit" "TTC_BUILD_COMMIT \"$second\""
  echo c > "$repo/f"
  gen "$repo" "$tmp/v.h"
  out=$(cat "$tmp/v.h"); contains "header says dirty" "TTC_BUILD_COMMIT \"$second-dirty\""
  gen "$repo/sub" "$tmp/v.h"
  out=$(cat "$tmp/v.h"); contains "a subdirectory of another repository" "TTC_BUILD_COMMIT \"unknown\""
  mkdir -p "$tmp/plain"
  gen "$tmp/plain" "$tmp/v.h"
  out=$(cat "$tmp/v.h"); contains "outside git" "TTC_BUILD_COMMIT \"unknown\""
fi

# --- every option in the usage line and the options list ---
# help_block TEXT FIRST: the lines of TEXT from the one starting with FIRST to the next blank one
help_block() { awk -v first="$2" 'index($0, first) == 1 { on = 1 } on && /^$/ { exit } on' <<<"$1"; }

# in_usage USAGE OPT: USAGE names OPT as a whole ("--seq N" in "[--seq N]", "(--weights W |", ...)
in_usage() {
  local u=" $(tr '\n' ' ' <<<"$1") " pre post
  for pre in " " "(" "[" "|"; do for post in " " ")" "]" "|"; do
    [[ $u == *"$pre$2$post"* ]] && return 0
  done; done
  return 1
}
# in_list LIST OPT: a line of LIST describes OPT ("  --seq N   most tokens...")
in_list() {
  local line
  while IFS= read -r line; do [[ $line == "  $2 "* || $line == "  $2" ]] && return 0; done <<<"$1"
  return 1
}

expect 0 "ttc --help" -- "$TTC" --help
commands=$(awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$out")
if [ "$(wc -w <<<"$commands")" -ge 9 ]; then ok; else fail "ttc --help lists only: $commands"; fi
for c in $commands; do
  expect 0 "ttc $c --list-options" -- "$TTC" "$c" --list-options
  opts=$out
  dups=$(awk '{ print $1 }' <<<"$opts" | sort | uniq -d)
  if [ -z "$dups" ]; then ok; else fail "ttc $c: options declared twice: $dups"; fi
  expect 0 "ttc $c --help" -- "$TTC" "$c" --help
  help=$out
  usage=$(help_block "$help" "usage: ttc $c")
  list=$(sed -n '/^options:/,$p' <<<"$help")
  while IFS= read -r o; do
    [ -n "$o" ] || continue
    # in the usage line as the help shows it ("--seq N"), bracketed or in the command's own part
    if in_usage "$usage" "$o"; then ok; else fail "ttc $c --help: usage line lacks '$o'"; echo "$usage"; fi
    if in_list "$list" "$o"; then ok; else fail "ttc $c --help: options list lacks '$o'"; fi
    [ "${o%% *}" != "--list-options" ] || fail "ttc $c: --list-options is in its own table"
  done <<<"$opts"
done
# long usage lines wrap
expect 0 "ttc compile --help" -- "$TTC" compile --help
too_long=$(help_block "$out" "usage:" | awk 'length > 100')
if [ -z "$too_long" ]; then ok; else fail "usage line over 100 columns: $too_long"; fi
expect 1 "missing argument" -- "$TTC" compile
contains "missing argument shows the usage" "usage: ttc compile SPEC.yaml [OPTIONS]"

# --- generated programs: help, version, permissions ---
if command -v "${CC:-cc}" >/dev/null; then
  expect 0 "emit exe under umask 022" -- bash -c "umask 022 && '$TTC' compile specs/tiny-llama.yaml --emit exe -o '$tmp/llama'"
  if [ "$(stat -c %a "$tmp/llama")" = 755 ]; then ok; else fail "umask 022: mode $(stat -c %a "$tmp/llama"), expected 755"; fi
  expect 0 "emit exe under umask 077" -- bash -c "umask 077 && '$TTC' compile specs/tiny-bert.yaml --emit exe -o '$tmp/bert'"
  if [ "$(stat -c %a "$tmp/bert")" = 700 ]; then ok; else fail "umask 077: mode $(stat -c %a "$tmp/bert"), expected 700"; fi
  for p in llama bert; do
    expect 0 "$p --help" -- "$tmp/$p" --help
    help=$out
    usage=$(help_block "$help" "usage: $p")
    list=$(sed -n '/^options:/,$p' <<<"$help" | grep -E '^  --' | grep -vE '^  --(version|help)' | sed -E 's/^  (--[a-z-]+( [^ ]+)?) .*/\1/')
    n=$(wc -l <<<"$list")
    if [ "$n" -ge 8 ]; then ok; else fail "$p --help lists $n options"; fi
    dups=$(awk '{ print $1 }' <<<"$list" | sort | uniq -d)
    if [ -z "$dups" ]; then ok; else fail "$p: options listed twice: $dups"; fi
    while IFS= read -r o; do
      if in_usage "$usage" "$o"; then ok; else fail "$p --help: usage lacks '$o'"; echo "$usage"; fi
    done <<<"$list"
    too_long=$(awk 'length > 100' <<<"$usage")
    if [ -z "$too_long" ]; then ok; else fail "$p: usage line over 100 columns"; fi
    expect 0 "$p --version" -- "$tmp/$p" --version
    v=${version#ttc }
    contains "$p --version names the ttc that made it" "generated by ttc ${v%%, plan format*}: compile"
    if [ $p = llama ]; then out=$usage; contains "a decoder's usage has the generate line" "--max-new-tokens N"; fi
  done
fi

summary
