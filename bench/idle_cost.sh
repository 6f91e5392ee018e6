#!/usr/bin/env bash
# What an idle running VM costs: N VMs (default 10) of Paddock's guest image on qemu:///system
# (whatever accel auto picks; TCG without /dev/kvm) are created, waited for until readiness is
# "ready", left to settle, then each qemu process is sampled for a while: CPU % of one core from
# /proc/<pid>/stat (utime+stime delta over the window), RSS from /proc/<pid>/status and PSS from
# /proc/<pid>/smaps_rollup (PSS shares the qemu binary and libraries between the VMs). Prints
# per-VM median and max, the total, the goal next to each, and how many idle VMs fit on this
# host (by memory: MemAvailable before the VMs / per-VM RSS; by CPU: cores*100 / per-VM CPU %).
# Prints figures; gates nothing. Run it under the measure lock:
#   flock /tmp/paddock-measure.lock bench/idle_cost.sh
# Usage: bench/idle_cost.sh [vms=10] [settle_s=30] [sample_s=60]   (about 3.5 minutes with the defaults)
# BENCH_MEMORY_MB sets the template's memory_mb (default 512, config's default_memory_mb);
# BENCH_CMDLINE_EXTRA is appended to the guest kernel command line (to try a kernel setting).
source "$(dirname "$0")/common.sh"
count="${1:-10}" settle="${2:-30}" window="${3:-60}"
memory_mb="${BENCH_MEMORY_MB:-512}"
eval "$(bash "$bench_root/scripts/build-guest-image.sh" --output-env)"
PADDOCK_GUEST_CMDLINE="$PADDOCK_GUEST_CMDLINE${BENCH_CMDLINE_EXTRA:+ $BENCH_CMDLINE_EXTRA}"
prefix="pdk-bench-idle-$$"
mem_available_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
avail_before=$(mem_available_kib)
start_paddockd qemu:///system "    network_mode: user
    ssh_port_min: 25000
    ssh_port_max: 25999
    templates:
      - {name: debian, base_image: $PADDOCK_GUEST_IMAGE, kernel: $PADDOCK_GUEST_KERNEL, initrd: $PADDOCK_GUEST_INITRD, cmdline: \"$PADDOCK_GUEST_CMDLINE\", memory_mb: $memory_mb}"
cleanup() {
  for i in $(seq 1 "$count"); do api DELETE "/api/v1/vms/$prefix-$i" >/dev/null 2>&1 || true; done
  kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; sweep; rm -rf "$WORK"
}
trap cleanup EXIT

readiness() { api GET "/api/v1/vms/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["vm"]["readiness"])'; }
# One VM at a time, each until "ready": ten TCG boots at once on a small host slow every boot,
# and the readiness probe's SSH attempts then add to the load they wait on.
t0=$(date +%s)
for i in $(seq 1 "$count"); do
  api POST /api/v1/vms "{\"name\":\"$prefix-$i\",\"template\":\"debian\"}" >/dev/null
  for _ in $(seq 1 600); do
    r=$(readiness "$prefix-$i")
    [ "$r" = ready ] && break
    [ "$r" = unreachable ] && { echo "$prefix-$i: unreachable" >&2; tail -20 "$WORK/paddockd.log" >&2; exit 1; }
    sleep 0.5
  done
  [ "$r" = ready ] || { echo "$prefix-$i: not ready after 300 s" >&2; exit 1; }
done
echo "$count VMs ready one after another in $(( $(date +%s) - t0 )) s (memory_mb $memory_mb); settling ${settle} s, sampling ${window} s"
sleep "$settle"

pids=()
for i in $(seq 1 "$count"); do pids+=("$(cat "/var/run/libvirt/qemu/$prefix-$i.pid")"); done
python3 - "$window" "$avail_before" "${pids[@]}" <<'PY'
import os, statistics, sys, time
window, avail_kib, pids = float(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
tick = os.sysconf("SC_CLK_TCK")
cores = os.cpu_count()

def cpu_ticks(pid):
    # Fields after the ")" of comm: state is index 0, utime 11, stime 12.
    rest = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])

def kib(path, key):
    for line in open(path):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0

start = {p: cpu_ticks(p) for p in pids}
t_start = time.monotonic()
rss = {p: 0 for p in pids}
pss = {p: 0 for p in pids}
while time.monotonic() - t_start < window:
    time.sleep(min(5.0, max(0.0, window - (time.monotonic() - t_start))))
    for p in pids:  # the largest value seen in the window
        rss[p] = max(rss[p], kib(f"/proc/{p}/status", "VmRSS"))
        pss[p] = max(pss[p], kib(f"/proc/{p}/smaps_rollup", "Pss"))
elapsed = time.monotonic() - t_start
cpu = {p: 100.0 * (cpu_ticks(p) - start[p]) / tick / elapsed for p in pids}

def row(label, values, unit, goal, fmt):
    med, top, total = statistics.median(values), max(values), sum(values)
    print(f"{label:<14} median {fmt.format(med)} {unit}, max {fmt.format(top)} {unit}, "
          f"total {fmt.format(total)} {unit}  (goal per VM: {goal})")
    return med

n = len(pids)
print(f"per idle VM over {elapsed:.0f} s ({n} VMs, {cores} cores):")
cpu_med = row("CPU (% core)", list(cpu.values()), "%", "<= 2 %", "{:.2f}")
rss_med = row("RSS (MiB)", [v / 1024 for v in rss.values()], "MiB", "<= 200 MiB", "{:.0f}")
row("PSS (MiB)", [v / 1024 for v in pss.values()], "MiB", "<= 200 MiB", "{:.0f}")
by_mem = int(avail_kib / 1024 / rss_med) if rss_med > 0 else 0
by_cpu = int(cores * 100 / cpu_med) if cpu_med > 0 else 0
print(f"fit: {by_mem} idle VMs by memory (MemAvailable {avail_kib // 1024} MiB before the VMs / {rss_med:.0f} MiB RSS), "
      f"{by_cpu} by CPU ({cores} cores x 100 / {cpu_med:.2f} %): {min(by_mem, by_cpu)} idle running VMs")
PY
