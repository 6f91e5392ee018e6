#!/usr/bin/env bash
# The Debian package, made by cpack exactly as `cmake --build build --target package` makes it:
# its control fields (Depends from dpkg-shlibdeps), its file list (the runtime component only:
# no headers, CMake packages or SDK tools), then installed with dpkg into a clean root (base-passwd's
# stock /etc/passwd and /etc/group, an empty dpkg database; maintainer scripts run chrootless with
# DPKG_ROOT), installed again (idempotent postinst, groups joined once they exist), the installed
# paddockd --check-config run from that root (chroot; only this machine's shared libraries are
# bound in) against its installed /etc/paddock/paddock.yaml and plugins, and purged.
#   package_test.sh <build dir> <output dir> <version>
# Leaves the .deb in <output dir> for the lintian test.
set -euo pipefail
build="${1:?build dir}"; out="${2:?output dir}"; version="${3:?version}"
arch="$(dpkg --print-architecture)"
deb="$out/paddock_${version}_${arch}.deb"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$out"; mkdir -p "$out"
cpack --config "$build/CPackConfig.cmake" -B "$out" > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
[ -f "$deb" ] || { ls -l "$out"; fail "no $deb"; }
echo "built $deb ($(stat -c %s "$deb") bytes)"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = paddock ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
depends="$(field Depends)"
echo "Depends: $depends"
echo "Recommends: $(field Recommends)"
# What paddockd and the plugins link, as dpkg-shlibdeps names it, and the postinst's useradd.
for package in libc6 libstdc++6 libsystemd0 libvirt0 libpoconet80 libpocoutil80 libyaml-cpp0.7 \
               libprometheus-cpp-core1.0 libssh2-1 libssl3 libboost-filesystem1.74.0 passwd; do
  [[ ", $depends," == *", $package "* || ", $depends," == *", $package,"* ]] || fail "Depends lacks $package"
done
for package in libvirt-daemon-system qemu-system-x86 asciinema ansible openssh-client; do
  [[ "$(field Recommends)" == *"$package"* ]] || fail "Recommends lacks $package"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$work" ./conffiles ./postinst ./prerm ./postrm
grep -qx /etc/paddock/paddock.yaml "$work/conffiles" || fail "/etc/paddock/paddock.yaml is not a conffile"

# File list.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's#^\./#/#' > "$work/files"
has() { grep -qx "$1" "$work/files" || fail "the package lacks $1"; }
has /usr/bin/paddockd
[ ! -e "$build/bin/paddock" ] || has /usr/bin/paddock
has /etc/paddock/paddock.yaml
has /lib/systemd/system/paddockd.service
has /usr/share/doc/paddock/copyright
has /usr/share/doc/paddock/changelog.gz
has /usr/share/paddock/web/docs.html
has /usr/share/paddock/ansible/playbooks/configure_vm.yml
has /var/lib/paddock/
has /var/log/paddock/
plugins=0
for so in "$build"/plugins/*.so; do has "/usr/lib/paddock/plugins/$(basename "$so")"; plugins=$((plugins + 1)); done
[ "$plugins" -gt 0 ] || fail "no plugins in $build/plugins"
# Every /static/ asset a page loads is in the package (the route prefixes of addAssetRoute).
static_dir() {
  case "$1" in
    swagger-ui) echo swagger-ui-dist ;; redoc) echo redoc/bundles ;;
    xterm) echo "@xterm/xterm/lib @xterm/xterm/css" ;; xterm-addon-fit) echo @xterm/addon-fit/lib ;;
    asciinema-player) echo asciinema-player/dist/bundle ;; *) fail "unknown asset route /static/$1" ;;
  esac
}
assets=0
while read -r ref; do
  prefix="${ref#/static/}"; prefix="${prefix%%/*}"; file="${ref##*/}"; found=""
  for dir in $(static_dir "$prefix"); do grep -qx "/usr/share/paddock/web/node_modules/$dir/$file" "$work/files" && found=1; done
  [ -n "$found" ] || fail "$ref (loaded by a page) is not in the package"
  assets=$((assets + 1))
done < <(dpkg-deb --fsys-tarfile "$deb" | tar -x -O --wildcards './usr/share/paddock/web/*.html' \
         | grep -o '"/static/[^"]*"' | tr -d '"' | sort -u)
[ "$assets" -gt 0 ] || fail "no /static/ asset found in the pages"
echo "every plugin ($plugins) and every /static/ asset the pages load ($assets) is in the package"
! grep -E '^/usr/include|/cmake/|paddock-conformance|\.a$|\.map$' "$work/files" || fail "sdk/dev files in the runtime package"
node_folders="$(grep -c '/node_modules/.*/$' "$work/files" || true)"
echo "$(wc -l < "$work/files") entries, $node_folders node_modules folders"

# A clean root: stock users and groups, an empty dpkg database.
root="$work/root"
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
cp /usr/share/base-passwd/passwd.master "$root/etc/passwd"
cp /usr/share/base-passwd/group.master "$root/etc/group"
[ ! -f /etc/login.defs ] || cp /etc/login.defs "$root/etc/login.defs"
: > "$root/var/lib/dpkg/status"
install_deb() {
  dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
}
install_deb
entry="$(grep '^paddock:' "$root/etc/passwd")" || fail "postinst made no paddock user"
echo "user: $entry"
[ "$(grep -c '^paddock:' "$root/etc/passwd")" -eq 1 ] || fail "paddock user twice"
IFS=: read -r _ _ uid gid _ home shell <<< "$entry"
[ "$home" = /var/lib/paddock ] && [ "$shell" = /usr/sbin/nologin ] || fail "home $home, shell $shell"
[ "$uid" -lt 1000 ] || fail "not a system user: uid $uid"
grep -q '^paddock:' /etc/passwd 2>/dev/null && ! grep -q "^paddock:x:$uid:" /etc/passwd && \
  echo "(this machine has its own paddock user; the root's is separate)"
