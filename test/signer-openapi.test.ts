// signers/openapi.json is the one description of the signer API: every route a signer registers
// is in it and every path in it is registered, the servers validate with its schemas, the wire
// types are generated from it, and the protocol constants match it.
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { ROUND1_MAX_COUNT, ROUND2_SESSION_PATTERN, SESSION_PATTERN } from '../protocol/wire.js';
import { CEREMONY_PATTERN, DKG_VERSION } from '../signers/dkg.js';
import { buildDkgSignerServer } from '../signers/dkg-server.js';
import type { MintChecker } from '../signers/mint-check.js';
import { signerOpenApi } from '../signers/openapi.js';
import { buildSignerServer, type SigningKeys } from '../signers/server.js';
import type { KeyRing } from '../signers/key-ring.js';
import { generateSignerTypes, TARGET } from '../scripts/generate-signer-types.mjs';
import { identityOf, makePki, tlsOf } from './dkg-helpers.js';

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** "METHOD /path" for every operation of the document. */
function documented(): string[] {
  return Object.entries(signerOpenApi.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, item]) => HTTP_METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

/** The documented wildcard path (`…/*`) the app has a route for. */
function wildcardPath(app: FastifyInstance, method: string): string {
  const paths = Object.keys(signerOpenApi.paths).filter((p) => p.endsWith('/*') && app.hasRoute({ method: method as 'GET', url: p }));
  return paths.length === 1 ? paths[0]! : '*';
}

/** "METHOD /path" for every route the app registered (HEAD, added by Fastify for GET, left out). */
function registered(app: FastifyInstance): string[] {
  const tree = app.printRoutes({ commonPrefix: false });
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /(\/\S*|\*) \(([A-Z, ]+)\)/.exec(line);
    if (!m) continue;
    // printRoutes shows a wildcard route as a bare `*` without its prefix: it stands for the
    // documented `…/*` path the app answers (the signer's share-log tiles).
    const path = m[1] === '*' ? wildcardPath(app, m[2]!.split(', ')[0]!) : m[1]!;
    for (const method of m[2]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out.sort();
}

let state: string;
let signer: FastifyInstance;
let dkgSigner: FastifyInstance;
let agent: Agent;

/** A request over mTLS as the coordinator. */
async function call(app: FastifyInstance, path: string, body?: unknown) {
  const { port } = app.server.address() as { port: number };
  const res = await request(`https://127.0.0.1:${port}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    dispatcher: agent,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: (await res.body.json()) as unknown };
}

beforeAll(async () => {
  state = await makePki(3);
  const tls = await tlsOf(state, 'signer-1');
  const identifier = '01'.padEnd(64, '0');
  // Only the route table and validation are exercised: no share is ever used.
  const group = { group_public_key: 'A'.repeat(43), verifying_shares: { [identifier]: 'A'.repeat(43) }, threshold: 2, signers: 3 } as unknown as GroupInfo;
  signer = await buildSignerServer({
    keys: { current: () => ({ group }), anyShare: () => ({ identifier }), signing: () => ({ share: { identifier }, group }) } as unknown as SigningKeys,
    rotation: { ring: {} as KeyRing, identity: await identityOf(state, 1) },
    tls,
    checker: {} as MintChecker,
    allowedClients: ['coordinator'],
    shareCeremony: {
      identity: await identityOf(state, 1),
      store: { current: () => undefined, stage: () => Promise.reject(new Error('not in this test')), activate: () => Promise.resolve(), discard: () => Promise.resolve() },
    },
  });
  dkgSigner = await buildDkgSignerServer({
    identity: await identityOf(state, 1),
    tls,
    allowedClients: ['coordinator'],
    seal: () => Promise.reject(new Error('not in this test')),
  });
  for (const app of [signer, dkgSigner]) await app.listen({ host: '127.0.0.1', port: 0 });
  agent = new Agent({ connect: { ...(await tlsOf(state, 'coordinator')), rejectUnauthorized: true, servername: 'signer-1' } });
});
afterAll(async () => {
  await agent?.close();
  await Promise.all([signer?.close(), dkgSigner?.close()]);
  await rm(state, { recursive: true, force: true });
});

describe('signers/openapi.json', () => {
  it('lists exactly the routes the signing (with share ceremonies) and DKG servers register', () => {
    const routes = [...new Set([...registered(signer), ...registered(dkgSigner)])].sort();
    expect(routes).toEqual(documented());
  });

  it('is served at GET /openapi.json by both servers over mTLS, as in the repository', async () => {
    const inRepo = JSON.parse(await readFile(new URL('../signers/openapi.json', import.meta.url), 'utf8')) as unknown;
    for (const app of [signer, dkgSigner]) {
      const res = await call(app, '/openapi.json');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(inRepo);
    }
  });

  it.each([
    ['/v1/round1', 'a short session id', { session: 'short' }],
    ['/v1/round1', 'a count above ROUND1_MAX_COUNT', { session: 'A'.repeat(22), count: ROUND1_MAX_COUNT + 1 }],
    ['/v1/round2', 'fewer than 2 commitments', { session: 'A'.repeat(22), message: 'a.b', commitments: [], context: { oidc_token: 'x', request: { scopes: ['s'] } } }],
    ['/v1/dkg/round1', 'threshold 0', { ceremony: 'A'.repeat(16), threshold: 0, signers: 3 }],
    ['/v1/dkg/abort', 'an unknown member', { ceremony: 'A'.repeat(16), extra: true }],
  ])("%s refuses %s with invalid_request (the document's schema)", async (path, _what, body) => {
    const res = await call(path.startsWith('/v1/dkg/') ? dkgSigner : signer, path, body);
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect((res.body as { code: string }).code).toBe('invalid_request');
  });

  it('has the constants the code uses', () => {
    const s = signerOpenApi.components.schemas;
    expect(s.Round1Request.properties.session.pattern).toBe(SESSION_PATTERN);
    expect(s.Round1Request.properties.count.maximum).toBe(ROUND1_MAX_COUNT);
    expect(s.Round2Request.properties.session.pattern).toBe(ROUND2_SESSION_PATTERN);
    for (const name of ['DkgRound1Request', 'DkgRound1Package', 'DkgEnvelope', 'DkgConfirmation', 'DkgAbortRequest'] as const) {
      expect(s[name].properties.ceremony.pattern).toBe(CEREMONY_PATTERN);
    }
    for (const name of ['DkgRound1Package', 'DkgEnvelope', 'DkgConfirmation'] as const) expect(s[name].properties.version.const).toBe(DKG_VERSION);
  });

  it('generates protocol/signer-api.ts as committed (run node scripts/generate-signer-types.mjs after an edit)', async () => {
    // Compared without layout (whitespace, quote style, separators), so formatting the tree with
    // Prettier does not make the committed file "stale"; any change of content does.
    const content = (ts: string) => ts.replace(/\s+/g, '').replace(/[;,]/g, '').replace(/"/g, "'");
    expect(content(await readFile(TARGET, 'utf8'))).toBe(content(await generateSignerTypes()));
  });
});
