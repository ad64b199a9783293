#!/usr/bin/env bash
# Fuzzes the coordinator's HTTP API from its own OpenAPI document (GET /openapi.json) with
# Schemathesis, against the real dev stack (`ztmint dev --json`: OIDC issuer, 3 signer processes,
# coordinator). Checks: all of Schemathesis' (no 5xx, status codes, content types, headers and
# bodies as documented, negative data rejected, valid data accepted, auth not ignored).
# /v1/mint gets a fresh single-use OIDC token from the dev issuer for every request (an auth
# hook), /v1/revoke a freshly minted token, so both are exercised well past 401.
#
# Three passes, each on a fresh stack:
#   main          every operation, positive and negative data, generous rate limits
#   rate-limited  /v1/mint with a rate limit of 2 per minute: 429 + Retry-After as documented
#   degraded      /v1/mint and /readyz with 2 of the 3 signers killed: 503s as documented
# Exits non-zero on any Schemathesis finding, on an "unhandled error" in the services' logs, or
# when the audit log does not verify afterwards (reports and logs are then kept and named).
#
#   bash scripts/schemathesis.sh                    # about a minute
#   ST_MAX_EXAMPLES=50 bash scripts/schemathesis.sh
#   ST_SEED=123 bash scripts/schemathesis.sh        # replay a run (each run prints its seed)
#   ST_REPORT_DIR=out bash scripts/schemathesis.sh  # keep the JUnit reports and VCR cassettes
#
# Schemathesis is pinned and lives in .venv-schemathesis/ (created or repaired idempotently); its
# crash store for `st replay <id>` is .schemathesis/ (both gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
VENV=.venv-schemathesis
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-500}"
SEED="${ST_SEED:-$RANDOM$RANDOM}"

# --- Schemathesis in a venv of its own.
if [ "$("$VENV/bin/st" --version 2>/dev/null || true)" != "st, version $ST_VERSION" ]; then
  echo "schemathesis: installing $ST_VERSION into $VENV"
  if ! python3 -m venv --clear "$VENV" 2>/dev/null; then
    # Debian's python3 ships venv separately.
    apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv --clear "$VENV"
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

[ -f build/cli/main.js ] || npm run build

work="$(mktemp -d "${TMPDIR:-/tmp}/ztmint-schemathesis-XXXXXX")"
stack_pid=""
keep_work=""
status=0
stop_stack() {
  if [ -n "$stack_pid" ] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
  fi
  stack_pid=""
}
cleanup() {
  stop_stack
  if [ -z "$keep_work" ]; then rm -rf "$work"; else echo "schemathesis: logs and reports kept in $work"; fi
}
trap cleanup EXIT

# start_stack DIR [dev options…]: starts `ztmint dev --json` on DIR/state; sets COORDINATOR, ISSUER.
start_stack() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  ZTMINT_LOG_LEVEL=warn node bin/ztmint.js dev --json --state "$dir/state" "$@" >"$dir/ready.json" 2>"$dir/stack.log" &
  stack_pid=$!
  for _ in $(seq 1 600); do
    [ -s "$dir/ready.json" ] && break
    if ! kill -0 "$stack_pid" 2>/dev/null; then
      cat "$dir/stack.log" >&2
      echo "schemathesis: the dev stack exited before it was ready" >&2
      exit 1
    fi
    sleep 0.1
  done
  [ -s "$dir/ready.json" ] || { echo "schemathesis: the dev stack was not ready in 60 s" >&2; exit 1; }
  COORDINATOR="$(ready_field "$dir" coordinator)"
  ISSUER="$(ready_field "$dir" issuer)"
  INTROSPECTION_TOKEN="$(head -n1 "$(ready_field "$dir" introspection_token_file)")"
}
ready_field() {
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").split("\n")[0]);
    const v = process.argv[2].split(".").reduce((o, k) => o?.[k], r); console.log(v);' "$1/ready.json" "$2"
}

# --- Auth hooks: a fresh OIDC token per /v1/mint request (they are single use), a freshly
# minted token per /v1/revoke request.
cat >"$work/hooks.py" <<'PY'
import json
import os
import random
import urllib.request

