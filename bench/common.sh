# Shared helpers for the benchmarks: start a private paddockd on a free loopback port with a
# generated config, wait for it, stop it on exit. Source it; never run it directly.
set -euo pipefail
bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BENCH_BUILD_DIR:-$bench_root/build}"   # another build tree: BENCH_BUILD_DIR=...
paddockd="$build_dir/server/paddockd"
[ -x "$paddockd" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_paddockd URI [extra site YAML lines] [extra server keys, "k: v, ..."] [storage pool]:
# sets PORT, TOKEN, PID, WORK and BASE (the URL to talk to). With TLS_CERT and TLS_KEY set
# (PEM files), paddockd serves HTTPS with them and curl trusts TLS_CERT.
start_paddockd() {
  write_config "$@"
  spawn_paddockd
  trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for _ in $(seq 1 100); do
    curl -fsS "${CURL_TLS[@]}" "$BASE/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "paddockd did not start:" >&2; cat "$WORK/paddockd.log" >&2; exit 1
}

# write_config URI [extra site YAML lines] [extra server keys] [storage pool]: start_paddockd's
# first half: sets WORK, PORT, BASE, TOKEN, CURL_TLS and writes $WORK/paddock.yaml.
write_config() {
  local uri="$1" extra="${2:-}" server_extra="${3:-}" storage_pool="${4:-paddock}"
  WORK="$(mktemp -d /tmp/paddock-bench.XXXXXX)"
  PORT="$(free_port)"
  BASE="http://127.0.0.1:$PORT"
  CURL_TLS=()
  if [ -n "${TLS_CERT:-}" ]; then
    server_extra="tls: {cert: $TLS_CERT, key: $TLS_KEY}${server_extra:+, $server_extra}"
    BASE="https://127.0.0.1:$PORT"
    CURL_TLS=(--cacert "$TLS_CERT")
  fi
  TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  cat > "$WORK/paddock.yaml" <<YAML
server: {host: 127.0.0.1, port: $PORT, threads: 32${server_extra:+, $server_extra}}
paths: {state_dir: $WORK/state, log_dir: $WORK/logs, plugin_dirs: [$build_dir/plugins], web_dir: $bench_root/server/web}
auth:
  mode: token
  tokens: [{name: bench, token: $TOKEN, role: admin}]
sites:
  - name: bench
    uri: $uri
    storage_pool: $storage_pool
$extra
YAML
}

# spawn_paddockd: starts paddockd on $WORK/paddock.yaml in the background, sets PID. Descriptors
# 3-9 closed: a bench run under flock(1) must not hand its lock to a paddockd that might outlive
# the bench.
spawn_paddockd() {
  "$paddockd" --config "$WORK/paddock.yaml" >"$WORK/paddockd.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  PID=$!
}

sweep() { # destroys and undefines (with storage and managed save) every domain named "$prefix"*
  local d
  [ -n "${prefix:-}" ] || return 0  # never every domain on the host
  for d in $(virsh -q -c qemu:///system list --all --name | grep "^$prefix" || true); do
    virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
    virsh -q -c qemu:///system undefine "$d" --managed-save --remove-all-storage >/dev/null 2>&1 || true
  done
}

api() { # api METHOD PATH [JSON]
  curl -fsS "${CURL_TLS[@]}" -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$BASE$2"
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# stop_paddockd: ends the paddockd start_paddockd started and removes its WORK dir.
stop_paddockd() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
