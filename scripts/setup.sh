#!/usr/bin/env bash
# Idempotent machine setup for building, running and testing Paddock on Debian 12.
# Installs Debian packages (only those missing), npm front-end assets, and starts
# virtlogd/libvirtd when they are not running (there is no systemd here).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake pkg-config git ca-certificates
  libboost-dev libboost-filesystem-dev libpoco-dev libssl-dev libvirt-dev libssh2-1-dev
  rapidjson-dev prometheus-cpp-dev catch2 libyaml-cpp-dev libxml2-utils
  # libsystemd: paddockd tells systemd when it is ready (sd_notify); lintian checks the .deb,
  # dpkg-dev gives cpack dpkg-shlibdeps, systemd gives systemd-analyze (the unit's check),
  # groff-base checks the manual pages.
  libsystemd-dev lintian dpkg-dev systemd groff-base
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
  openssh-server openssh-client ansible asciinema debootstrap prometheus wrk
  # sudo: the ansible plugin's become test escalates through it with a password.
  sudo
  chromium curl openssl procps iproute2 python3 e2fsprogs util-linux xz-utils lz4 binutils
  # The fuzz tree (scripts/build-fuzz.sh): clang and libFuzzer. The sanitizer and libFuzzer
  # runtimes are in libclang-rt-14-dev, which clang only recommends (not installed here).
  clang libfuzzer-14-dev libclang-rt-14-dev
)
# Node.js may already come from elsewhere on the machine; Debian's npm would conflict with it.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# busybox wget and ash, as in Paddock's test guest, for the guest_heartbeat_script test. Debian's
# busybox and busybox-static conflict: either will do.
command -v busybox >/dev/null 2>&1 || packages+=(busybox-static)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  # prometheus (for promtool) starts a service on install under systemd only; there is none here.
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Front-end assets served locally by paddockd (Swagger UI, xterm.js, asciinema-player).
if [ ! -f "$here/server/web/node_modules/.paddock-installed" ] || \
   [ "$here/server/web/package.json" -nt "$here/server/web/node_modules/.paddock-installed" ]; then
  if [ -f "$here/server/web/package.json" ]; then
    (cd "$here/server/web" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules/.paddock-installed)
  fi
fi
# playwright-core for the browser test (it drives the system Chromium; no browser download).
if [ -f "$here/tests/browser/package.json" ] && { [ ! -f "$here/tests/browser/node_modules/.paddock-installed" ] || \
   [ "$here/tests/browser/package.json" -nt "$here/tests/browser/node_modules/.paddock-installed" ]; }; then
  (cd "$here/tests/browser" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules/.paddock-installed)
fi

# libvirt daemons (no systemd): start them when they are not running and we may.
if [ "$(id -u)" -eq 0 ]; then
  # Without udev, /dev/kvm stays root:root 0600. libvirt then finds KVM unusable for its qemu
  # user and re-probes QEMU's capabilities on every call (8 s per `virsh capabilities`, 40 s per
  # define, measured here). The Debian udev rule's permissions fix that: 0.04 s.
  if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
    chown root:kvm /dev/kvm && chmod 0660 /dev/kvm
  fi
  pgrep -x virtlogd >/dev/null || virtlogd -d
  if ! pgrep -x libvirtd >/dev/null; then
    libvirtd -d
    for _ in $(seq 1 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  # The storage pool config/paddock.yaml names (site "local", storage_pool: paddock).
  if ! virsh -q -c qemu:///system pool-info paddock >/dev/null 2>&1; then
    mkdir -p /var/lib/paddock/images
    virsh -q -c qemu:///system pool-define-as paddock dir --target /var/lib/paddock/images >/dev/null
    virsh -q -c qemu:///system pool-autostart paddock >/dev/null
  fi
  # Read the state first: `virsh | grep -q` under pipefail fails when grep exits early (SIGPIPE).
  pool_state="$(virsh -q -c qemu:///system pool-info paddock 2>/dev/null || true)"
  case "$pool_state" in
    *running*) ;;
    *) virsh -q -c qemu:///system pool-start paddock >/dev/null ;;
  esac
fi
echo "setup: ok"
