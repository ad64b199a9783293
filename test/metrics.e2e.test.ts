// Acceptance for the metrics (issue 16, observability): after a known run against live processes
// (granted mints, policy denials, a replayed OIDC token, rate-limited requests) the counts scraped
// from the coordinator's and every signer's /metrics match the audit log exactly; the exposition
// parses with a real Prometheus text parser (and passes `promtool check metrics` when promtool is
// installed, scripts/install-promtool.sh); signers serve /metrics only over mTLS to allowed client
// certificates; a quorum refusal names the signer and its reason in the problem document, the
// log and the metrics.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerTls } from './helpers/dev-stack.js';
import { ROOT, Stack, freePorts } from './helpers/stack.js';

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  count?: string;
  sum?: string;
  buckets?: Record<string, string>;
}
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

const PROMTOOL = join(ROOT, '.promtool', 'bin', 'promtool');
const secrets: string[] = [];
let stack: Stack;
let metricsPort: number;
let signerMetricsPort: number;
let misconfigured = false;
let asCoordinator: Agent;
let asAdmin: Agent;

beforeAll(async () => {
  const ports = await freePorts(2);
  metricsPort = ports[0]!;
  signerMetricsPort = ports[1]!;
  stack = await Stack.start({
    // One mint per OIDC subject per minute: a second request with the same `sub` is rate limited.
    coordinatorArgs: ['--rate-sub', '1/min,1', '--metrics-port', String(metricsPort)],
    signerArgs: (i) => [
      // signer-1 and signer-2 let the admin certificate read /metrics (and nothing else); signer-3 does not.
      ...(i < 3 ? ['--metrics-client', 'admin'] : []),
      ...(i === 1 ? ['--metrics-port', String(signerMetricsPort)] : []),
      ...(i === 2 && misconfigured ? ['--token-issuer', 'https://not-the-coordinator.example'] : []),
    ],
  });
  asCoordinator = new Agent({ connect: await signerTls(stack.state, 'coordinator') });
  asAdmin = new Agent({ connect: await signerTls(stack.state, 'admin') });
}, 120_000);

afterAll(async () => {
  await asCoordinator?.close();
  await asAdmin?.close();
  await stack?.stop();
});

