#!/usr/bin/env bash
# GET /api/v1/vms with 100 defined domains on qemu:///system, and GET /healthz, under wrk.
# Prints req/s, p50/p99 latency and paddockd's RSS idle and under load, for the listing, the compat
# listing, 304 answers, a filtered listing and whoami, with issue 17's goals. Needs root + libvirtd.
# Other domains on qemu:///system (other users' VMs) change the view and so the kept copy: run it alone.
# Usage: bench/api_list.sh [domains=100] [seconds=10] [connections=32]
source "$(dirname "$0")/common.sh"
domains="${1:-100}" seconds="${2:-10}" connections="${3:-32}"
prefix="pdk-bench-$$"

start_paddockd qemu:///system
cleanup_domains() { for i in $(seq 1 "$domains"); do api DELETE "/api/v1/vms/$prefix-$i" >/dev/null 2>&1 || true; done; }
trap 'cleanup_domains; kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "defining $domains diskless domains on qemu:///system ..."
t0=$(date +%s.%N)
for i in $(seq 1 "$domains"); do api POST /api/v1/vms "{\"name\":\"$prefix-$i\",\"start\":false}" >/dev/null; done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$domains" 'BEGIN {printf "define: %.1f ms per VM through the API\n", (b-a)*1000/n}'
count=$(api GET /api/v1/vms | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))')
echo "listing holds $count domains"

idle=$(rss_kib "$PID")
# run_wrk LABEL PATH [header]: one wrk run; sets RPS and P99_MS (for the goal lines) and prints a row.
run_wrk() {
  local out peak=0 pid_w extra=()
  [ -n "${3:-}" ] && extra=(-H "$3")
  out="$(mktemp)"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $TOKEN" "${extra[@]}" \
    "http://127.0.0.1:$PORT$2" >"$out" &
  pid_w=$!
  while kill -0 "$pid_w" 2>/dev/null; do r=$(rss_kib "$PID"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.5; done
  wait "$pid_w"
  local p50 p99 errors
  RPS=$(awk '/Requests\/sec/ {print $2}' "$out")
  p50=$(awk '$1=="50%" {print $2}' "$out")
  p99=$(awk '$1=="99%" {print $2}' "$out")
  P99_MS=$(echo "$p99" | awk '/us$/ {sub("us",""); print $1/1000; next} /ms$/ {sub("ms",""); print $1; next} /s$/ {sub("s",""); print $1*1000}')
  errors=$(grep -E "Non-2xx|Socket errors" "$out" | tr '\n' ' ' || true)
  printf '%-26s %10s req/s   p50 %-9s p99 %-9s peak RSS %6d KiB %s\n' "$1" "$RPS" "$p50" "$p99" "$peak" "$errors"
  rm -f "$out"
}
# goal LABEL: the issue's goal for a listing (>= 15,000 req/s, p99 <= 5 ms, >= 80 % of /healthz).
goal() {
  awk -v l="$1" -v r="$RPS" -v p="$P99_MS" -v h="$HEALTHZ_RPS" 'BEGIN {
    printf "  %-24s %.0f req/s (goal >= 15000: %s), p99 %.2f ms (goal <= 5: %s), %.0f %% of /healthz (goal >= 80: %s)\n",
      l, r, (r >= 15000 ? "met" : "NOT met"), p, (p <= 5 ? "met" : "NOT met"), 100 * r / h, (r >= 0.8 * h ? "met" : "NOT met") }'
}
etag=$(curl -fsS -D- -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/vms" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
echo "wrk: ${seconds}s, $connections connections, 2 threads (the ETag of the listing: $etag)"
run_wrk "GET /healthz" /healthz; HEALTHZ_RPS=$RPS
run_wrk "GET /api/v1/vms" /api/v1/vms; LIST=("$RPS" "$P99_MS")
run_wrk "GET /vms/list" /vms/list; COMPAT=("$RPS" "$P99_MS")
run_wrk "GET /api/v1/vms (304)" /api/v1/vms "If-None-Match: $etag"
run_wrk "GET /api/v1/vms?state=" "/api/v1/vms?state=shutoff"
run_wrk "GET /api/v1/whoami" /api/v1/whoami
echo "goals:"
RPS=${LIST[0]} P99_MS=${LIST[1]} goal "GET /api/v1/vms"
RPS=${COMPAT[0]} P99_MS=${COMPAT[1]} goal "GET /vms/list"
printf 'paddockd RSS idle %d KiB, after load %d KiB\n' "$idle" "$(rss_kib "$PID")"
