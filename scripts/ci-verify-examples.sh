#!/usr/bin/env bash
# Relying-party examples (examples/verify/: Node jose, Go golang-jwt, Python PyJWT, Java Nimbus)
# against a live dev stack: each must accept a token the stack mints and refuse a tampered one,
# an alg "none" copy, a wrong audience, a missing scope and an issuer whose discovery names
# another. Installs what it needs (Go modules from go.sum, a Python venv and the Java classpath
# under .verify-examples/, Maven deps in ~/.m2, apt-get for a missing JDK/Maven/Go); idempotent;
# every step is bounded in time. Prints one PASS/FAIL line per language; exits non-zero on any FAIL.
#   ZTMINT_SKIP_BUILD=1   do not rebuild build/ first (the caller just did)
#   VERIFY_LANGS="node go" run only these
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EX="$ROOT/examples/verify"
WORK="$ROOT/.verify-examples"
LANGS="${VERIFY_LANGS:-node go python java}"
mkdir -p "$WORK"
log() { echo "[verify-examples] $*" >&2; }

cd "$ROOT" || exit 1
if [ "${ZTMINT_SKIP_BUILD:-0}" != 1 ]; then
  log "building build/"
  timeout 600 npx tsc -p . || { log "build failed"; exit 1; }
fi

# ---- install each language's verifier (bounded, idempotent) ----------------------------------
apt_install() { # Debian packages for a missing tool, when we may (root, apt-get present)
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 1
  log "installing $* with apt-get"
  timeout 300 apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "$@" >/dev/null
}
declare -A READY
prepare() {
  case "$1" in
    node) [ -d "$ROOT/node_modules/jose" ] ;;
    go) command -v go >/dev/null || apt_install golang-go || return 1
      (cd "$EX/go" && timeout 600 go build -mod=readonly -o "$WORK/verify-go" .) ;;
    python)
      { [ -x "$WORK/venv/bin/python" ] || timeout 300 python3 -m venv "$WORK/venv" ||
        { apt_install python3-venv && timeout 300 python3 -m venv "$WORK/venv"; }; } &&
        timeout 600 "$WORK/venv/bin/pip" install -q --disable-pip-version-check -r "$EX/python/requirements.txt" ;;
    java)
      { command -v java >/dev/null && command -v mvn >/dev/null; } || apt_install default-jdk-headless maven || return 1
      timeout 900 mvn -q -B -f "$EX/java/pom.xml" dependency:build-classpath -Dmdep.outputFile="$WORK/java-classpath.txt" >"$WORK/mvn.log" 2>&1 ||
        { cat "$WORK/mvn.log" >&2; return 1; } ;;
  esac
}
run_verifier() { # lang issuer audience token...
  local lang="$1"; shift
  case "$lang" in
    node) timeout 60 node "$EX/node/verify.mjs" "$@" ;;
    go) timeout 60 "$WORK/verify-go" "$@" ;;
    python) timeout 60 "$WORK/venv/bin/python" "$EX/python/verify.py" "$@" ;;
    java) timeout 120 java -cp "$(cat "$WORK/java-classpath.txt")" "$EX/java/src/main/java/Verify.java" "$@" ;;
  esac
}
for lang in $LANGS; do
  log "preparing $lang"
  if prepare "$lang"; then READY[$lang]=1; else log "$lang: could not install its dependencies"; fi
done

# ---- the dev stack ------------------------------------------------------------------------------
STATE="$(mktemp -d "${TMPDIR:-/tmp}/ztmint-verify-XXXXXX")"
READYLINE="$STATE/ready.json"
node "$ROOT/bin/ztmint.js" dev --json --state "$STATE/state" >"$READYLINE" 2>"$STATE/dev.log" &
DEV_PID=$!
cleanup() {
  kill -TERM "$DEV_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$DEV_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$DEV_PID" 2>/dev/null
  rm -rf "$STATE"
}
trap cleanup EXIT
for _ in $(seq 1 600); do # up to 120 s for keygen and the processes to come up
  [ -s "$READYLINE" ] && break
  kill -0 "$DEV_PID" 2>/dev/null || { log "the dev stack exited:"; cat "$STATE/dev.log" >&2; exit 1; }
  sleep 0.2
