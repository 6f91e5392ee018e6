#!/usr/bin/env bash
# Build Paddock's small Debian 12 guest: a read-only qcow2 base image (ext4 root, no partition
# table), the Debian kernel copied out for direct kernel boot, and Paddock's own tiny initramfs
# (busybox + the virtio/ext4 modules only). The guest runs guest/init/paddock-init as PID 1
# instead of systemd, so it reaches SSH quickly even under TCG.
#
#   scripts/build-guest-image.sh [--cache-dir DIR] [--output-env] [--mirror URL] [--force]
#
# The result goes to DIR/<key>/ (default DIR: /var/cache/paddock/guest), where <key> is a
# sha256 of this script and every file under guest/ and guest-scripts/linux/. A second run with
# the same content does nothing but print. The build happens in a scratch directory and is
# renamed into place at the end, so an interrupted build never leaves something that looks
# complete. The debootstrapped tree is also kept as DIR/.rootfs/debootstrap-<k>.tar (keyed by
# suite, mirror and package list), so a change under guest/ or guest-scripts/linux/ rebuilds in
# under a minute; --force rebuilds everything, debootstrap included. Downloaded .debs stay in DIR/.debs. Packages come
# from this machine's own apt source for the suite (/etc/apt/sources.list.d/*.sources or
# /etc/apt/sources.list), unless --mirror names another, through apt's proxy if it has one.
# --output-env prints, on stdout, shell assignments for the result:
#   PADDOCK_GUEST_IMAGE, PADDOCK_GUEST_KERNEL, PADDOCK_GUEST_INITRD, PADDOCK_GUEST_CMDLINE
# The kernel is Debian's cloud kernel (linux-image-cloud-amd64: made for VMs, fewer drivers),
# whose bzImage is LZ4-compressed: PADDOCK_GUEST_KERNEL is that vmlinuz, which QEMU copies into
# ~14 MB of its own memory. The uncompressed vmlinux (PVH entry point) is kept next to it: boots
# ~0.5 s faster under TCG, but QEMU keeps its ~33 MB mapped (in RSS) for resets. A kernel whose
# bzImage is slow to decompress (xz, zstd, gzip) is booted through its vmlinux instead.
# Progress messages go to stderr. Needs root (debootstrap, chroot).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
self="$here/scripts/build-guest-image.sh"

cache_dir=/var/cache/paddock/guest
output_env=0
force=0
mirror=""   # default: the machine's own apt source for $suite (apt_mirror below)
suite=bookworm
image_size=4G

# The first apt source of this machine that serves `deb` packages of $suite: deb822 files in
# /etc/apt/sources.list.d first, then the one-line /etc/apt/sources.list. No mirror is written
# into the project: the machine knows where its packages come from.
apt_mirror() {
  local found=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    found="$(awk -v suite="$suite" 'BEGIN { RS = "" }
      { types = uris = suites = ""
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          if (lines[i] ~ /^Types:/) types = lines[i]
          if (lines[i] ~ /^URIs:/) uris = lines[i]
          if (lines[i] ~ /^Suites:/) suites = lines[i]
        }
        if (types ~ /[ \t]deb([ \t]|$)/ && (suites " ") ~ ("[ \t]" suite " ")) { split(uris, u, /[ \t]+/); print u[2]; exit }
      }' /etc/apt/sources.list.d/*.sources)"
  fi
  if [ -z "$found" ] && [ -f /etc/apt/sources.list ]; then
    found="$(awk -v suite="$suite" '{ line = $0; gsub(/\[[^]]*\]/, "", line); n = split(line, f, /[ \t]+/)
      if (f[1] == "deb" && f[3] == suite) { print f[2]; exit } }' /etc/apt/sources.list)"
  fi
  printf '%s' "$found"
}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$self"; }
while (($#)); do
  case "$1" in
    --cache-dir) cache_dir="${2:?--cache-dir needs a directory}"; shift 2 ;;
    --cache-dir=*) cache_dir="${1#*=}"; shift ;;
    --output-env) output_env=1; shift ;;
    --mirror) mirror="${2:?--mirror needs a URL}"; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-guest-image: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -z "$mirror" ]; then
  mirror="$(apt_mirror)"
  [ -n "$mirror" ] || { echo "build-guest-image: no apt source of this machine serves $suite; give one with --mirror URL" >&2; exit 2; }
