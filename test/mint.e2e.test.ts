// The whole path over real processes: dev issuer → coordinator → 2-of-3 signers over mTLS → JWT.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;
const secrets: string[] = [];

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('mint over the dev stack', () => {
  it('issues a token that jose and node:crypto verify against the coordinator JWKS', async () => {
    const oidc = await stack.idToken();
    const { status, body } = await stack.mint(oidc);
    expect(status).toBe(200);
    const token = body.token as string;
    secrets.push(oidc, token);

    const jwks = (await (await fetch(stack.jwks)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    const jwk = jwks.keys[0]!;
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    // RFC 7638 thumbprint as kid
    const thumb = createHash('sha256')
      .update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x: jwk.x }))
      .digest('base64url');
    expect(jwk.kid).toBe(thumb);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: thumb });

    const discovery = (await (await fetch(`${stack.coordinator}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(discovery.jwks_uri).toBe(stack.jwks);
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      issuer: discovery.issuer,
      audience: 'https://deploy.example',
      algorithms: ['EdDSA'],
    });

    const [h, p, s] = token.split('.');
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x! }, format: 'jwk' });
    expect(verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s!, 'base64url'))).toBe(true);

    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload).toMatchObject({
      iss: stack.coordinator,
      sub: 'repo:acme/webapp:ref:refs/heads/main',
      aud: 'https://deploy.example',
      scope: 'deploy:canary',
      repository: 'acme/webapp',
      repository_owner: 'acme',
      ref: 'refs/heads/main',
      event_name: 'push',
      actor: 'octocat',
      run_attempt: '1',
    });
    for (const claim of ['sha', 'workflow_ref', 'job_workflow_ref', 'run_id']) expect(typeof payload[claim]).toBe('string');
    expect(payload.pol).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(payload.jti!, 'base64url').length).toBeGreaterThanOrEqual(16);

    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, jti: payload.jti, scopes: ['deploy:canary'], audience: 'https://deploy.example' });
    expect(new Date(body.expires_at as string).getTime()).toBe(payload.exp! * 1000);

    // I1/I4: the audit record is there, and holds the token's SHA-256, never the token.
    const records = await stack.auditRecords();
    const record = records.find((r) => r.jti === payload.jti)!;
    expect(record).toMatchObject({ event: 'mint', index: (body.audit as { index: number }).index });
    expect(record.token_sha256).toBe(createHash('sha256').update(token).digest('hex'));
    expect(record.signers).toHaveLength(2);
  });

  it('grants several scopes and honours a shorter ttl', async () => {
    const { status, body } = await stack.mint(await stack.idToken(), { scopes: ['read:logs', 'deploy:canary'], ttl: 300 });
    expect(status).toBe(200);
    secrets.push(body.token as string);
    expect(body.expires_in).toBe(300);
    expect(body.scopes).toEqual(['deploy:canary', 'read:logs']);
  });

  it('refuses with 403 policy_denied and reasons, audits it, and issues nothing', async () => {
    const oidc = await stack.idToken();
    secrets.push(oidc);
    const res = await stack.mint(oidc, { scopes: ['deploy:prod'] });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'urn:ztmint:error:policy_denied', code: 'policy_denied', status: 403 });
    expect((res.body.reasons as string[]).length).toBeGreaterThan(0);
    expect(res.body.token).toBeUndefined();
    const claims = JSON.parse(Buffer.from(oidc.split('.')[1]!, 'base64url').toString());
    const denial = (await stack.auditRecords()).find((r) => (r.oidc as { jti?: string } | undefined)?.jti === claims.jti);
    expect(denial).toMatchObject({ event: 'deny', code: 'policy_denied', reasons: res.body.reasons });
  });

  it('refuses a bad OIDC token with 401 invalid_token, audits it, and issues nothing', async () => {
    const before = (await stack.auditRecords()).length;
    const good = await stack.idToken();
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(256, 1).toString('base64url')}`;
    const res = await stack.mint(forged);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'invalid_token', status: 401 });
    expect(res.body.token).toBeUndefined();
    const records = await stack.auditRecords();
    expect(records.length).toBe(before + 1);
    expect(records.at(-1)).toMatchObject({ event: 'deny', code: 'invalid_token' });

    const wrongAudience = await stack.mint(await stack.idToken({ aud: 'https://elsewhere.example' }));
    expect(wrongAudience.status).toBe(401);
    const missing = await fetch(`${stack.coordinator}/v1/mint`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"scopes":["deploy:canary"]}' });
    expect(missing.status).toBe(401);
  });

  it('accepts an OIDC token once (409 token_replayed afterwards)', async () => {
    const oidc = await stack.idToken();
    expect((await stack.mint(oidc)).status).toBe(200);
    const again = await stack.mint(oidc);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'token_replayed' });
  });

  it('answers bad input with problem+json, no stack trace, and changes no state', async () => {
    const before = (await stack.auditRecords()).length;
    const oidc = await stack.idToken();
    for (const body of [{}, { scopes: 'deploy:canary' }, { scopes: [] }, { scopes: ['deploy:canary'], ttl: '900' }, { scopes: ['a b'] }, { scopes: ['deploy:canary'], extra: 1 }]) {
      const res = await stack.mint(oidc, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', type: 'urn:ztmint:error:invalid_request' });
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js:\d+/);
    }
    const notJson = await fetch(`${stack.coordinator}/v1/mint`, { method: 'POST', headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' }, body: '{"scopes":' });
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await stack.auditRecords()).length).toBe(before);
    // The OIDC token was not burned by the bad requests.
    expect((await stack.mint(oidc)).status).toBe(200);
  });

  it('is ready, and never prints a token or an OIDC token in any log', async () => {
    const ready = await fetch(`${stack.coordinator}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, signers_reachable: 3, threshold: 2 });
    const metrics = await (await fetch(`${stack.coordinator}/metrics`)).text();
    expect(metrics).toMatch(/ztmint_mint_requests_total\{outcome="granted"\}/);
    const output = stack.output();
    expect(output).toMatch(/"level"/); // the services did log (level info)
    const audit = JSON.stringify(await stack.auditRecords());
    for (const secret of secrets) {
      const signature = secret.split('.')[2]!;
      expect(output).not.toContain(signature);
      expect(audit).not.toContain(signature);
      expect(metrics).not.toContain(signature);
    }
  });
});

describe('published OpenAPI document', () => {
  it('is served at /openapi.json with this coordinator as its server, and matches the copy in the repo', async () => {
    const { readFile } = await import('node:fs/promises');
    const served = (await (await fetch(`${stack.coordinator}/openapi.json`)).json()) as Record<string, unknown>;
    const inRepo = JSON.parse(await readFile(new URL('../coordinator/openapi.json', import.meta.url), 'utf8'));
    expect(served.servers).toEqual([{ url: stack.coordinator }]);
    const { servers: _servers, ...rest } = served;
    expect(rest).toEqual(inRepo);
    expect(Object.keys(inRepo.paths)).toEqual(expect.arrayContaining(['/v1/mint', '/v1/revoke', '/v1/introspect', '/.well-known/jwks.json']));
    const { PROBLEM_STATUS } = await import('../protocol/problem.js');
    expect([...inRepo.components.schemas.Problem.properties.code.enum].sort()).toEqual(Object.keys(PROBLEM_STATUS).sort());
  });
});
