#!/usr/bin/env bash
# Browser-terminal benchmark: `cat` of 100 MB through the terminal WebSocket vs direct `ssh -tt`
# to the same private sshd, and keystroke echo latency (p50/p99) with 64 idle sessions open.
# Everything on loopback: a private paddockd (test:///default) and sshd started by the bench.
# Usage: bench/terminal.sh   (BENCH_MB=20 for a shorter run; BENCH_BUILD_DIR=... for another build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BENCH_BUILD_DIR:-$root/build}"
bench="$build_dir/tests/server/paddock_terminal_bench"
[ -x "$bench" ] || { echo "build first: cmake --build $build_dir --target paddock_terminal_bench" >&2; exit 1; }
exec "$bench" "[.bench]"
