#!/usr/bin/env bash
# Generated clients that work: generates a Python client (openapi-python-client, PyPI) and a
# TypeScript one (openapi-typescript + openapi-fetch, npm) from openapi/reset.v1.json, then runs
# a full reset with each (clients/*/reset_flow.*) against a live server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ROOT=$PWD
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "--- generating the Python client (openapi-python-client)"
python3 -m pip install --quiet --disable-pip-version-check "openapi-python-client==0.29.1" 2>&1 | grep -v "as the 'root' user" || true
openapi-python-client generate --path openapi/reset.v1.json --output-path "$WORK/py/reset_client" --meta none
echo "--- generating the TypeScript client (openapi-typescript + openapi-fetch)"
(cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent generate && npm run --silent build)

BIN=$(server_bin)
port=$(free_port)
mkdir -p "$WORK/server" && cd "$WORK/server"
export RESET_BIND="127.0.0.1:$port" RESET_PUBLIC_URL="http://127.0.0.1:$port" RESET_OUTBOX_POLL_MS=50 \
  RESET_LIMIT_REQUEST_PER_IDENTIFIER=0
"$BIN" user add --username alice --email alice@example.com >/dev/null
"$BIN" serve >server.log 2>&1 &
PID=$!
wait_ready "$port" "$WORK/server/server.log"
cd "$ROOT"
export RESET_URL="http://127.0.0.1:$port" RESET_MAIL_DIR="$WORK/server/data/mail"
mkdir -p "$RESET_MAIL_DIR"

PYTHONPATH="$WORK/py" python3 clients/python/reset_flow.py
(cd clients/typescript && npm run --silent flow)
