#!/usr/bin/env bash
# Hot-pool benchmark. Prints figures; gates nothing.
#  1. allocate -> SSH-ready on qemu:///system with Paddock's guest image, per pool mode
#     (running, paused, saved, shutoff): median of 3 allocations, each timed from the POST to
#     its answer (the API answers once SSH is ready: the allocate -> SSH-ready figure, printed
#     next to its goal) and to a first command run over SSH (`ssh true`: a login costs the
#     TCG guest ~0.7 s of its own).
#  2. the allocate API under concurrent load on test:///default: a pool of N running VMs is
#     drained by C concurrent clients; p50/p99/max latency and throughput of the 200s.
# Needs root + libvirtd for part 1 (skipped with --api-only). BENCH_BUILD_DIR picks the build tree.
# Usage: bench/pool_allocate.sh [--api-only] [pool_size=500] [clients=32]
#   env: BENCH_MODES (default "running paused saved shutoff"), BENCH_SAMPLES (default 3)
source "$(dirname "$0")/common.sh"
api_only=0
if [ "${1:-}" = "--api-only" ]; then api_only=1; shift; fi
pool_size="${1:-500}" clients="${2:-32}"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

wait_idle() { # wait_idle POOL COUNT TIMEOUT_S
  for _ in $(seq 1 $(( $3 * 4 ))); do
    api GET "/api/v1/pools/$1" | python3 -c "import json,sys; p=json.load(sys.stdin); sys.exit(0 if p['recovered'] and p['idle']>=$2 and p['booting']==0 else 1)" && return 0
    sleep 0.25
  done
  echo "pool $1 did not reach $2 idle VMs in $3 s" >&2; tail -20 "$WORK/paddockd.log" >&2; return 1
}

if [ "$api_only" = 0 ]; then
  eval "$(bash "$bench_root/scripts/build-guest-image.sh" --output-env)"
  prefix="pdk-bench-pool-$$"
  modes="${BENCH_MODES:-running paused saved shutoff}" samples_n="${BENCH_SAMPLES:-3}"
  pools_yaml=""
  for mode in $modes; do
    pools_yaml+="
      - {name: $prefix-$mode, template: debian, mode: $mode, min_idle: 1, max_total: 2, max_per_owner: 0}"
  done
  start_paddockd qemu:///system "    network_mode: user
    ssh_port_min: 24500
    ssh_port_max: 24999
    templates:
      - {name: debian, base_image: $PADDOCK_GUEST_IMAGE, kernel: $PADDOCK_GUEST_KERNEL, initrd: $PADDOCK_GUEST_INITRD, cmdline: \"$PADDOCK_GUEST_CMDLINE\", memory_mb: 512}
    pools:$pools_yaml"
  trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; sweep; rm -rf "$WORK"' EXIT
  key="$WORK/state/ssh/id_ed25519"
  echo "allocate -> SSH-ready on qemu:///system (TCG), median of $samples_n:"
  declare -A goal=([running]="-" [paused]="<= 0.30 s" [saved]="<= 2.00 s" [shutoff]="-")
  for mode in $modes; do
    pool="$prefix-$mode"
    samples=()
    for _ in $(seq 1 "$samples_n"); do
      # Every pool settled first: a refill booting beside the sample would slow it (2 cores, TCG).
      for m in $modes; do wait_idle "$prefix-$m" 1 600; done
      t0=$(date +%s.%N)
      lease="$(api POST "/api/v1/pools/$pool/allocate" '{"owner":"bench"}')"
      t1=$(date +%s.%N)
      read -r id port < <(echo "$lease" | python3 -c 'import json,sys; l=json.load(sys.stdin); print(l["id"], l["ssh"]["port"])')
      ssh -q -i "$key" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
          student@127.0.0.1 true
      t2=$(date +%s.%N)
      samples+=("$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {printf "%.2f %.2f", b-a, c-a}')")
      api DELETE "/api/v1/leases/$id" >/dev/null
    done
    api_med=$(printf '%s\n' "${samples[@]}" | awk '{print $1}' | median)
    ssh_med=$(printf '%s\n' "${samples[@]}" | awk '{print $2}' | median)
    printf '  %-8s allocate -> SSH-ready %6.2f s (goal %-9s)   to first SSH command %6.2f s   (samples: %s)\n' \
           "$mode" "$api_med" "${goal[$mode]}" "$ssh_med" "$(printf '%s; ' "${samples[@]}")"
  done
  kill "$PID"; wait "$PID" 2>/dev/null || true; sweep; rm -rf "$WORK"
  trap - EXIT
fi

# Part 2: the API alone, on libvirt's in-process test driver.
export PADDOCK_SITES_0_STORAGE_POOL=default-pool
start_paddockd test:///default "    network_mode: none
    templates: [{name: tiny, memory_mb: 128}]
    pools:
      - {name: load, template: tiny, mode: running, min_idle: $pool_size, max_total: $pool_size, max_per_owner: 0}"
unset PADDOCK_SITES_0_STORAGE_POOL
t0=$(date +%s.%N)
wait_idle load "$pool_size" 600
awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$pool_size" 'BEGIN {printf "test:///default: filled %d running VMs in %.1f s\n", n, b-a}'
python3 - "$PORT" "$TOKEN" "$pool_size" "$clients" <<'PY'
import http.client, json, sys, threading, time
port, token, size, clients = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lat, codes, vms, lock = [], {}, set(), threading.Lock()
def worker(i):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    n = 0
    while True:
        n += 1
        body = json.dumps({"owner": f"c{i}-{n}"})
        t = time.perf_counter()
        conn.request("POST", "/api/v1/pools/load/allocate", body, {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse(); data = r.read(); dt = time.perf_counter() - t
        with lock:
            codes[r.status] = codes.get(r.status, 0) + 1
            if r.status == 200:
                lat.append(dt); vms.add(json.loads(data)["vm"])
        if r.status != 200: return
t0 = time.perf_counter()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
[t.start() for t in threads]; [t.join() for t in threads]
wall = time.perf_counter() - t0
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print(f"allocate API, {clients} concurrent clients draining {size} VMs: {len(lat)} leases in {wall:.2f} s "
      f"({len(lat)/wall:.0f}/s), p50 {q(0.50):.1f} ms, p99 {q(0.99):.1f} ms, max {lat[-1]*1000:.1f} ms; "
      f"statuses {dict(sorted(codes.items()))}; distinct VMs {len(vms)}{'' if len(vms) == len(lat) else ' (DUPLICATES!)'}")
PY
