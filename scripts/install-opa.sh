#!/usr/bin/env bash
# Install a pinned OPA release into $ROOT/.opa/bin (gitignored).
# OPA is not published on npm or Debian, so we build it from the Go module proxy.
# Idempotent: does nothing when .opa/bin/opa already reports the pinned version.
set -euo pipefail

OPA_VERSION="${OPA_VERSION:-v1.22.4}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.opa/bin"
OPA="$BIN_DIR/opa"

log() { printf '[install-opa] %s\n' "$*" >&2; }

if [[ -x "$OPA" ]]; then
  have="$("$OPA" version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1 || true)"
  if [[ "v${have#v}" == "$OPA_VERSION" ]]; then
    log "OPA $OPA_VERSION already installed at $OPA"
    exit 0
  fi
  log "found OPA '${have:-unknown}' at $OPA, want $OPA_VERSION: reinstalling"
fi

if ! command -v go >/dev/null 2>&1; then
  log "error: Go is required to build OPA (https://go.dev/dl/)"
  exit 1
fi

mkdir -p "$BIN_DIR"
log "building github.com/open-policy-agent/opa@$OPA_VERSION with $(go version | awk '{print $3}') (this takes a few minutes)..."
start=$(date +%s)
# -trimpath and CGO_ENABLED=0 keep the binary independent of the build machine.
GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install "github.com/open-policy-agent/opa@$OPA_VERSION"
log "built in $(( $(date +%s) - start ))s"

have="$("$OPA" version | sed -n 's/^Version: *//p' | head -n1)"
if [[ "v${have#v}" != "$OPA_VERSION" ]]; then
  log "error: installed OPA reports version '$have', expected $OPA_VERSION"
  exit 1
fi
log "installed OPA $OPA_VERSION at $OPA"
