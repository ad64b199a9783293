#!/usr/bin/env bash
# CI step for the transparency log foundation (issue 15): build Go's independent checker
# (test/go/tlogcheck, cached per machine) and run the transparency tests, including the e2e test in
# which golang.org/x/mod/sumdb/tlog and /note verify our proofs, checkpoints and tiles. Finite and
# idempotent; needs Go and the npm dependencies installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build-tlogcheck.sh >/dev/null
npx vitest run test/transparency-merkle.test.ts test/transparency-note.test.ts \
  test/transparency-signing-message.test.ts test/transparency-tiles.test.ts test/transparency-witness.test.ts test/transparency-verify-copy.test.ts test/transparency-tile-hash-reader.test.ts test/transparency-go.e2e.test.ts
