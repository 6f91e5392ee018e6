#!/usr/bin/env bash
# How paddockd holds up against many connections (issue: idle sockets froze the API).
#  1. N idle connections (default 1000) held open, plus 16 "slow loris" clients dripping a
#     header line every few seconds: GET /healthz latency meanwhile (goal: p99 <= 10 ms).
#  2. 256 busy keep-alive connections on GET /api/v1/vms with 100 domains (wrk):
#     req/s and p99 (goal: p99 <= 10 ms).
# Prints the figures next to their goals; never fails on them. Needs root + libvirtd for
# qemu:///system (the default URI); pass test:///default to run without a daemon.
# Usage: bench/connections.sh [uri=qemu:///system] [idle=1000] [busy=256] [seconds=10]
source "$(dirname "$0")/common.sh"
uri="${1:-qemu:///system}" idle="${2:-1000}" busy="${3:-256}" seconds="${4:-10}"
domains=100
prefix="pdk-conn-$$"

server_extra="max_connections: 20000, max_connections_per_client: 10000, head_timeout_s: 120, idle_timeout_s: 120"
pool=$([ "$uri" = "test:///default" ] && echo default-pool || echo paddock)
start_paddockd "$uri" "" "$server_extra" "$pool"
cleanup_domains() { for i in $(seq 1 "$domains"); do api DELETE "/api/v1/vms/$prefix-$i" >/dev/null 2>&1 || true; done; }
trap 'cleanup_domains; kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for i in $(seq 1 "$domains"); do api POST /api/v1/vms "{\"name\":\"$prefix-$i\",\"start\":false}" >/dev/null; done
echo "paddockd on $uri with $domains domains, $(awk '/^Threads/ {print $2}' /proc/$PID/status) threads"

# Latency of one GET /healthz on a fresh connection, $2 times: p50/p99/max in ms.
probe() {
  python3 - "$PORT" "$1" <<'PY'
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
samples = []
for _ in range(count):
    t = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
    samples.append((time.perf_counter() - t) * 1000)
    s.close()
samples.sort()
pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
print(f"p50 {pick(0.5):.2f} ms  p99 {pick(0.99):.2f} ms  max {samples[-1]:.2f} ms")
PY
}

echo "== GET /healthz, quiet: $(probe 200)"

# Idle sockets, and 16 slow-loris clients that send one header line every 3 s.
python3 - "$PORT" "$idle" "$seconds" >"$WORK/idle.log" 2>&1 <<'PY' &
import socket, sys, time
port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
drip = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
for s in drip: s.sendall(b"GET /healthz HTTP/1.1\r\n")
print(f"holding {len(held)} idle and {len(drip)} dripping connections", flush=True)
end = time.time() + seconds + 5
while time.time() < end:
    for i, s in enumerate(drip):
        try: s.sendall(f"X-Drip-{i}: {time.time()}\r\n".encode())
        except OSError: pass
    time.sleep(3)
PY
holder=$!
for _ in $(seq 1 100); do grep -q holding "$WORK/idle.log" 2>/dev/null && break; sleep 0.2; done
cat "$WORK/idle.log"
echo "== GET /healthz with $idle idle + 16 dripping connections open: $(probe 500)   (goal p99 <= 10 ms)"
echo "   paddockd: $(ls /proc/$PID/fd | wc -l) descriptors, $(awk '/^Threads/ {print $2}' /proc/$PID/status) threads, RSS $(rss_kib $PID) KiB"
kill $holder 2>/dev/null; wait $holder 2>/dev/null || true

out="$(mktemp)"
wrk -t2 -c"$busy" -d"${seconds}s" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/vms" >"$out"
rps=$(awk '/Requests\/sec/ {print $2}' "$out"); p50=$(awk '$1=="50%" {print $2}' "$out"); p99=$(awk '$1=="99%" {print $2}' "$out")
errors=$(grep -E "Non-2xx|Socket errors" "$out" | tr '\n' ' ' || true)
echo "== GET /api/v1/vms, $busy keep-alive connections: $rps req/s, p50 $p50, p99 $p99   (goal p99 <= 10 ms) $errors"
wrk -t2 -c"$busy" -d"${seconds}s" --latency "http://127.0.0.1:$PORT/healthz" >"$out"
echo "== GET /healthz, $busy keep-alive connections: $(awk '/Requests\/sec/ {print $2}' "$out") req/s, p99 $(awk '$1=="99%" {print $2}' "$out")"
rm -f "$out"
echo "   paddockd RSS after load $(rss_kib $PID) KiB"
