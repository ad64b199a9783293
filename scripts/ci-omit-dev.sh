#!/usr/bin/env bash
# The production install path works on a clean copy of the repository: `npm ci --omit=dev`
# installs only `dependencies`, `prepare` compiles the TypeScript with the `typescript` those
# dependencies include, and the installed CLI runs (`ztmint --help`, then the README's
# `ztmint dev --once`: dealer keygen, three signer processes, the coordinator and a demo mint).
#
# Works on the committed tree (HEAD, via `git archive`), in a temporary directory with nothing
# beside it, so it also proves the repository needs nothing outside itself. Idempotent, bounded
# by timeouts, removes its directory on exit.
#
# Usage: scripts/ci-omit-dev.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[ci-omit-dev] %s\n' "$*" >&2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
copy="$tmp/ztmint"
mkdir -p "$copy"

log "copying HEAD ($(git -C "$ROOT" rev-parse --short HEAD)) to $copy"
git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$copy"
cd "$copy"

log "npm ci --omit=dev"
timeout 900 npm ci --omit=dev --no-audit --no-fund

# Only production dependencies are installed: a devDependency here means the check proves nothing.
for dev in $(node -e 'console.log(Object.keys(require("./package.json").devDependencies ?? {}).join(" "))'); do
  if [ -e "node_modules/$dev" ]; then
    log "devDependency $dev was installed by npm ci --omit=dev"
    exit 1
  fi
done

log "npx ztmint --help"
help="$(timeout 120 npx --no-install ztmint --help)"
printf '%s\n' "$help"
grep -q '^Usage: ztmint' <<<"$help" || { log "ztmint --help printed no usage line"; exit 1; }

log "npx ztmint dev --once"
timeout 300 npx --no-install ztmint dev --once --state "$tmp/state"
log "ok: npm ci --omit=dev && npx ztmint --help && npx ztmint dev --once"
