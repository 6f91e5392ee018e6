#!/usr/bin/env bash
# One command to set everything up and run Paddock with the default configuration:
# installs packages, starts libvirtd, builds, builds (or reuses) the Debian guest image for the
# default template, then runs paddockd in the foreground on http://127.0.0.1:8000
# (control panel at /ui/, API docs at /docs; the admin token is written to state/admin.token;
# the CLI is build/bin/paddock).
# Set PADDOCK_CONFIG to run another configuration file; arguments go to paddockd.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
bash scripts/build.sh --target paddockd paddock_plugins paddock_cli
if [ -z "${PADDOCK_CONFIG:-}" ]; then
  # The first build takes a few minutes (debootstrap from Debian's mirror); later runs reuse it.
  eval "$(bash scripts/build-guest-image.sh --output-env)"
  export PADDOCK_SITES_0_TEMPLATES_0_BASE_IMAGE="$PADDOCK_GUEST_IMAGE"
  export PADDOCK_SITES_0_TEMPLATES_0_KERNEL="$PADDOCK_GUEST_KERNEL"
  export PADDOCK_SITES_0_TEMPLATES_0_INITRD="$PADDOCK_GUEST_INITRD"
  export PADDOCK_SITES_0_TEMPLATES_0_CMDLINE="$PADDOCK_GUEST_CMDLINE"
  unset PADDOCK_GUEST_IMAGE PADDOCK_GUEST_KERNEL PADDOCK_GUEST_INITRD PADDOCK_GUEST_CMDLINE
fi
exec "$here/build/server/paddockd" --config "${PADDOCK_CONFIG:-config/paddock.yaml}" "$@"
