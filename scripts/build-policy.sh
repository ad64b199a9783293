#!/usr/bin/env bash
# Compile policies/mint.rego to WebAssembly (entrypoint ztmint/mint/decision).
#
# Writes policies/wasm/mint.wasm and policies/wasm/SOURCES.sha256 (the SHA-256
# of mint.rego the wasm was built from, in `sha256sum` format, so tests can
# detect a stale wasm without Go or OPA). Both files are committed, so users
# never need Go. The policy data is not compiled in: hosts load
# policies/data.json at run time with setData({"ztmint": data}).
#
# Usage: scripts/build-policy.sh [OUT_DIR]   (default: policies/wasm)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPA="$ROOT/.opa/bin/opa"
OUT_DIR="${1:-$ROOT/policies/wasm}"
ENTRYPOINT="ztmint/mint/decision"

log() { printf '[build-policy] %s\n' "$*" >&2; }

"$ROOT/scripts/install-opa.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$ROOT"
log "checking policies/mint.rego"
"$OPA" check --strict policies/mint.rego

log "opa build -t wasm -e $ENTRYPOINT policies/mint.rego"
"$OPA" build -t wasm -e "$ENTRYPOINT" policies/mint.rego -o "$tmp/bundle.tar.gz"
tar -xzf "$tmp/bundle.tar.gz" -C "$tmp" /policy.wasm 2>/dev/null \
  || tar -xzf "$tmp/bundle.tar.gz" -C "$tmp" policy.wasm

mkdir -p "$OUT_DIR"
install -m 0644 "$tmp/policy.wasm" "$OUT_DIR/mint.wasm"
sha256sum policies/mint.rego > "$OUT_DIR/SOURCES.sha256"

log "wrote $OUT_DIR/mint.wasm ($(wc -c < "$OUT_DIR/mint.wasm") bytes, sha256 $(sha256sum "$OUT_DIR/mint.wasm" | cut -d' ' -f1))"
log "wrote $OUT_DIR/SOURCES.sha256"
