#!/usr/bin/env bash
# The manual pages against the programs they describe:
#   man_pages_test.sh <source dir> <paddock binary> <paddockd binary> <deploy build dir>
# - groff (-man -ww) has nothing to warn about in either page;
# - every option `paddock --help` prints (globally, per command group and per verb), every
#   `group verb`, and every exit code is in paddock.1; every option of `paddockd --help` in
#   paddockd.8; both programs' --version match the pages' version;
# - the compressed copies the package installs are the pages (gzip -9n: no name, no time).
set -euo pipefail
src="${1:?source dir}" cli="${2:?paddock}" daemon="${3:?paddockd}" built="${4:?deploy build dir}"
man1="$src/deploy/man/paddock.1" man8="$src/deploy/man/paddockd.8"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for page in "$man1" "$man8"; do
  warnings="$(groff -man -ww -z "$page" 2>&1 || true)"
  [ -z "$warnings" ] || fail "groff warns about $(basename "$page"): $warnings"
done

# roff writes a hyphen as \-: look for the option as the page spells it.
in_page() { grep -qF -- "$(printf '%s' "$2" | sed 's/-/\\-/g')" "$1"; }
options_of() { grep -oE -- '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u; }

# Global options and groups from the top-level help; verbs and their options from each group's.
"$cli" --help >/tmp/paddock-man-help.$$ 2>&1 || true
trap 'rm -f /tmp/paddock-man-help.$$' EXIT
for opt in $(options_of </tmp/paddock-man-help.$$); do in_page "$man1" "$opt" || fail "paddock.1 lacks $opt"; done
groups="$(sed -n '/^Commands:/,/^$/p' /tmp/paddock-man-help.$$ | awk 'NF && $1 != "Commands:" {print $1}' | sort -u)"
[ -n "$groups" ] || fail "no command groups in paddock --help"
for group in $groups; do
  verbs="$("$cli" "$group" --help | sed -n '/^Verbs:/,/^$/p' | awk 'NF && $1 != "Verbs:" {print $1}')"
  [ -n "$verbs" ] || fail "no verbs in paddock $group --help"
  for verb in $verbs; do
    # The page names a verb in bold as "group verb".
    grep -qE "^\.BI? \"?$group $verb( |\"|$)" "$man1" || fail "paddock.1 has no entry for '$group $verb'"
    for opt in $("$cli" "$group" "$verb" --help | sed -n '/^Options:/,/^$/p' | options_of); do
      in_page "$man1" "$opt" || fail "paddock.1 lacks $opt of '$group $verb'"
    done
  done
done
for code in $(sed -n '/^Exit codes:/,/^$/p' /tmp/paddock-man-help.$$ | awk '$1 ~ /^[0-9]+$/ {print $1}'); do
  grep -qx "\.B $code" "$man1" || fail "paddock.1 does not explain exit code $code"
done

for opt in $("$daemon" --help 2>&1 | options_of); do in_page "$man8" "$opt" || fail "paddockd.8 lacks $opt"; done

cli_version="$("$cli" --version | awk '{print $2}')"
daemon_version="$("$daemon" --version | awk '{print $2}')"
for page in "$man1" "$man8"; do
  grep -q "\"Paddock $cli_version\"" "$page" || fail "$(basename "$page") is not for version $cli_version"
done
[ "$cli_version" = "$daemon_version" ] || fail "paddock $cli_version but paddockd $daemon_version"

for page in paddock.1 paddockd.8; do
  gz="$built/$page.gz"
  if [ ! -f "$gz" ]; then fail "$gz was not built"; continue; fi
  cmp -s <(gzip -dc "$gz") "$src/deploy/man/$page" || fail "$gz is not deploy/man/$page"
  # gzip -n: the header's time stamp (bytes 5-8) is zero and no file name flag (bit 3 of byte 4).
  header="$(od -An -tu1 -N8 "$gz")"
  set -- $header
  [ $(( $4 & 8 )) -eq 0 ] && [ "$5$6$7$8" = "0000" ] || fail "$gz carries a name or a time stamp"
done

if [ "$failures" -ne 0 ]; then echo "$failures failures"; exit 1; fi
echo "PASS: manual pages match paddock $cli_version and paddockd $daemon_version"
