// The chaos checks must bite: fed synthetic runs with a lost record, a bad signature, a mint
// without quorum and a fault after which nothing resumed, analyse() must report each of them.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { exportJWK, SignJWT, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Lifetime } from '../helpers/stack.js';
import { analyse, type AnalysisInput, type FaultEvent } from './analysis.js';
import type { Attempt } from './load.js';

const ISSUER = 'http://127.0.0.1:1';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

async function jwks(): Promise<JSONWebKeySet> {
  return { keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'EdDSA', use: 'sig' }] };
}

async function token(jti: string): Promise<string> {
  return new SignJWT({ jti }).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: 'k' }).setIssuer(ISSUER).setIssuedAt().setExpirationTime('15m').sign(privateKey);
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** Three signers up all along, one mint at T0+100 signed by signer-1 and signer-2, resumed fault. */
async function baseline(): Promise<AnalysisInput> {
  const tok = await token('j1');
  const attempts: Attempt[] = [
    { worker: 0, start: T0 + 90, end: T0 + 110, status: 200, token: tok, jti: 'j1', auditIndex: 0 },
    { worker: 0, start: T0 + 200, end: T0 + 210, status: 503, code: 'quorum_unavailable', contentType: 'application/problem+json' },
    { worker: 0, start: T0 + 400, end: T0 + 410, status: 200, token: await token('j2'), jti: 'j2', auditIndex: 1 },
  ];
  const records = [
    { index: 0, event: 'mint', time: new Date(T0 + 100).toISOString(), jti: 'j1', token_sha256: sha(tok), signers: ['signer-1', 'signer-2'] },
    { index: 1, event: 'mint', time: new Date(T0 + 405).toISOString(), jti: 'j2', token_sha256: sha(attempts[2]!.token!), signers: ['signer-1', 'signer-3'] },
  ];
  const up = (): Lifetime[] => [{ spawnedAt: T0 - 1000, readyAt: T0 - 900 }];
  const faults: FaultEvent[] = [{ name: 'f', how: 'test', start: T0 + 150, windowEnd: T0 + 300, restored: T0 + 300, belowQuorum: true }];
  return {
    attempts,
    records,
    tornLines: [],
    auditVerify: { status: 0, output: 'ok' },
    jwksBefore: await jwks(),
    jwksAfter: await jwks(),
    issuer: ISSUER,
    threshold: 2,
    signerLifetimes: new Map([
      ['signer-1', up()],
      ['signer-2', up()],
      ['signer-3', up()],
    ]),
    faults,
    resumeWithinMs: 1_000,
    harnessErrors: [],
    methods: {},
  };
}

describe('chaos analysis', () => {
  it('passes a clean run', async () => {
    const r = await analyse(await baseline());
    expect(r.failures).toEqual([]);
    expect(r.tokensVerified).toBe(2);
    expect(r.tokensWithAuditRecord).toBe(2);
  });

  it('reports a token without its audit record, and one whose record holds another hash', async () => {
    const input = await baseline();
    input.records = [{ ...input.records[0]!, token_sha256: sha('other') }];
    const r = await analyse(input);
    expect(r.lost).toBe(2);
    expect(r.failures.filter((f) => f.startsWith('[tokens]'))).toHaveLength(2);
  });

  it('reports a token that does not verify against the JWKS', async () => {
    const input = await baseline();
    const [h, p] = input.attempts[0]!.token!.split('.');
    input.attempts[0]!.token = `${h}.${p}.${'A'.repeat(86)}`;
    const r = await analyse(input);
    expect(r.unverifiable).toBe(1);
  });

  it('reports a torn or unverifiable audit log', async () => {
    const input = await baseline();
    input.tornLines = ['{"event":"mint"\u0000\u0000'];
    input.auditVerify = { status: 1, output: 'torn' };
    const r = await analyse(input);
    expect(r.failures.filter((f) => f.startsWith('[audit]')).length).toBeGreaterThanOrEqual(2);
  });

  it('reports a mint while fewer than t signers could have been up, and a signer that was down', async () => {
    const input = await baseline();
    // signer-2 and signer-3 died before the first request started and came back only later.
    const down = (): Lifetime[] => [
      { spawnedAt: T0 - 1000, readyAt: T0 - 900, killedAt: T0 + 10, exitedAt: T0 + 20 },
      { spawnedAt: T0 + 350, readyAt: T0 + 360 },
    ];
    input.signerLifetimes.set('signer-2', down());
    input.signerLifetimes.set('signer-3', down());
    const r = await analyse(input);
    expect(r.quorumViolations.some((v) => v.includes('could have been up'))).toBe(true);
    expect(r.quorumViolations.some((v) => v.includes('lists signer-2'))).toBe(true);
  });

  it('does not blame a mint whose request overlapped the last moment of the quorum', async () => {
    const input = await baseline();
    // signer-2 exits at T0+95: after the request started (T0+90), before the audit time (T0+100).
    input.signerLifetimes.set('signer-2', [{ spawnedAt: T0 - 1000, readyAt: T0 - 900, killedAt: T0 + 94, exitedAt: T0 + 95 }]);
    input.signerLifetimes.set('signer-3', [
      { spawnedAt: T0 - 1000, readyAt: T0 - 900, killedAt: T0 + 94, exitedAt: T0 + 95 },
      { spawnedAt: T0 + 350, readyAt: T0 + 360 },
    ]);
    const r = await analyse(input);
    expect(r.quorumViolations).toEqual([]);
    expect(r.boundaryMints).toBe(1);
  });

  it('reports a success inside a below-quorum window, a fault that did not bite, and no resumption', async () => {
    const input = await baseline();
    input.attempts[1] = { ...input.attempts[1]!, status: 200, code: undefined, token: input.attempts[0]!.token, jti: 'j1', auditIndex: 0 };
    input.faults.push({ name: 'g', how: 'test', start: T0 + 500, restored: T0 + 600 });
    const r = await analyse(input);
    expect(r.failures.some((f) => f.startsWith('[quorum]') && f.includes('inside the fault window'))).toBe(true);
    expect(r.failures.some((f) => f.includes('did the fault bite'))).toBe(true);
    expect(r.failures.some((f) => f.startsWith('[faults] g: no successful mint'))).toBe(true);
  });

  it('reports an undocumented response', async () => {
    const input = await baseline();
    input.attempts.push({ worker: 1, start: T0 + 420, end: T0 + 430, status: 503, code: '(no code)', contentType: 'application/json', rawBody: '{}' });
    input.attempts.push({ worker: 1, start: T0 + 440, end: T0 + 450, status: 500, code: 'internal_error', contentType: 'application/problem+json' });
    const r = await analyse(input);
    expect(r.failures.filter((f) => f.startsWith('[responses]'))).toHaveLength(2);
  });
});