import jsonschema_rs
import schemathesis

ISSUER = os.environ["ZTMINT_ISSUER"]
COORDINATOR = os.environ["ZTMINT_COORDINATOR"]
INTROSPECTION_TOKEN = os.environ["ZTMINT_INTROSPECTION_TOKEN"]


def _post_json(url, body, headers=None):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def oidc_token():
    return _post_json(f"{ISSUER}/token", {"aud": COORDINATOR})["value"]


def bearer(case, token):
    if case.headers is None:
        case.headers = {}
    case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.auth(refresh_interval=None).apply_to(path="/v1/mint")
class FreshOidcToken:
    def get(self, case, ctx):
        return oidc_token()

    def set(self, case, data, ctx):
        bearer(case, data)


# Most generated scopes are random strings the policy denies: rewrite some valid mint requests
# into ones the demo policy (policies/data.json) grants, so that 200 responses (and 503 in the
# degraded pass) get checked against the schema too. Only bodies that are valid before and after
# are touched, so positive cases stay positive and negative ones stay negative.
with urllib.request.urlopen(f"{COORDINATOR}/openapi.json", timeout=10) as response:
    _MINT_REQUEST = json.load(response)["components"]["schemas"]["MintRequest"]
_is_mint_request = jsonschema_rs.validator_for(_MINT_REQUEST).is_valid
_GRANTED = [["deploy:canary"], ["read:logs"], ["read:logs", "deploy:canary"]]


@schemathesis.hook
def map_body(context, body):
    if context.operation is None or context.operation.path != "/v1/mint":
        return body
    if not isinstance(body, dict) or not _is_mint_request(body):
        return body
    rnd = random.Random(json.dumps(body, sort_keys=True))  # reproducible for a given body
    body = dict(body)
    if rnd.random() < 0.6:
        body["scopes"] = list(rnd.choice(_GRANTED))
    if "audience" in body and rnd.random() < 0.6:
        body["audience"] = "https://deploy.example"
    if "ttl" in body and rnd.random() < 0.6:
        body["ttl"] = rnd.choice([60, 900, 1800])
    assert _is_mint_request(body)
    return body


@schemathesis.auth(refresh_interval=None).apply_to(path="/v1/revoke")
class FreshMintedToken:
    def get(self, case, ctx):
        minted = _post_json(f"{COORDINATOR}/v1/mint", {"scopes": ["deploy:canary"]}, {"authorization": f"Bearer {oidc_token()}"})
        return minted["token"]

    def set(self, case, data, ctx):
        bearer(case, data)


# Introspection requires client authentication (RFC 7662 §2.1): the dev stack's bearer token.
@schemathesis.auth(refresh_interval=None).apply_to(path="/v1/introspect")
class IntrospectionClient:
    def get(self, case, ctx):
        return INTROSPECTION_TOKEN

    def set(self, case, data, ctx):
        bearer(case, data)
PY

# --- What counts as a finding, beyond Schemathesis' defaults:
#  * 413 payload_too_large is a documented answer of /v1/mint, /v1/revoke and /v1/introspect: the
#    body limit (16 KiB) counts encoded bytes, which JSON Schema cannot express; a schema-valid
#    body can exceed it (a 16384-character introspection token plus "token=", or a 2048-character
#    non-ASCII audience sent as \uXXXX escapes). So 413 is accepted for valid and invalid data.
#  * unsupported_method is off: the coordinator answers an undeclared method on a known path
#    (TRACE /v1/mint) with 404 not_found, as it does for unknown paths, not 405 + Allow. That is a
#    deliberate simplification (Fastify's default), not a server error or a schema violation.
#  * In the degraded pass, 503 (documented: quorum_unavailable, readyz not ready) is expected.
write_config() { # write_config FILE [extra expected status…]
  local file="$1"
  shift
  local extra=""
  for s in "$@"; do extra="$extra, \"$s\""; done
  cat >"$file" <<TOML
[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx"$extra]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"$extra]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "413", "429"$extra]
TOML
}

