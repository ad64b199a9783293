// Everything the corpus needs from a running dev stack: URLs, the issuer's and the group's public
// keys, the policy hash, mTLS agents for every client identity, attacker keys and an attacker
// web server (to catch any fetch of a `jku`/`x5u` URL), and genuine minted tokens (one kept
// active, one revoked, one expired) for the revoke/introspect cases.
import { decodeJwt } from 'jose';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from 'undici';
import { writeLocalPki } from '../../pki/local-pki.js';
import { thumbprint } from '../../protocol/jwk.js';
import { buildToken, type TokenClaims, type TokenHeader } from '../../protocol/token.js';
import { signerTls, type DevStack } from '../helpers/dev-stack.js';
import { call, json, tlsAgent } from './http.js';

export const DEPLOY_AUDIENCE = 'https://deploy.example';

interface Genuine {
  token: string;
  claims: Record<string, unknown>;
}

interface AttackerKeys {
  rsa: KeyObject;
  rsaPublicJwk: Record<string, string>;
  ec: KeyObject;
  ecPublicJwk: Record<string, string>;
  ed: KeyObject;
  edPublicJwk: Record<string, string>;
  /** A certificate from a foreign CA (ECDSA P-256) and its key, for x5c and mTLS. */
  foreignCertPem: string;
  foreignKeyPem: string;
  foreignCaPem: string;
  foreignKey: KeyObject;
}

export interface Env {
  stack: DevStack;
  coordinator: string;
  issuer: string;
  signerUrls: string[];
  issuerJwk: Record<string, string>;
  issuerKey: KeyObject;
  groupKey: KeyObject;
  groupX: string;
  kid: string;
  identifiers: string[];
  policyHash: string;
  attacker: AttackerKeys;
  /** http://127.0.0.1:port of a server that records every request (jku/x5u targets). */
  attackerUrl: string;
  attackerHits: () => number;
  agents: { coordinator: Agent; admin: Agent; signerCert: Agent; noCert: Agent; foreign: Agent };
  /** The bearer token POST /v1/introspect requires (the dev stack's introspection token file). */
  introspectionToken: string;
  /** The coordinator's client certificate, key and the CA, for raw TLS. */
  tlsCoordinator: { ca: string; cert: string; key: string };
  genuine?: Genuine;
  revoked?: Genuine;
  expired?: Genuine;
  /** Why the genuine tokens could not be minted (the honest path is broken). */
  setupProblem?: string;
  idToken(claims?: Record<string, unknown>): Promise<string>;
  /** A fresh issuer-signed OIDC token and its parts. */
  fresh(claims?: Record<string, unknown>): Promise<{ token: string; header: string; payload: string; sig: string; claims: Record<string, unknown> }>;
  /** Claims of a token this coordinator would mint (issuer, kid, policy hash) for `oidcClaims`. */
  mintedShape(oidcClaims: Record<string, unknown>, overrides?: Partial<TokenClaims>): { header: TokenHeader; claims: TokenClaims };
  close(): Promise<void>;
}

