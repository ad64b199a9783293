#!/usr/bin/env bash
# Bundles the GitHub Action's two entry points with ncc, each into a single ES module:
#
#   action/main.ts → <OUT>/main/index.js   (action.yml runs.main)
#   action/post.ts → <OUT>/post/index.js   (action.yml runs.post)
#
#   scripts/build-action.sh [OUT]      (default: dist)
#
# The output is deterministic: same sources + same node_modules (package-lock.json)
# give the same bytes, wherever the repository is checked out. test/dist.e2e.test.ts
# runs this script into a temporary directory and compares with dist/.
#
# Each output directory holds index.js (ESM), package.json ({"type":"module"}, written by
# ncc so Node loads index.js as ESM whatever surrounds it) and licenses.txt.
#
# --transpile-only: ncc would otherwise type-check the whole root tsconfig project
# (every folder), so an error elsewhere would break this build. Type checking of
# action/ is `tsc --noEmit -p .`. In this mode ncc/ts-loader read action/tsconfig.json,
# which asks for ES modules (see the note there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/dist}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
if [ "$out" = "/" ] || [ "$out" = "$root" ] || [ "$out" = "$root/action" ]; then
  echo "build-action.sh: refusing to write into $out" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$root"
for entry in main post; do
  node node_modules/@vercel/ncc/dist/ncc/cli.js build "action/$entry.ts" \
    --out "$tmp/$entry" --license licenses.txt --transpile-only --no-cache --quiet
done

mkdir -p "$out"
for entry in main post; do
  rm -rf "${out:?}/$entry"
  cp -R "$tmp/$entry" "$out/$entry"
done