fi
# A proxy apt is told about (Acquire::http::Proxy, e.g. a site's package cache) serves debootstrap
# too, unless http_proxy is set already.
if [ -z "${http_proxy:-}" ]; then
  apt_proxy=""
  eval "$(apt-config shell apt_proxy Acquire::http::Proxy 2>/dev/null)" || true
  if [ -n "$apt_proxy" ] && [ "$apt_proxy" != DIRECT ]; then export http_proxy="$apt_proxy"; fi
fi

msg() { echo "build-guest-image: $*" >&2; }
die() { msg "error: $*"; exit 1; }

# Everything the guest is made of. Any change here gives a new key (and a new image).
guest_files=()
while IFS= read -r f; do guest_files+=("$f"); done < <(cd "$here" && find guest guest-scripts/linux -type f | LC_ALL=C sort)
((${#guest_files[@]})) || die "no files under $here/guest"
[ -f "$here/guest-scripts/linux/paddock-heartbeat" ] || die "no $here/guest-scripts/linux/paddock-heartbeat"
key="$(cd "$here" && { sha256sum scripts/build-guest-image.sh "${guest_files[@]}"; \
  for f in "${guest_files[@]}"; do stat -c '%a %n' "$f"; done; } | sha256sum | cut -c1-16)"

case "$cache_dir" in /*) ;; *) cache_dir="$PWD/$cache_dir" ;; esac
out="$cache_dir/$key"

# Kernel command line. root/init are what our initramfs and PID 1 need; the rest shaves
# seconds off a TCG boot (no speculative-execution mitigations, no TSC watchdog or timer check,
# no crypto self-tests, no AppArmor/audit setup, only one serial port probed, trust RDRAND so
# nothing waits for entropy). Paddock appends paddock.authorized_key=... per VM.
cmdline="console=ttyS0 root=/dev/vda rw init=/sbin/paddock-init quiet loglevel=3"
cmdline+=" mitigations=off tsc=reliable no_timer_check random.trust_cpu=on cryptomgr.notests"
cmdline+=" apparmor=0 audit=0 8250.nr_uarts=1 nowatchdog i8042.noaux"

print_result() {
  if ((output_env)); then
    cat "$out/env"
  else
    msg "guest image ready in $out"
    sed 's/^/  /' "$out/env" >&2
  fi
}

if ((!force)) && [ -f "$out/env" ]; then
  print_result
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"

# Host tools, from Debian packages only.
need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v mkfs.ext4 >/dev/null || need_pkgs+=(e2fsprogs)
command -v qemu-img >/dev/null || need_pkgs+=(qemu-utils)
command -v lz4 >/dev/null || need_pkgs+=(lz4)   # the cloud kernel's vmlinux, out of its bzImage
command -v flock >/dev/null || need_pkgs+=(util-linux)
if ((${#need_pkgs[@]})); then
  msg "installing host packages: ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null; } ||
    die "cannot install ${need_pkgs[*]}"
fi
# mkfs.ext4 -d (populate from a directory) needs e2fsprogs >= 1.43.
grep -q -- '-d root-directory' <<< "$(mkfs.ext4 -h 2>&1 || true)" || die "mkfs.ext4 does not support -d (e2fsprogs too old)"

mkdir -p "$cache_dir"
exec 9>"$cache_dir/.lock"
if ! flock -n 9; then
  msg "another build holds $cache_dir/.lock; waiting"
  flock 9
fi
if ((!force)) && [ -f "$out/env" ]; then   # built by whoever held the lock
  print_result
  exit 0
fi

# We hold the lock, so any staging directory left here is from a build that was killed.
rm -rf "$cache_dir"/.build-* "$cache_dir"/.old-* "$cache_dir"/.rootfs/*.tmp

scratch="$(mktemp -d /var/tmp/paddock-guest-build.XXXXXX)"
cleanup() {
  local m
  # debootstrap may leave proc/sys mounted inside the target when it fails.
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v s="$scratch/" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r)
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
root="$scratch/root"
start=$SECONDS

# ------------------------------------------------------------------ debootstrap
# The freshly debootstrapped tree is kept as a tarball keyed by what went into it, so changing
# only the guest files (or the steps below) rebuilds in well under a minute. --force redoes it.
# linux-image-cloud-amd64: Debian's kernel for VMs (virtio, netfilter, bridges, tun, overlay; no
# drivers for physical hardware), with an LZ4 bzImage that decompresses in ~0.2 s under TCG.
# ufw (with iptables, the nft variant): the lab playbook's firewall; paddock-init starts it at
# boot when /etc/ufw/ufw.conf says ENABLED=yes (the package's own ufw.service/init script need
# an init system the guest does not run). debootstrap installs no recommends.
packages=openssh-server,python3,sudo,qemu-guest-agent,linux-image-cloud-amd64,busybox-static,ufw
dbs_key="$(printf '%s\n' "$suite" "$mirror" "$packages" minbase \
  "$(dpkg-query -W -f '${Version}' debootstrap 2>/dev/null || true)" | sha256sum | cut -c1-16)"
dbs_tar="$cache_dir/.rootfs/debootstrap-$dbs_key.tar"
mkdir -p "$root"
if ((!force)) && [ -f "$dbs_tar" ]; then
  msg "reusing the debootstrap tree $dbs_tar"
  tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$dbs_tar"
else
  msg "debootstrap $suite ($packages) from $mirror (a few minutes)"
  mkdir -p "$cache_dir/.debs" "$cache_dir/.rootfs"
  if ! debootstrap --variant=minbase --include="$packages" --cache-dir="$cache_dir/.debs" \
    "$suite" "$root" "$mirror" > "$scratch/debootstrap.log" 2>&1; then
    tail -n 30 "$scratch/debootstrap.log" >&2
    [ ! -f "$root/debootstrap/debootstrap.log" ] || tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  msg "debootstrap done ($((SECONDS - start)) s)"
  rm -f "$cache_dir"/.rootfs/debootstrap-*.tar
  tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -cf "$dbs_tar.tmp" . && mv "$dbs_tar.tmp" "$dbs_tar"
fi

# ------------------------------------------------------------------ configure the guest
kver="$(cd "$root/lib/modules" && ls -1 | sort -V | tail -n 1)"
[ -n "$kver" ] && [ -f "$root/boot/vmlinuz-$kver" ] || die "no kernel found in the guest"
msg "guest kernel $kver"

install -m 0755 "$here/guest/init/paddock-init" "$root/sbin/paddock-init"
install -m 0755 "$here/guest/init/paddock-shutdown" "$root/sbin/paddock-shutdown"
install -D -m 0755 "$here/guest/init/udhcpc.script" "$root/usr/share/paddock/udhcpc.script"
# Loads UFW's rules at boot when it is enabled (paddock-init runs it).
install -D -m 0755 "$here/guest/init/paddock-ufw" "$root/usr/lib/paddock/paddock-ufw"
# The exhibit heartbeat; paddock-init runs it when the kernel command line has paddock.heartbeat=.
install -D -m 0755 "$here/guest-scripts/linux/paddock-heartbeat" "$root/usr/local/bin/paddock-heartbeat"
for l in poweroff reboot halt shutdown; do
  [ -e "$root/sbin/$l" ] || ln -s paddock-shutdown "$root/sbin/$l"
done
install -m 0644 "$here/guest/sshd_config" "$root/etc/ssh/sshd_config"
# Host keys are per machine: paddock-init generates them on first boot.
rm -f "$root"/etc/ssh/ssh_host_*
# Nothing should start services inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 0755 "$root/usr/sbin/policy-rc.d"

echo paddock-guest > "$root/etc/hostname"
cat > "$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	paddock-guest
::1		localhost ip6-localhost ip6-loopback
EOF
echo "nameserver 10.0.2.3" > "$root/etc/resolv.conf"
echo '/dev/vda / ext4 rw,relatime 0 1' > "$root/etc/fstab"
echo 'LANG=C.UTF-8' > "$root/etc/default/locale"

# User "student": bash, passwordless sudo, no usable password ("*": no password matches it;
# unlike "!" it does not make sshd, which runs without PAM, refuse key logins).
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo --comment "Paddock student" student
chroot "$root" usermod --password '*' student
echo 'student ALL=(ALL:ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/90-paddock-student"
chmod 0440 "$root/etc/sudoers.d/90-paddock-student"
install -d -m 0700 -o 1000 -g 1000 "$root/home/student/.ssh"
[ "$(chroot "$root" id -u student)" = 1000 ] || die "student is not uid 1000"

# ------------------------------------------------------------------ make it small
# Keep future apt installs in the guest small too.
cat > "$root/etc/dpkg/dpkg.cfg.d/90-paddock-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
EOF
find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian" "$root/usr/share/linda"
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/*.log "$root/debootstrap"
# initramfs-tools (a dependency of the kernel package) built an initrd we do not use.
rm -f "$root"/boot/initrd.img-* "$root"/boot/System.map-*
# Hardware a VM never has: GPUs, sound, wireless, media, InfiniBand, physical NICs other than
# Intel's e1000/e1000e, etc. (the kernel is booted from outside; modules stay for what a lab
# might load: netfilter, bridges, tun, overlay, dm, iSCSI, virtio_scsi, ...).
moddir="$root/lib/modules/$kver/kernel"
rm -rf "$root/usr/share/doc/linux-image-$kver" \
  "$moddir/sound" "$moddir/drivers/gpu" "$moddir/drivers/media" "$moddir/drivers/infiniband" \
  "$moddir/drivers/iio" "$moddir/drivers/staging" "$moddir/drivers/comedi" "$moddir/drivers/mtd" \
  "$moddir/drivers/bluetooth" "$moddir/drivers/isdn" "$moddir/drivers/nfc" \
  "$moddir/drivers/thunderbolt" "$moddir/drivers/mmc" "$moddir/drivers/memstick" \
  "$moddir/drivers/pcmcia" "$moddir/drivers/w1" "$moddir/drivers/fpga" "$moddir/drivers/gnss" \
  "$moddir/drivers/net/wireless" "$moddir/drivers/net/can" "$moddir/drivers/net/wwan" \
  "$moddir/drivers/net/ieee802154" "$moddir/drivers/net/hamradio" "$moddir/drivers/net/arcnet" \
  "$moddir/drivers/net/fddi" "$moddir/drivers/net/ipa" "$moddir/drivers/net/usb" \
  "$moddir/net/wireless" "$moddir/net/mac80211" "$moddir/net/bluetooth" "$moddir/net/nfc" \
  "$moddir/net/ieee802154" "$moddir/net/mac802154"
find "$moddir/drivers/net/ethernet" -mindepth 1 -maxdepth 1 ! -name intel -exec rm -rf {} +
chroot "$root" depmod -a "$kver"
rm -f "$root/usr/sbin/policy-rc.d"

chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' > "$scratch/packages.txt"

# ------------------------------------------------------------------ initramfs
# Only what mounting /dev/vda (ext4 on virtio-blk) needs, in dependency order from modules.dep,
# skipping whatever the Debian kernel has built in (modules.builtin).
msg "building the initramfs"
declare -A mod_path mod_deps builtin
modname() { local n="${1##*/}"; n="${n%%.ko*}"; echo "${n//-/_}"; }
while IFS= read -r line; do
  p="${line%%:*}"
  n="$(modname "$p")"
  mod_path[$n]="$p"
  mod_deps[$n]="${line#*:}"
done < "$root/lib/modules/$kver/modules.dep"
while IFS= read -r p; do builtin[$(modname "$p")]=1; done < "$root/lib/modules/$kver/modules.builtin"

declare -A seen
order=()
add_module() {
  local n="$1" i deps=()
  [ -z "${seen[$n]:-}" ] || return 0
  seen[$n]=1
  if [ -n "${builtin[$n]:-}" ]; then msg "  $n: built in"; return 0; fi
  [ -n "${mod_path[$n]:-}" ] || die "module $n is neither built in nor in modules.dep"
  read -r -a deps <<< "${mod_deps[$n]}"
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add_module "$(modname "${deps[$i]}")"; done
  order+=("$n")
}
# crc32c_generic: ext4/jbd2 request the "crc32c" hash at mount time through the crypto API,
# which modules.dep does not show; load it explicitly. The initramfs also loads what PID 1
# needs at once (busybox insmod is much cheaper than modprobe under TCG): virtio_net, the
# virtio console (guest agent channel), the ACPI power button and evdev (to read it).
for m in crc32c_generic virtio_pci virtio_blk ext4 virtio_net virtio_console button evdev; do add_module "$m"; done
msg "  initramfs modules: ${order[*]}"

ird="$scratch/initramfs"
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$root/bin/busybox" "$ird/bin/busybox"
"$ird/bin/busybox" --list | grep -x switch_root >/dev/null || die "guest busybox lacks switch_root"
for a in sh mount umount switch_root insmod usleep cat echo findfs sleep ls; do ln -s busybox "$ird/bin/$a"; done
mknod -m 0600 "$ird/dev/console" c 5 1
: > "$ird/modules"
for n in "${order[@]}"; do
  src="$root/lib/modules/$kver/${mod_path[$n]}"
  case "$src" in
    *.ko) cp "$src" "$ird/lib/modules/$n.ko" ;;
    *.ko.xz) xz -dc "$src" > "$ird/lib/modules/$n.ko" ;;
    *.ko.zst) zstd -qdc "$src" > "$ird/lib/modules/$n.ko" ;;
    *.ko.gz) gzip -dc "$src" > "$ird/lib/modules/$n.ko" ;;
    *) die "unknown module format: $src" ;;
  esac
  echo "$n" >> "$ird/modules"