done
[ -s "$READYLINE" ] || { log "the dev stack did not become ready in 120 s"; cat "$STATE/dev.log" >&2; exit 1; }

# Mint as the runner would: ID token from the issuer's runner endpoint, then POST /v1/mint.
# Prints: issuer, audience, genuine token, tampered token (one payload byte changed), alg-none copy.
TOKENS="$(timeout 60 node --input-type=module - "$READYLINE" <<'JS'
import { readFileSync } from 'node:fs';
const ready = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const id = await fetch(`${ready.id_token_request_url}&audience=${encodeURIComponent(ready.coordinator)}`, {
  headers: { authorization: `Bearer ${ready.id_token_request_token}` },
});
const { value: oidc } = await id.json();
const res = await fetch(`${ready.coordinator}/v1/mint`, {
  method: 'POST',
  headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' },
  body: JSON.stringify({ scopes: ['deploy:canary'] }),
});
const body = await res.json();
if (res.status !== 200) throw new Error(`mint failed: ${res.status} ${body.code}: ${body.detail}`);
const [header, payload, signature] = body.token.split('.');
const bytes = Buffer.from(payload, 'base64url');
const at = bytes.indexOf('deploy:canary') + 'deploy:canar'.length; // still valid JSON afterwards
bytes[at] ^= 0x01; // "canary" -> "canarx"
const tampered = `${header}.${bytes.toString('base64url')}.${signature}`;
const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
console.log([ready.coordinator, body.audience, body.token, tampered, none].join('\n'));
JS
)" || { log "could not mint a token from the dev stack"; cat "$STATE/dev.log" >&2; exit 1; }
mapfile -t T <<<"$TOKENS"
ISSUER="${T[0]}" AUDIENCE="${T[1]}" GENUINE="${T[2]}" TAMPERED="${T[3]}" NONE="${T[4]}"
log "issuer $ISSUER, audience $AUDIENCE"

# ---- run each verifier --------------------------------------------------------------------------
pass=0 fail=0
for lang in $LANGS; do
  problems=()
  if [ -z "${READY[$lang]:-}" ]; then
    problems+=("dependencies not installed")
  else
    out="$(run_verifier "$lang" "$ISSUER" "$AUDIENCE" "$GENUINE" deploy:canary 2>"$WORK/$lang.err")"
    rc=$?
    if [ $rc -ne 0 ]; then problems+=("genuine token refused (exit $rc: $(tr '\n' ' ' <"$WORK/$lang.err"))")
    elif ! grep -q '"deploy:canary"' <<<"$out"; then problems+=("genuine token accepted but the scope is not printed")
    fi
    expect_refused() { # what, args...
      local what="$1"; shift
      run_verifier "$lang" "$@" >/dev/null 2>"$WORK/$lang.err"
      local rc=$?
      log "$lang, $what: exit $rc, $(tr '\n' ' ' <"$WORK/$lang.err" | cut -c1-200)"
      if [ $rc -eq 0 ]; then problems+=("$what accepted")
      elif [ $rc -ne 1 ]; then problems+=("$what: exit $rc, not 1 ($(tr '\n' ' ' <"$WORK/$lang.err"))")
      fi
    }
    expect_refused "tampered token" "$ISSUER" "$AUDIENCE" "$TAMPERED"
    expect_refused "alg none token" "$ISSUER" "$AUDIENCE" "$NONE"
    expect_refused "wrong audience" "$ISSUER" "https://other.example" "$GENUINE"
    expect_refused "missing scope" "$ISSUER" "$AUDIENCE" "$GENUINE" deploy:prod
    # The same server under another name: its discovery names 127.0.0.1, so the keys are not trusted.
    expect_refused "issuer alias" "${ISSUER/127.0.0.1/localhost}" "$AUDIENCE" "$GENUINE"
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    echo "PASS $lang: accepts the genuine token; refuses tampered, alg none, wrong audience, missing scope, issuer alias"
    pass=$((pass + 1))
  else
    echo "FAIL $lang: $(IFS=';'; echo "${problems[*]}")"
    fail=$((fail + 1))
  fi
done
echo "verify-examples: $pass of $((pass + fail)) languages pass"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
