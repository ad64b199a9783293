#!/usr/bin/env bash
# Install promtool (Prometheus' rule checker and rule unit-test runner) and link it at
# $ROOT/.promtool/bin/promtool (gitignored). promtool is not on npm; Debian's `prometheus` package
# ships it. We only unpack that package (dpkg-deb -x, no service installed or started), once per
# machine, cached by version under ${ZTMINT_TOOLS_CACHE:-~/.cache/ztmint/tools}. When apt is not
# available, it is built from the Go module proxy instead (github.com/prometheus/prometheus/cmd/promtool).
# Idempotent; every network step is bounded by a timeout.
set -euo pipefail

PROMTOOL_DEB_VERSION="${PROMTOOL_DEB_VERSION:-2.42.0+ds-5+deb12u1}"
PROMTOOL_GO_VERSION="${PROMTOOL_GO_VERSION:-v0.55.1}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${ZTMINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ztmint/tools}"
BIN_DIR="$ROOT/.promtool/bin"

log() { printf '[install-promtool] %s\n' "$*" >&2; }

link() {
  mkdir -p "$BIN_DIR"
  ln -sfn "$1" "$BIN_DIR/promtool"
  log "promtool at $BIN_DIR/promtool ($("$1" --version 2>&1 | head -n1))"
}

DEB_DIR="$CACHE_ROOT/promtool-deb-${PROMTOOL_DEB_VERSION//[^A-Za-z0-9.+-]/_}"
if [[ -x "$DEB_DIR/usr/bin/promtool" ]]; then
  log "promtool $PROMTOOL_DEB_VERSION cached at $DEB_DIR"
  link "$DEB_DIR/usr/bin/promtool"
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  if ! (cd "$work" && timeout 300 apt-get download "prometheus=$PROMTOOL_DEB_VERSION" >&2); then
    log "apt-get download failed; refreshing the package lists once"
    timeout 300 apt-get update >&2 || true
    (cd "$work" && timeout 300 apt-get download "prometheus=$PROMTOOL_DEB_VERSION" >&2) || true
  fi
  deb="$(ls "$work"/prometheus_*.deb 2>/dev/null | head -n1 || true)"
  if [[ -n "$deb" ]]; then
    mkdir -p "$DEB_DIR.tmp"
    dpkg-deb -x "$deb" "$DEB_DIR.tmp"
    rm -rf "$DEB_DIR"
    mv "$DEB_DIR.tmp" "$DEB_DIR"
    link "$DEB_DIR/usr/bin/promtool"
    exit 0
  fi
  log "no Debian package $PROMTOOL_DEB_VERSION; building from the Go module proxy"
fi

GO_DIR="$CACHE_ROOT/promtool-go-$PROMTOOL_GO_VERSION"
if [[ ! -x "$GO_DIR/promtool" ]]; then
  command -v go >/dev/null 2>&1 || { log "error: neither apt-get nor Go is available to get promtool"; exit 1; }
  mkdir -p "$GO_DIR"
  log "building github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_GO_VERSION (once per machine)..."
  GOBIN="$GO_DIR" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
    timeout 1800 go install "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_GO_VERSION"
fi
link "$GO_DIR/promtool"
