#!/usr/bin/env bash
# Builds (or reuses from its cache) the guest image, then runs the e2e test binary with its paths.
set -euo pipefail
binary="$1"; shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
start=$(date +%s)
eval "$(bash "$here/scripts/build-guest-image.sh" --output-env)"
export PADDOCK_GUEST_IMAGE PADDOCK_GUEST_KERNEL PADDOCK_GUEST_INITRD PADDOCK_GUEST_CMDLINE
echo "guest image ready after $(( $(date +%s) - start )) s: $PADDOCK_GUEST_IMAGE"
exec "$binary" "$@"
