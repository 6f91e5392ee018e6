#!/usr/bin/env bash
# Builds (or reuses from its cache) the guest image, then runs the e2e test binary with its paths.
set -euo pipefail
binary="$1"; shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Before minutes of image building: with PADDOCK_ALLOW_SKIP=1 a missing libvirtd is a skip
# (ctest's SKIP_RETURN_CODE, the code the test binary itself would exit with).
if [[ "${PADDOCK_ALLOW_SKIP:-}" == 1 ]] && ! virsh -c qemu:///system version >/dev/null 2>&1; then
  echo "qemu:///system is not reachable and PADDOCK_ALLOW_SKIP=1: skipping"
  exit 77
fi
start=$(date +%s)
eval "$(bash "$here/scripts/build-guest-image.sh" --output-env)"
export PADDOCK_GUEST_IMAGE PADDOCK_GUEST_KERNEL PADDOCK_GUEST_INITRD PADDOCK_GUEST_CMDLINE
echo "guest image ready after $(( $(date +%s) - start )) s: $PADDOCK_GUEST_IMAGE"
exec "$binary" "$@"
