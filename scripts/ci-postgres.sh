#!/usr/bin/env bash
# Install the PostgreSQL server from Debian's package for the state-store tests (they start their
# own server in a temporary directory with initdb + pg_ctl; nothing here starts a service).
# Idempotent and finite: does nothing when initdb is already installed. As root, the tests run the
# server as the unprivileged `postgres` user (initdb refuses root), which the package creates.
set -euo pipefail

log() { printf '[ci-postgres] %s\n' "$*" >&2; }

find_initdb() {
  local f
  for f in /usr/lib/postgresql/*/bin/initdb; do
    [[ -x "$f" ]] && { printf '%s\n' "$f"; return 0; }
  done
  return 1
}

if initdb="$(find_initdb)" && { [[ "$(id -u)" -ne 0 ]] || id -u postgres >/dev/null 2>&1; }; then
  log "PostgreSQL server already installed ($initdb)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "error: apt-get not found; install the PostgreSQL server (initdb, pg_ctl) with your package manager"
  exit 1
fi

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { log "error: not root and no sudo: cannot install postgresql"; exit 1; }
  SUDO="sudo"
fi

log "installing postgresql from Debian"
export DEBIAN_FRONTEND=noninteractive
timeout 600 $SUDO apt-get update -qq
timeout 900 $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
if [[ "$(id -u)" -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi
initdb="$(find_initdb)" || { log "error: postgresql installed but no initdb found under /usr/lib/postgresql"; exit 1; }
log "PostgreSQL server installed ($initdb)"
