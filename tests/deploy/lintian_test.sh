#!/usr/bin/env bash
# lintian on the package the package test made: every tag is printed, any error fails.
#   lintian_test.sh <deb>
set -euo pipefail
deb="${1:?deb}"
[ -f "$deb" ] || { echo "FAIL: no $deb (the deploy_package test makes it)"; exit 1; }
command -v lintian >/dev/null || { echo "FAIL: lintian is not installed (scripts/setup.sh installs it)"; exit 1; }
# lintian exits 0 without errors, 2 with errors (--fail-on error), anything else when it could not run.
out="$(lintian --pedantic --info --fail-on error "$deb" 2>&1)" && code=0 || code=$?
out="$(echo "$out" | grep -v 'running with root privileges' || true)"
[ "$code" -eq 0 ] || [ "$code" -eq 2 ] || { echo "$out"; echo "FAIL: lintian exited $code"; exit 1; }
echo "$out" | grep -E '^[EWIPX]:' || true
if [ "$code" -ne 0 ] || echo "$out" | grep -q '^E:'; then echo "FAIL: lintian errors"; exit 1; fi
# Both programs have a manual page (deploy/man).
if echo "$out" | grep -q 'no-manual-page'; then echo "FAIL: a program without a manual page"; exit 1; fi
echo "lintian: $(echo "$out" | grep -c '^W:' || true) warnings, no errors"
echo "PASS"
