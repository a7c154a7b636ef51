#!/usr/bin/env bash
# A local high-availability PostgreSQL 15 cluster on loopback, for failover tests: one etcd
# member (Debian's etcd-server) and three Patroni-managed PostgreSQL 15 nodes.
#
#   bash scripts/ha-cluster.sh install        apt-get install what is missing (idempotent)
#   bash scripts/ha-cluster.sh up             start etcd + pg1/pg2/pg3, wait until healthy;
#                                             prints "<leader name> <leader port>"
#   bash scripts/ha-cluster.sh primary        port of the current primary (exit 1 if none)
#   bash scripts/ha-cluster.sh url            multi-host URL for libpq/sqlx/tokio-postgres
#   bash scripts/ha-cluster.sh switchover     planned switchover to the synchronous standby;
#                                             prints the new primary's port
#   bash scripts/ha-cluster.sh kill-primary   kill -9 the primary's postmaster (and children);
#                                             prints "<old port> <epoch seconds of the kill>"
#   bash scripts/ha-cluster.sh wait-primary [OLD_PORT [SINCE]]
#                                             wait for a primary (other than OLD_PORT) that
#                                             accepts writes; prints "<port> <seconds since SINCE>"
#   bash scripts/ha-cluster.sh wait-healthy   wait for a primary + 2 streaming replicas (1 sync)
#   bash scripts/ha-cluster.sh status         patronictl list
#   bash scripts/ha-cluster.sh down           stop everything and remove $HA_DIR
#
# Environment: HA_DIR (state, logs, data; default /tmp/reset-ha), HA_TIMEOUT (seconds every
# wait gives up after; default 60), PG_BIN (default /usr/lib/postgresql/15/bin).
#
# Ports (all on 127.0.0.1): etcd clients 23790, peers 23800 (not Debian's 2379/2380, so an
# etcd.service of the distribution, if any, does not collide); PostgreSQL 5441-5443 and the
# Patroni REST API 8441-8443 for pg1-pg3. The system PostgreSQL on 5432 is never touched.
# Logs: $HA_DIR/etcd.log, $HA_DIR/pgN.log (Patroni and its PostgreSQL, which inherits
# Patroni's stderr). PIDs: $HA_DIR/etcd.pid, $HA_DIR/pgN.pid (Patroni); the postmasters' PIDs
# are in $HA_DIR/pgN/data/postmaster.pid.
#
# Debian 12 specifics (patroni 3.0.2, etcd-server 3.4.23): etcd 3.4 serves only the v3 API
# unless started with --enable-v2, so the DCS section is `etcd3:` (Patroni talks to etcd's
# v3 JSON gateway over plain HTTP with urllib3; it still imports python3-etcd, the v2 client,
# for its exception classes — a hard dependency of the patroni package anyway). The
# `python3-etcd3` (gRPC) package is not needed.
set -euo pipefail

HA_DIR=$(realpath -m "${HA_DIR:-/tmp/reset-ha}") # absolute: it ends up in Patroni's config
HA_TIMEOUT=${HA_TIMEOUT:-60}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SCOPE=reset-ha
NODES=(pg1 pg2 pg3)
ETCD_CLIENT_PORT=23790
ETCD_PEER_PORT=23800
ETCD_URL="http://127.0.0.1:$ETCD_CLIENT_PORT"
PACKAGES=(etcd-server patroni python3-etcd python3-psycopg2 postgresql-15 curl procps)
MARKER=.reset-ha-cluster