async function mint(oidc: string, body: unknown = { scopes: ['deploy:canary'] }) {
  const res = await fetch(`${stack.coordinatorUrl}/v1/mint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const doc = (await res.json()) as Record<string, unknown>;
  if (typeof doc.token === 'string') secrets.push(doc.token);
  return { status: res.status, body: doc };
}

async function token(sub: string): Promise<string> {
  const oidc = await stack.idToken({ sub });
  secrets.push(oidc);
  return oidc;
}

async function scrape(url: string, dispatcher?: Agent): Promise<{ status: number; text: string }> {
  const res = await request(url, { dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: res.statusCode, text: await res.body.text() };
}

/**
 * Families by name (with HELP and TYPE), and every histogram's `_count`, `_sum` and `_bucket`
 * series as families of their own: the parser folds labelled histograms into one unlabelled
 * sample, so their HELP/TYPE lines are dropped for a second pass that reads them as plain samples.
 */
function parse(text: string): Map<string, Family> {
  const typed = parsePrometheusTextFormat(text) as Family[];
  const histograms = new Set(typed.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name));
  const families = new Map<string, Family>();
  for (const f of typed) if (histograms.has(f.name)) families.set(f.name, { ...f, metrics: [] });
  const flat = text
    .split('\n')
    .filter((line) => !histograms.has(/^# (?:HELP|TYPE) (\S+)/.exec(line)?.[1] ?? ''))
    .join('\n');
  for (const f of parsePrometheusTextFormat(flat) as Family[]) {
    const known = families.get(f.name);
    if (known) known.metrics.push(...f.metrics);
    else families.set(f.name, { ...f, metrics: [...f.metrics] });
  }
  return families;
}

/** The value of the one sample of `name` (or of its `_count`/`_sum`) whose labels include `labels` (0 when absent). */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}, field: 'value' | 'count' | 'sum' = 'value'): number {
  const family = families.get(field === 'value' ? name : `${name}_${field}`);
  const matching = (family?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(matching.length, `${name}${JSON.stringify(labels)} matches more than one series`).toBeLessThanOrEqual(1);
  return matching.length ? Number(matching[0]!.value) : 0;
}

async function audit() {
  const { records, torn } = await stack.auditRecords();
  expect(torn).toEqual([]);
  return records;
}

async function poll<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const ALLOWED = 4;
const DENIED = 2;

describe('metrics after a known run match the audit log', () => {
  it('runs the known traffic', async () => {
    for (let i = 0; i < ALLOWED; i++) {
      const oidc = await token(`repo:acme/webapp:ref:refs/heads/main:run-${i}`);
      expect((await mint(oidc)).status).toBe(200);
      if (i === 0) {
        // The same OIDC token again: refused by the OIDC check (before the rate limit).
        expect((await mint(oidc)).body.code).toBe('token_replayed');
      }
    }
    for (let i = 0; i < DENIED; i++) {
      const res = await mint(await token(`repo:acme/webapp:ref:refs/heads/main:deny-${i}`), { scopes: ['deploy:prod'] });
      expect(res.body.code).toBe('policy_denied');
    }
    // A fresh token for a subject that already minted this minute.
    const limited = await mint(await token('repo:acme/webapp:ref:refs/heads/main:run-1'));
    expect(limited).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
  });

  it('coordinator: mints by outcome, rate-limit hits, OIDC failures and audit appends equal the audit records', async () => {
    const records = await audit();
    const mints = records.filter((r) => r.event === 'mint');
    const denies = (code: string) => records.filter((r) => r.event === 'deny' && r.code === code).length;
    expect(mints).toHaveLength(ALLOWED);
    expect(denies('policy_denied')).toBe(DENIED);

    const { status, text } = await scrape(`${stack.coordinatorUrl}/metrics`);
    expect(status).toBe(200);
    const m = parse(text);
    expect(value(m, 'ztmint_mint_requests_total', { outcome: 'granted' })).toBe(mints.length);
    for (const code of ['policy_denied', 'token_replayed', 'rate_limited']) {
      expect(value(m, 'ztmint_mint_requests_total', { outcome: code }), code).toBe(denies(code));
      expect(denies(code), code).toBeGreaterThan(0);
    }
    const outcomes = m.get('ztmint_mint_requests_total')!.metrics.reduce((n, s) => n + Number(s.value), 0);
    expect(outcomes).toBe(records.length);
    expect(value(m, 'ztmint_mint_duration_seconds', {}, 'count')).toBe(records.length);
    expect(value(m, 'ztmint_rate_limit_hits_total', { limit: 'sub' })).toBe(denies('rate_limited'));
    expect(value(m, 'ztmint_oidc_verification_failures_total', { reason: 'replayed' })).toBe(denies('token_replayed'));
    // Every audit record went through one append, and the group commits wrote them all.
    expect(value(m, 'ztmint_audit_append_duration_seconds', {}, 'count')).toBe(records.length);
    expect(value(m, 'ztmint_audit_group_commit_records', {}, 'sum')).toBe(records.length);
    expect(value(m, 'ztmint_audit_append_failures_total')).toBe(0);
    // Round 2 at each signer: once per mint it took part in (no refusals in this run).
    for (const signer of stack.signers) {
      const used = mints.filter((r) => (r.signers as string[]).includes(signer.name)).length;
      expect(value(m, 'ztmint_quorum_signer_request_duration_seconds', { signer: signer.name, call: 'round2' }, 'count'), signer.name).toBe(used);
      expect(value(m, 'ztmint_commitment_pool_depth', { signer: signer.name }), signer.name).toBeGreaterThanOrEqual(0);
      expect(m.get('ztmint_commitment_pool_depth')!.metrics.some((s) => s.labels?.signer === signer.name)).toBe(true);
    }
    expect(m.get('ztmint_quorum_signer_refusals_total')?.metrics ?? []).toEqual([]);

    // Identity gauges: the group key's kid and the policy hash, as published elsewhere.
    const kid = (await stack.jwks()).keys[0]!.kid as string;
    expect(m.get('ztmint_group_key_info')!.metrics).toEqual([{ labels: { kid, threshold: '2', signers: '3' }, value: '1' }]);
    const policy = ((await (await fetch(`${stack.coordinatorUrl}/readyz`)).json()) as { policy: string }).policy;
    expect(m.get('ztmint_policy_info')!.metrics).toEqual([{ labels: { hash: policy }, value: '1' }]);
    expect(value(m, 'ztmint_quorum_threshold')).toBe(2);
    expect(value(m, 'ztmint_quorum_signers')).toBe(3);
    // keygen issues certificates for 30 days
    const selfExpiry = value(m, 'ztmint_tls_certificate_expiry_seconds', { certificate: 'self' });
    expect(selfExpiry).toBeGreaterThan(29 * 86_400);
    expect(selfExpiry).toBeLessThanOrEqual(30 * 86_400);

    // Every family has HELP text and the ztmint_ ones follow the naming conventions.
    for (const family of m.values()) {
      if (family.type === 'UNTYPED') continue; // a histogram's _count/_sum/_bucket series (see parse)
      expect(family.help, family.name).not.toBe('');
      if (!family.name.startsWith('ztmint_')) continue;
      if (family.type === 'COUNTER') expect(family.name).toMatch(/_total$/);
      expect(family.name).not.toMatch(/_(ms|milliseconds)$/);
    }
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it("coordinator: quorum and the signers' certificate expiry come from the background probe", async () => {
    const m = await poll(
      'probe results',
      async () => parse((await scrape(`${stack.coordinatorUrl}/metrics`)).text),
      (f) => value(f, 'ztmint_quorum_reachable_signers') === 3 && stack.signers.every((s) => value(f, 'ztmint_tls_certificate_expiry_seconds', { certificate: s.name }) > 0),
    );
    for (const s of stack.signers) {
      expect(value(m, 'ztmint_quorum_signer_up', { signer: s.name })).toBe(1);
      expect(value(m, 'ztmint_tls_certificate_expiry_seconds', { certificate: s.name })).toBeGreaterThan(29 * 86_400);
    }
  });

  it('coordinator: the separate metrics port serves the same registry, and only /metrics', async () => {
    const base = `http://127.0.0.1:${metricsPort}`;
    const { status, text } = await scrape(`${base}/metrics`);
    expect(status).toBe(200);
    const m = parse(text);
    expect(value(m, 'ztmint_mint_requests_total', { outcome: 'granted' })).toBe(ALLOWED);
    expect((await scrape(`${base}/v1/mint`)).status).toBe(404);
    expect((await scrape(`${base}/.well-known/jwks.json`)).status).toBe(404);
  });

  it('signers: shares released match the audit records that name each signer', async () => {
    const mints = (await audit()).filter((r) => r.event === 'mint');
    let released = 0;
    for (const signer of stack.signers) {
      const { status, text } = await scrape(`${signer.url}/metrics`, asCoordinator);
      expect(status, signer.name).toBe(200);
      const m = parse(text);
      const used = mints.filter((r) => (r.signers as string[]).includes(signer.name)).length;
      expect(value(m, 'ztmint_signer_shares_released_total', { signer: signer.name }), signer.name).toBe(used);
      released += used;
      expect(m.get('ztmint_signer_refusals_total')?.metrics ?? [], signer.name).toEqual([]);
      expect(
        m
          .get('ztmint_signer_nonces_outstanding')!
          .metrics.map((s) => s.labels?.lane)
          .sort(),
      ).toEqual(['interactive', 'preprocessed']);
      expect(value(m, 'ztmint_tls_certificate_expiry_seconds', { certificate: 'self' })).toBeGreaterThan(29 * 86_400);
      expect(m.get('ztmint_group_key_info')!.metrics[0]!.labels!.kid).toBe((await stack.jwks()).keys[0]!.kid);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect(released).toBe(mints.length * stack.threshold);
  });

  it('signers: a refusal is counted by code and reason', async () => {
    const signer = stack.signers[0]!;
    const read = async () => parse((await scrape(`${signer.url}/metrics`, asCoordinator)).text);
    const res = await request(`${signer.url}/v1/round2`, {
      method: 'POST',
      dispatcher: asCoordinator,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        session: 'never-issued-session-id',
        message: 'e30.e30',
        commitments: [
          { identifier: '01'.padEnd(64, '0'), hiding: 'AA', binding: 'AA' },
          { identifier: '02'.padEnd(64, '0'), hiding: 'AA', binding: 'AA' },
        ],
        context: { oidc_token: 'x', request: { scopes: ['deploy:canary'] } },
      }),
    });
    expect(res.statusCode).toBe(409);
    await res.body.dump();
    expect(value(await read(), 'ztmint_signer_refusals_total', { code: 'session_unknown', reason: 'session_unknown' })).toBe(1);
  });

  it('signers: /metrics over mTLS only for allowed client certificates; a metrics client reads nothing else', async () => {
    const [one, , three] = stack.signers;
    expect((await scrape(`${one!.url}/metrics`, asAdmin)).status).toBe(200);
    // The admin certificate is a metrics reader at signer-1, not a signing client.
    const round1 = await request(`${one!.url}/v1/round1`, {
      method: 'POST',
      dispatcher: asAdmin,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session: 'metrics-client-cannot-sign' }),
    });
    expect(round1.statusCode).toBe(403);
    expect(((await round1.body.json()) as { code: string }).code).toBe('forbidden');
    expect((await scrape(`${one!.url}/v1/info`, asAdmin)).status).toBe(403);
    // signer-3 names no metrics client: the admin certificate gets nothing there.
    expect((await scrape(`${three!.url}/metrics`, asAdmin)).status).toBe(403);
    // And without a client certificate the TLS handshake itself fails.
    const ca = await readFile(join(stack.state, 'tls', 'ca.pem'), 'utf8');
    const anonymous = new Agent({ connect: { ca } });
    await expect(scrape(`${one!.url}/metrics`, anonymous)).rejects.toThrow();
    await anonymous.close();
    // The refused calls are counted at signer-1 under "forbidden".
    const m = parse((await scrape(`${one!.url}/metrics`, asCoordinator)).text);
    expect(value(m, 'ztmint_signer_refusals_total', { code: 'forbidden', reason: 'client_not_allowed' })).toBe(2);
  });

  it('signers: the plain-HTTP metrics port (--metrics-port) serves the signer registry on loopback', async () => {
    const { status, text } = await scrape(`http://127.0.0.1:${signerMetricsPort}/metrics`);
    expect(status).toBe(200);
    expect(value(parse(text), 'ztmint_signer_shares_released_total', { signer: 'signer-1' })).toBeGreaterThan(0);
    expect((await scrape(`http://127.0.0.1:${signerMetricsPort}/v1/info`)).status).toBe(404);
  });

  it.skipIf(!existsSync(PROMTOOL))('the expositions pass promtool check metrics', async () => {
    const texts = [(await scrape(`${stack.coordinatorUrl}/metrics`)).text, (await scrape(`${stack.signers[0]!.url}/metrics`, asCoordinator)).text];
    for (const text of texts) {
      const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
      // prom-client's own default gauges nodejs_active_*_total draw a lint warning; ours draw none.
      const findings = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !/^nodejs_active_\w+_total /.test(l));
      expect(findings).toEqual([]);
    }
  });
});

