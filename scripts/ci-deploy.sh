#!/usr/bin/env bash
# Validate the packaging under deploy/ with real tools (issue 12): kustomize build of every
# overlay, kubeconform (strict) on everything rendered, against offline schemas, and
# systemd-analyze verify + security on the signer units. Installs what it needs once per
# machine, cached by version under ${ZTMINT_TOOLS_CACHE:-~/.cache/ztmint/tools} (as
# scripts/install-opa.sh); idempotent; every step bounded by a timeout.
set -euo pipefail

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.2}"     # v5.8.3 needs Go >= 1.27
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"
CERT_MANAGER_VERSION="${CERT_MANAGER_VERSION:-v1.21.2}" # CRD schemas from its Go module source
K8S_SCHEMAS_PACKAGE="${K8S_SCHEMAS_PACKAGE:-kubernetes-validate==1.37.0}" # PyPI wheel with Kubernetes' JSON schemas
K8S_VERSIONS="${K8S_VERSIONS:-1.33.0 1.37.0}"       # oldest and newest Kubernetes we check against

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${ZTMINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ztmint/tools}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
log() { printf '[ci-deploy] %s\n' "$*" >&2; }

go_tool() { # name module version -> path of the cached binary
  local name="$1" module="$2" version="$3" dir="$CACHE/$1-$3"
  if [[ ! -x "$dir/$name" ]]; then
    command -v go >/dev/null || { log "error: Go is required to build $name"; exit 1; }
    log "building $module@$version (once per machine)"
    mkdir -p "$dir"
    GOBIN="$dir" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" timeout 900 go install "$module@$version"
  fi
  printf '%s\n' "$dir/$name"
}

KUSTOMIZE="$(go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION")"
KUBECONFORM="$(go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")"

# Offline schemas, prepared once per (package, Kubernetes version, cert-manager version).
schemas_for() { # k8s version -> schema dir
  local v="$1" dir="$CACHE/kubernetes-schemas/${K8S_SCHEMAS_PACKAGE//[=]/-}/v$1-cm-$CERT_MANAGER_VERSION"
  if [[ ! -f "$dir/.complete" ]]; then
    local wheel_dir="$CACHE/kubernetes-schemas/wheel-${K8S_SCHEMAS_PACKAGE//[=]/-}"
    if ! ls "$wheel_dir"/*.whl >/dev/null 2>&1; then
      log "downloading $K8S_SCHEMAS_PACKAGE from PyPI"
      mkdir -p "$wheel_dir"
      timeout 300 python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheel_dir" "$K8S_SCHEMAS_PACKAGE"
    fi
    local crds
    crds="$(timeout 300 go mod download -json "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/deploy/crds"
    local extract="$OUT/wheel"
    rm -rf "$extract" "$dir"
    python3 - "$wheel_dir" "$extract" "$v" <<'PY'
import glob, sys, zipfile
wheel_dir, out, version = sys.argv[1:]
prefix = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
with zipfile.ZipFile(glob.glob(f"{wheel_dir}/*.whl")[0]) as z:
    names = [n for n in z.namelist() if n.startswith(prefix)]
    if not names:
        sys.exit(f"no schemas for Kubernetes v{version} in the wheel")
    for n in names:
        z.extract(n, out)
PY
    node "$ROOT/scripts/kubernetes-schemas.mjs" "$extract/kubernetes_validate/kubernetes-json-schema/v$v-local-strict" "$crds" "$dir" >&2
    touch "$dir/.complete"
  fi
  printf '%s\n' "$dir"
}

status=0

# iproute2 + nftables for test/netns-isolation.e2e.test.ts (which also calls this when needed).
if [[ $(id -u) -eq 0 ]]; then bash "$ROOT/scripts/install-netns-tools.sh"; fi

# 1. Kubernetes: render each overlay (and the base), check every object strictly.
for target in "$ROOT"/deploy/kubernetes/base "$ROOT"/deploy/kubernetes/overlays/*/; do
  name="$(basename "$target")"
  log "kustomize build deploy/kubernetes/${target#"$ROOT"/deploy/kubernetes/}"
  timeout 120 "$KUSTOMIZE" build "$target" > "$OUT/$name.yaml"
  for v in $K8S_VERSIONS; do
    dir="$(schemas_for "$v")"
    log "kubeconform -strict ($name, Kubernetes $v)"
    timeout 120 "$KUBECONFORM" -strict -summary -verbose=false \
      -kubernetes-version "$v" \
      -schema-location "$dir/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      -schema-location "$dir/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
      "$OUT/$name.yaml" || status=1
  done
done

# The check is live: one misspelt field in a built-in kind and in a cert-manager kind must fail it.
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilsystem: true/; s/renewBefore:/renewBefor:/' "$OUT/base.yaml" > "$OUT/typo.yaml"
dir="$(schemas_for "${K8S_VERSIONS%% *}")"
if timeout 120 "$KUBECONFORM" -strict -schema-location "$dir/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$dir/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" "$OUT/typo.yaml" >/dev/null 2>&1; then
  log "error: kubeconform accepted misspelt fields: the schema check is not effective"
  status=1
else
  log "negative control: misspelt fields are refused"
fi

# 2. systemd units: syntax, references, and the exposure score.
if ! command -v systemd-analyze >/dev/null; then
  log "installing systemd (systemd-analyze)"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq systemd >/dev/null
fi
units="$OUT/units"
mkdir -p "$units"
cp "$ROOT"/deploy/systemd/*.service "$units"/
# ExecStart's node is this machine's (verify requires it to exist); templates as instance 1.
for unit in "$units"/*.service; do
  base="$(basename "$unit" .service)"
  target="$units/$base.service"
  [[ "$base" == *@ ]] && { target="$units/${base}1.service"; rm -f "$unit"; }
  sed "s#^ExecStart=/usr/bin/node #ExecStart=$(command -v node) #" "$ROOT/deploy/systemd/$base.service" > "$target"
done
log "systemd-analyze verify"
( cd "$units" && SYSTEMD_LOG_LEVEL=notice timeout 60 systemd-analyze verify --man=no --recursive-errors=no ./*.service ) 2> "$OUT/verify.log" || status=1
if grep -v -e 'Failed to open /etc/systemd' -e '^$' "$OUT/verify.log" | grep -q .; then
  cat "$OUT/verify.log" >&2
  status=1
fi
# Negative control: a misspelt hardening directive must be reported.
mkdir -p "$OUT/typo-unit"
sed 's/^ProtectSystem=strict/ProtectSystm=strict/' "$units/ztmint-coordinator.service" > "$OUT/typo-unit/ztmint-coordinator.service"
if ( cd "$OUT/typo-unit" && SYSTEMD_LOG_LEVEL=notice timeout 60 systemd-analyze verify --man=no ./ztmint-coordinator.service 2>&1 ) | grep -q "Unknown key 'ProtectSystm'"; then
  log "negative control: a misspelt unit directive is reported"
else
  log "error: systemd-analyze verify did not report a misspelt directive"
  status=1
fi
for unit in "$units"/*.service; do
  log "systemd-analyze security --offline=yes $(basename "$unit")"
  timeout 60 systemd-analyze security --offline=yes --no-pager --threshold="${SYSTEMD_EXPOSURE_THRESHOLD:-25}" "$unit" > "$OUT/security.txt" 2>&1 || status=1
  tail -n 1 "$OUT/security.txt" >&2
done

if [[ $status -eq 0 ]]; then log "deploy/ valid"; else log "deploy/ INVALID"; fi
exit "$status"
