#!/usr/bin/env bash
# Configures and builds Paddock into build/ (shared by run.sh and test.sh, so one build serves both).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$here/build" -j"$(nproc)" "$@"
