#!/bin/sh
# Runs paddock-conformance against a system URI (qemu:///system): run_system.sh SKIP_CODE KIT ARGS...
# With PADDOCK_ALLOW_SKIP=1 (as for every test that needs libvirtd), a URI the plugin cannot open
# (PDK_ERR_UNAVAILABLE) exits with SKIP_CODE, which ctest reports as skipped; otherwise it fails.
skip_code=$1
kit=$2
shift 2
if [ "${PADDOCK_ALLOW_SKIP:-}" = 1 ]; then
  exec "$kit" "$@" --unavailable-exit "$skip_code"
fi
exec "$kit" "$@"
