// Hostile input through the real process tree (dev issuer → coordinator → signer processes over
// mTLS), one stack for both parts:
// - Unpaired UTF-16 surrogates in OIDC claims and in the mint request: the coordinator and every
//   signer normalise them to U+FFFD by the same function (policy-engine/well-formed.ts), so the
//   quorum agrees, the policy decides as OPA does, and the token carries what the policy saw.
//   Before, opa-wasm threw and the mint was denied as "policy evaluation failed".
// - Whatever claim overrides the dev issuer signs (test/dev-issuer.test.ts), the coordinator
//   answers with a decision or a 4xx problem document, never a 5xx.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from './helpers/dev-stack.js';

const R = '\ufffd';
let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('mint with ill-formed Unicode in the input', () => {
  it('mints for claims with lone surrogates, and the token carries U+FFFD in their place', async () => {
    const oidc = await stack.idToken({ workflow_ref: '\ud800', actor: 'octo\udc00cat' });
    const res = await stack.mint(oidc);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const token = res.body.token as string;
    const payloadText = Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8');
    expect(payloadText).not.toMatch(/\\ud[89a-f]/i);
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${stack.coordinator}/.well-known/jwks.json`)), {
      algorithms: ['EdDSA'],
      issuer: stack.coordinator,
    });
    expect(payload.workflow_ref).toBe(R);
    expect(payload.actor).toBe(`octo${R}cat`);
  });

  it('denies an audience "x\\ud800\\ud800" with the reason OPA gives (two U+FFFD)', async () => {
    const res = await stack.mint(await stack.idToken(), { scopes: ['deploy:canary'], audience: 'x\ud800\ud800' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'policy_denied', reasons: [`audience "x${R}${R}" is not allowed`] });
    const last = (await stack.auditRecords()).at(-1)!;
    expect(last).toMatchObject({ event: 'deny', code: 'policy_denied', request: { audience: `x${R}${R}` } });
  });

  it('matches grants on the normalised claim', async () => {
    const res = await stack.mint(await stack.idToken({ repository: 'acme/webapp\udc00' }));
    expect(res.status).toBe(403);
    expect((res.body.reasons as string[]).join('\n')).toContain(`"acme/webapp${R}"`);
  });
});

const HOSTILE: Array<Record<string, unknown>> = [
  { exp: 'never' },
  { iat: 'now', nbf: '', exp: '1e9' },
  { exp: { s: 5 } },
  { exp: [1, 2] },
  { exp: true },
  { exp: 1.5 },
  { exp: -1 },
  { exp: 1e300 },
  { exp: null },
  { iat: null },
  { nbf: null },
  { iat: 1e300 },
  { nbf: -1e300 },
  { aud: null },
  { aud: { x: 1 } },
  { aud: [] },
  { aud: 7 },
  { iss: null },
  { iss: ['a'] },
  { iss: 7 },
  { sub: null },
  { sub: 1 },
  { sub: '\udc00' },
  { jti: 5 },
  { jti: '' },
  { repository: 12 },
  { repository: null },
  { repository: 'acme/webapp\ud800' },
  { repository: 'acme/*' },
  { ref: ['x'] },
  { ref: 'refs/heads/**' },
  { run_id: 12345 },
  { environment: { a: [1] } },
  { workflow_ref: '\ud800' },
  { '\ud800': 'x' },
  { event_name: null },
  { repository_owner: 5 },
  { actor: 'x'.repeat(4000) },
  { runner_environment: 1e21 },
];

describe('hostile OIDC claims reach the coordinator', () => {
  it.each(HOSTILE.map((o) => [JSON.stringify(o), o] as const))('%s: a decision or a 4xx problem, never 5xx', async (_name, overrides) => {
    const res = await stack.mint(await stack.idToken(overrides));
    expect(res.status).toBeLessThan(500);
    if (res.status !== 200) {
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(['invalid_token', 'policy_denied', 'payload_too_large']).toContain(res.body.code);
    }
  });
});
