#!/usr/bin/env bash
# Build the real third-party peers the transparency tests talk to (issue 15), once per machine,
# cached by version under ${ZTMINT_TOOLS_CACHE:-~/.cache/ztmint/tools}/<name>-<version>/ like
# scripts/build-tlogcheck.sh: litewitness and witnessctl (filippo.io/torchwood, a C2SP
# tlog-witness; its key lives in an ssh-agent, so openssh-client is installed when missing) and
# versitygw (an S3-compatible gateway with Object Lock). Prints one line per tool, `name path`.
# Idempotent; every build is bounded; safe to run concurrently (go install writes to a temporary
# directory that is renamed into place).
set -euo pipefail

TORCHWOOD_VERSION="${TORCHWOOD_VERSION:-v0.6.1}"   # v0.10.0 needs Go >= 1.27
VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"

CACHE="${ZTMINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ztmint/tools}"
log() { printf '[build-tlog-peers] %s\n' "$*" >&2; }

command -v go >/dev/null 2>&1 || { log "error: Go is required to build the transparency test peers (https://go.dev/dl/)"; exit 1; }

go_tools() { # dir version module/cmd/a [module/cmd/b …]: installs every command into dir
  local dir="$1" version="$2"
  shift 2
  local missing=0 pkg
  for pkg in "$@"; do [[ -x "$dir/${pkg##*/}" ]] || missing=1; done
  [[ "$missing" -eq 0 ]] && return 0
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  for pkg in "$@"; do
    log "building $pkg@$version (once per machine)"
    GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" timeout 900 go install "$pkg@$version"
  done
  mkdir -p "$dir"
  for pkg in "$@"; do mv -f "$tmp/${pkg##*/}" "$dir/"; done
  rm -rf "$tmp"
}

if ! command -v ssh-agent >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
  log "installing openssh-client (litewitness reads its key from an ssh-agent)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq openssh-client) >&2
fi

WITNESS_DIR="$CACHE/litewitness-$TORCHWOOD_VERSION"
S3_DIR="$CACHE/versitygw-$VERSITYGW_VERSION"
go_tools "$WITNESS_DIR" "$TORCHWOOD_VERSION" filippo.io/torchwood/cmd/litewitness filippo.io/torchwood/cmd/witnessctl
go_tools "$S3_DIR" "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw
printf 'litewitness %s\n' "$WITNESS_DIR/litewitness"
printf 'witnessctl %s\n' "$WITNESS_DIR/witnessctl"
printf 'versitygw %s\n' "$S3_DIR/versitygw"