adm="$(awk -F: '$1 == "adm" { print $3 }' "$root/etc/group")"
[ "$(stat -c '%u:%g %a' "$root/var/lib/paddock")" = "$uid:$gid 755" ] || fail "/var/lib/paddock: $(stat -c '%u:%g %a' "$root/var/lib/paddock")"
[ "$(stat -c '%u:%g %a' "$root/var/log/paddock")" = "$uid:$adm 2750" ] || fail "/var/log/paddock: $(stat -c '%u:%g %a' "$root/var/log/paddock")"
[ "$(stat -c '%u:%g %a' "$root/etc/paddock/paddock.yaml")" = "0:$gid 640" ] || fail "paddock.yaml: $(stat -c '%u:%g %a' "$root/etc/paddock/paddock.yaml")"
echo "directories and config: owners and modes ok"

# libvirt and kvm appear (libvirt-daemon-system installed later): reinstalling joins them, once.
printf 'libvirt:x:900:\nkvm:x:901:\n' >> "$root/etc/group"
install_deb
install_deb
[ "$(grep -c '^paddock:' "$root/etc/passwd")" -eq 1 ] || fail "paddock user twice after reinstalling"
grep -q '^libvirt:x:900:paddock$' "$root/etc/group" && grep -q '^kvm:x:901:paddock$' "$root/etc/group" || \
  { grep -E '^(libvirt|kvm):' "$root/etc/group"; fail "paddock is not in libvirt and kvm (once each)"; }
echo "reinstalled twice: one user, in libvirt and kvm"

# The installed config names the installed tree, nothing of the source tree.
config="$root/etc/paddock/paddock.yaml"
for key in "state_dir: /var/lib/paddock" "log_dir: /var/log/paddock" "plugin_dirs: \[/usr/lib/paddock/plugins\]" \
           "web_dir: /usr/share/paddock/web" "playbook: /usr/share/paddock/ansible/playbooks/configure_vm.yml"; do
  grep -q "^ *$key " "$config" || fail "the installed config lacks '$key'"
done
! sed 's/#.*//' "$config" | grep -nE 'build/plugins|server/web|state_dir: state|log_dir: logs|ansible/playbooks' | grep -v /usr/share/paddock/ ||
  fail "development paths in the installed config"

# paddockd from the installed tree, in a private mount namespace: the root gets this machine's
# shared libraries (standing in for the Depends) and /proc; everything else is the package's.
# run_in_root [NAME=value...] command...: the environment is only PATH and those.
run_in_root() {
  local env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin)
  while [[ "${1:-}" == *=* ]]; do env+=("$1"); shift; done
  env -i "${env[@]}" unshare --mount --propagation private -- /bin/sh -ec '
    root="$1"; shift
    mkdir -p "$root/usr/lib/x86_64-linux-gnu" "$root/lib/x86_64-linux-gnu" "$root/usr/lib64" "$root/proc" "$root/dev"
    mount --bind /usr/lib/x86_64-linux-gnu "$root/usr/lib/x86_64-linux-gnu"
    mount --bind /usr/lib/x86_64-linux-gnu "$root/lib/x86_64-linux-gnu"
    mount --bind /usr/lib64 "$root/usr/lib64"
    [ -e "$root/lib64" ] || ln -s usr/lib64 "$root/lib64"
    mount --bind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    exec chroot "$root" "$@"' sh "$root" "$@"
}
output="$(run_in_root /usr/bin/paddockd --check-config --config /etc/paddock/paddock.yaml 2>&1)" && code=0 || code=$?
echo "$output"
[ "$code" -eq 0 ] || fail "paddockd --check-config exited $code"
[[ "$output" == *"config OK: /etc/paddock/paddock.yaml"* ]] || fail "no 'config OK'"
for id in org.paddock.libvirt-qemu org.paddock.libvirt-xen org.paddock.libvirt-hyperv org.paddock.virsh \
          org.paddock.asciinema org.paddock.ansible; do
  [[ "$output" == *"$id "* ]] || fail "--check-config does not name the installed plugin $id"
done
# The check really reads the installed plugins: without them the same config is refused.
output="$(run_in_root PADDOCK_PATHS_PLUGIN_DIRS=/usr/lib/paddock/absent /usr/bin/paddockd --check-config \
          --config /etc/paddock/paddock.yaml 2>&1)" && code=0 || code=$?
[ "$code" -eq 2 ] && [[ "$output" == *paths.plugin_dirs* ]] || fail "without plugins: exit $code: $output"
echo "without its plugin folder the installed config is refused: ok"
[ -z "$(ls -A "$root/var/lib/paddock")" ] || fail "--check-config wrote state"

# Purge: the files and the logs go; state and user stay (they may own VM disks).
dpkg --root="$root" --force-depends --force-script-chrootless --purge paddock > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge"; }
[ ! -e "$root/usr/bin/paddockd" ] && [ ! -e "$root/etc/paddock/paddock.yaml" ] && [ ! -e "$root/var/log/paddock" ] || fail "purge left files"
echo "purged"
echo "PASS"
