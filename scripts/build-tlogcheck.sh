#!/usr/bin/env bash
# Build test/go/tlogcheck (Go's own RFC 6962 / signed-note checks of our transparency log) once per
# machine and print the binary's path. The binary is cached under
# ${ZTMINT_TOOLS_CACHE:-~/.cache/ztmint/tools}/tlogcheck-<hash of its sources>, so a fresh clone or
# worktree only rebuilds when the program or its pinned modules (go.sum) change. Idempotent; safe
# to run concurrently (the build lands under a temporary name and is renamed into place).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test/go/tlogcheck"
log() { printf '[build-tlogcheck] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "error: Go is required to build the tlogcheck test tool (https://go.dev/dl/)"
  exit 1
fi
HASH="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -c1-16)"
CACHE_DIR="${ZTMINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ztmint/tools}/tlogcheck-$HASH"
BIN="$CACHE_DIR/tlogcheck"

if [[ ! -x "$BIN" ]]; then
  mkdir -p "$CACHE_DIR"
  log "building tlogcheck ($HASH) with $(go version | awk '{print $3}')..."
  tmp="$BIN.tmp.$$"
  # -mod=readonly: the committed go.sum pins golang.org/x/mod; a mismatch fails instead of updating.
  (cd "$SRC" && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$tmp" .)
  mv -f "$tmp" "$BIN"
fi
printf '%s\n' "$BIN"
