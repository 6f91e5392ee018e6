#!/usr/bin/env bash
# What POST /api/v1/vms costs at the API on qemu:///system, for a template on Paddock's small
# guest image and for one on a 10 GB sparse raw base: p50/p99 of `count` sequential creates each,
# every VM deleted after it (not timed). Three ways: with Prefer: respond-async (define, then 202;
# overlay and start queued: the goal's figure, and the time until its operation says running),
# with the start awaited (the plain create), and with start: false (overlay + define only).
# Goal: <= 50 ms with the start issued, independent of the base's size.
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
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; sweep; rm -rf "$WORK"' EXIT

printf 'base image sizes: small %s (virtual %s), big %s (virtual 10 GiB, sparse)\n' \
  "$(du -h "$PADDOCK_GUEST_IMAGE" | cut -f1)" \
  "$(qemu-img info --output=json "$PADDOCK_GUEST_IMAGE" | python3 -c 'import json,sys; print("%.1f GiB" % (json.load(sys.stdin)["virtual-size"]/2**30))')" \
  "$(du -h "$big" | cut -f1)"
# async (Prefer: respond-async: answered once defined, the start queued) is the goal's figure; sync
# (the answer waits for the start) and nostart (overlay + define only) say what each part costs.
for mode in async sync nostart; do for tmpl in small big10g; do
  python3 - "$PORT" "$TOKEN" "$count" "$prefix-$tmpl-$mode" "$tmpl" "$goal_ms" "$mode" <<'PY'
import http.client, json, sys, time
port, token, count, prefix, tmpl, goal = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6])
mode = sys.argv[7]
hdr = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}
c = http.client.HTTPConnection('127.0.0.1', port, timeout=300)
def call(method, path, body=None, extra=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers={**hdr, **(extra or {})})
    r = c.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit('%s %s: %d %s' % (method, path, r.status, data[:300]))
    return r, data
def p50(values): return sorted(values)[(len(values) - 1) // 2]
def p99(values): return sorted(values)[min(len(values) - 1, int(len(values) * 0.99))]
lat, started = [], []
for i in range(count):
    name = '%s-%d' % (prefix, i)
    s = time.monotonic()
    r, data = call('POST', '/api/v1/vms', {'name': name, 'template': tmpl, 'start': mode != 'nostart'},
                   {'Prefer': 'respond-async'} if mode == 'async' else None)
    lat.append((time.monotonic() - s) * 1000)
    if mode == 'async':
        if r.status != 202 or r.getheader('Preference-Applied') != 'respond-async':
            raise SystemExit('POST with Prefer: respond-async answered %d without Preference-Applied' % r.status)
        op = r.getheader('Location')
        while True:  # the start, not timed into the answer's figure
            _, body = call('GET', op)
            state = json.loads(body)['state']
            if state not in ('queued', 'running'): break
            time.sleep(0.005)
        if state != 'succeeded': raise SystemExit('%s: %s' % (op, body[:300]))
        started.append((time.monotonic() - s) * 1000)
    call('DELETE', '/api/v1/vms/' + name)
lat50, lat99 = p50(lat), p99(lat)
label = {'async': 'start queued', 'sync': 'start awaited', 'nostart': 'no start'}[mode]
verdict = 'met' if lat99 <= goal else 'p50 ' + ('met' if lat50 <= goal else 'NOT met') + ', p99 NOT met'
print('POST /api/v1/vms template %-7s %-13s p50 %7.1f ms  p99 %7.1f ms  (%d creates; goal <= %d ms%s)'
      % (tmpl, label, lat50, lat99, count, goal, ': ' + verdict if mode == 'async' else ' applies to the queued start'))
if started:
    print('  ... and until its vm_create operation succeeded (VM running): p50 %.0f ms, p99 %.0f ms'
          % (p50(started), p99(started)))
PY
done; done
