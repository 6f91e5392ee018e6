#!/usr/bin/env bash
# Placement: POST /api/v1/vms without a site, N times, against paddockd with 4 sites, each its
# own test hypervisor (libvirt's test driver on a node XML with a storage pool, made in a temp
# dir; no daemon needed). Once with placement.policy spread, once with pack (site 1 capped at
# max_vms N/4 so that pack moves on). Prints creates/s, p50/p99 of the create call (one
# keep-alive connection, sequential) and how many VMs each site got; then the same creates naming
# the site (round robin) as the baseline without a placement decision.
# Usage: bench/placement.sh [creates=200]
source "$(dirname "$0")/common.sh"
creates="${1:-200}"
nodes="$(mktemp -d /tmp/paddock-bench-nodes.XXXXXX)"
trap 'rm -rf "$nodes"' EXIT

for i in 1 2 3 4; do
  cat > "$nodes/host-$i.xml" <<XML
<?xml version="1.0"?>
<node>
  <pool type="dir">
    <name>default-pool</name>
    <target><path>/default-pool</path></target>
  </pool>
</node>
XML
done

run() { # run POLICY: one paddockd, $creates creates, figures; POLICY "named": spread, sites named
  local policy="$1" cap=""
  [ "$policy" = pack ] && cap="    max_vms: $((creates / 4))"
  local extra
  extra="$cap"
  for i in 2 3 4; do
    extra+=$'\n'"  - {name: bench-$i, uri: \"test://$nodes/host-$i.xml\", storage_pool: default-pool}"
  done
  extra+=$'\n'"placement: {policy: ${policy/named/spread}}"
  start_paddockd "test://$nodes/host-1.xml" "$extra" "" default-pool
  trap 'stop_paddockd; rm -rf "$nodes"' EXIT
  python3 - "$PORT" "$TOKEN" "$creates" "$policy" <<'PY'
import http.client, json, sys, time
port, token, n, policy = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
times, spread = [], {}
t0 = time.perf_counter()
for i in range(n):
    vm = {"name": f"place-{policy}-{i}", "start": False}
    if policy == "named":
        vm["site"] = ["bench", "bench-2", "bench-3", "bench-4"][i % 4]
    body = json.dumps(vm)
    s = time.perf_counter()
    conn.request("POST", "/api/v1/vms", body, headers)
    reply = conn.getresponse()
    data = reply.read()
    times.append(time.perf_counter() - s)
    if reply.status != 201:
        sys.exit(f"create {i}: {reply.status} {data.decode()}")
    site = json.loads(data)["placement"]["site"]
    spread[site] = spread.get(site, 0) + 1
total = time.perf_counter() - t0
times.sort()
pct = lambda p: times[min(len(times) - 1, int(p * len(times)))] * 1000
print(f"{policy:6s}: {n} creates in {total:.2f} s = {n / total:.0f} creates/s; create p50 {pct(0.50):.2f} ms, "
      f"p99 {pct(0.99):.2f} ms; spread " + ", ".join(f"{k} {v}" for k, v in sorted(spread.items())))
PY
  stop_paddockd
  trap 'rm -rf "$nodes"' EXIT
}

echo "$creates creates without a site over 4 test:/// sites (sequential, one keep-alive connection)"
run spread
run pack
run named
