#!/usr/bin/env bash
# setup.sh: install what ttc needs from Debian's packages (when missing) and build it.
# Used by both quick-start commands and by CI. Idempotent; `BUILD_DIR`, `CMAKE_ARGS`, `CC` and
# `EXTRA_PACKAGES` may be set.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build tools and libraries, plus the PyTorch cross-check's interpreter and Graphviz for dump-graph.
packages=(build-essential cmake pkg-config libyaml-dev libopenblas-dev libcunit1-dev graphviz
          python3 python3-numpy python3-torch)
# A caller's own (CI: clang and its sanitizer and libFuzzer runtimes), space-separated.
read -r -a extra <<< "${EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j2
