#!/usr/bin/env bash
# systemd-analyze verify on deploy/systemd/paddockd.service as installed: the runtime component
# is staged into a temp root (the ExecStart binary must exist) and verified with --root, which
# needs no running systemd. Any message fails the test, since verify exits 0 on unknown keys.
# A copy with a misspelt key must be reported, so the check itself is seen to work.
#   systemd_verify.sh <build dir>
set -euo pipefail
build="${1:?build dir}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
DESTDIR="$work/root" cmake --install "$build" --component runtime --prefix /usr >/dev/null
unit=""
for candidate in lib/systemd/system/paddockd.service usr/lib/systemd/system/paddockd.service; do
  [ -f "$work/root/$candidate" ] && unit="$candidate" && break
done
[ -n "$unit" ] || { echo "FAIL: paddockd.service not installed"; exit 1; }
# The units the service refers to (libvirtd.service, network-online.target) come from this machine.
mkdir -p "$work/root/lib/systemd/system"
cp -n /lib/systemd/system/*.target "$work/root/lib/systemd/system/" 2>/dev/null || true
[ ! -f /lib/systemd/system/libvirtd.service ] || cp -n /lib/systemd/system/libvirtd.service "$work/root/lib/systemd/system/"

verify() {  # verify <unit path inside the root>: prints what systemd-analyze said, exits with its code
    SYSTEMD_LOG_COLOR=0 systemd-analyze verify --root="$work/root" "$work/root/$1" 2>&1
}
out="$(verify "$unit")" && code=0 || code=$?
echo "verify $unit: exit $code"
[ -z "$out" ] || echo "$out"
[ "$code" -eq 0 ] && [ -z "$out" ] || { echo "FAIL: systemd-analyze verify reported problems"; exit 1; }

grep -q '^Type=notify$' "$work/root/$unit" || { echo "FAIL: not Type=notify"; exit 1; }
grep -q '^ExecReload=' "$work/root/$unit" && { echo "FAIL: ExecReload, but paddockd cannot reload its config"; exit 1; }

sed 's/^Restart=/Restrat=/' "$work/root/$unit" > "$work/root/lib/systemd/system/paddockd-typo.service"
out="$(verify lib/systemd/system/paddockd-typo.service)" || true
case "$out" in
  *"Unknown key"*Restrat*) echo "a misspelt key is reported: ok" ;;
  *) echo "FAIL: systemd-analyze verify did not report a misspelt key: $out"; exit 1 ;;
esac
sed 's#^ExecStart=/usr/bin/paddockd#ExecStart=/usr/bin/paddockd-absent#' "$work/root/$unit" > "$work/root/lib/systemd/system/paddockd-absent.service"
if verify lib/systemd/system/paddockd-absent.service >/dev/null; then
  echo "FAIL: a missing ExecStart binary passed verify"; exit 1
fi
echo "a missing ExecStart binary is reported: ok"
echo "PASS"
