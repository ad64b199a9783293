#!/usr/bin/env bash
# Install a pinned OPA release and link it at $ROOT/.opa/bin/opa (gitignored).
# OPA is not published on npm or Debian, so we build it from the Go module proxy, once per machine:
# the binary is cached by version under ${ZTMINT_TOOLS_CACHE:-~/.cache/ztmint/tools}, so a fresh clone
# (CI, a new worktree) only links it. Idempotent.
set -euo pipefail

OPA_VERSION="${OPA_VERSION:-v1.22.4}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${ZTMINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ztmint/tools}/opa-$OPA_VERSION"
CACHED="$CACHE_DIR/opa"
BIN_DIR="$ROOT/.opa/bin"
OPA="$BIN_DIR/opa"

log() { printf '[install-opa] %s\n' "$*" >&2; }
version_of() { "$1" version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1 || true; }

if [[ -x "$CACHED" && "v$(version_of "$CACHED" | sed 's/^v//')" == "$OPA_VERSION" ]]; then
  log "OPA $OPA_VERSION cached at $CACHED"
else
  if ! command -v go >/dev/null 2>&1; then
    log "error: Go is required to build OPA (https://go.dev/dl/); install it, then run npm run setup again"
    exit 1
  fi
  mkdir -p "$CACHE_DIR"
  log "building github.com/open-policy-agent/opa@$OPA_VERSION with $(go version | awk '{print $3}') (once per machine; a few minutes)..."
  start=$(date +%s)
  # -trimpath and CGO_ENABLED=0 keep the binary independent of the build machine.
  GOBIN="$CACHE_DIR" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
    go install "github.com/open-policy-agent/opa@$OPA_VERSION"
  log "built in $(( $(date +%s) - start ))s"
  have="$(version_of "$CACHED")"
  if [[ "v${have#v}" != "$OPA_VERSION" ]]; then
    log "error: built OPA reports version '$have', expected $OPA_VERSION"
    exit 1
  fi
fi

mkdir -p "$BIN_DIR"
ln -sfn "$CACHED" "$OPA"
log "OPA $OPA_VERSION at $OPA"
