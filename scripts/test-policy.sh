#!/usr/bin/env bash
# Run the Rego unit tests and the strict compile check of policies/. Part of `npm test`, so it
# installs nothing: the pinned OPA comes from `npm run setup` (scripts/install-opa.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPA="$ROOT/.opa/bin/opa"

if [[ ! -x "$OPA" ]]; then
  echo "[test-policy] error: OPA is not installed at .opa/bin/opa: run npm run setup" >&2
  exit 1
fi

cd "$ROOT"
echo "[test-policy] opa test -v policies/" >&2
"$OPA" test -v policies/
echo "[test-policy] opa check --strict policies/" >&2
"$OPA" check --strict policies/
echo "[test-policy] ok" >&2
