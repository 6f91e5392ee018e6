#!/usr/bin/env bash
# What TLS costs paddockd: HTTPS against plain HTTP on this machine, on test:///default (no
# libvirtd needed), for an ECDSA P-256 and an RSA-2048 certificate made on the spot.
#  1. keep-alive requests (wrk, `conns` connections): GET /healthz and GET /api/v1/vms, req/s, p50, p99
#  2. a new connection for every request (wrk with Connection: close): connections/s
#  3. TLS handshakes/s with openssl s_time, 4 clients at once: full handshakes (-new) and
#     resumed sessions (-reuse)
# The load generators share the machine's cores with paddockd. Prints figures, never fails on them.
# Usage: bench/tls.sh [seconds=10] [conns=32]
source "$(dirname "$0")/common.sh"
seconds="${1:-10}" conns="${2:-32}"
certs="$(mktemp -d /tmp/paddock-bench-certs.XXXXXX)"
trap 'rm -rf "$certs"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$certs/ec.key" -out "$certs/ec.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$certs/rsa.key" -out "$certs/rsa.crt" 2>/dev/null

# wrk_line LABEL URL [wrk args]: req/s, p50 and p99 of one run.
wrk_line() {
  local label="$1" url="$2"; shift 2
  local out; out="$(wrk -t2 -c"$conns" -d"${seconds}s" --latency "$@" "$url")"
  local errors; errors="$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' || true)"
  printf '   %-44s %10s req/s   p50 %8s   p99 %8s   %s\n' "$label" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" "$errors"
}

# s_time_rate MODE: handshakes/s summed over 4 concurrent `openssl s_time` clients (-new | -reuse).
s_time_rate() {
  local mode="$1" i
  for i in 1 2 3 4; do
    openssl s_time -connect "127.0.0.1:$PORT" "$mode" -time "$seconds" -CAfile "$TLS_CERT" 2>/dev/null \
      | awk '/connections in .* real seconds/ {print $1 / $4}' >"$WORK/s_time.$i" &
  done
  wait
  cat "$WORK"/s_time.* | awk '{sum += $1} END {printf "%.0f", sum}'
}

run() { # run LABEL
  echo "== $1: paddockd on $BASE ($(nproc) cores shared with the load generators)"
  wrk_line "GET /healthz, keep-alive" "$BASE/healthz"
  wrk_line "GET /api/v1/vms, keep-alive" "$BASE/api/v1/vms" -H "Authorization: Bearer $TOKEN"
  wrk_line "GET /healthz, a new connection each" "$BASE/healthz" -H "Connection: close"
  if [ -n "${TLS_CERT:-}" ]; then
    echo "   full handshakes (s_time -new, 4 clients):    $(s_time_rate -new) /s"
    echo "   resumed sessions (s_time -reuse, 4 clients): $(s_time_rate -reuse) /s"
  fi
  echo "   paddockd RSS $(rss_kib "$PID") KiB"
  stop_paddockd
}

start() { # start_paddockd replaces the EXIT trap: keep removing the certificates too
  start_paddockd test:///default "" "" default-pool
  trap 'stop_paddockd; rm -rf "$certs"' EXIT
}

unset TLS_CERT TLS_KEY
start
run "plain HTTP"
TLS_CERT="$certs/ec.crt" TLS_KEY="$certs/ec.key"
start
run "HTTPS, ECDSA P-256 certificate"
TLS_CERT="$certs/rsa.crt" TLS_KEY="$certs/rsa.key"
start
run "HTTPS, RSA-2048 certificate"