describe('a quorum refusal names the signer and its reason', () => {
  it('problem document, coordinator log line and metrics carry signer, code and reason', async () => {
    // signer-3 down, signer-2 signing for another issuer: every quorum includes signer-2's refusal.
    await stack.signers[2]!.kill();
    misconfigured = true;
    await stack.signers[1]!.restart();
    const records = (await audit()).length;
    const res = await poll(
      'a mint refused by signer-2',
      async () => mint(await token('repo:acme/webapp:ref:refs/heads/main:quorum')),
      (r) => (r.body.reasons as string[] | undefined)?.some((x) => x.includes('issuer_not_accepted')) ?? false,
    );
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('quorum_unavailable');
    expect(res.body.detail).toContain('signer-2');
    // signer-1 could still sign with signer-3: retryable, but the misconfigured signer is named.
    expect(res.body.detail).toContain("signer-2 refuse this coordinator's tokens: issuer_mismatch");
    expect(res.body.reasons).toContainEqual(expect.stringMatching(/^signer-2 refused: issuer_not_accepted: token iss ".*" is not this signer's --token-issuer/));

    const log = await poll(
      'the log line',
      () => readFile(join(stack.state, 'logs', 'coordinator.log'), 'utf8'),
      (t) => t.includes('"code":"issuer_not_accepted"'),
    );
    const line = log.split('\n').find((l) => l.includes('"code":"issuer_not_accepted"'))!;
    expect(JSON.parse(line)).toMatchObject({ signer: 'signer-2', code: 'issuer_not_accepted', reason: expect.stringMatching(/is not this signer's --token-issuer/) });
    for (const secret of secrets) expect(log).not.toContain(secret);

    const m = parse((await scrape(`${stack.coordinatorUrl}/metrics`)).text);
    expect(value(m, 'ztmint_quorum_signer_refusals_total', { signer: 'signer-2', code: 'issuer_not_accepted' })).toBeGreaterThanOrEqual(1);
    const all = await audit();
    const quorumDenials = all.filter((r) => r.event === 'deny' && r.code === 'quorum_unavailable');
    expect(quorumDenials.length).toBe(all.length - records);
    expect(value(m, 'ztmint_mint_requests_total', { outcome: 'quorum_unavailable' })).toBe(quorumDenials.length);
    expect(quorumDenials.at(-1)!.reasons).toEqual(res.body.reasons);
    const signer2 = parse((await scrape(`${stack.signers[1]!.url}/metrics`, asCoordinator)).text);
    expect(value(signer2, 'ztmint_signer_refusals_total', { code: 'issuer_not_accepted', reason: 'issuer_mismatch' })).toBeGreaterThanOrEqual(1);
    expect(value(signer2, 'ztmint_signer_shares_released_total', { signer: 'signer-2' })).toBe(0);
    await poll(
      'signer-3 reported down',
      async () => parse((await scrape(`${stack.coordinatorUrl}/metrics`)).text),
      (f) => value(f, 'ztmint_quorum_signer_up', { signer: 'signer-3' }) === 0 && value(f, 'ztmint_quorum_reachable_signers') === 2,
    );
  });
});
