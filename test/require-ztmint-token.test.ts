// The relying-party middleware (middleware/require-ztmint-token.ts) with an in-process Fastify
// app and an in-process Express app, against an in-process issuer that serves discovery and a
// JWKS on loopback, with Ed25519 tokens signed here: the checks of docs/verifying.md, and the
// RFC 6750 answers (401 + WWW-Authenticate, 403 insufficient_scope, 400, 503).
import express from 'express';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { createHmac, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireZtmintToken, ztmintFastifyHook, type ZtmintClaims } from '../middleware/require-ztmint-token.js';

const AUDIENCE = 'https://deploy.example';
let issuerApp: FastifyInstance;
let issuer = '';
let discoveryIssuer = ''; // what discovery claims (a test makes it lie)
let privateKey: CryptoKey;
let otherKey: CryptoKey;
let jwk: JWK;
const KID = 'group-key';
let api: FastifyInstance;
let expressServer: Server;
let expressUrl = '';
const revoked = new Set<string>();
let introspectionCalls: Array<{ auth: string | undefined; token: string }> = [];
let introspectionDown = false;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

function claims(over: Record<string, unknown> = {}): JWTPayload {
  const t = nowS();
  const base: Record<string, unknown> = {
    iss: issuer,
    sub: 'repo:acme/webapp:ref:refs/heads/main',
    aud: AUDIENCE,
    scope: 'read:logs deploy:canary',
    iat: t,
    nbf: t,
    exp: t + 900,
    jti: randomUUID(),
    pol: 'sha256:0000',
    repository: 'acme/webapp',
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base as JWTPayload;
}

async function sign(over: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key = privateKey): Promise<string> {
  return new SignJWT(claims(over)).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: KID, ...header } as never).sign(key);
}

beforeAll(async () => {
  const signing = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  privateKey = signing.privateKey;
  jwk = { ...(await exportJWK(signing.publicKey)), kid: KID, alg: 'EdDSA', use: 'sig' };
  otherKey = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey;
  const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true }); // a decoy in the JWKS
  const decoy = { ...(await exportJWK(publicKey)), kid: 'decoy', alg: 'EdDSA', use: 'sig' };

  issuerApp = Fastify();
  issuerApp.get('/.well-known/openid-configuration', async () => ({
    issuer: discoveryIssuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}/v1/introspect`,
  }));
  await issuerApp.register(formbody);
  // RFC 7662 as the coordinator answers it: inactive for a revoked jti.
  issuerApp.post<{ Body: { token: string } }>('/v1/introspect', async (request, reply) => {
    if (introspectionDown) return reply.code(503).send({});
    introspectionCalls.push({ auth: request.headers.authorization, token: request.body.token });
    const jti = JSON.parse(Buffer.from(request.body.token.split('.')[1]!, 'base64url').toString('utf8')).jti as string;
    return revoked.has(jti) ? { active: false } : { active: true, jti };
  });
  issuerApp.get('/.well-known/jwks.json', async () => ({ keys: [decoy, jwk] }));
  await issuerApp.listen({ host: '127.0.0.1', port: 0 });
  issuer = `http://127.0.0.1:${(issuerApp.server.address() as AddressInfo).port}`;
  discoveryIssuer = issuer;

  api = Fastify();
  const hook = ztmintFastifyHook({ issuer, audience: AUDIENCE, requireScopes: ['deploy:canary'] });
  api.get('/deploy', { onRequest: hook }, async (request) => ({ sub: request.ztmint?.sub, scopes: request.ztmint?.scopes }));
  await api.ready();

  const app = express();
  app.use(requireZtmintToken({ issuer, audience: AUDIENCE, requireScopes: ['deploy:canary'] }));
  app.get('/deploy', (req, res) => {
    const c = (req as unknown as { ztmint: ZtmintClaims }).ztmint;
    res.json({ sub: c.sub, scopes: c.scopes });
  });
  expressServer = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => expressServer.once('listening', () => resolve()));
  expressUrl = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await api?.close();
  await issuerApp?.close();
  await new Promise<void>((resolve) => (expressServer ? expressServer.close(() => resolve()) : resolve()));
});

interface Answer {
  status: number;
  challenge: string;
  type: string;
  body: Record<string, unknown>;
}

