#!/usr/bin/env bash
# Schema fuzzing: schemathesis (PyPI), every check on (see schemathesis.toml), against the server
# on each framework in turn, each on a fresh SQLite database with an admin token holding every
# scope, so the admin operations are exercised too (and `ignored_auth` checks that they refuse
# requests without it). Fails on any finding.
#
#   bash scripts/fuzz.sh [MAX_EXAMPLES]   (default 20 per operation and phase)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
EXAMPLES=${1:-20}
SCHEMATHESIS=4.32.5
[ "$(schemathesis --version 2>/dev/null)" = "schemathesis, version $SCHEMATHESIS" ] \
  || python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS"
BIN=$(server_bin)
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

for fw in axum actix warp; do
  dir="$WORK/$fw"; mkdir -p "$dir"; cd "$dir"
  port=$(free_port)
  # Rate limits off and cheap hashing: the fuzzer sends thousands of requests from one address.
  export RESET_BIND="127.0.0.1:$port" RESET_FRAMEWORK=$fw RESET_LIMIT_REQUEST_PER_IP=0 \
    RESET_LIMIT_ATTEMPT_PER_IP=0 RESET_LIMIT_REQUEST_PER_IDENTIFIER=0 RESET_ARGON2_MEMORY_KIB=1024 \
    RESET_ARGON2_ITERATIONS=1 RESET_MAIL_TRANSPORT=file
  "$BIN" user add --username alice --email alice@example.com >/dev/null
  token=$("$BIN" token create --scope password:reset --scope password:write --name fuzz 2>/dev/null)
  "$BIN" serve >"$dir/server.log" 2>&1 &
  PID=$!
  wait_ready "$port" "$dir/server.log"
  cd - >/dev/null
  echo "=== schemathesis against $fw ==="
  schemathesis run openapi/reset.v1.json --url "http://127.0.0.1:$port" --checks all \
    --max-examples "$EXAMPLES" --seed 42 --workers 1 --no-shrink \
    -H "Authorization: Bearer $token"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  if grep -q "panicked" "$dir/server.log"; then
    echo "FAIL: the $fw server panicked" >&2; grep -m3 panicked "$dir/server.log" >&2; exit 1
  fi
done
echo "schemathesis: no findings on axum, actix or warp"