# run_pass NAME CONFIG [st options…]: one Schemathesis run against the current stack.
run_pass() {
  local name="$1" config="$2"
  shift 2
  local dir="$work/$name" rc=0
  echo "::group::schemathesis $name (coordinator $COORDINATOR, seed $SEED)"
  ZTMINT_ISSUER="$ISSUER" ZTMINT_COORDINATOR="$COORDINATOR" ZTMINT_INTROSPECTION_TOKEN="$INTROSPECTION_TOKEN" SCHEMATHESIS_HOOKS="$work/hooks.py" \
    HYPOTHESIS_STORAGE_DIRECTORY="$work/hypothesis" \
    "$VENV/bin/st" --config-file "$config" run "$COORDINATOR/openapi.json" \
    --checks all \
    --exclude-checks unsupported_method \
    --phases examples,coverage,fuzzing \
    --seed "$SEED" \
    --workers 2 \
    --request-timeout 10 \
    --suppress-health-check too_slow \
    --generation-database none \
    --output-truncate true \
    --report junit,vcr --report-dir "$dir/report" \
    "$@" >"$dir/schemathesis.log" 2>&1 || rc=$?
  # Generated payloads can be megabytes long: show the report with long lines cut.
  cut -c1-400 "$dir/schemathesis.log"
  # Things Schemathesis cannot see: unhandled errors in the services' logs, and the audit log.
  if grep -q '"unhandled error"' "$dir/stack.log"; then
    echo "schemathesis $name: the coordinator or a signer logged an unhandled error:" >&2
    grep '"unhandled error"' "$dir/stack.log" | head -5 >&2
    rc=1
  fi
  if ! node bin/ztmint.js audit verify --state "$dir/state"; then
    echo "schemathesis $name: the audit log does not verify after the run" >&2
    rc=1
  fi
  # What the mint/revoke traffic got to (shows that /v1/mint was exercised past 401).
  node -e 'const counts = {};
    for (const line of require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)) {
      const r = JSON.parse(line); const key = r.event + (r.code ? ` ${r.code}` : "");
      counts[key] = (counts[key] ?? 0) + 1;
    }
    console.log(`schemathesis ${process.argv[2]}: audit records by outcome ${JSON.stringify(counts)}`);' \
    "$dir/state/audit/audit.jsonl" "$name" || true
  echo "::endgroup::"
  if [ "$rc" -ne 0 ]; then
    echo "schemathesis $name: FAILED (replay with ST_SEED=$SEED; report and cassette in $dir/report)" >&2
    status=1
  fi
}

# 1. main: every operation, generous rate limits, all signers up.
write_config "$work/main.toml"
start_stack "$work/main" --rate-repository 1000000/min,1000000 --rate-sub 1000000/min,1000000
run_pass main "$work/main.toml" --mode all --max-examples "$MAX_EXAMPLES"
stop_stack

# 2. rate-limited: most mints answer 429 rate_limited, which must carry Retry-After.
start_stack "$work/rate-limited" --rate-repository 2/min,2 --rate-sub 2/min,2
run_pass rate-limited "$work/main.toml" --mode positive --include-path /v1/mint --max-examples 40
stop_stack

# 3. degraded: 2 of 3 signers killed (by pid, from the ready line): mints and readiness answer 503.
write_config "$work/degraded.toml" 503
start_stack "$work/degraded" --rate-repository 1000000/min,1000000 --rate-sub 1000000/min,1000000
for i in 0 1; do kill -KILL "$(ready_field "$work/degraded" "signers.$i.pid")"; done
run_pass degraded "$work/degraded.toml" --mode all --include-path /v1/mint --include-path /readyz --max-examples 40
stop_stack

if [ "$status" -ne 0 ]; then
  keep_work=1
  echo "schemathesis: FAILED (seed $SEED)" >&2
elif [ -n "${ST_REPORT_DIR:-}" ]; then
  for pass in main rate-limited degraded; do
    mkdir -p "$ST_REPORT_DIR/$pass" && cp -r "$work/$pass/report/." "$work/$pass/schemathesis.log" "$ST_REPORT_DIR/$pass/"
  done
fi
exit "$status"