const viaFastify = async (authorization?: string): Promise<Answer> => {
  const res = await api.inject({ method: 'GET', url: '/deploy', headers: authorization === undefined ? {} : { authorization } });
  return { status: res.statusCode, challenge: String(res.headers['www-authenticate'] ?? ''), type: String(res.headers['content-type'] ?? ''), body: res.json() };
};
const viaExpress = async (authorization?: string): Promise<Answer> => {
  const res = await fetch(`${expressUrl}/deploy`, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
};

describe.each([
  ['Fastify', viaFastify],
  ['Express', viaExpress],
])('requireZtmintToken with %s', (_name, call) => {
  it('lets a genuine token through and hands the claims to the route', async () => {
    const res = await call(`Bearer ${await sign()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'repo:acme/webapp:ref:refs/heads/main', scopes: ['read:logs', 'deploy:canary'] });
  });

  it('accepts times within the leeway', async () => {
    const t = nowS();
    expect((await call(`Bearer ${await sign({ nbf: t + 20, iat: t + 20 })}`)).status).toBe(200);
    expect((await call(`Bearer ${await sign({ exp: t - 10 })}`)).status).toBe(200);
  });

  it('answers 401 without an error code when no token is sent (RFC 6750 §3.1)', async () => {
    for (const header of [undefined, 'Basic dXNlcjpwYXNz']) {
      const res = await call(header);
      expect(res.status).toBe(401);
      expect(res.challenge).toBe('Bearer realm="ztmint"');
      expect(res.type).toMatch(/^application\/problem\+json/);
    }
  });

  it('answers 400 invalid_request to a malformed Authorization header', async () => {
    const res = await call('Bearer two tokens');
    expect(res.status).toBe(400);
    expect(res.challenge).toMatch(/^Bearer realm="ztmint", error="invalid_request"/);
  });

  const REFUSED: Array<[string, () => Promise<string>]> = [
    [
      'a tampered payload',
      async () => {
        const [h, p, s] = (await sign()).split('.');
        const payload = Buffer.from(p!, 'base64url');
        payload.writeUInt8(payload[payload.indexOf('canary')]! ^ 1, payload.indexOf('canary'));
        return `${h}.${payload.toString('base64url')}.${s}`;
      },
    ],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT', kid: KID })}.${b64(claims())}.`],
    [
      'HS256 keyed with the public key',
      async () => {
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: KID })}.${b64(claims())}`;
        return `${input}.${createHmac('sha256', Buffer.from(jwk.x!, 'base64url')).update(input).digest('base64url')}`;
      },
    ],
    [
      'RS256 in the header',
      async () => {
        const [, p, s] = (await sign()).split('.');
        return `${b64({ alg: 'RS256', typ: 'JWT', kid: KID })}.${p}.${s}`;
      },
    ],
    ['a key not in the JWKS', async () => sign({}, {}, otherKey)],
    ['a kid of another key', async () => sign({}, { kid: 'decoy' })],
    ['no kid', async () => sign({}, { kid: undefined })],
    ['an unknown kid', async () => sign({}, { kid: 'nope' })],
    ['typ other than JWT', async () => sign({}, { typ: 'at+jwt' })],
    ['another issuer', async () => sign({ iss: 'https://evil.example' })],
    ['another audience', async () => sign({ aud: 'https://other.example' })],
    ['expired beyond the leeway', async () => sign({ exp: nowS() - 120 })],
    ['not yet valid beyond the leeway', async () => sign({ nbf: nowS() + 120 })],
    ['no pol', async () => sign({ pol: undefined })],
    ['no jti', async () => sign({ jti: undefined })],
    ['no exp', async () => sign({ exp: undefined })],
    ['a scope that is not a string', async () => sign({ scope: ['deploy:canary'] })],
    ['not a JWS at all', async () => 'abc.def'],
  ];
  it.each(REFUSED)('answers 401 invalid_token to %s', async (_what, make) => {
    const res = await call(`Bearer ${await make()}`);
    expect(res.status).toBe(401);
    expect(res.challenge).toMatch(/^Bearer realm="ztmint", error="invalid_token", error_description="[^"]+"$/);
    expect(res.body.code).toBe('invalid_token');
  });

  it('answers 403 insufficient_scope, naming the scope needed', async () => {
    const res = await call(`Bearer ${await sign({ scope: 'read:logs deploy:canaryx' })}`);
    expect(res.status).toBe(403);
    expect(res.challenge).toMatch(/error="insufficient_scope"/);
    expect(res.challenge).toMatch(/scope="deploy:canary"$/);
  });
});

describe('introspection for high-value routes', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    const hook = ztmintFastifyHook({ issuer, audience: AUDIENCE, introspect: { headers: { authorization: 'Bearer rs-secret' } } });
    app.get('/prod', { onRequest: hook }, async (request) => ({ jti: request.ztmint?.jti }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });
  const call = async (token: string) => app.inject({ method: 'GET', url: '/prod', headers: { authorization: `Bearer ${token}` } });

  it('lets an active token through, authenticating to the introspection endpoint', async () => {
    introspectionCalls = [];
    const token = await sign();
    expect((await call(token)).statusCode).toBe(200);
    expect(introspectionCalls).toEqual([{ auth: 'Bearer rs-secret', token }]);
  });

  it('refuses a revoked token with 401 invalid_token, though its signature and claims are fine', async () => {
    const jti = randomUUID();
    revoked.add(jti);
    const res = await call(await sign({ jti }));
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token", error_description="the token is revoked/);
  });

  it('fails closed (503) when the issuer cannot answer, and never introspects a token that fails locally', async () => {
    introspectionDown = true;
    try {
      expect((await call(await sign())).statusCode).toBe(503);
    } finally {
      introspectionDown = false;
    }
    introspectionCalls = [];
    expect((await call(await sign({ aud: 'https://other.example' }))).statusCode).toBe(401);
    expect(introspectionCalls).toEqual([]);
  });
});

describe('keys from discovery', () => {
  it('answers 503 (not 401) when discovery names another issuer, and recovers when it is fixed', async () => {
    const fresh = Fastify();
    fresh.get('/x', { onRequest: ztmintFastifyHook({ issuer, audience: AUDIENCE }) }, async () => ({ ok: true }));
    discoveryIssuer = 'https://impostor.example';
    try {
      const res = await fresh.inject({ method: 'GET', url: '/x', headers: { authorization: `Bearer ${await sign()}` } });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('issuer_unavailable');
    } finally {
      discoveryIssuer = issuer;
    }
    const res = await fresh.inject({ method: 'GET', url: '/x', headers: { authorization: `Bearer ${await sign()}` } });
    expect(res.statusCode).toBe(200);
    await fresh.close();
  });

  it('answers 503 when the issuer cannot be reached', async () => {
    const fresh = Fastify();
    fresh.get('/x', { onRequest: ztmintFastifyHook({ issuer: 'http://127.0.0.1:9', audience: AUDIENCE, fetchTimeoutMs: 2_000 }) }, async () => ({ ok: true }));
    const token = await sign({ iss: 'http://127.0.0.1:9' });
    const res = await fresh.inject({ method: 'GET', url: '/x', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(503);
    await fresh.close();
  });
});
