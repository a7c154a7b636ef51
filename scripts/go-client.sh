#!/usr/bin/env bash
# Generates the Go client with openapi-generator's `go` generator and its default options (PyPI's
# openapi-generator-cli bundles the jar; it needs Java 17) and compiles it, so that a document
# change that breaks Go clients (two enums sharing a value declare the same constant twice)
# fails CI. Offline: the generated go.mod's requirements come from Debian's Go library packages
# (/usr/share/gocode) and the client is built in GOPATH mode, with the module proxy off.
# Usage: scripts/go-client.sh [document] (default openapi/reset.v1.json).
set -euo pipefail
cd "$(dirname "$0")/.."
DOC=${1:-openapi/reset.v1.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The generated client's requirements, as Debian packages them (go.mod's `require` list).
DEB_GO_LIBS="golang-gopkg-validator.v2-dev"
if ! command -v go >/dev/null || ! [ -d /usr/share/gocode/src/gopkg.in/validator.v2 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q golang-go $DEB_GO_LIBS >/tmp/apt-go.log 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q golang-go $DEB_GO_LIBS >/tmp/apt-go.log 2>&1; } \
    || { tail -n 20 /tmp/apt-go.log; echo "FAIL: could not install Go" >&2; exit 1; }
fi
go version
python3 -m pip install --quiet --disable-pip-version-check "openapi-generator-cli==7.26.0" 2>&1 | grep -v "as the 'root' user" || true

PKG=github.com/GIT_USER_ID/GIT_REPO_ID   # the generator's default module path
OUT="$WORK/gopath/src/$PKG"
echo "--- generating the Go client (openapi-generator go, default options) from $DOC"
openapi-generator-cli generate -i "$DOC" -g go -o "$OUT" >"$WORK/generate.log" 2>&1 \
  || { tail -n 30 "$WORK/generate.log"; echo "FAIL: openapi-generator go" >&2; exit 1; }
echo "go.mod requires: $(sed -n '/^require/,/^)/p' "$OUT/go.mod" | grep -v -e '^require' -e '^)' | xargs echo)"
for module in $(sed -n '/^require/,/^)/p' "$OUT/go.mod" | grep -v -e '^require' -e '^)' | awk '{print $1}'); do
  if ! [ -d "/usr/share/gocode/src/$module" ]; then
    echo "FAIL: the generated client needs $module, which no Debian package provides here; add it to DEB_GO_LIBS" >&2
    exit 1
  fi
done

echo "--- compiling it (go build, GOPATH mode, no network)"
(cd "$OUT" && GO111MODULE=off GOPATH="$WORK/gopath:/usr/share/gocode" GOPROXY=off GOFLAGS= \
  GOCACHE="$WORK/cache" go build ./...)
echo "ok: the Go client compiles"
