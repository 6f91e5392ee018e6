#!/usr/bin/env bash
# Boot the guest built by scripts/build-guest-image.sh with plain qemu-system-x86_64 (TCG) on a
# throwaway qcow2 overlay, log in over SSH through a user-mode port forward on 127.0.0.1, ping
# the guest agent, then power the guest off by ACPI (QMP system_powerdown) and check QEMU exits
# on its own. Prints seconds_to_ssh=N.N and acpi_poweroff_seconds=N.N on stdout.
#
#   scripts/guest-smoke.sh [--cache-dir DIR] [--machine pc|q35] [--cpu MODEL] [--mem MB]
#                          [--append 'extra kernel args'] [--keep]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

cache_args=()
machine=q35
cpu=max
mem=512
extra_append=
keep=0
while (($#)); do
  case "$1" in
    --cache-dir) cache_args=(--cache-dir "$2"); shift 2 ;;
    --machine) machine="$2"; shift 2 ;;
    --cpu) cpu="$2"; shift 2 ;;
    --mem) mem="$2"; shift 2 ;;
    --append) extra_append="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "guest-smoke: unknown argument: $1" >&2; exit 2 ;;
  esac
done

msg() { echo "guest-smoke: $*" >&2; }
die() { msg "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

eval "$("$here/scripts/build-guest-image.sh" "${cache_args[@]}" --output-env)"
for v in PADDOCK_GUEST_IMAGE PADDOCK_GUEST_KERNEL PADDOCK_GUEST_INITRD PADDOCK_GUEST_CMDLINE; do
  [ -n "${!v:-}" ] || die "$v not set by build-guest-image.sh"
done

tmp="$(mktemp -d /tmp/paddock-smoke.XXXXXX)"
qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  if ((keep)); then msg "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

base_sum_before="$(sha256sum < "$PADDOCK_GUEST_IMAGE")"
qemu-img create -q -f qcow2 -o compat=1.1 -F qcow2 -b "$PADDOCK_GUEST_IMAGE" "$tmp/overlay.qcow2"
ssh-keygen -q -t ed25519 -N '' -C paddock-smoke -f "$tmp/id_ed25519"
key_b64="$(base64 -w0 < "$tmp/id_ed25519.pub")"
port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

qemu_cmd=(qemu-system-x86_64 -nodefaults -machine "$machine,accel=tcg" -cpu "$cpu" -m "$mem" -smp 1
  -kernel "$PADDOCK_GUEST_KERNEL" -initrd "$PADDOCK_GUEST_INITRD"
  -append "$PADDOCK_GUEST_CMDLINE paddock.authorized_key=$key_b64${extra_append:+ $extra_append}"
  -drive "file=$tmp/overlay.qcow2,if=virtio,format=qcow2"
  # restrict=on: the guest reaches nothing but its own forwarded port.
  -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0
  -device virtio-serial-pci -chardev "socket,id=ga0,path=$tmp/ga.sock,server=on,wait=off"
  -device virtserialport,chardev=ga0,name=org.qemu.guest_agent.0
  -qmp "unix:$tmp/qmp.sock,server=on,wait=off"
  -display none -serial "file:$tmp/console.log")

ssh_opts=(-i "$tmp/id_ed25519" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5)

msg "booting ($machine, -cpu $cpu, ${mem}M, TCG), ssh on 127.0.0.1:$port"
t0="$(now)"
"${qemu_cmd[@]}" > "$tmp/qemu.log" 2>&1 &
qemu_pid=$!

# Wait for sshd's banner with short timeouts first: QEMU's user-mode stack accepts the host side
# of a forwarded connection at once, and when the guest is not listening yet its SYN is only
# retried seconds later, so a fresh connection is the faster way to notice sshd is up.
banner() {
  local b=
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  read -r -t 2 -n 4 b <&3 || true
  exec 3<&-
  [ "$b" = SSH- ]
}
deadline=$((SECONDS + 180))
while :; do
  t_try="$(now)"
  if banner; then
    ssh "${ssh_opts[@]}" student@127.0.0.1 true 2>/dev/null && break
    r="banner, but ssh failed"
  else
    r="no banner"
  fi
  [ -z "${PADDOCK_SMOKE_DEBUG:-}" ] || msg "attempt at $(elapsed "$t0" "$t_try") s: $r after $(elapsed "$t_try" "$(now)") s"
  kill -0 "$qemu_pid" 2>/dev/null || { cat "$tmp/qemu.log" "$tmp/console.log" >&2; die "qemu exited during boot"; }
  ((SECONDS < deadline)) || { tail -n 40 "$tmp/console.log" >&2; die "no SSH login within 180 s"; }
  sleep 0.2
done
t_ssh="$(now)"
seconds_to_ssh="$(elapsed "$t0" "$t_ssh")"
msg "ssh login after ${seconds_to_ssh} s"

ssh "${ssh_opts[@]}" student@127.0.0.1 'uname -a; python3 --version; sudo -n true && echo sudo-ok; id' >&2 ||
  die "commands over ssh failed"

# The guest agent answers on its virtio-serial channel.
"$PY" - "$tmp/ga.sock" <<'EOF' >&2 || die "guest agent did not answer"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
s.sendall(b'{"execute":"guest-sync","arguments":{"id":4242}}\n')
buf = b""
while b"\n" not in buf:
    chunk = s.recv(4096)
    if not chunk: raise SystemExit("agent closed")
    buf += chunk
r = json.loads(buf.split(b"\n")[0])
assert r.get("return") == 4242, r
print("guest agent: ok")
EOF

# ACPI power button through QMP; QEMU must exit by itself once the guest powers off.
t_pd="$(now)"
"$PY" - "$tmp/qmp.sock" <<'EOF' || die "QMP system_powerdown failed"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
f = s.makefile("rwb")
json.loads(f.readline())  # greeting
for cmd in ({"execute": "qmp_capabilities"}, {"execute": "system_powerdown"}):
    f.write(json.dumps(cmd).encode() + b"\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r: break
        if "error" in r: raise SystemExit(r)
EOF
for _ in $(seq 1 300); do
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$qemu_pid" 2>/dev/null; then
  tail -n 20 "$tmp/console.log" >&2
  die "guest did not power off within 30 s of the ACPI power button"
fi
wait "$qemu_pid" || die "qemu exited with status $?"
qemu_pid=
acpi_poweroff_seconds="$(elapsed "$t_pd" "$(now)")"
grep -q 'paddock-init: poweroff' "$tmp/console.log" || die "the guest did not go through its clean poweroff path"

[ "$(sha256sum < "$PADDOCK_GUEST_IMAGE")" = "$base_sum_before" ] || die "the base image changed"
msg "base image unchanged; console log: $(grep -c . "$tmp/console.log") lines"
echo "seconds_to_ssh=$seconds_to_ssh"
echo "acpi_poweroff_seconds=$acpi_poweroff_seconds"
