#!/usr/bin/env bash
# Bundles the GitHub Action (action/main.ts) with ncc into a single ES module.
#
#   scripts/build-action.sh [OUT_DIR]      (default: dist/main)
#
# The output is deterministic: same sources + same node_modules (package-lock.json)
# give the same bytes, wherever the repository is checked out. test/dist.test.ts
# runs this script into a temporary directory and compares with dist/main/.
#
# Output: index.js (ESM, the action's `runs.main`), package.json ({"type":"module"},
# written by ncc so Node loads index.js as ESM whatever surrounds it), licenses.txt.
#
# --transpile-only: ncc would otherwise type-check the whole root tsconfig project
# (every folder), so an error elsewhere would break this build. Type checking of
# action/ is `tsc --noEmit -p .`. In this mode ncc/ts-loader read action/tsconfig.json,
# which asks for ES modules (see the note there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/dist/main}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
if [ "$out" = "/" ] || [ "$out" = "$root" ] || [ "$out" = "$root/dist" ]; then
  echo "build-action.sh: refusing to replace $out" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$root"
node node_modules/@vercel/ncc/dist/ncc/cli.js build action/main.ts \
  --out "$tmp/main" --license licenses.txt --transpile-only --no-cache --quiet

rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -R "$tmp/main" "$out"
