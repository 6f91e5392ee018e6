#!/usr/bin/env bash
# Configures and builds the fuzz tree: the libFuzzer targets of tests/fuzz and only the libraries
# they link, with clang under ASan and UBSan (-DPADDOCK_FUZZ=ON). A separate tree from build/,
# by default build/fuzz (where ctest's fuzz_build puts it too, so both share one).
# Usage: scripts/build-fuzz.sh [build-dir]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$here/build/fuzz}"
cmake -S "$here" -B "$dir" -DPADDOCK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$dir" -j"$(nproc)"
