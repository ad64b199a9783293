#!/usr/bin/env bash
# Lint the workflow files (.github/workflows/*.yml and the caller examples in examples/) with a
# pinned actionlint: syntax, expressions, job and step references, shellcheck over `run:`
# scripts, and the action's own metadata (actionlint reads action.yml for `uses: ./`).
#
# actionlint is a Go program: it is built from the Go module proxy once per machine and cached
# by version under ${ZTMINT_TOOLS_CACHE:-~/.cache/ztmint/tools} (as scripts/install-opa.sh does
# for OPA), so later runs only use it. Idempotent; needs Go the first time.
#
# Usage: scripts/ci-actionlint.sh
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${ZTMINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ztmint/tools}/actionlint-$ACTIONLINT_VERSION"
ACTIONLINT="$CACHE_DIR/actionlint"

log() { printf '[ci-actionlint] %s\n' "$*" >&2; }

if [[ ! -x "$ACTIONLINT" || "$("$ACTIONLINT" -version 2>/dev/null | head -n1)" != "${ACTIONLINT_VERSION#v}" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    log "error: Go is required to build actionlint (https://go.dev/dl/)"
    exit 1
  fi
  mkdir -p "$CACHE_DIR"
  log "building github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION (once per machine)..."
  GOBIN="$CACHE_DIR" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
    timeout 900 go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi

cd "$ROOT"
# actionlint runs shellcheck over every `run:` script when shellcheck is installed (GitHub's
# runners have it); install it so that a local run checks what GitHub checks.
if ! command -v shellcheck >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
  log "installing shellcheck with apt-get..."
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends shellcheck >/dev/null \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
fi
command -v shellcheck >/dev/null 2>&1 || log "warning: shellcheck not found; run: scripts are not shellchecked"
"$ACTIONLINT" .github/workflows/*.yml examples/*.yml
log "ok: $(ls .github/workflows/*.yml examples/*.yml | wc -l) workflow files"
