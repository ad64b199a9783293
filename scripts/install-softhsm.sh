#!/usr/bin/env bash
# Install SoftHSM2 (a software PKCS#11 token) and OpenSC's pkcs11-tool for the key-provider tests.
# Debian/Ubuntu only (apt-get). Idempotent: does nothing when both tools are already installed.
# The tests create their own token in a temporary SOFTHSM2_CONF directory; nothing here touches
# the system-wide token store.
set -euo pipefail

log() { printf '[install-softhsm] %s\n' "$*" >&2; }

# Where Debian puts the module; printed at the end so a user can point ZTMINT_PKCS11_MODULE at it.
find_module() {
  local m
  for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    [[ -e "$m" ]] && { printf '%s\n' "$m"; return 0; }
  done
  return 1
}

if command -v softhsm2-util >/dev/null 2>&1 && command -v pkcs11-tool >/dev/null 2>&1 && module="$(find_module)"; then
  log "softhsm2-util, pkcs11-tool and $module already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "error: apt-get not found; install SoftHSM2 and OpenSC (pkcs11-tool) with your package manager"
  exit 1
fi

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else log "error: need root or sudo for apt-get"; exit 1; fi
fi

log "installing softhsm2 and opensc with apt-get..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends softhsm2 opensc >/dev/null

module="$(find_module)" || { log "error: libsofthsm2.so not found after installing softhsm2"; exit 1; }
log "installed $(softhsm2-util --version 2>/dev/null | head -n1 || echo softhsm2) with module $module"
