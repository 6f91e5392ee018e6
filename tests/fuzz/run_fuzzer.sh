#!/usr/bin/env bash
# Runs one fuzz target of a built fuzz tree for a bounded time, starting from its seed corpus
# (tests/fuzz/corpus/<name>) and what earlier runs added (<tree>/corpus/<name>), and prints one
# summary line: executions, coverage, corpus, findings. A crash, leak, sanitizer report, broken
# invariant or hang (-timeout) is a finding: its input lands in <tree>/findings/<name>/, the
# report in <tree>/logs/<name>.log, and the exit status is non-zero.
# Usage: tests/fuzz/run_fuzzer.sh <fuzz-tree> <name> <seconds> [libFuzzer flags...]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tree="$1" name="$2" seconds="$3"
shift 3
binary="$tree/tests/fuzz/fuzz_$name"
[ -x "$binary" ] || { echo "$name: no $binary (scripts/build-fuzz.sh $tree)" >&2; exit 2; }
seeds="$here/corpus/$name"
corpus="$tree/corpus/$name" findings="$tree/findings/$name" log="$tree/logs/$name.log"
mkdir -p "$corpus" "$findings" "$(dirname "$log")"
before="$(ls "$findings" | wc -l)"

# New inputs go to the first directory, so the checked-in seeds are never written to.
# Leaks of the fuzz build itself (not of Paddock) are suppressed, each with its reason, in
# lsan_suppressions.txt.
ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
  LSAN_OPTIONS="suppressions=$here/lsan_suppressions.txt:print_suppressions=0:${LSAN_OPTIONS:-}" \
  "$binary" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 -artifact_prefix="$findings/" \
  "$@" "$corpus" "$seeds" >"$log" 2>&1
status=$?

runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
last="$(grep -E '^#[0-9]+' "$log" | tail -1)"
cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
features="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
units="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
new="$(ls "$findings" | wc -l)"
if [ "$status" -eq 0 ] && [ "$new" -eq "$before" ]; then
  printf '%-16s %9s runs in %ss (%s/s), cov %s, ft %s, corpus %s; findings: none\n' \
    "$name" "${runs:-?}" "$seconds" "${rate:-?}" "${cov:-?}" "${features:-?}" "${units:-?}"
  exit 0
fi
printf '%-16s FINDING after %s runs (exit %s); input in %s, report in %s:\n' \
  "$name" "${runs:-?}" "$status" "$findings" "$log"
# The sanitizer or invariant report, without libFuzzer's progress lines.
grep -avE '^(#[0-9]+|INFO:|stat::)' "$log" | tail -40
exit 1
