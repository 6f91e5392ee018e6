#!/usr/bin/env bash
# One command to set everything up and run Paddock with the default configuration:
# installs packages, starts libvirtd, builds, then runs paddockd in the foreground on
# http://127.0.0.1:8000 (API docs at /docs; admin token in state/admin.token).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
bash scripts/build.sh --target paddockd paddock_plugins
exec "$here/build/server/paddockd" --config "${PADDOCK_CONFIG:-config/paddock.yaml}" "$@"
