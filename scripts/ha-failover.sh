#!/usr/bin/env bash
# Failover with nothing lost: etcd and three Patroni-managed PostgreSQL 15 nodes on loopback
# (scripts/ha-cluster.sh: synchronous_mode, ttl 10, loop_wait 1, retry_timeout 4), two
# reset-server instances on the multi-host URL (target_session_attrs=read-write), 32 clients
# sending reset requests, then a planned `patronictl switchover` and a `kill -9` of the primary
# (scripts/ha-failover.py checks and prints the figures). Exits non-zero if an accepted request
# is lost or mailed twice, an answer is neither 202 nor 503 with Retry-After, service takes more
# than 15 s to come back, or a secret from before the cut does not complete exactly once.
#
#   bash scripts/ha-failover.sh            (as root: installs patroni and etcd-server if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export HA_DIR="${HA_DIR:-/tmp/reset-ha}"
WORK="${HA_WORK:-/tmp/reset-ha-work}"

bash scripts/ha-cluster.sh install
cargo build -q -p reset-server
BIN="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/reset-server"
case "${CARGO_TARGET_DIR:-}" in /*) BIN="$CARGO_TARGET_DIR/debug/reset-server" ;; esac

cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -d "$WORK" ]; then
    for f in "$WORK"/*.log; do
      [ -f "$f" ] || continue
      echo "--- $f (last 20 lines)"
      tail -n 20 "$f"
    done
  fi
  bash scripts/ha-cluster.sh down >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT

bash scripts/ha-cluster.sh down >/dev/null 2>&1 || true
bash scripts/ha-cluster.sh up
rm -rf "$WORK"
python3 scripts/ha-failover.py --binary "$BIN" --work "$WORK" --out "${HA_FIGURES:-$WORK/figures.json}"
