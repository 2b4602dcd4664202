#!/usr/bin/env bash
# The demo: what sluice is for, on this machine, with no external server.
#   bash packaging/demo.sh          run until Ctrl-C, with curl lines to try
#   bash packaging/demo.sh --once   the same checks, then stop (exit 0 = all worked)
# It installs the build dependencies (and curl, openssl) only, builds
# sluice in build-demo/ (without the test suite), generates logs in the five
# styles of the systems sluice serves, and runs packaging/demo.conf:
#   tail -> parser (per style) -> security counters -> correlation IDs
#   witness (signed events over HTTP, demo token and HMAC secret)
#   -> /metrics (counters), /api/v1/metrics/prometheus (sluice's own),
#      records with their correlation_id in $DEMO_DIR/out/
# SLUICE_BIN=path uses an already built binary (no install, no build).
# Ports: API_PORT (2020), METRICS_PORT (2021), WITNESS_PORT (8088).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
once=0
[ "${1:-}" = "--once" ] && once=1

if [ -z "${SLUICE_BIN:-}" ]; then
  bash packaging/deps.sh demo
  [ -d build-demo ] || meson setup build-demo -Dtests=false >/dev/null
  meson compile -C build-demo >/dev/null
  SLUICE_BIN=$root/build-demo/sluice
fi

export API_PORT=${API_PORT:-2020} METRICS_PORT=${METRICS_PORT:-2021}
export WITNESS_PORT=${WITNESS_PORT:-8088} METRICS_HOST=127.0.0.1
export DEMO_TOKEN=demo-token DEMO_SECRET=demo-secret
export READ_FROM_HEAD=On EXIT_ON_EOF=Off SLUICE_LOG_LEVEL=${SLUICE_LOG_LEVEL:-warn}
export DEMO_DIR=${DEMO_DIR:-$(mktemp -d /tmp/sluice-demo.XXXXXX)}
export LOG_DIR=$DEMO_DIR/logs

python3 tests/e2e/fixtures/gen_fixtures.py "$LOG_DIR" --seed 1 --lines 1000 >/dev/null
cp conf/parsers.conf conf/security-counters.conf packaging/demo.conf "$DEMO_DIR/"

"$SLUICE_BIN" -c "$DEMO_DIR/demo.conf" 2>"$DEMO_DIR/sluice.log" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT TERM

metrics=http://127.0.0.1:$METRICS_PORT/metrics
api=http://127.0.0.1:$API_PORT/api/v1/metrics/prometheus
witness=http://127.0.0.1:$WITNESS_PORT
fail() { echo "demo: $*" >&2; tail -20 "$DEMO_DIR/sluice.log" >&2; exit 1; }

# counters settle once the five files are read (a deadline, not a sleep)
lines=$(cat "$LOG_DIR"/*.log | wc -l)
read_lines() {
  curl -fs "$api" 2>/dev/null |
    awk '/^sluice_input_records_total\{name="tail/ {n += $2} END {print n + 0}'
}
for _ in $(seq 300); do
  kill -0 "$pid" 2>/dev/null || fail "sluice exited"
  [ "$(read_lines)" -ge "$lines" ] && break
  sleep 0.1
done
[ "$(read_lines)" -ge "$lines" ] || fail "read $(read_lines) of $lines lines"
for _ in $(seq 100); do
  curl -fs "$metrics" 2>/dev/null | grep -q '^security_auth_failures_total' && break
  sleep 0.1
done

echo "== sluice $("$SLUICE_BIN" -V | cut -d' ' -f2) is running the demo pipeline ($DEMO_DIR)"
echo
echo "-- 1. logs in five styles (python-json-logger, pino, proxy, mesh, webrtc), parsed:"
wc -l "$LOG_DIR"/*.log | sed 's/^/   /'
echo
echo "-- 2. security counters derived from them, on $metrics:"
curl -fs "$metrics" | grep -v '^#' | sed 's/^/   /'
echo
echo "-- 3. every record has one correlation ID (found in the log, or a new UUIDv7):"
curl -fs "$api" | grep -E '^sluice_correlate_(found|generated)_total' | sed 's/^/   /'
sample=$DEMO_DIR/out/security.streaming-proxy
for _ in $(seq 100); do [ -s "$sample" ] && break; sleep 0.1; done
[ -s "$sample" ] || fail "no records in $DEMO_DIR/out"
echo "   $(head -n 1 "$sample" | cut -c 1-300)..."
echo
echo "-- 4. witness: a signed event is accepted, a bad signature is refused:"
body='{"timestamp":"2026-11-21T08:00:00.000Z","event":"signature_verification_failed","agent_id":"agent-1","peer_id":"agent-7","metadata":{"reason":"bad signature"}}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$DEMO_SECRET" | sed 's/^.* //')
ok=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DEMO_TOKEN" \
  -H "X-Witness-Signature: sha256=$sig" -H 'Content-Type: application/json' \
  --data-binary "$body" "$witness/api/events")
bad=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DEMO_TOKEN" \
  -H "X-Witness-Signature: sha256=0000" --data-binary "$body" "$witness/api/events")
echo "   signed: $ok   bad signature: $bad"
stats=$(curl -fs -H "Authorization: Bearer $DEMO_TOKEN" "$witness/api/stats")
echo "   /api/stats: $stats"
[ "$ok" = 202 ] && [ "$bad" = 403 ] || fail "witness answered $ok and $bad (want 202, 403)"
# the accepted witness event is counted like a log line
for _ in $(seq 100); do
  curl -fs "$metrics" | grep -q '^signature_verification_failures_total{source="witness"}' && break
  sleep 0.1
done

cat <<EOF

-- try it (sluice keeps running; Ctrl-C stops it):
   curl -s $metrics
   curl -s $api
   body='{"event":"signature_verification_failed","agent_id":"agent-1","peer_id":"agent-7","metadata":{}}'
   sig=\$(printf '%s' "\$body" | openssl dgst -sha256 -hmac $DEMO_SECRET | sed 's/^.* //')
   curl -s -H "Authorization: Bearer $DEMO_TOKEN" -H "X-Witness-Signature: sha256=\$sig" --data-binary "\$body" $witness/api/events
   curl -s -H "Authorization: Bearer $DEMO_TOKEN" $witness/api/stats
   tail -f $DEMO_DIR/out/*
EOF
if [ "$once" = 1 ]; then
  curl -fs "$metrics" | grep -q '^signature_verification_failures_total{source="witness"}' ||
    fail "the witness event is not counted"
  echo "demo: ok"
  exit 0
fi
wait "$pid"
