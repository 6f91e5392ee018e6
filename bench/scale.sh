#!/usr/bin/env bash
# Scale curve on libvirt's test driver (no real VMs): for each size N, a test:///FILE.xml host
# with N shut-off managed domains (each recording an SSH forward port) plus a pool whose
# `leases` VMs hold leases, all pre-written, so that starting paddockd on it is a restart onto
# a site with N domains. Per size:
#   restart   exec -> /healthz 200 -> pool recovered with every lease back (s)
#   list      GET /api/v1/vms under wrk (same tool as bench/api_list.sh): req/s and p99
#   create    the next `creates` POST /api/v1/vms (start: true, user-mode network, so each
#             reserves an SSH port), sequential on one keep-alive connection: creates/s, p99
#   event     POST stop/start of one VM -> its lifecycle event on WS /api/v1/events (median ms)
#   RSS       paddockd's VmRSS after the creates
# then "growth" verdicts: per-domain cost (list) or per-operation cost (create, event, restart)
# from the smallest to the largest size, "linear or better" when the cost per unit grew by at
# most 2x over the range.
# Usage: bench/scale.sh [sizes="100 1000 10000"]   env: SECONDS_WRK=5 CONNECTIONS=8 CREATES=100 LEASES=20
source "$(dirname "$0")/common.sh"
sizes="${1:-100 1000 10000}"
seconds="${SECONDS_WRK:-5}" connections="${CONNECTIONS:-8}" creates="${CREATES:-100}" leases="${LEASES:-20}"
pool=scalepool

# The node XML: N managed shut-off domains with ssh_port metadata, and the pool's leased VMs.
write_host() { # write_host FILE N
  python3 - "$1" "$2" "$leases" "$pool" <<'PY'
import sys
path, n, leases, pool = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ns = 'https://paddock.dev/xmlns/vm/1'
def dom(i, name, meta):
    entries = ''.join('<paddock:entry key="%s">%s</paddock:entry>' % kv for kv in meta.items())
    return ("<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>%s</name>"
            "<uuid>00000000-0000-4000-8000-%012d</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
            "<metadata><paddock:vm xmlns:paddock='%s'>%s</paddock:vm></metadata><test:runstate>5</test:runstate></domain>\n"
            % (name, i, ns, entries))
with open(path, 'w') as f:
    f.write("<?xml version='1.0'?>\n<node>\n<pool type='dir'><name>default-pool</name><target><path>/default-pool</path></target></pool>\n")
    base = {'created_at': '2026-01-01T00:00:00Z', 'created_by': 'bench', 'owner': 'bench'}
    for i in range(n):
        f.write(dom(i + 1, 'scale-%05d' % (i + 1), dict(base, ssh_port=str(30000 + i))))
    for j in range(leases):
        f.write(dom(900000 + j, '%s-%04d' % (pool, j), dict(base, pool=pool, pool_state='allocated',
                lease_id='lease-scale-%04d' % j, lease_owner='bench', lease_created_at='2026-01-01T00:00:00Z',
                lease_expires_at='never')))
    f.write("</node>\n")
PY
}

# Starts paddockd on test://FILE; sets PID, PORT, BASE, TOKEN, WORK, RESTART_S (exec -> pool back).
launch() { # launch FILE N
  write_config "test://$1" "    network_mode: user
    ssh_port_min: 30000
    ssh_port_max: $(( 30000 + $2 + creates + 200 ))
    ready_timeout_s: 2
    templates:
      - {name: bare, memory_mb: 128}   # diskless: the test driver's pool holds only 100 1-GiB volumes
    pools:
      - {name: $pool, mode: shutoff, min_idle: 0, max_total: $(( leases + 5 )), max_per_owner: 0}" "" default-pool
  local t0 t1 t2
  t0=$(date +%s.%N)
  spawn_paddockd
  echo "  [$2 domains] started paddockd $PID" >&2
  # PERF_DIR=dir: a perf profile of paddockd per size (from its start on), perf-N.data there.
  [ -n "${PERF_DIR:-}" ] && { perf record ${PERF_OPTS:--g -F 499} -p "$PID" -o "$PERF_DIR/perf-$2.data" >/dev/null 2>&1 & PERF_PID=$!; }
  alive() { kill -0 "$PID" 2>/dev/null || { echo "paddockd exited:" >&2; cat "$WORK/paddockd.log" >&2; exit 1; }; }
  for _ in $(seq 1 1200); do alive; curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
  t1=$(date +%s.%N)
  for _ in $(seq 1 1200); do
    alive
    api GET "/api/v1/pools/$pool" 2>/dev/null | python3 -c "import json,sys; p=json.load(sys.stdin); sys.exit(0 if p['recovered'] and p['allocated']==$leases else 1)" && break
    sleep 0.05
  done
  t2=$(date +%s.%N)
  HEALTH_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b-a}')
  RESTART_S=$(awk -v a="$t0" -v b="$t2" 'BEGIN {printf "%.2f", b-a}')
}