done
install -m 0755 "$here/guest/init/initramfs-init" "$ird/init"
# Uncompressed newc cpio: a few MB, and the kernel does not spend TCG time decompressing it.
(cd "$ird" && find . -mindepth 1 | LC_ALL=C sort | "$ird/bin/busybox" cpio -o -H newc 2>/dev/null) > "$scratch/initrd.img"

# ------------------------------------------------------------------ root file system
stage="$(mktemp -d "$cache_dir/.build-$key.XXXXXX")"
trap 'rm -rf "$stage"; cleanup' EXIT
cp "$root/boot/vmlinuz-$kver" "$stage/vmlinuz"
# How PADDOCK_GUEST_KERNEL boots. A kernel built with CONFIG_PVH can be booted by QEMU (-kernel)
# as the uncompressed ELF inside the bzImage, through its PVH entry point: no decompression in
# the guest, but QEMU keeps the file mapped for resets, ~33 MB of every VM's RSS. A bzImage is
# copied into QEMU's memory instead (its size: ~14 MB for the LZ4 cloud kernel) and decompressed
# by the guest; LZ4 takes ~0.5 s more of a TCG boot than PVH, xz (Debian's generic kernel)
# ~2.5 s more, so an xz/zstd/gzip kernel boots through its vmlinux and an LZ4 one as vmlinuz.
# Both files stay in the directory when the vmlinux could be extracted.
extract_vmlinux() { # bzImage output
  local magic tool off
  for magic in 'fd377a585a00:xz -dc --single-stream' '28b52ffd:zstd -qdc' '1f8b0800:gzip -dc' '02214c18:lz4 -dc'; do
    tool="${magic#*:}"
    command -v "${tool%% *}" >/dev/null || continue
    off="$(LC_ALL=C grep -obUaP "$(echo "${magic%%:*}" | sed 's/../\\x&/g')" "$1" | head -n 1 | cut -d: -f1 || true)"
    [ -n "$off" ] || continue
    tail -c +$((off + 1)) "$1" | $tool > "$2" 2>/dev/null || true
    [ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && return 0
  done
  return 1
}
# The vmlinux carries its .bss, .brk and .init.scratch as ~21 MB of zeros inside the last
# loadable segment. QEMU maps the file and keeps it mapped for resets, so every VM's RSS counted
# those pages too. Each PT_LOAD's file size is cut to end at its last non-zero byte; the memory
# size stays, and the loader zero-fills the rest, as it does for any .bss.
trim_zero_tails() { # vmlinux
  python3 - "$1" <<'PY'
import struct, sys
path = sys.argv[1]
with open(path, 'r+b') as f:
    data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        sys.exit('not a little-endian ELF64 file: ' + path)
    phoff, = struct.unpack_from('<Q', data, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
    saved = 0
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, = struct.unpack_from('<I', data, at)
        p_offset, = struct.unpack_from('<Q', data, at + 8)
        p_filesz, p_memsz = struct.unpack_from('<QQ', data, at + 32)
        if p_type != 1 or p_filesz == 0:  # PT_LOAD only
            continue
        kept = len(data[p_offset:p_offset + p_filesz].rstrip(b'\0'))
        if kept < p_filesz:
            f.seek(at + 32)
            f.write(struct.pack('<Q', kept))
            saved += p_filesz - kept
    print('%.1f MiB of zeros left to the loader' % (saved / 2**20), file=sys.stderr)
PY
}
kernel_file=vmlinuz pvh=0
if extract_vmlinux "$stage/vmlinuz" "$scratch/vmlinux" &&
  { ! command -v readelf >/dev/null || readelf -n "$scratch/vmlinux" | grep 'Unknown note type: (0x00000012)' >/dev/null; } &&
  grep -qx 'CONFIG_PVH=y' "$root/boot/config-$kver"; then
  trim_zero_tails "$scratch/vmlinux"
  mv "$scratch/vmlinux" "$stage/vmlinux"
  pvh=1
fi
if grep -qx 'CONFIG_KERNEL_LZ4=y' "$root/boot/config-$kver"; then
  msg "booting the LZ4 bzImage (vmlinuz)"
elif ((pvh)); then
  kernel_file=vmlinux
  msg "booting the uncompressed vmlinux through its PVH entry point"
else
  msg "warning: could not extract a PVH-bootable vmlinux; using the compressed vmlinuz (boots seconds slower under TCG)"
fi
cp "$scratch/initrd.img" "$stage/initrd.img"
cp "$scratch/packages.txt" "$stage/packages.txt"
rm -f "$root"/boot/vmlinuz-* "$root"/boot/config-*  # booted from outside; keeps the image small

msg "creating the ext4 root file system ($image_size) with mkfs.ext4 -d"
truncate -s "$image_size" "$scratch/root.raw"
mkfs.ext4 -q -F -L paddock-root -E root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0 -d "$root" "$scratch/root.raw" "$image_size"
qemu-img convert -f raw -O qcow2 -o compat=1.1,cluster_size=65536 "$scratch/root.raw" "$stage/base.qcow2"
rm -f "$scratch/root.raw"

echo "$cmdline" > "$stage/cmdline"
{
  echo "PADDOCK_GUEST_IMAGE=$out/base.qcow2"
  echo "PADDOCK_GUEST_KERNEL=$out/$kernel_file"
  echo "PADDOCK_GUEST_INITRD=$out/initrd.img"
  echo "PADDOCK_GUEST_CMDLINE='$cmdline'"
} > "$stage/env"
(cd "$stage" && sha256sum base.qcow2 vmlinu? initrd.img > SHA256SUMS)
chmod 0444 "$stage"/*
chmod 0755 "$stage"

if [ -e "$out" ]; then   # --force: replace the old result
  mv "$out" "$cache_dir/.old-$key.$$"
  rm -rf "$cache_dir/.old-$key.$$"
fi
mv -T "$stage" "$out"
sync
msg "built in $((SECONDS - start)) s: base.qcow2 $(du -h "$out/base.qcow2" | cut -f1) (virtual $image_size)," \
  "$kernel_file $(du -h "$out/$kernel_file" | cut -f1), initrd.img $(du -h "$out/initrd.img" | cut -f1)"
print_result
