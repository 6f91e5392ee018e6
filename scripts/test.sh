#!/usr/bin/env bash
# One command to set everything up and run the whole test suite (unit, integration against
# test:///default and qemu:///system, real sshd/ansible/asciinema/promtool/Chromium, e2e).
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit` or `-R server`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
bash scripts/build.sh
cd build
exec ctest --output-on-failure --timeout 1800 "$@"
