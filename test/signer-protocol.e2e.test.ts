// Signers as the coordinator (or an attacker with its certificate) sees them: separate processes,
// mTLS only, single-use nonces (I3), and no share for a message that does not follow from its
// context (I2).
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLocalPki } from '../pki/local-pki.js';
import { thumbprint } from '../protocol/jwk.js';
import { signingInput } from '../protocol/token.js';
import { randomBytes } from 'node:crypto';
import { signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { honestToken } from './helpers/honest-token.js';

let stack: DevStack;
let asCoordinator: Agent;
let kid: string;
let policyHash: string;

beforeAll(async () => {
  stack = await startDevStack();
  asCoordinator = new Agent({ connect: await signerTls(stack.state) });
  kid = thumbprint(JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8')).group_public_key);
  policyHash = ((await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string }).policy;
});
afterAll(async () => {
  await asCoordinator?.close();
  await stack?.stop();
});

async function call(url: string, path: string, body?: unknown, dispatcher: Agent = asCoordinator) {
  const res = await request(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: (await res.body.json()) as Record<string, any> };
}

/** Round 1 at two signers under one session; returns the commitment list. */
async function round1(session: string, signers = stack.signers.slice(0, 2)) {
  const out = [];
  for (const s of signers) {
    const r = await call(s.url, '/v1/round1', { session });
    expect(r.status).toBe(200);
    out.push(r.body.commitments);
  }
  return out;
}

/** An honest message: exactly the token the policy allows for this OIDC token and request. */
async function context(request = { scopes: ['deploy:canary'] }, oidcClaims: Record<string, unknown> = {}) {
  const oidc = await stack.idToken(oidcClaims);
  return { oidc, ...honestToken({ issuer: stack.coordinator, kid, oidc, policyHash, scopes: request.scopes }) };
}

const session = () => randomBytes(16).toString('base64url');

describe('signer processes and mTLS', () => {
  it('runs each signer as its own OS process', () => {
    const pids = new Set(stack.signers.map((s) => s.pid));
    expect(pids.size).toBe(3);
    for (const { pid } of stack.signers) {
      expect(pid).not.toBe(process.pid);
      expect(pid).not.toBe(stack.child.pid);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('signer');
    }
  });

  it('completes no TLS handshake with a client that has no CA-issued certificate', async () => {
    const ca = await readFile(join(stack.state, 'tls', 'ca.pem'), 'utf8');
    const other = await mkdtemp(join(tmpdir(), 'ztmint-other-ca-'));
    await writeLocalPki(other, [{ name: 'coordinator', role: 'both' }]);
    const foreign = { cert: await readFile(join(other, 'coordinator.pem'), 'utf8'), key: await readFile(join(other, 'coordinator-key.pem'), 'utf8') };
    const url = new URL(stack.signers[0]!.url);
    for (const client of [{}, foreign]) {
      const outcome = await new Promise<string>((resolve) => {
        const req = httpsRequest({ host: url.hostname, port: url.port, path: '/v1/info', ca, ...client }, (res) => resolve(`HTTP ${res.statusCode}`));
        req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
        // A handshake that neither completes nor fails is a hang, not a refusal.
        req.setTimeout(30_000, () => {
          resolve('timeout');
          req.destroy();
        });
        req.end();
      });
      expect(outcome).toMatch(/^error /);
    }
  });

  it('answers only the coordinator certificate, not other CA-issued ones', async () => {
    // `admin` is a --log-client of the dev stack's signers: it may read /v1/info and the share
    // log (I11), and nothing else.
    const admin = new Agent({ connect: await signerTls(stack.state, 'admin') });
    const r = await call(stack.signers[0]!.url, '/v1/round1', { session: session() }, admin);
    const tlog = await call(stack.signers[0]!.url, '/v1/tlog', undefined, admin);
    await admin.close();
    expect(tlog.status).toBe(403);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('forbidden');
    const info = await call(stack.signers[0]!.url, '/v1/info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ threshold: 2, signers: 3 });
    expect(info.body.identifier).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('signer protocol', () => {
  it('signs once per session: a reused or unknown session is 409 session_unknown (I3)', async () => {
    const s = session();
    const commitments = await round1(s);
    const ctx = await context();
    const body = { session: s, message: ctx.message, commitments, context: { oidc_token: ctx.oidc, request: { scopes: ['deploy:canary'] } } };
    const first = await call(stack.signers[0]!.url, '/v1/round2', body);
    expect(first.status).toBe(200);
    expect(first.body.share).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await call(stack.signers[0]!.url, '/v1/round2', body);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('session_unknown');
    const unknown = await call(stack.signers[0]!.url, '/v1/round2', { ...body, session: session() });
    expect(unknown.status).toBe(409);
    // Round 1 cannot re-open a used session either.
    expect((await call(stack.signers[0]!.url, '/v1/round1', { session: s })).status).toBe(409);
  });

  it('refuses a message that does not follow from the context, and burns the nonce (I2)', async () => {
    const cases: Array<[string, (c: Awaited<ReturnType<typeof context>>) => string]> = [
      ['scope escalation', (c) => signingInput(c.header, { ...c.claims, scope: 'deploy:canary deploy:prod' })],
      ['other scope', (c) => signingInput(c.header, { ...c.claims, scope: 'deploy:prod' })],
      ['longer ttl', (c) => signingInput(c.header, { ...c.claims, exp: c.claims.exp + 60 })],
      ['other repository', (c) => signingInput(c.header, { ...c.claims, repository: 'acme/other' })],
      ['other subject', (c) => signingInput(c.header, { ...c.claims, sub: 'repo:acme/other:ref:refs/heads/main' })],
      ['other audience', (c) => signingInput(c.header, { ...c.claims, aud: 'https://evil.example' })],
      ['extra claim', (c) => signingInput(c.header, { ...c.claims, admin: true } as never)],
      ['stale iat', (c) => signingInput(c.header, { ...c.claims, iat: c.claims.iat - 3600, nbf: c.claims.iat - 3600, exp: c.claims.exp - 3600 })],
      ['short jti', (c) => signingInput(c.header, { ...c.claims, jti: 'abc' })],
      ['three segments', (c) => `${c.message}.x`],
      ['empty objects', () => 'e30.e30'],
    ];
    // A token naming another issuer, policy revision or group key is refused under the signer's
    // code for that configuration difference (409; the coordinator names the mismatch), not as context_mismatch.
    const configuration: Array<[string, (c: Awaited<ReturnType<typeof context>>) => string, string]> = [
      ['other issuer', (c) => signingInput(c.header, { ...c.claims, iss: 'https://evil.example' }), 'issuer_not_accepted'],
      ['policy hash mismatch', (c) => signingInput(c.header, { ...c.claims, pol: 'f'.repeat(64) }), 'policy_not_accepted'],
      ['other kid', (c) => signingInput({ ...c.header, kid: 'other' }, c.claims), 'group_key_not_held'],
    ];
    for (const [name, forge, code] of [...cases.map(([n, f]) => [n, f, 'context_mismatch'] as const), ...configuration]) {
      const s = session();
      const commitments = await round1(s);
      const ctx = await context();
      const body = { session: s, message: forge(ctx), commitments, context: { oidc_token: ctx.oidc, request: { scopes: ['deploy:canary'] } } };
      const res = await call(stack.signers[0]!.url, '/v1/round2', body);
      expect(res.status, name).toBe(code === 'context_mismatch' ? 403 : 409);
      expect(res.type).toMatch(/problem\+json/);
      expect(res.body.code, name).toBe(code);
      const retry = await call(stack.signers[0]!.url, '/v1/round2', { ...body, message: ctx.message });
      expect(retry.status, name).toBe(409);
    }
  });

  it('refuses a token naming a policy revision it does not accept with policy_not_accepted, before spending the OIDC token', async () => {
    const info = await call(stack.signers[0]!.url, '/v1/info');
    expect(info.body.policy_revisions).toEqual([policyHash]);
    const ctx = await context();
    const message = signingInput(ctx.header, { ...ctx.claims, pol: 'not-rolled-out' });
    // More refusals than the OIDC token has uses (3): none of them spends one.
    for (let i = 0; i < 4; i++) {
      const s = session();
      const res = await call(stack.signers[0]!.url, '/v1/round2', { session: s, message, commitments: await round1(s), context: { oidc_token: ctx.oidc, request: { scopes: ['deploy:canary'] } } });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('policy_not_accepted');
      expect(res.body.detail).toMatch(/token pol "not-rolled-out" is not a policy revision this signer accepts \([0-9a-f]{64}\): roll the revision out/);
    }
    // The OIDC token was not spent on the refusal: the honest message still signs (fresh session).
    const s2 = session();
    const again = await call(stack.signers[0]!.url, '/v1/round2', {
      session: s2,
      message: ctx.message,
      commitments: await round1(s2),
      context: { oidc_token: ctx.oidc, request: { scopes: ['deploy:canary'] } },
    });
    expect(again.status).toBe(200);
  });

  it('no quorum of shares can be obtained for a forged token: every signer refuses it', async () => {
    const forgeries: Array<[string, () => Promise<{ message: string; oidc: string; request: { scopes: string[] } }>]> = [
      [
        'scope the context does not ask for',
        async () => {
          const c = await context();
          return { message: signingInput(c.header, { ...c.claims, scope: 'deploy:prod' }), oidc: c.oidc, request: { scopes: ['deploy:canary'] } };
        },
      ],
      [
        'request the policy denies, with a matching message',
        async () => {
          const c = await context({ scopes: ['deploy:prod'] });
          return { message: c.message, oidc: c.oidc, request: { scopes: ['deploy:prod'] } };
        },
      ],
      [
        'OIDC token for a repository the policy does not know',
        async () => {
          const c = await context({ scopes: ['deploy:canary'] }, { repository: 'evil/repo' });
          return { message: c.message, oidc: c.oidc, request: { scopes: ['deploy:canary'] } };
        },
      ],
      [
        'OIDC token with a forged signature',
        async () => {
          const c = await context();
          const [h, p] = c.oidc.split('.');
          return { message: c.message, oidc: `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}`, request: { scopes: ['deploy:canary'] } };
        },
      ],
    ];
    for (const [name, forge] of forgeries) {
      const forged = await forge();
      const s = session();
      const commitments = await round1(s, stack.signers);
      const shares = [];
      for (const signer of stack.signers) {
        const res = await call(signer.url, '/v1/round2', { session: s, message: forged.message, commitments, context: { oidc_token: forged.oidc, request: forged.request } });
        expect(res.status, `${name} at ${signer.url}`).toBe(403);
        expect(res.body.code).toBe('context_mismatch');
        if (res.body.share) shares.push(res.body.share);
      }
      expect(shares, name).toHaveLength(0);
    }
  });

  it('never signs two tokens with the same jti', async () => {
    const ctx = await context();
    const req = { scopes: ['deploy:canary'] };
    for (const expected of [200, 403]) {
      const s = session();
      const commitments = await round1(s);
      const res = await call(stack.signers[0]!.url, '/v1/round2', { session: s, message: ctx.message, commitments, context: { oidc_token: ctx.oidc, request: req } });
      expect(res.status).toBe(expected);
    }
  });

  it('rejects a substituted commitment and malformed bodies with problem+json', async () => {
    const s = session();
    const commitments = await round1(s);
    const ctx = await context();
    const swapped = [{ ...commitments[0], hiding: commitments[1].hiding }, commitments[1]];
    const res = await call(stack.signers[0]!.url, '/v1/round2', { session: s, message: ctx.message, commitments: swapped, context: { oidc_token: ctx.oidc, request: { scopes: ['deploy:canary'] } } });
    expect(res.status).toBe(403);
    for (const bad of [{}, { session: 'short' }, { session: session(), extra: 1 }]) {
      const r = await call(stack.signers[1]!.url, '/v1/round1', bad);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('invalid_request');
    }
  });
});