stop_it() { [ -n "${PERF_PID:-}" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID" || true; PERF_PID=""; }; kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }

# Creates (sequential, one connection) and event latency (WS /api/v1/events), in Python.
probe() { # probe N -> "creates_per_s create_p99_ms event_ms"
  python3 - "$PORT" "$TOKEN" "$creates" <<'PY'
import base64, http.client, json, os, socket, statistics, sys, threading, time
port, token, creates = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
hdr = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}
c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
def call(method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdr)
    r = c.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit('%s %s: %d %s' % (method, path, r.status, data[:200]))
    return data
lat = []
t0 = time.monotonic()
for i in range(creates):
    s = time.monotonic()
    call('POST', '/api/v1/vms', {'name': 'scalenew-%d-%d' % (os.getpid(), i), 'start': True})
    lat.append(time.monotonic() - s)
total = time.monotonic() - t0
lat.sort()
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
# A minimal WebSocket reader: text frames from the server (unmasked), one event per frame.
ws = socket.create_connection(('127.0.0.1', port))
key = base64.b64encode(os.urandom(16)).decode()
ws.sendall(('GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n' % (key, token)).encode())
buf = b''
while b'\r\n\r\n' not in buf: buf += ws.recv(4096)
buf = buf.split(b'\r\n\r\n', 1)[1]
seen = {}
cv = threading.Condition()
def need(n):
    global buf
    while len(buf) < n:
        d = ws.recv(65536)
        if not d: raise EOFError
        buf += d
def reader():
    global buf
    try:
        while True:
            need(2); ln = buf[1] & 0x7f; off = 2
            if ln == 126: need(4); ln = int.from_bytes(buf[2:4], 'big'); off = 4
            elif ln == 127: need(10); ln = int.from_bytes(buf[2:10], 'big'); off = 10
            need(off + ln); payload = buf[off:off + ln]; buf = buf[off + ln:]
            try: e = json.loads(payload)
            except ValueError: continue
            with cv:
                seen[(e.get('vm'), e.get('event'))] = time.monotonic(); cv.notify_all()
    except (EOFError, OSError):
        pass
threading.Thread(target=reader, daemon=True).start()
time.sleep(0.3)
vm = 'scalenew-%d-0' % os.getpid()
ev = []
for _ in range(5):
    for action, event in (('stop', 'stopped'), ('start', 'started')):
        with cv: seen.pop((vm, event), None)
        s = time.monotonic()
        call('POST', '/api/v1/vms/%s/%s' % (vm, action), {} if action == 'stop' else None)
        with cv:
            cv.wait_for(lambda: (vm, event) in seen, timeout=10)
            if (vm, event) in seen: ev.append((seen[(vm, event)] - s) * 1000)
print('%.1f %.1f %.1f' % (creates / total, p99, statistics.median(ev) if ev else -1))
PY
}

run_wrk() { # -> "req/s p99"
  local out; out="$(mktemp)"
  wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/vms" >"$out"
  echo "$(awk '/Requests\/sec/ {print $2}' "$out") $(awk '$1=="99%" {print $2}' "$out")"
  rm -f "$out"
}

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else if (v ~ /s$/) printf "%.2f", v*1000; else print v }'; }

host_dir="$(mktemp -d /tmp/paddock-scale-hosts.XXXXXX)"
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK" "$host_dir"' EXIT
PID=0 WORK=""
rows=()
printf '%8s %10s %10s %9s %11s %10s %9s %10s %10s\n' domains "list req/s" "list p99" create/s "create p99" "event ms" "RSS MiB" "healthz s" "restart s"
for n in $sizes; do
  write_host "$host_dir/host-$n.xml" "$n"
  launch "$host_dir/host-$n.xml" "$n"
  echo "  [$n domains] restart ${RESTART_S}s; listing under wrk" >&2
  read -r rps p99 < <(run_wrk)
  echo "  [$n domains] creates and events" >&2
  read -r cps cp99 evms < <(probe "$n")
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status")
  p99ms=$(to_ms "$p99")
  printf '%8d %10s %10s %9s %11s %10s %9s %10s %10s\n' "$n" "$rps" "${p99ms}ms" "$cps" "${cp99}ms" "$evms" "$rss" "$HEALTH_S" "$RESTART_S"
  rows+=("$n $rps $p99ms $cps $cp99 $evms $rss $RESTART_S")
  stop_it
done
printf '%s\n' "${rows[@]}" | python3 -c '
import math, sys
r = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
if len(r) < 2: sys.exit()
a, b = r[0], r[-1]
scale = b[0] / a[0]
# Growth exponent k: the figure grows as N^k from the smallest to the largest size. What a site
# of N domains does once (a listing, a restart, its memory) may grow as N (k <= 1); what it does
# per operation (a create, an event) must stay flat (k ~ 0), or N of them cost N^2.
def verdict(name, small, big, limit):
    k = math.log(big / small) / math.log(scale) if small > 0 and big > 0 else float("nan")
    ok = k <= limit + 0.15
    print("growth %-28s N^%-5.2f (%s): %s" % (name, k, "flat expected" if limit == 0 else "linear allowed",
          "linear or better" if ok else "WORSE THAN LINEAR"))
verdict("list (s per request)", 1 / a[1], 1 / b[1], 1)
verdict("create (s per create)", 1 / a[3], 1 / b[3], 0)
verdict("event (ms per event)", a[5], b[5], 0)
verdict("RSS (MiB)", a[6], b[6], 1)
verdict("restart (s)", a[7], b[7], 1)
'
echo "(list: wrk ${seconds}s, $connections connections; create: $creates sequential creates; event: median of 5 stops + 5 starts; one run per size)"
