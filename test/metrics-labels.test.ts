// Metric labels stay closed sets: every refusal text a signer writes maps to a named reason (so a
// new message cannot silently land in "other"), OIDC failures map to fixed reasons, and the
// separate metrics listener serves /metrics only. No process is started (in-process loopback).
import { readFileSync } from 'node:fs';
import { Registry, Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { oidcFailureReason } from '../coordinator/metrics.js';
import { safeReason } from '../coordinator/signer-client.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import Fastify from 'fastify';
import { refusalReason } from '../signers/metrics.js';
import { createDkgMetrics, installDkgMetrics } from '../signers/dkg-metrics.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** The literal detail texts a file passes to `new ContextMismatch(...)` or `sendProblem(reply, code, ...)`. */
function refusalTexts(file: string): string[] {
  const src = readFileSync(`${ROOT}/${file}`, 'utf8');
  const texts: string[] = [];
  // new ContextMismatch(code, 'detail text', …): the second argument is what the coordinator sees.
  for (const m of src.matchAll(/new ContextMismatch\(\s*'[a-z_]+',\s*(['`])((?:\\.|(?!\1).)*)\1/g)) texts.push(m[2]!);
  for (const m of src.matchAll(/sendProblem\([^,]+,\s*'[a-z_]+',\s*(['`])((?:\\.|(?!\1).)*)\1/g)) texts.push(m[2]!);
  return texts.map((t) => t.replace(/\\'/g, "'"));
}

describe('signer refusal reasons', () => {
  it('name every refusal text the signer writes', () => {
    const texts = [...refusalTexts('signers/mint-check.ts'), ...refusalTexts('signers/server.ts')];
    expect(texts.length).toBeGreaterThanOrEqual(12);
    for (const text of texts) expect(refusalReason(text), text).not.toBe('other');
    expect(refusalReason("the context's OIDC token does not verify here: OIDC token has expired")).toBe('oidc_not_verified');
    expect(refusalReason('claims differ from what the context allows: iss')).toBe('claims_differ');
    expect(refusalReason('something new')).toBe('other');
    expect(refusalReason(undefined)).toBe('other');
  });
});

describe('OIDC failure reasons', () => {
  it("map the verifier's messages to fixed names", () => {
    const cases: Array<[string, string, string]> = [
      ['invalid_token', 'OIDC token is too large', 'too_large'],
      ['invalid_token', 'OIDC token is not a canonical compact JWS', 'malformed'],
      ['invalid_token', 'OIDC token is from an issuer this coordinator does not trust', 'untrusted_issuer'],
      ['issuer_unavailable', "cannot fetch the OIDC issuer's keys; try again shortly", 'issuer_unavailable'],
      ['invalid_token', 'OIDC token has expired', 'expired'],
      ['invalid_token', 'OIDC token is too old (iat beyond the maximum age)', 'expired'],
      ['invalid_token', 'OIDC token was issued in the future (iat)', 'not_yet_valid'],
      ['invalid_token', "OIDC token audience does not match this coordinator (set the action's oidc-audience)", 'audience'],
      ['invalid_token', 'OIDC token signature is invalid', 'signature'],
      ['invalid_token', 'OIDC token is signed by a key the issuer does not publish', 'signature'],
      ['invalid_token', 'OIDC token must be signed with RS256', 'algorithm'],
      ['invalid_token', 'OIDC token claim "repository" must be a non-empty string', 'claims'],
      ['token_replayed', 'this OIDC token was already used: request a new one for each mint', 'replayed'],
      ['invalid_token', 'OIDC token could not be verified', 'other'],
    ];
    for (const [code, message, reason] of cases) expect(oidcFailureReason(code, message), message).toBe(reason);
  });
});

describe('safe reason text from a signer', () => {
  it('is one printable line of at most 200 characters', () => {
    expect(safeReason('line one\nline two\u0000\u001b[31m')).toBe('line one line two [31m');
    expect(safeReason(42)).toBe('');
    expect(safeReason('x'.repeat(500))).toHaveLength(200);
  });
});

describe('separate metrics listener', () => {
  it('serves GET /metrics on loopback and nothing else', async () => {
    const registry = new Registry();
    new Counter({ name: 'ztmint_test_total', help: 'test', registers: [registry] }).inc(3);
    const server = await startMetricsServer(registry, { port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('ztmint_test_total 3');
      const base = server.url.replace(/\/metrics$/, '');
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/v1/mint`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('DKG step metrics', () => {
  it('count each answered step by outcome and serve /metrics', async () => {
    const app = Fastify();
    installDkgMetrics(app, createDkgMetrics('signer-2'));
    app.post('/v1/dkg/round1', async () => ({ ok: true }));
    app.post('/v1/dkg/round2', async (_request, reply) => reply.code(409).send({ code: 'dkg_conflict', detail: 'x' }));
    app.get('/v1/dkg/status', async () => ({ state: 'idle' }));
    try {
      await app.inject({ method: 'POST', url: '/v1/dkg/round1', payload: {} });
      await app.inject({ method: 'POST', url: '/v1/dkg/round1', payload: {} });
      await app.inject({ method: 'POST', url: '/v1/dkg/round2', payload: {} });
      await app.inject({ method: 'GET', url: '/v1/dkg/status' });
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toContain('ztmint_signer_dkg_steps_total{step="round1",outcome="ok",signer="signer-2"} 2');
      expect(text).toContain('ztmint_signer_dkg_steps_total{step="round2",outcome="dkg_conflict",signer="signer-2"} 1');
      expect(text).not.toContain('step="status"');
    } finally {
      await app.close();
    }
  });
});