function startAttackerServer(payloads: Record<string, string>): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    const body = payloads[req.url ?? ''] ?? '{}';
    res.writeHead(200, { 'content-type': req.url?.endsWith('.pem') ? 'application/pem-certificate-chain' : 'application/json' });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}`, hits: () => hits });
    });
  });
}

const nowS = () => Math.floor(Date.now() / 1000);

async function mintGenuine(coordinator: string, oidc: string, body: unknown): Promise<Genuine | string> {
  const res = await json(`${coordinator}/v1/mint`, body, { authorization: `Bearer ${oidc}` });
  if (res.status !== 200) return `honest mint answered ${res.status}: ${res.body.slice(0, 200)}`;
  const token = (JSON.parse(res.body) as { token: string }).token;
  return { token, claims: decodeJwt(token) as Record<string, unknown> };
}

export async function buildEnv(stack: DevStack): Promise<Env> {
  const groupInfo = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8')) as { group_public_key: string; identifiers: string[] };
  const kid = thumbprint(groupInfo.group_public_key);
  const groupKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: groupInfo.group_public_key }, format: 'jwk' });
  const issuerJwks = (await (await fetch(`${stack.issuer}/.well-known/jwks`)).json()) as { keys: Array<Record<string, string>> };
  const issuerJwk = issuerJwks.keys[0]!;
  const issuerKey = createPublicKey({ key: issuerJwk as never, format: 'jwk' });
  const ready = (await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string };

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const foreignDir = await mkdtemp(join(tmpdir(), 'ztmint-adversary-'));
  await writeLocalPki(foreignDir, [{ name: 'coordinator', role: 'both' }]);
  const foreignCertPem = await readFile(join(foreignDir, 'coordinator.pem'), 'utf8');
  const foreignKeyPem = await readFile(join(foreignDir, 'coordinator-key.pem'), 'utf8');
  const foreignCaPem = await readFile(join(foreignDir, 'ca.pem'), 'utf8');
  const attacker: AttackerKeys = {
    rsa: rsa.privateKey,
    rsaPublicJwk: { ...(rsa.publicKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'attacker-rsa', alg: 'RS256', use: 'sig' },
    ec: ec.privateKey,
    ecPublicJwk: { ...(ec.publicKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'attacker-ec' },
    ed: ed.privateKey,
    edPublicJwk: { ...(ed.publicKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'attacker-ed' },
    foreignCertPem,
    foreignKeyPem,
    foreignCaPem,
    foreignKey: createPrivateKey(foreignKeyPem),
  };
  const attackerJwks = JSON.stringify({ keys: [attacker.rsaPublicJwk, { ...attacker.rsaPublicJwk, kid: issuerJwk.kid }] });
  const evil = await startAttackerServer({ '/jwks.json': attackerJwks, '/cert.pem': foreignCertPem, '/.well-known/openid-configuration': JSON.stringify({ issuer: 'x', jwks_uri: 'x' }) });

  const tls = await signerTls(stack.state);
  const admin = await signerTls(stack.state, 'admin');
  const signer2 = await signerTls(stack.state, 'signer-2');
  const agents = {
    coordinator: tlsAgent(tls),
    admin: tlsAgent(admin),
    signerCert: tlsAgent(signer2),
    noCert: tlsAgent({ ca: tls.ca }),
    foreign: tlsAgent({ ca: tls.ca, cert: foreignCertPem, key: foreignKeyPem }),
  };

  const env: Env = {
    stack,
    coordinator: stack.coordinator,
    issuer: stack.issuer,
    signerUrls: stack.signers.map((s) => s.url),
    issuerJwk,
    issuerKey,
    groupKey,
    groupX: groupInfo.group_public_key,
    kid,
    identifiers: groupInfo.identifiers,
    policyHash: ready.policy,
    attacker,
    attackerUrl: evil.url,
    attackerHits: evil.hits,
    agents,
    introspectionToken: (await readFile(stack.introspection_token_file, 'utf8')).trim(),
    tlsCoordinator: tls,
    idToken: (claims) => stack.idToken(claims),
    async fresh(claims) {
      const token = await stack.idToken(claims);
      const [header, payload, sig] = token.split('.') as [string, string, string];
      return { token, header, payload, sig, claims: decodeJwt(token) as Record<string, unknown> };
    },
    mintedShape(oidcClaims, overrides = {}) {
      const built = buildToken({
        issuer: stack.coordinator,
        kid,
        oidcClaims,
        decision: { allow: true, scopes: ['deploy:canary'], ttl: 900, audience: DEPLOY_AUDIENCE, reasons: [] },
        policyHash: ready.policy,
        now: nowS(),
        jti: randomBytes(16).toString('base64url'),
      });
      return { header: built.header, claims: { ...built.claims, ...overrides } };
    },
    async close() {
      await Promise.all(Object.values(agents).map((a) => a.close()));
      await new Promise((r) => evil.server.close(r));
      await rm(foreignDir, { recursive: true, force: true });
    },
  };

  // Genuine tokens for revoke/introspect: the expired one first (ttl 1), so it has lapsed by the time it is used.
  const problems: string[] = [];
  for (const [slot, body] of [
    ['expired', { scopes: ['read:logs'], ttl: 1 }],
    ['genuine', { scopes: ['deploy:canary'] }],
    ['revoked', { scopes: ['read:logs'] }],
  ] as const) {
    const got = await mintGenuine(stack.coordinator, await stack.idToken(), body);
    if (typeof got === 'string') problems.push(`${slot}: ${got}`);
    else env[slot] = got;
  }
  if (env.revoked) {
    const res = await call(`${stack.coordinator}/v1/revoke`, { headers: { authorization: `Bearer ${env.revoked.token}` } });
    if (res.status !== 204) problems.push(`revoking the genuine token answered ${res.status}`);
  }
  if (problems.length) env.setupProblem = problems.join('; ');
  return env;
}

/** Waits (bounded) until the expired genuine token is past its exp. */
export async function waitExpired(env: Env): Promise<void> {
  const exp = env.expired?.claims.exp;
  if (typeof exp !== 'number') return;
  for (let i = 0; i < 40 && Date.now() / 1000 <= exp + 1; i++) await new Promise((r) => setTimeout(r, 100));
}
