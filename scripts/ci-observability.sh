#!/usr/bin/env bash
# CI step for deploy/: the Prometheus alert rules pass `promtool check rules` and their unit tests
# (`promtool test rules`); every PromQL expression of the Grafana dashboard parses (checked by
# promtool as recording rules); every ztmint_ metric the rules and the dashboard use is documented
# in docs/observability.md. Installs promtool if needed (scripts/install-promtool.sh). Idempotent,
# bounded by timeouts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[ci-observability] %s\n' "$*" >&2; }

timeout 1900 bash scripts/install-promtool.sh
PROMTOOL="$ROOT/.promtool/bin/promtool"

log "promtool check rules"
timeout 120 "$PROMTOOL" check rules deploy/prometheus/ztmint-alerts.yml
log "promtool test rules"
timeout 300 "$PROMTOOL" test rules deploy/prometheus/ztmint-alerts.test.yml

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "dashboard expressions"
node --input-type=module - deploy/grafana/ztmint-dashboard.json "$work/dashboard-rules.yml" <<'JS'
import { readFileSync, writeFileSync } from 'node:fs';
const [file, out] = process.argv.slice(2);
const dashboard = JSON.parse(readFileSync(file, 'utf8'));
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
if (exprs.length === 0) throw new Error('dashboard has no queries');
// Grafana's interval variable becomes a fixed range so promtool can parse the query.
const rules = exprs.map(({ expr }, i) => `      - record: ztmint:dashboard_query_${i}\n        expr: ${JSON.stringify(expr.replaceAll('$__rate_interval', '5m'))}`);
writeFileSync(out, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
console.error(`${exprs.length} queries from ${dashboard.panels.length} panels`);
JS
timeout 120 "$PROMTOOL" check rules "$work/dashboard-rules.yml"

log "metrics used in deploy/ are documented"
missing=0
for name in $(grep -ohE 'ztmint_[a-z0-9_]+' deploy/prometheus/ztmint-alerts.yml deploy/grafana/ztmint-dashboard.json | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  if ! grep -q "\`$name\`" docs/observability.md; then
    log "not in docs/observability.md: $name"
    missing=1
  fi
done
[[ $missing -eq 0 ]] || exit 1
log "ok"
