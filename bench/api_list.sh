#!/usr/bin/env bash
# GET /api/v1/vms with 100 defined domains on qemu:///system, and GET /healthz, under wrk.
# Prints req/s, p50/p99 latency and paddockd's RSS idle and under load. Needs root + libvirtd.
# Usage: bench/api_list.sh [domains=100] [seconds=10] [connections=32]
source "$(dirname "$0")/common.sh"
domains="${1:-100}" seconds="${2:-10}" connections="${3:-32}"
prefix="pdk-bench-$$"

start_paddockd qemu:///system
cleanup_domains() { for i in $(seq 1 "$domains"); do api DELETE "/api/v1/vms/$prefix-$i" >/dev/null 2>&1 || true; done; }
trap 'cleanup_domains; kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT

echo "defining $domains diskless domains on qemu:///system ..."
t0=$(date +%s.%N)
for i in $(seq 1 "$domains"); do api POST /api/v1/vms "{\"name\":\"$prefix-$i\",\"start\":false}" >/dev/null; done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$domains" 'BEGIN {printf "define: %.1f ms per VM through the API\n", (b-a)*1000/n}'
count=$(api GET /api/v1/vms | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))')
echo "listing holds $count domains"

idle=$(rss_kib "$PID")
run_wrk() { # run_wrk LABEL PATH
  local out peak=0 pid_w
  out="$(mktemp)"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$2" >"$out" &
  pid_w=$!
  while kill -0 "$pid_w" 2>/dev/null; do r=$(rss_kib "$PID"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.5; done
  wait "$pid_w"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$out")
  p50=$(awk '$1=="50%" {print $2}' "$out")
  p99=$(awk '$1=="99%" {print $2}' "$out")
  errors=$(grep -E "Non-2xx|Socket errors" "$out" | tr '\n' ' ' || true)
  printf '%-16s %10s req/s   p50 %-9s p99 %-9s peak RSS %6d KiB %s\n' "$1" "$rps" "$p50" "$p99" "$peak" "$errors"
  rm -f "$out"
}
echo "wrk: ${seconds}s, $connections connections, 2 threads"
run_wrk "GET /api/v1/vms" /api/v1/vms
run_wrk "GET /healthz" /healthz
printf 'paddockd RSS idle %d KiB, after load %d KiB\n' "$idle" "$(rss_kib "$PID")"
