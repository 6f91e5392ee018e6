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
trap 'api DELETE "/api/v1/vms/$name" >/dev/null 2>&1 || true; kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b-a}'; }
# wait_ready T0: prints "seconds since T0 until readiness is ready" and the server's own
# seconds_to_ready (from the probe's start, i.e. once the domain runs). Polls every 0.05 s with
# curl alone, so the loop adds well under 0.1 s.
wait_ready() {
  local t0="$1" j
  for _ in $(seq 1 3000); do
    j=$(api GET "/api/v1/vms/$name")
    case "$j" in
    *'"readiness":"ready"'*)
      printf '%s %s' "$(secs "$t0" "$(now)")" "$(grep -o '"seconds_to_ready":[0-9.]*' <<< "$j" | cut -d: -f2 | xargs printf '%.1f')"
      return ;;
    *'"readiness":"unreachable"'*) echo "unreachable" >&2; exit 1 ;;
    esac
    sleep 0.05
  done
  echo "timeout" >&2; exit 1
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

create_times=() post_times=() probe_times=() start_times=()
for i in $(seq 1 "$runs"); do
  t0=$(now); api POST /api/v1/vms "{\"name\":\"$name\"}" >/dev/null; p=$(secs "$t0" "$(now)")
  read -r c pr <<< "$(wait_ready "$t0")"
  api POST "/api/v1/vms/$name/stop" >/dev/null
  t0=$(now); api POST "/api/v1/vms/$name/start" >/dev/null; read -r s _ <<< "$(wait_ready "$t0")"
  api DELETE "/api/v1/vms/$name" >/dev/null
  echo "run $i: POST->ready ${c}s (POST returned after ${p}s, then the SSH probe ${pr}s), start->ready ${s}s"
  create_times+=("$c") post_times+=("$p") probe_times+=("$pr") start_times+=("$s")
done
echo "median of $runs: POST->ready $(echo "${create_times[*]}" | median) s (goal <= 8 s): POST returns" \
  "$(echo "${post_times[*]}" | median) s, domain start to SSH login $(echo "${probe_times[*]}" | median) s;" \
  "start->ready $(echo "${start_times[*]}" | median) s"
