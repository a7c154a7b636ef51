#!/usr/bin/env bash
# Scale-out, measured (docs/benchmarks.md): 1, 2 and 3 reset-server processes (release, axum)
# on one PostgreSQL database, the load spread over them by `reset-load remote`, which prints
# aggregate req/s and the CPU each instance and the database used.
#   bash scripts/scale-out.sh [postgres://postgres@127.0.0.1:5432] [seconds per scenario]
# The database reset_scale_out is created afresh and dropped at the end. Rate limits stay on,
# set too high to trigger (their counters are part of every request's cost), and mail goes to
# the log transport at warn level (the messages are counted, not written).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ADMIN=${1:-postgres://postgres@127.0.0.1:5432}
SECONDS_PER=${2:-5}
DB="$ADMIN/reset_scale_out"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$ADMIN/postgres" -qc "DROP DATABASE IF EXISTS reset_scale_out WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --quiet --release -p reset-server -p reset-load
BIN=target/release/reset-server
LOAD=target/release/reset-load
psql "$ADMIN/postgres" -qc "DROP DATABASE IF EXISTS reset_scale_out WITH (FORCE)" >/dev/null
psql "$ADMIN/postgres" -qc "CREATE DATABASE reset_scale_out" >/dev/null
export RESET_DATABASE_URL="$DB" RESET_DATA_DIR="$WORK" RESET_MAIL_TRANSPORT=log RESET_LOG=warn \
  RESET_SECRET_KEY=c2NhbGUtb3V0LXJ1bi1rZXktbm90LWZvci1wcm9kdWN0aW9uIQ== \
  RESET_MIGRATE_ON_START=false RESET_LIMIT_REQUEST_PER_IDENTIFIER=1000000000 \
  RESET_LIMIT_REQUEST_PER_IP=1000000000 RESET_LIMIT_ATTEMPT_PER_IP=1000000000 \
  RESET_LIMIT_SEND_PER_ACCOUNT=1000000000 RESET_LIMIT_SEND_PER_ACCOUNT_PER_DAY=1000000000
"$BIN" migrate >/dev/null

for n in 1 2 3; do
  BASES=()
  for i in $(seq 1 "$n"); do
    port=$(free_port)
    RESET_BIND="127.0.0.1:$port" "$BIN" serve >"$WORK/server-$i.log" 2>&1 &
    PIDS+=($!)
    wait_ready "$port" "$WORK/server-$i.log"
    BASES+=(--base "http://127.0.0.1:$port" --pid "$!")
  done
  echo "=== $n instance(s)"
  "$LOAD" remote --database-url "$DB" --seconds "$SECONDS_PER" "${BASES[@]}"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
done
