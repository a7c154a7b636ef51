#!/usr/bin/env bash
# The compose demo's topology without Docker: PostgreSQL (when one answers on 127.0.0.1:5432,
# else SQLite), an SMTP catcher (aiosmtpd writing to data/demo/maildir) and the server on each
# framework: axum on :8080, actix-web on :8081, warp on :8082, sharing one database and key.
#
#   bash scripts/demo.sh           start everything; Ctrl-C stops it
#   bash scripts/demo.sh --smoke   start, ask each server for a reset, wait for the 3 mails, stop
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SMOKE=false
[ "${1:-}" = "--smoke" ] && SMOKE=true
DEMO=data/demo
DBNAME=reset_demo
if $SMOKE; then
  # A fresh world each time, apart from the real demo's.
  DEMO=data/demo-smoke
  DBNAME=reset_demo_smoke
  rm -rf "$DEMO"
fi
mkdir -p "$DEMO/maildir/new" "$DEMO/maildir/cur" "$DEMO/maildir/tmp"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Another demo (or any server) on these ports would answer in place of ours.
for port in 1025 8080 8081 8082; do
  if port_open "$port"; then
    echo "port $port is in use: stop what listens there (an earlier demo?) and try again" >&2
    exit 1
  fi
done

if port_open 5432 && command -v psql >/dev/null; then
  $SMOKE && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DBNAME" >/dev/null
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DBNAME"
  DB=postgres://postgres@127.0.0.1:5432/$DBNAME
else
  DB="sqlite://$DEMO/reset.db"
fi
echo "database: $DB"

python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install --quiet aiosmtpd
SMTP_PORT=1025
python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$DEMO/maildir" &
PIDS+=($!)

BIN=$(server_bin)
export RESET_DATABASE_URL="$DB" RESET_DATA_DIR="$DEMO" RESET_MAIL_TRANSPORT=smtp \
  RESET_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" RESET_OUTBOX_POLL_MS=200
"$BIN" migrate >/dev/null
"$BIN" user add --username demo --email demo@example.com >/dev/null 2>&1 || echo "demo user exists"

for fw in axum:8080 actix:8081 warp:8082; do
  name=${fw%%:*}; port=${fw##*:}
  RESET_FRAMEWORK=$name RESET_BIND="127.0.0.1:$port" RESET_PUBLIC_URL="http://127.0.0.1:$port" \
    "$BIN" serve >"$DEMO/$name.log" 2>&1 &
  PIDS+=($!)
done
for fw in axum:8080 actix:8081 warp:8082; do
  wait_ready "${fw##*:}" "$DEMO/${fw%%:*}.log"
done
for pid in "${PIDS[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "a demo process exited early; see $DEMO/*.log" >&2; exit 1; }
done

cat <<TEXT

The demo runs:
  axum    http://127.0.0.1:8080   (docs: /openapi.json)
  actix   http://127.0.0.1:8081
  warp    http://127.0.0.1:8082
  mail    $DEMO/maildir/new/ (one file per message)

Ask for a reset:
  curl -i -X POST http://127.0.0.1:8080/v1/password-reset/request \\
    -H 'content-type: application/json' -d '{"username": "demo"}'
then open the link in the newest file of $DEMO/maildir/new/.
TEXT

if $SMOKE; then
  before=$(ls "$DEMO/maildir/new" | wc -l)
  for port in 8080 8081 8082; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/password-reset/request" \
      -H 'content-type: application/json' -d '{"username": "demo"}')
    [ "$code" = 202 ] || { echo "FAIL: :$port answered $code" >&2; exit 1; }
  done
  for _ in $(seq 1 100); do
    [ "$(ls "$DEMO/maildir/new" | wc -l)" -ge $((before + 3)) ] && break
    sleep 0.2
  done
  after=$(ls "$DEMO/maildir/new" | wc -l)
  [ "$after" -ge $((before + 3)) ] || { echo "FAIL: $((after - before)) of 3 mails arrived" >&2; exit 1; }
  echo "smoke: 3 servers answered and 3 mails arrived"
  exit 0
fi
wait
