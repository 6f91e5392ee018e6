#!/usr/bin/env bash
# The same operations through paddockd on qemu:///system with each backend that can run here:
# org.paddock.libvirt-qemu (libvirt's API, events pushed) and org.paddock.virsh (one virsh
# process per step, state polled). Per backend: define, get, start, forced stop and delete of
# diskless domains through the API (median and max over N; each includes a curl start), GET
# /api/v1/vms under wrk, the time from a change made behind paddockd's back (after `virsh
# destroy` returned) until the listing shows it, and
# paddockd's CPU time while idle. Needs root + libvirtd.
# Usage: bench/backends.sh [vms=10] [poll_interval_s=5]
source "$(dirname "$0")/common.sh"
vms="${1:-10}" poll="${2:-5}"

ms_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", (b-a)*1000}'; }
summary() { # summary LABEL values...: median and max
  local label="$1"; shift
  printf '%s\n' "$@" | sort -n | awk -v l="$label" '{v[NR]=$1} END {printf "  %-22s median %8.1f ms   max %8.1f ms   (n=%d)\n", l, v[int((NR+1)/2)], v[NR], NR}'
}
cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }  # with waited-for children (virsh)

bench_backend() { # bench_backend BACKEND
  local backend="$1" prefix="pdk-bb-$$" t
  start_paddockd qemu:///system "    backend: $backend
    stop_timeout_s: 0
    poll_interval_s: $poll"
  trap 'for i in $(seq 1 "$vms"); do api DELETE "/api/v1/vms/$prefix-$i" >/dev/null 2>&1 || true; done; stop_paddockd' EXIT
  echo "$backend (events: $(api GET /api/v1/sites | python3 -c 'import json,sys; print(json.load(sys.stdin)["sites"][0]["events"])'))"
  local define=() get=() start=() stop=() delete=() seen=()
  for i in $(seq 1 "$vms"); do
    t=$(date +%s.%N); api POST /api/v1/vms "{\"name\":\"$prefix-$i\",\"memory_mb\":64,\"start\":false}" >/dev/null; define+=("$(ms_since "$t")")
    t=$(date +%s.%N); api GET "/api/v1/vms/$prefix-$i" >/dev/null; get+=("$(ms_since "$t")")
  done
  summary "define (POST /vms)" "${define[@]}"
  summary "GET /vms/{name}" "${get[@]}"
  for i in $(seq 1 3); do
    t=$(date +%s.%N); api POST "/api/v1/vms/$prefix-$i/start" >/dev/null; start+=("$(ms_since "$t")")
    t=$(date +%s.%N); api POST "/api/v1/vms/$prefix-$i/stop?force=true" >/dev/null; stop+=("$(ms_since "$t")")
  done
  summary "start" "${start[@]}"
  summary "stop (forced)" "${stop[@]}"
  for i in $(seq 1 3); do
    api POST "/api/v1/vms/$prefix-$i/start" >/dev/null
    sleep 1
    virsh -q -c qemu:///system destroy "$prefix-$i" >/dev/null
    t=$(date +%s.%N)
    until api GET "/api/v1/vms?site=bench" | python3 -c "import json,sys; s={v['name']:v['state'] for v in json.load(sys.stdin)['vms']}; sys.exit(0 if s.get('$prefix-$i')=='shut off' else 1)"; do sleep 0.05; done
    seen+=("$(ms_since "$t")")
  done
  summary "outside stop → listing" "${seen[@]}"
  local out
  out="$(mktemp)"
  wrk -t2 -c8 -d5s --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/vms" >"$out"
  printf '  %-22s %s req/s   p50 %s   p99 %s\n' "GET /api/v1/vms (wrk)" "$(awk '/Requests\/sec/ {print $2}' "$out")" \
    "$(awk '$1=="50%" {print $2}' "$out")" "$(awk '$1=="99%" {print $2}' "$out")"
  rm -f "$out"
  local c0 hz
  hz=$(getconf CLK_TCK)
  c0=$(cpu_ticks "$PID"); sleep 20
  awk -v a="$c0" -v b="$(cpu_ticks "$PID")" -v hz="$hz" 'BEGIN {printf "  %-22s %.2f %% of one core (20 s, paddockd and the virsh it ran)\n", "idle CPU", (b-a)*100/hz/20}'
  for i in $(seq 1 "$vms"); do
    t=$(date +%s.%N); api DELETE "/api/v1/vms/$prefix-$i" >/dev/null; delete+=("$(ms_since "$t")")
  done
  summary "delete" "${delete[@]}"
  stop_paddockd
  trap - EXIT
}

bench_backend org.paddock.libvirt-qemu
bench_backend org.paddock.virsh
