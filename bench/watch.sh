#!/usr/bin/env bash
# The watchdog. Part 1 (needs root + libvirtd + the guest image, scripts/build-guest-image.sh):
# the e2e_watch test with real guests on qemu:///system, N times (default 3): boot to the
# guest's first heartbeat, heartbeat loss to the automatic revert (timeout 8 s), revert to
# heartbeats again, a killed QEMU to running again, revert to the guest agent's first answer.
# Part 2: what heartbeats cost. VMS (default 200) watched diskless VMs on test:///default get
# token-less heartbeats from wrk (GET /api/v1/vms/{name}/heartbeat, round robin over the VMs):
# req/s, p50/p99 latency, paddockd's RSS idle and under load.
# Usage: bench/watch.sh [runs=3] [vms=200] [seconds=10] [connections=32]   (runs=0: part 2 only)
source "$(dirname "$0")/common.sh"
runs="${1:-3}" vms="${2:-200}" seconds="${3:-10}" connections="${4:-32}"
binary="$build_dir/tests/integration/paddock_e2e_watch_test"
for i in $(seq 1 "$runs"); do
  [ -x "$binary" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
  echo "run $i:"
  bash "$bench_root/tests/integration/run_e2e.sh" "$binary" 2>&1 | grep '^watch figures:' | sed 's/^/  /'
done

start_paddockd test:///default "    network_mode: user
    ssh_port_min: 30000
    ssh_port_max: 39999
watch:
  heartbeat_rate_per_s: 1000" "" default-pool
echo "watching $vms VMs on test:///default ..."
for i in $(seq 1 "$vms"); do
  api POST /api/v1/vms "{\"name\":\"art-$i\"}" >/dev/null
  api POST "/api/v1/vms/art-$i/snapshots" '{"name":"ready"}' >/dev/null
  api POST "/api/v1/vms/art-$i/watch" '{"heartbeat_timeout_s":3600,"revert_on_start":false}' >/dev/null
done
idle=$(rss_kib "$PID")
lua="$WORK/heartbeats.lua"
cat > "$lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/v1/vms/art-" .. (n % $vms + 1) .. "/heartbeat?status=ok")
end
LUA
out="$WORK/wrk.txt"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$lua" "$BASE" >"$out" &
pid_w=$!
peak=0
while kill -0 "$pid_w" 2>/dev/null; do r=$(rss_kib "$PID"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.5; done
wait "$pid_w"
printf 'heartbeats over %d VMs: %s req/s, p50 %s, p99 %s, %s\n' "$vms" \
  "$(awk '/Requests\/sec/ {print $2}' "$out")" "$(awk '$1=="50%" {print $2}' "$out")" \
  "$(awk '$1=="99%" {print $2}' "$out")" "$(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' ' || echo 'all 2xx')"
printf 'paddockd RSS with %d watched VMs: idle %d KiB, peak under load %d KiB\n' "$vms" "$idle" "$peak"
api GET /api/v1/vms/art-1/watch | python3 -c 'import json,sys; w=json.load(sys.stdin); print("art-1:", w["state"], "reverts", w["reverts"])'
echo "goals: a hung guest is reverted within heartbeat_timeout_s + a few seconds;"
echo "       one paddockd takes hundreds of VMs' 1 Hz heartbeats with room to spare"
