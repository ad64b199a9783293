// Every way an OIDC token can be wrong, against the real coordinator over HTTP: each gets its
// documented code and no token.
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

async function claimsOf(token: string) {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

async function issuerJwk() {
  const jwks = (await (await fetch(`${stack.issuer}/.well-known/jwks`)).json()) as { keys: Array<Record<string, string>> };
  return jwks.keys[0]!;
}

async function expectRefused(token: string, code: string, detail?: RegExp) {
  const res = await stack.mint(token);
  expect(res.status, JSON.stringify(res.body)).toBe(code === 'token_replayed' ? 409 : 401);
  expect(res.body.code).toBe(code);
  expect(res.body.token).toBeUndefined();
  if (detail) expect(res.body.detail).toMatch(detail);
  return res;
}

describe('OIDC token verification', () => {
  it('refuses a token from an untrusted issuer (even signed by the trusted key)', async () => {
    await expectRefused(await stack.idToken({ iss: 'https://token.actions.githubusercontent.com' }), 'invalid_token', /issuer/);
  });

  it('refuses a wrong audience with a hint at oidc-audience', async () => {
    await expectRefused(await stack.idToken({ aud: 'https://other.example' }), 'invalid_token', /audience.*oidc-audience/);
    await expectRefused(await stack.idToken({ aud: [] }), 'invalid_token');
  });

  it('refuses alg none', async () => {
    const claims = await claimsOf(await stack.idToken());
    await expectRefused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'invalid_token');
  });

  it("refuses HS256 signed with the issuer's public key as the HMAC secret (algorithm confusion)", async () => {
    const jwk = await issuerJwk();
    const claims = await claimsOf(await stack.idToken());
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64(claims)}`;
    for (const secret of [JSON.stringify(jwk), jwk.n!]) {
      const sig = createHmac('sha256', secret).update(input).digest('base64url');
      await expectRefused(`${input}.${sig}`, 'invalid_token', /RS256/);
    }
  });

  it('refuses a key the issuer does not publish (unknown kid, or a known kid with another key)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const claims = await claimsOf(await stack.idToken());
    const forged = (kid: string) => new SignJWT({ ...claims, jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    await expectRefused(await forged('not-a-published-kid'), 'invalid_token', /key the issuer does not publish/);
    await expectRefused(await forged((await issuerJwk()).kid!), 'invalid_token', /signature/);
    expect((await exportJWK(publicKey)).kty).toBe('RSA');
  });

  it('refuses expired, not-yet-valid, future-iat and too-old tokens', async () => {
    const t = nowS();
    await expectRefused(await stack.idToken({ iat: t - 900, nbf: t - 900, exp: t - 300 }), 'invalid_token', /expired/);
    await expectRefused(await stack.idToken({ nbf: t + 600, exp: t + 900 }), 'invalid_token', /not yet valid/);
    await expectRefused(await stack.idToken({ iat: t + 600, nbf: t - 10, exp: t + 900 }), 'invalid_token');
    await expectRefused(await stack.idToken({ iat: t - 3600, nbf: t - 3600, exp: t + 300 }), 'invalid_token', /too old/);
  });

  it('accepts small clock skew', async () => {
    const t = nowS();
    expect((await stack.mint(await stack.idToken({ iat: t + 30, nbf: t + 30, exp: t + 330 }))).status).toBe(200);
  });

  it('refuses missing required claims and claims of the wrong type', async () => {
    for (const claim of ['sub', 'jti', 'repository', 'repository_owner', 'ref', 'run_id']) {
      await expectRefused(await stack.idToken({ [claim]: null }), 'invalid_token', new RegExp(claim));
    }
    await expectRefused(await stack.idToken({ run_id: 12345 }), 'invalid_token', /run_id.*string/);
    await expectRefused(await stack.idToken({ repository: ['acme/webapp'] }), 'invalid_token', /repository/);
    await expectRefused(await stack.idToken({ environment: { name: 'production' } }), 'invalid_token', /environment/);
  });

  it('refuses an oversized token (401) and an oversized body (413)', async () => {
    await expectRefused(await stack.idToken({ padding: 'x'.repeat(9000) }), 'invalid_token', /too large/);
    const res = await fetch(`${stack.coordinator}/v1/mint`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.idToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['deploy:canary'], pad: 'x'.repeat(20_000) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('refuses a replayed jti with 409, also when the first use was denied', async () => {
    const token = await stack.idToken();
    expect((await stack.mint(token, { scopes: ['deploy:prod'] })).status).toBe(403);
    await expectRefused(token, 'token_replayed');
    const claims = await claimsOf(await stack.idToken());
    const again = await stack.idToken({ jti: claims.jti });
    expect((await stack.mint(again)).status).toBe(200);
    await expectRefused(await stack.idToken({ jti: claims.jti }), 'token_replayed');
  });

  it('audits every refusal without the token', async () => {
    const records = await stack.auditRecords();
    const denials = records.filter((r) => r.event === 'deny');
    expect(denials.length).toBeGreaterThanOrEqual(20);
    expect(JSON.stringify(records)).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/);
  });
});
