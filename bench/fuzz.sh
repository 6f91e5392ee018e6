#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz) for as long as asked, one after the other, and prints
# per target: executions, executions/s, coverage, corpus size and findings. Builds the fuzz tree
# first when needed (scripts/build-fuzz.sh; FUZZ_BUILD_DIR=... for another tree than build/fuzz).
# Inputs that reach new coverage are kept in <tree>/corpus/<name> for the next run; findings
# land in <tree>/findings/<name> (README.md, "Fuzzing", says how to reproduce one). Exits
# non-zero when a target found something.
# Usage: bench/fuzz.sh [seconds-per-target=60] [target...]   (default: every target)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tree="${FUZZ_BUILD_DIR:-$root/build/fuzz}"
seconds="${1:-60}"
shift $(($# > 0 ? 1 : 0))
bash "$root/scripts/build-fuzz.sh" "$tree" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for binary in "$tree"/tests/fuzz/fuzz_*; do
    [ -f "$binary" ] && [ -x "$binary" ] && targets+=("${binary##*/fuzz_}")
  done
fi
echo "fuzzing ${#targets[@]} target(s), ${seconds}s each, on $(nproc) core(s)"
failed=0
for name in "${targets[@]}"; do
  bash "$root/tests/fuzz/run_fuzzer.sh" "$tree" "$name" "$seconds" || failed=1
done
exit "$failed"
