#!/usr/bin/env bash
# Snapshots and backups of a real guest (scripts/build-guest-image.sh) on qemu:///system, through
# a private paddockd: snapshot create and revert of a running 512 MiB guest (and revert -> first
# SSH command), a full backup, an incremental one after writing 10 MiB in the guest, an offline
# (stopped VM) incremental, and restore -> SSH-ready of a new VM. It runs the e2e_state test,
# which measures and checks those steps, N times (default 3) and prints each run's figures.
# Usage: bench/snapshots.sh [runs=3]
source "$(dirname "$0")/common.sh"
runs="${1:-3}"
binary="$build_dir/tests/integration/paddock_e2e_state_test"
[ -x "$binary" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
for i in $(seq 1 "$runs"); do
  echo "run $i:"
  bash "$bench_root/tests/integration/run_e2e.sh" "$binary" 2>&1 | grep '^state:' | sed 's/^/  /'
done
echo "goals: incremental backup after writing 10 MiB holds about 10 MiB (not the disk);"
echo "       revert of a running guest answers SSH within seconds (internal snapshot, one loadvm)"
