# Helpers shared by the scripts (sourced, not run).

# A free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Whether something listens on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits up to 10 s for the server on port $1 to answer /readyz; on failure prints log $2 (if
# given) and exits.
wait_ready() {
  local port=$1 log=${2:-}
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  [ -n "$log" ] && [ -f "$log" ] && tail -n 30 "$log" >&2
  echo "FAIL: the server on :$port did not become ready" >&2
  exit 1
}

# Builds reset-server and prints where cargo put it (honours CARGO_TARGET_DIR and the like).
server_bin() {
  cargo build --quiet -p reset-server --message-format=json \
    | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "reset-server" and m.get("executable"):
        print(m["executable"])'
}
