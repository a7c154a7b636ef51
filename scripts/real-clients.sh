#!/usr/bin/env bash
# Real clients, unchanged, against the dialects they were written for, on each framework (axum,
# actix, warp) in turn, each on a fresh SQLite database:
#   - misskey-js (npm, Misskey's own SDK; clients/real/misskey pins it): request-reset-password,
#     then reset-password with the mailed token;
#   - Unleash's reset pages (clients/real/unleash): the fetch calls of its frontend, read as the
#     pages read them;
#   - zitadel-client (PyPI, Zitadel's Python SDK; clients/real/zitadel pins a 1.x release, which
#     calls the REST paths, and the newest 4.x, which calls Connect), each in its own venv:
#     PasswordReset with sendLink and with returnCode, then SetPassword with the code.
# Each client is a function below, listed in CLIENTS; it runs against a server started for it
# (RESET_URL, RESET_MAIL_DIR, BIN and SERVER_DIR set; a user alice <alice@example.com> exists).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ROOT=$PWD
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

FRAMEWORKS=(axum actix warp)
CLIENTS=()

# --- misskey-js ---------------------------------------------------------------------------------
setup_misskey_js() {
  echo "--- installing misskey-js (npm ci, clients/real/misskey)"
  mkdir -p "$WORK/misskey"
  cp clients/real/misskey/package.json clients/real/misskey/package-lock.json \
    clients/real/misskey/reset_flow.mjs "$WORK/misskey/"
  (cd "$WORK/misskey" && npm ci --no-audit --no-fund --loglevel=error)
}
misskey_js() { node "$WORK/misskey/reset_flow.mjs"; }
CLIENTS+=(misskey_js)

# --- Unleash's reset pages ----------------------------------------------------------------------
unleash_page() { node clients/real/unleash/reset_page.mjs; }
CLIENTS+=(unleash_page)

# --- zitadel-client 1.x (REST) and 4.x (Connect) -----------------------------------------------
setup_zitadel_client() {
  local major
  for major in 1 4; do
    echo "--- installing zitadel-client $major.x (venv, clients/real/zitadel/requirements-$major.txt)"
    python3 -m venv "$WORK/zitadel-$major"
    "$WORK/zitadel-$major/bin/pip" install --quiet --disable-pip-version-check \
      -r "clients/real/zitadel/requirements-$major.txt" 2>&1 | grep -v -i "yanked" || true
    "$WORK/zitadel-$major/bin/pip" show --quiet zitadel-client >/dev/null 2>&1 \
      || { echo "FAIL: zitadel-client $major.x did not install" >&2; exit 1; }
  done
}
# Runs the SDK of major version $1 with an account and an admin token of its own, both made with
# the binary (as an operator would), on the running server's database.
zitadel_flow() {
  local major=$1 name="zitadel$1" id token
  id=$(cd "$SERVER_DIR" && "$BIN" user add --username "$name" --email "$name@example.com" 2>/dev/null)
  token=$(cd "$SERVER_DIR" && "$BIN" token create --name "$name" \
    --scope password:reset --scope password:write 2>/dev/null | tail -n1)
  RESET_USER_ID="$id" RESET_TOKEN="$token" RESET_EMAIL="$name@example.com" \
    "$WORK/zitadel-$major/bin/python" clients/real/zitadel/reset_flow.py
}
zitadel_client_1() { zitadel_flow 1; }
zitadel_client_4() { zitadel_flow 4; }
CLIENTS+=(zitadel_client_1 zitadel_client_4)

# --- the server ---------------------------------------------------------------------------------
# Starts the server on framework $1 in a fresh folder, with alice, and exports its URL and mail
# folder (RESET_MAIL_DIR is also the server's own setting: the server is told the same).
start_server() {
  local fw=$1 port
  SERVER_DIR="$WORK/server-$fw"
  (umask 077 && mkdir -p "$SERVER_DIR/data/mail")
  port=$(free_port)
  export RESET_URL="http://127.0.0.1:$port" RESET_MAIL_DIR="$SERVER_DIR/data/mail" SERVER_DIR
  local env=(RESET_BIND="127.0.0.1:$port" RESET_PUBLIC_URL="$RESET_URL" RESET_FRAMEWORK="$fw"
    RESET_MAIL_DIR="$RESET_MAIL_DIR" RESET_MAIL_TRANSPORT=file RESET_OUTBOX_POLL_MS=50
    RESET_LIMIT_REQUEST_PER_IDENTIFIER=0)
  cd "$SERVER_DIR"
  env "${env[@]}" "$BIN" user add --username alice --email alice@example.com >/dev/null
  env "${env[@]}" "$BIN" serve >server.log 2>&1 &
  PID=$!
  cd "$ROOT"
  wait_ready "$port" "$SERVER_DIR/server.log"
}

stop_server() {
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  if grep -q "panicked" "$SERVER_DIR/server.log"; then
    echo "FAIL: the server panicked" >&2; grep -m3 panicked "$SERVER_DIR/server.log" >&2; exit 1
  fi
}

setup_misskey_js
setup_zitadel_client
BIN=$(server_bin)
export BIN
for fw in "${FRAMEWORKS[@]}"; do
  start_server "$fw"
  for client in "${CLIENTS[@]}"; do
    echo "=== $client against $fw"
    "$client"
  done
  stop_server
done
echo "real clients: ${CLIENTS[*]} pass against ${FRAMEWORKS[*]}"
