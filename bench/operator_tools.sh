#!/usr/bin/env bash
# The operators' tools on test:///default with N domains (default 100):
#   - `paddock vm ls` (table and -o json) and `paddock site ls`: wall time per call, p50/p99 over
#     RUNS calls, against `curl` of the same route, and the CLI's peak RSS;
#   - the control panel (/ui/) in headless Chromium: sign-in → N rows, API stop/start → row
#     updated by the event stream (p50/p99), the page's JS heap (bench/panel_load.js);
#   - packaging: the time cpack takes on the built tree and the size of the .deb (PACKAGE=1).
# Usage: bench/operator_tools.sh [domains=100] [runs=50]      (after scripts/build.sh)
source "$(dirname "$0")/common.sh"
domains="${1:-100}" runs="${2:-50}"
cli="$build_dir/bin/paddock"
[ -x "$cli" ] || { echo "build the CLI first: scripts/build.sh --target paddock_cli" >&2; exit 1; }

start_paddockd test:///default "    network_mode: none" "" default-pool
export PADDOCK_URL="$BASE" PADDOCK_TOKEN="$TOKEN"
prefix="bench-$$"
for i in $(seq 1 "$domains"); do api POST /api/v1/vms "{\"name\":\"$prefix-$i\",\"start\":true}" >/dev/null; done
echo "$(api GET /api/v1/vms | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))') domains listed"

# time_runs LABEL CMD...: p50/p99 wall time of RUNS runs of CMD (output discarded).
time_runs() {
  local label="$1"; shift
  python3 - "$runs" "$label" "$@" <<'PY'
import subprocess, sys, time
runs, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{label:<34} p50 {p(0.5):6.1f} ms   p99 {p(0.99):6.1f} ms   ({runs} runs)")
PY
}
echo "--- CLI ($runs runs each, a new process and connection per call)"
time_runs "paddock vm ls ($domains VMs)" "$cli" vm ls
time_runs "paddock -o json vm ls" "$cli" -o json vm ls
time_runs "paddock site ls" "$cli" site ls
time_runs "curl GET /api/v1/vms (baseline)" curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/vms"
rss=$( { /usr/bin/time -f '%M' "$cli" vm ls >/dev/null; } 2>&1 | tail -1)
echo "paddock vm ls peak RSS: $rss KiB"

echo "--- control panel (headless Chromium)"
settings="$WORK/panel-bench.json"
( umask 077; printf '{"base":"%s","token":"%s","vms":%d,"changes":%d,"vm":"%s-1"}\n' "$BASE" "$TOKEN" "$domains" 10 "$prefix" >"$settings" )
node "$bench_root/bench/panel_load.js" "$settings" 2>&1 | grep -v '^page:' | tail -3

if [ "${PACKAGE:-0}" = 1 ]; then
  echo "--- package"
  out="$WORK/package"
  t0=$(date +%s.%N)
  cpack --config "$build_dir/CPackConfig.cmake" -B "$out" >/dev/null 2>&1
  t1=$(date +%s.%N)
  deb=$(ls "$out"/*.deb)
  awk -v a="$t0" -v b="$t1" -v f="$(basename "$deb")" -v s="$(stat -c %s "$deb")" \
    'BEGIN {printf "cpack %.1f s; %s %.2f MB\n", b-a, f, s/1e6}'
fi
printf 'paddockd RSS %d KiB\n' "$(rss_kib "$PID")"
