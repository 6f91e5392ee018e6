#!/usr/bin/env bash
# Seconds from POST /api/v1/vms to readiness "ready" (SSH login works), and from POST .../start
# of an existing, stopped VM to "ready"; each the median of N runs (default 3), with a real
# guest from scripts/build-guest-image.sh on qemu:///system under whatever accel auto picks.
# Usage: bench/vm_ready.sh [runs=3]
source "$(dirname "$0")/common.sh"
runs="${1:-3}"
eval "$(bash "$bench_root/scripts/build-guest-image.sh" --output-env)"
start_paddockd qemu:///system "    network_mode: user
    ssh_port_min: 24000
    ssh_port_max: 24999
    templates:
      - name: debian
        base_image: $PADDOCK_GUEST_IMAGE
        kernel: $PADDOCK_GUEST_KERNEL
        initrd: $PADDOCK_GUEST_INITRD
        cmdline: \"$PADDOCK_GUEST_CMDLINE\""
name="pdk-bench-ready-$$"
trap 'api DELETE "/api/v1/vms/$name" >/dev/null 2>&1; kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
wait_ready() { # prints seconds since $1 once readiness is "ready"
  local t0="$1"
  for _ in $(seq 1 1200); do
    r=$(api GET "/api/v1/vms/$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["vm"]["readiness"])')
    [ "$r" = ready ] && { awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b-a}'; return; }
    [ "$r" = unreachable ] && { echo "unreachable" >&2; exit 1; }
    sleep 0.2
  done
  echo "timeout" >&2; exit 1
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

create_times=() start_times=()
for i in $(seq 1 "$runs"); do
  t0=$(now); api POST /api/v1/vms "{\"name\":\"$name\"}" >/dev/null; c=$(wait_ready "$t0")
  api POST "/api/v1/vms/$name/stop" >/dev/null
  t0=$(now); api POST "/api/v1/vms/$name/start" >/dev/null; s=$(wait_ready "$t0")
  api DELETE "/api/v1/vms/$name" >/dev/null
  echo "run $i: POST->ready ${c}s, start->ready ${s}s"
  create_times+=("$c") start_times+=("$s")
done
echo "median of $runs: POST->ready $(echo "${create_times[*]}" | median) s, start->ready $(echo "${start_times[*]}" | median) s"
