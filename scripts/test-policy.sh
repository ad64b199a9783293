#!/usr/bin/env bash
# Run the Rego unit tests and the strict compile check of policies/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPA="$ROOT/.opa/bin/opa"

"$ROOT/scripts/install-opa.sh"

cd "$ROOT"
echo "[test-policy] opa test -v policies/" >&2
"$OPA" test -v policies/
echo "[test-policy] opa check --strict policies/" >&2
"$OPA" check --strict policies/
echo "[test-policy] ok" >&2