pg_port() { echo $((5440 + ${1#pg})); }
api_port() { echo $((8440 + ${1#pg})); }

log() { echo "ha-cluster: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

# Prints the last lines of the given logs (those that exist) to stderr.
show_logs() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "----- tail of $f -----" >&2
    tail -n 40 "$f" >&2
  done
}
all_logs() {
  local n files=("$HA_DIR/etcd.log")
  for n in "${NODES[@]}"; do files+=("$HA_DIR/$n.log"); done
  printf '%s\n' "${files[@]}"
}
die_with_logs() {
  local msg=$1
  shift
  show_logs "$@"
  die "$msg"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

# Runs SQL on 127.0.0.1:$1 as postgres; never prompts, gives up quickly.
psql_at() {
  local port=$1
  shift
  PGCONNECT_TIMEOUT=2 timeout 5 psql -X -w -qAt -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

# Whether the server on $1 is a primary that commits a write: txid_current() assigns a
# transaction id, so the commit writes a commit record (and waits for the synchronous
# standby, if one is required). Not even tried on a standby (it would fail there, and log an
# ERROR for every poll).
accepts_writes() {
  local out
  out=$(psql_at "$1" -c 'SELECT CASE WHEN NOT pg_is_in_recovery() THEN txid_current() END' \
    2>/dev/null) && [ -n "$out" ]
}

# HTTP status of GET $2 on node $1's Patroni REST API (000 when it does not answer).
api_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$(api_port "$1")$2" || true
}

# The node whose Patroni holds the leader key and runs PostgreSQL as primary (GET /primary
# answers 200 only there), or nothing.
leader_node() {
  local n
  for n in "${NODES[@]}"; do
    if [ "$(api_status "$n" /primary)" = 200 ]; then
      echo "$n"
      return 0
    fi
  done
  return 1
}

# The node Patroni has recorded in the DCS as the synchronous standby (GET /sync answers 200).
sync_node() {
  local n
  for n in "${NODES[@]}"; do
    if [ "$(api_status "$n" /sync)" = 200 ]; then
      echo "$n"
      return 0
    fi
  done
  return 1
}

# Healthy: a leader whose PostgreSQL accepts writes, sees both other nodes streaming from it
# with one of them synchronous, and Patroni agrees which node is the synchronous standby.
healthy() {
  local leader port counts
  leader=$(leader_node) || return 1
  port=$(pg_port "$leader")
  accepts_writes "$port" || return 1
  counts=$(psql_at "$port" -c "SELECT count(*) FILTER (WHERE state = 'streaming'),
      count(*) FILTER (WHERE state = 'streaming' AND sync_state = 'sync') FROM pg_stat_replication" \
    2>/dev/null) || return 1
  [ "$counts" = "2|1" ] || return 1
  sync_node >/dev/null || return 1
  echo "$leader $port"
}

# wait_for DESCRIPTION COMMAND...: retries COMMAND every 0.2 s until it succeeds (its stdout
# is passed on) or HA_TIMEOUT seconds have gone; then prints all logs and fails.
wait_for() {
  local what=$1 deadline out
  shift
  deadline=$(($(date +%s) + HA_TIMEOUT))
  while :; do
    if out=$("$@"); then
      [ -z "$out" ] || echo "$out"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      local msg="timed out after ${HA_TIMEOUT}s waiting for $what"
      msg+=" (logs in $HA_DIR; '$0 down' stops everything)"
      # shellcheck disable=SC2046
      die_with_logs "$msg" $(all_logs)
    fi
    sleep 0.2
  done
}

# ---- processes -------------------------------------------------------------------------

# start_bg NAME COMMAND...: runs COMMAND detached in its own session (so it outlives this
# script and its caller's process group), output to $HA_DIR/NAME.log, PID in NAME.pid. The
# wrapper shell writes its own PID and then execs, so the PID is the command's, whatever
# setsid does about forking.
start_bg() {
  local name=$1
  shift
  # shellcheck disable=SC2016 # $$, $0 and $@ are the inner shell's
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$HA_DIR/$name.pid" "$@" \
    >"$HA_DIR/$name.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do
    [ -s "$HA_DIR/$name.pid" ] && return 0
    sleep 0.1
  done
  die "could not start $name"
}

# Whether PID $1 is alive and its command line contains $2 (so a PID reused by an unrelated
# process after ours died is never signalled).
pid_matches() {
  local pid=$1 needle=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle"
}

pidfile_pid() { [ -s "$1" ] && head -n 1 "$1" | tr -dc '0-9'; }

# stop_pids SECONDS NEEDLE PID...: SIGTERM, up to SECONDS for them to exit, then SIGKILL.
stop_pids() {
  local secs=$1 needle=$2 pid alive
  shift 2
  [ $# -gt 0 ] || return 0
  for pid in "$@"; do
    if pid_matches "$pid" "$needle"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 $((secs * 10))); do
    alive=0
    for pid in "$@"; do pid_matches "$pid" "$needle" && alive=1; done
    [ "$alive" = 1 ] || return 0
    sleep 0.1
  done
  for pid in "$@"; do
    if pid_matches "$pid" "$needle"; then
      log "pid $pid did not stop in ${secs}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

# Children of PID $1, recursively (Patroni's pg_rewind, pg_basebackup, single-user postgres).
descendants() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}

# Whether anything of ours runs under $HA_DIR.
running() {
  local f
  for f in "$HA_DIR"/*.pid; do
    [ -e "$f" ] || continue
    pid_matches "$(pidfile_pid "$f")" "$HA_DIR" && return 0
  done
  return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- configuration ---------------------------------------------------------------------

# Patroni's configuration of node $1. The bootstrap.dcs part is written to etcd by the node
# that initialises the cluster and is cluster-wide from then on (`up` always starts afresh).
write_patroni_config() {
  local n=$1 pg api
  pg=$(pg_port "$n")
  api=$(api_port "$n")
  cat >"$HA_DIR/$n.yml" <<EOF
scope: $SCOPE
namespace: /service/
name: $n

log:
  level: INFO

restapi:
  listen: 127.0.0.1:$api
  connect_address: 127.0.0.1:$api

# etcd 3.4 serves the v3 API only (v2 needs --enable-v2): hence etcd3, not etcd.
etcd3:
  hosts: 127.0.0.1:$ETCD_CLIENT_PORT
  protocol: http

bootstrap:
  dcs:
    # Fast failover. Two paths lead to a new primary:
    # 1. The primary's postmaster dies (kill -9) but its Patroni lives (what kill-primary
    #    does): Patroni notices at its next HA loop, i.e. within loop_wait. With
    #    primary_start_timeout 0 it does not try to restart PostgreSQL as primary (crash
    #    recovery in place) but, as a failover candidate exists, demotes at once: it deletes
    #    the leader key; the replicas watch that key in etcd and wake immediately; the
    #    synchronous standby (the only one allowed to promote in synchronous_mode, since it
    #    is the one guaranteed to have every acknowledged commit) takes the key and runs
    #    pg_ctl promote. Expected: about loop_wait/2 + 1-2 s.
    # 2. The primary's Patroni dies or hangs too (or the host): nobody deletes the key; it
    #    expires after ttl, then the same race. Expected: up to ttl + loop_wait.
    # loop_wait 1: an HA loop every second (Patroni's default is 10), bounding detection of
    #   a dead postmaster to 1 s. Costs a few etcd writes and REST calls a second: fine here.
    # ttl 10: the leader lease (default 30); bounds path 2. etcd's minimum lease is ~2 s.
    # retry_timeout 4: how long a DCS or PostgreSQL operation is retried before Patroni gives
    #   up (default 10). Patroni's rule loop_wait + 2 * retry_timeout <= ttl (1 + 8 <= 10)
    #   keeps a primary that cannot reach etcd demoting itself before its lease can expire
    #   and someone else promotes, so there are never two primaries.
    # primary_start_timeout 0 (formerly master_start_timeout; default 300): prefer failing
    #   over to restarting a crashed primary in place (see 1).
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    primary_start_timeout: 0
    # A replica more WAL behind the primary's last reported position than this is never
    # promoted. Patroni's default, 1 MiB, is too tight here: under a bulk write the
    # synchronous standby easily trails by more (synchronous replication waits for commit
    # records, not for every byte of WAL of a transaction still running), the primary then
    # finds no failover candidate and restarts in place, and there is no failover at all.
    # Only the synchronous standby may be promoted, and it has every acknowledged commit
    # whatever its lag; 64 MiB only bounds the WAL it replays before accepting writes.
    maximum_lag_on_failover: 67108864
    # One synchronous standby at a time (synchronous_standby_names managed by Patroni), so a
    # commit acknowledged by the primary survives its loss, and failover picks that standby.
    # Not strict: with no standby left, the primary goes on accepting writes (asynchronously)
    # instead of blocking them, and a freshly promoted primary accepts writes before its new
    # synchronous standby has connected; both matter for a quick failover.
    synchronous_mode: true
    synchronous_mode_strict: false
    postgresql:
      # The killed old primary may hold WAL the new one never got (e.g. its crash-recovery
      # end-of-recovery checkpoint): pg_rewind (needs wal_log_hints or data checksums; we
      # have both) makes it a replica of the new timeline; when rewind fails or cannot run,
      # wipe the data directory and take a fresh base backup instead of staying down.
      use_pg_rewind: true
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      # A physical slot per member on the primary keeps WAL for a replica that is down or
      # rejoining, so it can catch up by streaming.
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_connections: 100
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
        # A dead standby connection is noticed within 10 s instead of 60 s.
        wal_sender_timeout: 10s
        wal_receiver_timeout: 10s
  initdb:
    - encoding: UTF8
    - locale: C
    - data-checksums

postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $HA_DIR/$n/data
  bin_dir: $PG_BIN
  pgpass: $HA_DIR/$n/pgpass
  # Trust on loopback only: this is a throw-away test cluster.
  authentication:
    superuser:
      username: postgres
    replication:
      username: replicator
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - local replication all trust
    - host replication all 127.0.0.1/32 trust
  parameters:
    # Sockets next to the node, not in /var/run/postgresql (the system server's).
    unix_socket_directories: $HA_DIR/$n

# No /dev/watchdog on a test machine.
watchdog:
  mode: "off"

tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

# ---- subcommands -----------------------------------------------------------------------

cmd_install() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "installing ${missing[*]}"
  # Keep Debian's maintainer scripts from starting etcd.service (on 2379/2380) or patroni
  # during the install: a policy-rc.d that denies every start, unless one already exists.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # Quiet: apt's output goes to a file, shown only on failure. `apt-get update` is retried
  # once (a mirror hiccup).
  local rc=0 out
  out=$(mktemp)
  apt-get update -qq >"$out" 2>&1 || { sleep 5 && apt-get update -qq >"$out" 2>&1; } || rc=$?
  if [ "$rc" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${missing[@]}" >"$out" 2>&1 || rc=$?
  fi
  if [ "$ours" = 1 ]; then
    rm -f "$policy"
    trap - EXIT
  fi
  if [ "$rc" != 0 ]; then
    tail -n 30 "$out" >&2
    rm -f "$out"
    die "apt-get failed (exit $rc) installing ${missing[*]}"
  fi
  rm -f "$out"
  # With systemd, the package also enables etcd.service for the next boot: we run our own.
  if [[ " ${missing[*]} " == *" etcd-server "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now etcd.service >/dev/null 2>&1 || true
  fi
}

require_tools() {
  local t
  for t in etcd patroni patronictl psql curl setsid setpriv; do
    command -v "$t" >/dev/null || die "$t not found: run '$0 install' first"
  done
  [ -x "$PG_BIN/postgres" ] || die "no $PG_BIN/postgres: run '$0 install' first"
  id postgres >/dev/null 2>&1 || die "no postgres OS user: run '$0 install' first"
}

cmd_up() {
  require_tools
  [ "$(id -u)" = 0 ] || die "run as root (nodes are started as the postgres user)"
  if running; then
    die "a cluster is already running under $HA_DIR: run '$0 down' first"
  fi
  # A Unix socket path must fit in 107 bytes: $HA_DIR/pgN/.s.PGSQL.544N.
  [ ${#HA_DIR} -le 80 ] || die "HA_DIR is too long for PostgreSQL's Unix sockets: $HA_DIR"
  local p
  for p in "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" 5441 5442 5443 8441 8442 8443; do
    port_in_use "$p" && die "127.0.0.1:$p is already in use"
  done
  if [ -e "$HA_DIR" ]; then # left over from a crash: ours only
    [ -e "$HA_DIR/$MARKER" ] || die "$HA_DIR exists and was not made by this script"
    rm -rf "$HA_DIR"
  fi
  mkdir -p "$HA_DIR"
  chmod 755 "$HA_DIR"
  touch "$HA_DIR/$MARKER"

  start_bg etcd etcd --name etcd1 --data-dir "$HA_DIR/etcd" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "etcd1=http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster-state new --initial-cluster-token "$SCOPE" \
    --enable-v2=false --logger zap --log-level warn
  etcd_ok() { curl -fsS --max-time 2 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; }
  wait_for "etcd on :$ETCD_CLIENT_PORT" etcd_ok

  local n
  for n in "${NODES[@]}"; do
    mkdir -p "$HA_DIR/$n"
    write_patroni_config "$n"
    chown -R postgres:postgres "$HA_DIR/$n" "$HA_DIR/$n.yml"
  done
  setpriv --reuid=postgres --regid=postgres --init-groups test -w "$HA_DIR/pg1" ||
    die "the postgres user cannot write to $HA_DIR/pg1 (is a parent directory private?)"

  # pg1 first, so that it initialises the cluster and is the first leader (deterministic);
  # the others then clone it with pg_basebackup.
  start_node pg1
  pg1_primary() { [ "$(leader_node)" = pg1 ] && accepts_writes 5441; }
  wait_for "pg1 to bootstrap and become primary" pg1_primary
  start_node pg2
  start_node pg3
  wait_for "a primary with 2 streaming replicas (one synchronous)" healthy
}

# Starts Patroni for node $1 as the postgres user with a clean environment (no PG* variables
# of the caller, no pyenv python: Debian's patroni runs on /usr/bin/python3).
start_node() {
  local n=$1
  start_bg "$n" setpriv --reuid=postgres --regid=postgres --init-groups \
    env -i HOME="$HA_DIR/$n" USER=postgres LOGNAME=postgres LANG=C.UTF-8 \
    PATH="$PG_BIN:/usr/local/bin:/usr/bin:/bin" \
    /usr/bin/patroni "$HA_DIR/$n.yml"
}

cmd_primary() {
  local n
  n=$(leader_node) || die "no primary (no Patroni REST API answers 200 on /primary)"
  pg_port "$n"
}

cmd_url() {
  echo "postgres://postgres@127.0.0.1:5441,127.0.0.1:5442,127.0.0.1:5443/postgres?target_session_attrs=read-write"
}

cmd_switchover() {
  require_tools
  local leader cand out
  leader=$(leader_node) || die "no primary to switch over from"
  cand=$(sync_node) || die "no synchronous standby to switch over to"
  [ "$cand" != "$leader" ] || die "the synchronous standby is the leader?"
  if ! out=$(patronictl -c "$HA_DIR/$leader.yml" switchover "$SCOPE" \
    --leader "$leader" --candidate "$cand" --force 2>&1); then
    echo "$out" >&2
    # shellcheck disable=SC2046
    die_with_logs "patronictl switchover $leader -> $cand failed" $(all_logs)
  fi
  echo "$out" >>"$HA_DIR/switchover.log"
  local newport oldport
  newport=$(pg_port "$cand")
  oldport=$(pg_port "$leader")
  new_primary() { [ "$(leader_node)" = "$cand" ] && accepts_writes "$newport" && ! accepts_writes "$oldport"; }
  wait_for "$cand to become primary and accept writes" new_primary
  echo "$newport"
}

# kill -9 of the primary's whole PostgreSQL instance: the postmaster (PID from postmaster.pid)
# and, in the same kill(1), all its children, as the OOM killer or a crashing container
# would. Killing the postmaster alone leaves its backends running until they next check for
# postmaster death, which one busy in a long statement does only when the statement ends;
# until then it holds the shared memory segment, PostgreSQL refuses to start on that data
# directory ("pre-existing shared memory block is still in use") and the old primary cannot
# rejoin. SIGSTOP first, so that the postmaster forks no new child in between.
cmd_kill_primary() {
  local n port pid t kids
  n=$(leader_node) || die "no primary to kill"
  port=$(pg_port "$n")
  pid=$(pidfile_pid "$HA_DIR/$n/data/postmaster.pid") || die "no postmaster.pid for $n"
  pid_matches "$pid" "$HA_DIR/$n/data" || die "postmaster $pid of $n is not running"
  kill -STOP "$pid"
  mapfile -t kids < <(ps -o pid= --ppid "$pid" | tr -d " ")
  kill -KILL "$pid" "${kids[@]}" 2>/dev/null || true
  t=$(now)
  echo "$port $t"
}

cmd_wait_primary() {
  local old=${1:-} since=${2:-}
  [ -n "$since" ] || since=$(now)
  found_primary() {
    local n p
    for n in "${NODES[@]}"; do
      p=$(pg_port "$n")
      [ "$p" != "$old" ] || continue
      if accepts_writes "$p"; then
        echo "$p"
        return 0
      fi
    done
    return 1
  }
  local port
  port=$(wait_for "a primary${old:+ other than :$old} accepting writes" found_primary)
  echo "$port $(elapsed "$since" "$(now)")"
}

cmd_wait_healthy() {
  wait_for "a primary with 2 streaming replicas (one synchronous)" healthy
}

cmd_status() {
  require_tools
  patronictl -c "$HA_DIR/pg1.yml" list "$SCOPE"
}

cmd_down() {
  [ -e "$HA_DIR" ] || return 0
  if [ ! -e "$HA_DIR/$MARKER" ] && [ -n "$(ls -A "$HA_DIR")" ]; then
    die "$HA_DIR was not made by this script: not removing it"
  fi
  local n pid pids=() kids=()
  # 1. Patroni (each stops its PostgreSQL on SIGTERM). Their helpers too, should one be
  # wedged in pg_rewind or pg_basebackup.
  for n in "${NODES[@]}"; do
    pid=$(pidfile_pid "$HA_DIR/$n.pid") || continue
    pid_matches "$pid" "$HA_DIR/$n.yml" || continue
    pids+=("$pid")
    mapfile -t -O "${#kids[@]}" kids < <(descendants "$pid")
  done
  stop_pids 30 "$HA_DIR/" "${pids[@]}"
  for pid in "${kids[@]}"; do
    if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  # 2. Postmasters left behind (Patroni killed, or wedged): immediate shutdown (SIGQUIT).
  pids=()
  for n in "${NODES[@]}"; do
    pid=$(pidfile_pid "$HA_DIR/$n/data/postmaster.pid") || continue
    pid_matches "$pid" "$HA_DIR/$n/data" || continue
    kill -QUIT "$pid" 2>/dev/null || true
    pids+=("$pid")
  done
  stop_pids 10 "$HA_DIR/" "${pids[@]}"
  # 3. etcd.
  pid=$(pidfile_pid "$HA_DIR/etcd.pid") || true
  stop_pids 10 "$HA_DIR/etcd" "$pid"
  rm -rf "$HA_DIR"
}

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case ${1:-} in
install) cmd_install ;;
up) cmd_up ;;
primary) cmd_primary ;;
url) cmd_url ;;
switchover) cmd_switchover ;;
kill-primary) cmd_kill_primary ;;
wait-primary) cmd_wait_primary "${2:-}" "${3:-}" ;;
wait-healthy) cmd_wait_healthy ;;
status) cmd_status ;;
down) cmd_down ;;
*) usage ;;
esac
