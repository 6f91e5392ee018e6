#!/usr/bin/env bash
# What POST /api/v1/vms costs at the API on qemu:///system (overlay + define + start issued; the
# answer does not wait for the guest to boot), for a template on Paddock's small guest image and
# for one on a 10 GB sparse raw base: p50/p99 of `count` sequential creates each, every VM
# deleted right after its create (not timed); then the same with start: false (overlay + define
# only), which shows what the start itself costs. Goal: <= 50 ms, independent of the base's size.
# Needs root + libvirtd. BENCH_BUILD_DIR picks the build tree.
# Usage: bench/create_cost.sh [count=20]   env: PADDOCK_GUEST_IMAGE/_KERNEL/_INITRD/_CMDLINE
source "$(dirname "$0")/common.sh"
count="${1:-20}"
goal_ms=50

# PADDOCK_GUEST_* already set (e.g. an image built earlier): used as they are, nothing is built.
[ -n "${PADDOCK_GUEST_IMAGE:-}" ] || eval "$(bash "$bench_root/scripts/build-guest-image.sh" --output-env)"
# paddockd reads PADDOCK_* from its environment as configuration: these must not reach it.
export -n PADDOCK_GUEST_IMAGE PADDOCK_GUEST_KERNEL PADDOCK_GUEST_INITRD PADDOCK_GUEST_CMDLINE
big_dir=/var/lib/paddock/bench
big="$big_dir/create-cost-base-10g.raw"
mkdir -p "$big_dir"
[ -f "$big" ] || truncate -s 10G "$big"   # sparse: 10 GB to anything that asks its size, no blocks

prefix="pdk-bench-cc-$$"
start_paddockd qemu:///system "    network_mode: user
    ssh_port_min: 24000
    ssh_port_max: 24499
    templates:
      - {name: small, base_image: $PADDOCK_GUEST_IMAGE, kernel: $PADDOCK_GUEST_KERNEL, initrd: $PADDOCK_GUEST_INITRD, cmdline: \"$PADDOCK_GUEST_CMDLINE\", memory_mb: 256}
      - {name: big10g, base_image: $big, base_format: raw, memory_mb: 128}"
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; sweep; rm -rf "$WORK"' EXIT

printf 'base image sizes: small %s (virtual %s), big %s (virtual 10 GiB, sparse)\n' \
  "$(du -h "$PADDOCK_GUEST_IMAGE" | cut -f1)" \
  "$(qemu-img info --output=json "$PADDOCK_GUEST_IMAGE" | python3 -c 'import json,sys; print("%.1f GiB" % (json.load(sys.stdin)["virtual-size"]/2**30))')" \
  "$(du -h "$big" | cut -f1)"
# start: true is the goal's figure; start: false (overlay + define only) says what the start costs.
for start in true false; do for tmpl in small big10g; do
  python3 - "$PORT" "$TOKEN" "$count" "$prefix-$tmpl-$start" "$tmpl" "$goal_ms" "$start" <<'PY'
import http.client, json, sys, time
port, token, count, prefix, tmpl, goal = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6])
start = sys.argv[7] == 'true'
hdr = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}
c = http.client.HTTPConnection('127.0.0.1', port, timeout=300)
def call(method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdr)
    r = c.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit('%s %s: %d %s' % (method, path, r.status, data[:300]))
lat = []
for i in range(count):
    name = '%s-%d' % (prefix, i)
    s = time.monotonic()
    call('POST', '/api/v1/vms', {'name': name, 'template': tmpl, 'start': start})
    lat.append((time.monotonic() - s) * 1000)
    call('DELETE', '/api/v1/vms/' + name)
lat.sort()
p50 = lat[(len(lat) - 1) // 2]
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
print('POST /api/v1/vms template %-7s start %-5s p50 %7.1f ms  p99 %7.1f ms  (%d creates; goal <= %d ms: %s)'
      % (tmpl, sys.argv[7], p50, p99, count, goal, 'met' if p99 <= goal else 'p50 ' + ('met' if p50 <= goal else 'NOT met') + ', p99 NOT met'))
PY
done; done
