// Signer-protocol abuse, as an attacker holding the coordinator's client certificate (or not)
// would try it. Each case first makes an honest round 1 at signers 1 and 2 and an honest round-2
// body exactly as the coordinator would (the token the context allows: protocol/token.ts with the
// coordinator's issuer URL, the group kid, the policy hash from /readyz and the policy's decision),
// then changes exactly one thing and sends it to signer 1. A share in any answer is a violation.
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ProblemCode } from '../../protocol/problem.js';
import { buildToken, signingInput, type TokenClaims, type TokenHeader } from '../../protocol/token.js';
import { DEPLOY_AUDIENCE, type Env } from './env.js';
import type { AttackCase, Expectation, Outcome } from './harness.js';
import { call, json, raw, rawRequest } from './http.js';
import { jws, padded, seg, unsigned } from './jwt.js';

type Case = AttackCase<Env>;

interface WireCommitment {
  identifier: string;
  hiding: string;
  binding: string;
}

interface Request {
  scopes: string[];
  ttl?: number;
  audience?: string;
}

export interface Base {
  session: string;
  commitments: WireCommitment[];
  oidc: string;
  oidcClaims: Record<string, unknown>;
  request: Request;
  header: TokenHeader;
  claims: TokenClaims;
  message: string;
  body: { session: string; message: string; commitments: WireCommitment[]; context: { oidc_token: string; request: Request } };
}

const newSession = () => randomBytes(16).toString('base64url');
const hexToB64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

async function round1(env: Env, index: number, session: string): Promise<WireCommitment> {
  const res = await json(`${env.signerUrls[index]}/v1/round1`, { session }, {}, env.agents.coordinator);
  if (res.status !== 200) throw new Error(`setup: round 1 at signer ${index + 1} answered ${res.status}: ${res.body.slice(0, 160)}`);
  return (JSON.parse(res.body) as { commitments: WireCommitment }).commitments;
}

export interface BaseOptions {
  request?: Request;
  oidcClaims?: Record<string, unknown>;
  /** Reuse this OIDC token instead of a fresh one. */
  oidc?: string;
  participants?: number[];
}

/** The honest round-2 body for a fresh session: what the coordinator would send. */
export async function honestBase(env: Env, opts: BaseOptions = {}): Promise<Base> {
  const session = newSession();
  const participants = opts.participants ?? [0, 1];
  const [commitments, oidc] = await Promise.all([Promise.all(participants.map((i) => round1(env, i, session))), opts.oidc ?? env.idToken(opts.oidcClaims)]);
  const oidcClaims = JSON.parse(Buffer.from(oidc.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const request = opts.request ?? { scopes: ['deploy:canary'] };
  const { header, claims } = buildToken({
    issuer: env.coordinator,
    kid: env.kid,
    oidcClaims,
    decision: { allow: true, scopes: [...request.scopes].sort(), ttl: request.ttl ?? 900, audience: request.audience ?? DEPLOY_AUDIENCE, reasons: [] },
    policyHash: env.policyHash,
    now: nowS(),
    jti: randomBytes(16).toString('base64url'),
  });
  const message = signingInput(header, claims);
  return { session, commitments, oidc, oidcClaims, request, header, claims, message, body: { session, message, commitments, context: { oidc_token: oidc, request } } };
}

export function round2(env: Env, body: unknown, index = 0, dispatcher = env.agents.coordinator): Promise<Outcome> {
  return json(`${env.signerUrls[index]}/v1/round2`, body, {}, dispatcher);
}

const problem = (code: ProblemCode | ProblemCode[]): Expectation => ({ kind: 'problem', code });
const MISMATCH = problem('context_mismatch');
const BAD = problem('invalid_request');

/**
 * A case that builds an honest base, forges one thing, and sends the result to signer 1.
 * The forged body must differ from the honest one (guards the corpus itself).
 */
function forgeCase(
  cls: string,
  name: string,
  expect: Expectation,
  forge: (b: Base, env: Env) => unknown | Promise<unknown>,
  opts: Partial<Case> & { base?: BaseOptions; baseIsForgery?: boolean } = {},
): Case {
  const { base: baseOpts, baseIsForgery, ...rest } = opts;
  let secret = '';
  return {
    cls,
    name,
    surface: 'signer',
    expect,
    get secrets() {
      return secret ? [secret.split('.')[2] ?? secret] : [];
    },
    ...rest,
    async run(env) {
      const b = await honestBase(env, baseOpts);
      secret = b.oidc;
      const body = await forge(b, env);
      if (!baseIsForgery && isDeepStrictEqual(body, b.body)) throw new Error('corpus bug: the forged round 2 equals the honest one');
      return round2(env, body);
    },
  };
}

/** The honest body with the message's claims (and/or header) changed. */
function withClaims(b: Base, patch: Record<string, unknown> | ((c: TokenClaims) => Record<string, unknown>), header: Record<string, unknown> = b.header as never) {
  const claims = typeof patch === 'function' ? patch(b.claims) : { ...b.claims, ...patch };
  return { ...b.body, message: `${seg(header)}.${seg(claims)}` };
}

function withCommitment(b: Base, index: number, patch: Partial<WireCommitment>) {
  return { ...b.body, commitments: b.commitments.map((c, i) => (i === index ? { ...c, ...patch } : c)) };
}

// Ed25519 points of small order, non-canonical encodings, off-curve and mixed-order points.
const IDENTITY = '0100000000000000000000000000000000000000000000000000000000000000';
const SMALL_ORDER: Array<[string, string]> = [
  ['order 2 (y = -1)', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['order 4 (y = 0)', '0000000000000000000000000000000000000000000000000000000000000000'],
  ['order 4 (y = 0, sign bit)', '0000000000000000000000000000000000000000000000000000000000000080'],
  ['order 8', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'],
  ['order 8 (negated)', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85'],
  ['order 8 (other)', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'],
];
const Point = ed25519.Point;
function randomPointHex(): string {
  const scalar = (BigInt(`0x${randomBytes(32).toString('hex')}`) % (Point.Fn.ORDER - 1n)) + 1n;
  return Point.BASE.multiply(scalar).toHex();
}
function mixedOrderHex(): string {
  return Point.fromHex(randomPointHex()).add(Point.fromHex(SMALL_ORDER[5]![1])).toHex();
}
const NON_CANONICAL: Array<[string, () => string]> = [
  ['identity with the sign bit set (x = -0)', () => '0100000000000000000000000000000000000000000000000000000000000080'],
  ['y = p + 1 (identity, non-canonical)', () => 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['y = p (order 4, non-canonical)', () => 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['y = -1 with the sign bit set', () => 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'],
  ['off the curve (y = 2)', () => '0200000000000000000000000000000000000000000000000000000000000000'],
  ['on the curve, not in the prime-order subgroup (y = 3)', () => '0300000000000000000000000000000000000000000000000000000000000000'],
  ['a random point plus an 8-torsion point', mixedOrderHex],
  ['31 bytes', () => randomPointHex().slice(0, 62)],
  ['33 bytes', () => `${randomPointHex()}00`],
];

// Group order l, little-endian: a non-canonical (reduced-to-zero) identifier.
const ORDER_LE = 'edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010';

export function signerCorpus(): Case[] {
  const cases: Case[] = [];
  const add = (cls: string, name: string, expect: Expectation, forge: Parameters<typeof forgeCase>[3], opts?: Parameters<typeof forgeCase>[4]) => cases.push(forgeCase(cls, name, expect, forge, opts));

  // --- sessions (I3) ---------------------------------------------------------------------------
  add('signer.session', 'round 2 for a session that never had a round 1', problem('session_unknown'), (b) => ({ ...b.body, session: newSession() }));
  add('signer.session', 'round 2 for a session known only to another signer', problem('session_unknown'), async (b, env) => {
    const s = newSession();
    await round1(env, 1, s);
    return { ...b.body, session: s };
  });
  cases.push({
    cls: 'signer.session',
    name: 'round 2 replayed after an honest share',
    surface: 'signer',
    expect: problem('session_unknown'),
    async run(env) {
      const b = await honestBase(env);
      await round2(env, b.body); // honest, may release a share: not part of the attack
      return round2(env, b.body);
    },
  });
  cases.push({
    cls: 'signer.session',
    name: 'round 2 replayed after a refusal, now with the honest message',
    surface: 'signer',
    expect: problem('session_unknown'),
    async run(env) {
      const b = await honestBase(env);
      await round2(env, { ...b.body, message: 'e30.e30' });
      return round2(env, b.body);
    },
  });
  cases.push({
    cls: 'signer.session',
    name: 'round 1 replayed for a used session',
    surface: 'signer',
    expect: problem('session_unknown'),
    async run(env) {
      const b = await honestBase(env);
      return json(`${env.signerUrls[0]}/v1/round1`, { session: b.session }, {}, env.agents.coordinator);
    },
  });
  cases.push({
    cls: 'signer.session',
    name: 'two concurrent round 2s on one session (at most one share)',
    surface: 'signer',
    expect: problem('session_unknown'),
    honestShareAllowed: true,
    async run(env) {
      const b = await honestBase(env);
      return Promise.all([round2(env, b.body), round2(env, b.body)]);
    },
    judge(outs) {
      const shares = outs.filter((o) => o.status === 200 && o.body.includes('"share"')).length;
      const refused = outs.filter((o) => o.status === 409).length;
      return shares <= 1 && shares + refused === outs.length ? [] : [`expected at most one share and 409 for the rest, got ${outs.map((o) => o.status).join(',')}`];
    },
  });
  for (const [what, session] of [
    ['too short', 'short'],
    ['65 characters', 'a'.repeat(65)],
    ['path-like', '../../../../etc/passwd/xx'],
    ['padded base64', `${newSession()}==`],
    ['a number', 1.2345678901234568e24],
  ] as const) {
    add('signer.session', `session id ${what}`, BAD, (b) => ({ ...b.body, session }));
  }

  // --- commitment substitution ----------------------------------------------------------------
  add('signer.commitment-substitution', "own hiding commitment replaced by the other signer's", MISMATCH, (b) => withCommitment(b, 0, { hiding: b.commitments[1]!.hiding }));
  add('signer.commitment-substitution', "own binding commitment replaced by the other signer's", MISMATCH, (b) => withCommitment(b, 0, { binding: b.commitments[1]!.binding }));
  add('signer.commitment-substitution', 'own hiding and binding swapped', MISMATCH, (b) => withCommitment(b, 0, { hiding: b.commitments[0]!.binding, binding: b.commitments[0]!.hiding }));
  add('signer.commitment-substitution', 'own commitment replaced by a fresh valid point', MISMATCH, (b) => withCommitment(b, 0, { hiding: hexToB64(randomPointHex()) }));
  add('signer.commitment-substitution', 'own commitment left out (signers 2 and 3 listed)', MISMATCH, async (b, env) => ({
    ...b.body,
    commitments: [b.commitments[1]!, await round1(env, 2, b.session)],
  }));
  add('signer.commitment-substitution', 'own commitment under another identifier', MISMATCH, async (b, env) => ({
    ...b.body,
    commitments: [{ ...b.commitments[0]!, identifier: env.identifiers[2]! }, b.commitments[1]!],
  }));

  // --- identifiers ------------------------------------------------------------------------------
  add('signer.identifiers', 'own commitment listed twice', BAD, (b) => ({ ...b.body, commitments: [b.commitments[0]!, b.commitments[0]!] }));
  add('signer.identifiers', 'other commitment listed twice', BAD, (b) => ({ ...b.body, commitments: [b.commitments[0]!, b.commitments[1]!, b.commitments[1]!] }));
  add('signer.identifiers', 'other signer under the same identifier with other values', BAD, (b) => ({
    ...b.body,
    commitments: [b.commitments[0]!, b.commitments[1]!, { ...b.commitments[1]!, hiding: hexToB64(randomPointHex()) }],
  }));
  add('signer.identifiers', 'unknown identifier 7', BAD, (b) => withCommitment(b, 1, { identifier: `07${'00'.repeat(31)}` }));
  add('signer.identifiers', 'identifier 0', BAD, (b) => withCommitment(b, 1, { identifier: '00'.repeat(32) }));
  add('signer.identifiers', 'identifier = group order (non-canonical 0)', BAD, (b) => withCommitment(b, 1, { identifier: ORDER_LE }));
  add('signer.identifiers', 'identifier with upper-case hex digits', BAD, (b) => withCommitment(b, 1, { identifier: `0A${'00'.repeat(31)}` }));
  add('signer.identifiers', 'identifier of 63 hex digits', BAD, (b) => withCommitment(b, 1, { identifier: b.commitments[1]!.identifier.slice(1) }));
  add('signer.identifiers', 'only one commitment (own)', BAD, (b) => ({ ...b.body, commitments: [b.commitments[0]!] }));

  // --- message does not follow from the context --------------------------------------------
  const claimForgeries: Array<[string, Record<string, unknown> | ((c: TokenClaims) => Record<string, unknown>)]> = [
    ['scope escalation (deploy:canary deploy:prod)', { scope: 'deploy:canary deploy:prod' }],
    ['scope replaced (deploy:prod)', { scope: 'deploy:prod' }],
    ['scope wildcard (deploy:*)', { scope: 'deploy:*' }],
    ['other repository', { repository: 'acme/other' }],
    ['other sub', { sub: 'repo:acme/other:ref:refs/heads/main' }],
    ['environment added', { environment: 'production' }],
    ['workflow claim removed (sha)', (c) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'sha'))],
    ['longer ttl (1800)', (c) => ({ ...c, exp: c.iat + 1800 })],
    ['longer ttl (3600)', (c) => ({ ...c, exp: c.iat + 3600 })],
    ['longer ttl (a day)', (c) => ({ ...c, exp: c.iat + 86_400 })],
    ['other audience', { aud: 'https://evil.example' }],
    ['audience as an array', { aud: [DEPLOY_AUDIENCE, 'https://evil.example'] }],
    ['extra claim', { admin: true }],
    ['jti of 8 bytes', { jti: randomBytes(8).toString('base64url') }],
    ['iat an hour old', (c) => ({ ...c, iat: c.iat - 3600, nbf: c.nbf - 3600, exp: c.exp - 3600 })],
    ['iat an hour ahead', (c) => ({ ...c, iat: c.iat + 3600, nbf: c.nbf + 3600, exp: c.exp + 3600 })],
    ['nbf before iat', (c) => ({ ...c, nbf: c.iat - 60 })],
    ['exp a float', (c) => ({ ...c, exp: c.exp + 0.5 })],
    ['claims in another order', (c) => Object.fromEntries(Object.entries(c).reverse())],
  ];
  for (const [what, patch] of claimForgeries) add('signer.message-mismatch', what, MISMATCH, (b) => withClaims(b, patch));
  // Another policy revision, issuer or group key reads to the signer as a coordinator configured
  // differently: refused under the signer's code for it (protocol/problem.ts), never signed.
  add('signer.message-mismatch', 'policy hash mismatch', problem('policy_not_accepted'), (b) => withClaims(b, { pol: '0'.repeat(64) }));
  add('signer.message-mismatch', 'other issuer', problem('issuer_not_accepted'), (b) => withClaims(b, { iss: 'https://ztmint.evil.example' }));
  add('signer.message-mismatch', 'header: other kid', problem('group_key_not_held'), (b) => withClaims(b, {}, { ...b.header, kid: 'attacker' }));
  add('signer.message-mismatch', 'policy revision missing', MISMATCH, (b) => withClaims(b, (c) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'pol'))));
  const headerForgeries: Array<[string, (b: Base) => Record<string, unknown>]> = [
    ['extra header field (jku)', (b) => ({ ...b.header, jku: 'https://evil.example/jwks' })],
    ['typ changed', (b) => ({ ...b.header, typ: 'at+jwt' })],
    ['alg none', (b) => ({ ...b.header, alg: 'none' })],
  ];
  for (const [what, header] of headerForgeries) add('signer.message-mismatch', `header: ${what}`, MISMATCH, (b) => withClaims(b, {}, header(b)));
  add('signer.message-mismatch', 'payload pretty-printed (same claims)', MISMATCH, (b) => ({ ...b.body, message: `${seg(b.header)}.${seg(JSON.stringify(b.claims, null, 2))}` }));
  add('signer.message-mismatch', 'duplicate "scope" (escalated first, granted last)', MISMATCH, (b) => {
    const text = JSON.stringify(b.claims).replace(/^\{/, '{"scope":"deploy:canary deploy:prod",');
    return { ...b.body, message: `${seg(b.header)}.${seg(text)}` };
  });
  add('signer.message-mismatch', 'payload segment padded', MISMATCH, (b) => {
    for (let i = 0; i < 8; i++) {
      const p = seg({ ...b.claims, jti: randomBytes(16 + i).toString('base64url') });
      if (p.length % 4) return { ...b.body, message: `${seg(b.header)}.${padded(p)}` };
    }
    throw new Error('no unpadded payload');
  });
  add('signer.message-mismatch', 'a complete JWS (3 segments)', MISMATCH, (b) => ({ ...b.body, message: `${b.message}.${randomBytes(64).toString('base64url')}` }));
  add('signer.message-mismatch', '"e30.e30" (empty header and payload)', MISMATCH, (b) => ({ ...b.body, message: 'e30.e30' }));
  add('signer.message-mismatch', 'leading whitespace', MISMATCH, (b) => ({ ...b.body, message: ` ${b.message}` }));
  cases.push({
    cls: 'signer.message-mismatch',
    name: 'a jti this signer already signed',
    surface: 'signer',
    expect: MISMATCH,
    async run(env) {
      const first = await honestBase(env);
      await round2(env, first.body); // honest share for the first token
      const second = await honestBase(env);
      return round2(env, { ...second.body, message: first.message, context: first.body.context });
    },
  });

  // --- the mint context itself ----------------------------------------------------------------
  add('signer.context-abuse', 'OIDC token of another repository in the context', MISMATCH, async (b, env) => ({
    ...b.body,
    context: { ...b.body.context, oidc_token: await env.idToken({ repository: 'acme/other' }) },
  }));
  add('signer.context-abuse', 'alg none OIDC token with the same claims', MISMATCH, (b) => ({
    ...b.body,
    context: { ...b.body.context, oidc_token: unsigned({ alg: 'none', typ: 'JWT' }, b.oidcClaims) },
  }));
  add('signer.context-abuse', 'OIDC token with the same claims signed by an attacker key', MISMATCH, (b, env) => ({
    ...b.body,
    context: { ...b.body.context, oidc_token: jws({ alg: 'RS256', typ: 'JWT', kid: env.issuerJwk.kid }, b.oidcClaims, 'RS256', env.attacker.rsa) },
  }));
  // Here the "honest" construction is itself the forgery: the context is what is wrong.
  const asBuilt = (b: Base) => b.body;
  add('signer.context-abuse', 'expired OIDC token (message derived from it)', MISMATCH, asBuilt, {
    baseIsForgery: true,
    base: { oidcClaims: { iat: nowS() - 900, nbf: nowS() - 900, exp: nowS() - 300 } },
  });
  add('signer.context-abuse', 'OIDC token for another audience (message derived from it)', MISMATCH, asBuilt, { baseIsForgery: true, base: { oidcClaims: { aud: 'https://other.example' } } });
  add('signer.context-abuse', 'OIDC token from an untrusted issuer (message derived from it)', problem('oidc_issuer_not_trusted'), asBuilt, {
    baseIsForgery: true,
    base: { oidcClaims: { iss: 'https://token.actions.githubusercontent.com' } },
  });
  add('signer.context-abuse', 'request the policy denies (deploy:prod), message to match', MISMATCH, asBuilt, { baseIsForgery: true, base: { request: { scopes: ['deploy:prod'] } } });
  add('signer.context-abuse', 'request for an unlisted audience, message to match', MISMATCH, asBuilt, {
    baseIsForgery: true,
    base: { request: { scopes: ['deploy:canary'], audience: 'https://evil.example' } },
  });
  cases.push({
    cls: 'signer.context-abuse',
    name: 'one OIDC token behind a 4th token (the coordinator retries at most 3 times)',
    surface: 'signer',
    expect: MISMATCH,
    async run(env) {
      const oidc = await env.idToken();
      for (let i = 0; i < 3; i++) await round2(env, (await honestBase(env, { oidc })).body); // honest uses
      return round2(env, (await honestBase(env, { oidc })).body);
    },
  });
  add('signer.context-abuse', 'request ttl 2^31, message to match', BAD, asBuilt, {
    baseIsForgery: true,
    base: { request: { scopes: ['deploy:canary'], ttl: 2 ** 31 } },
  });
  add('signer.context-abuse', 'request ttl 60, message ttl 900', MISMATCH, (b) => ({ ...b.body, context: { ...b.body.context, request: { ...b.request, ttl: 60 } } }));
  add('signer.context-abuse', 'request for two scopes, message for one', MISMATCH, (b) => ({ ...b.body, context: { ...b.body.context, request: { scopes: ['deploy:canary', 'read:logs'] } } }));
  add('signer.context-abuse', 'empty OIDC token', MISMATCH, (b) => ({ ...b.body, context: { ...b.body.context, oidc_token: '' } }));
  add('signer.context-abuse', 'no context', BAD, (b) => ({ session: b.session, message: b.message, commitments: b.commitments }));
  add('signer.context-abuse', 'context null', BAD, (b) => ({ ...b.body, context: null }));
  add('signer.context-abuse', 'context without oidc_token', BAD, (b) => ({ ...b.body, context: { request: b.request } }));
  add('signer.context-abuse', 'context without request', BAD, (b) => ({ ...b.body, context: { oidc_token: b.oidc } }));
  add('signer.context-abuse', 'context with an extra field', BAD, (b) => ({ ...b.body, context: { ...b.body.context, decision: { allow: true } } }));
  add('signer.context-abuse', 'request with no scopes', BAD, (b) => ({ ...b.body, context: { ...b.body.context, request: { scopes: [] } } }));

  // --- identity and small-order commitments (the other participant's) ------------------------
  add('signer.small-order-points', 'other hiding = identity', BAD, (b) => withCommitment(b, 1, { hiding: hexToB64(IDENTITY) }));
  add('signer.small-order-points', 'other binding = identity', BAD, (b) => withCommitment(b, 1, { binding: hexToB64(IDENTITY) }));
  add('signer.small-order-points', 'other hiding and binding = identity', BAD, (b) => withCommitment(b, 1, { hiding: hexToB64(IDENTITY), binding: hexToB64(IDENTITY) }));
  add('signer.small-order-points', 'own hiding = identity', MISMATCH, (b) => withCommitment(b, 0, { hiding: hexToB64(IDENTITY) }));
  for (const [what, hex] of SMALL_ORDER) {
    add('signer.small-order-points', `other hiding of ${what}`, BAD, (b) => withCommitment(b, 1, { hiding: hexToB64(hex) }));
  }
  add('signer.small-order-points', 'other binding of order 8', BAD, (b) => withCommitment(b, 1, { binding: hexToB64(SMALL_ORDER[3]![1]) }));

  // --- non-canonical and invalid encodings ------------------------------------------------------
  for (const [what, hex] of NON_CANONICAL) {
    add('signer.noncanonical-points', `other hiding: ${what}`, BAD, (b) => withCommitment(b, 1, { hiding: hexToB64(hex()) }));
  }
  add('signer.noncanonical-points', 'other binding: y = p + 1', BAD, (b) => withCommitment(b, 1, { binding: hexToB64(NON_CANONICAL[1]![1]()) }));
  add('signer.noncanonical-points', 'other hiding with base64 padding', BAD, (b) => withCommitment(b, 1, { hiding: `${b.commitments[1]!.hiding}=` }));
  add('signer.noncanonical-points', 'other hiding in the standard alphabet', BAD, (b) => {
    const std = b.commitments[1]!.hiding.replace(/-/g, '+').replace(/_/g, '/');
    return withCommitment(b, 1, { hiding: std === b.commitments[1]!.hiding ? `+${std.slice(1)}` : std });
  });
  add('signer.noncanonical-points', 'other hiding with unused trailing bits set', BAD, (b) => {
    const h = b.commitments[1]!.hiding; // 43 chars for 32 bytes: 2 unused bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return withCommitment(b, 1, { hiding: h.slice(0, -1) + alphabet[alphabet.indexOf(h.at(-1)!) ^ 1] });
  });

  // --- oversized ------------------------------------------------------------------------------
  add('signer.oversized', 'message of 16 KiB + 1', BAD, (b) => ({ ...b.body, message: `${b.message}${'A'.repeat(16_385 - b.message.length)}` }));
  add('signer.oversized', 'OIDC token of 16 KiB + 1', BAD, (b) => ({ ...b.body, context: { ...b.body.context, oidc_token: 'a'.repeat(16_385) } }));
  add('signer.oversized', '65 requested scopes', BAD, (b) => ({ ...b.body, context: { ...b.body.context, request: { scopes: Array.from({ length: 65 }, (_, i) => `s:${i}`) } } }));
  add('signer.oversized', '256 commitments', BAD, (b) => ({
    ...b.body,
    commitments: [b.commitments[0]!, ...Array.from({ length: 255 }, (_, i) => ({ ...b.commitments[1]!, identifier: Buffer.from([(i + 4) & 0xff, (i + 4) >> 8]).toString('hex') + '00'.repeat(30) }))],
  }));
  // Raw TLS with the coordinator's certificate, so that an early 413 is read (see http.ts raw()).
  const bigRound2 = (env: Env, body: unknown) => {
    const text = JSON.stringify(body);
    return raw(env.signerUrls[0]!, rawRequest('POST', '/v1/round2', ['Content-Type: application/json'], text), { tls: env.tlsCoordinator });
  };
  cases.push({
    cls: 'signer.oversized',
    name: '70 KiB body',
    surface: 'signer',
    expect: problem('payload_too_large'),
    async run(env) {
      const b = await honestBase(env);
      return bigRound2(env, { ...b.body, pad: 'p'.repeat(70 * 1024) });
    },
  });
  cases.push({
    cls: 'signer.oversized',
    name: '1 MiB body',
    surface: 'signer',
    expect: problem('payload_too_large'),
    async run(env) {
      const b = await honestBase(env);
      return bigRound2(env, { ...b.body, message: 'm'.repeat(1 << 20) });
    },
  });

  // --- client certificates (mTLS) -------------------------------------------------------------
  // The dev stack makes the admin certificate a log reader (--log-client admin): it may read
  // /v1/info and /v1/log/* (test/share-log.e2e.test.ts) and nothing that signs.
  const asAdmin: Array<[string, (env: Env) => Promise<Outcome>]> = [
    ['POST /v1/round1', (env) => json(`${env.signerUrls[0]}/v1/round1`, { session: newSession() }, {}, env.agents.admin)],
    ['POST /v1/round2 with an honest body', async (env) => round2(env, (await honestBase(env)).body, 0, env.agents.admin)],
  ];
  for (const [what, run] of asAdmin) cases.push({ cls: 'signer.mtls', name: `admin certificate: ${what}`, surface: 'signer', expect: problem('forbidden'), run });
  const noHandshake: Array<[string, (env: Env) => Promise<Outcome>]> = [
    ['no client certificate: GET /v1/info', (env) => call(`${env.signerUrls[0]}/v1/info`, { method: 'GET', dispatcher: env.agents.noCert })],
    ['no client certificate: POST /v1/round2 with an honest body', async (env) => round2(env, (await honestBase(env)).body, 0, env.agents.noCert)],
    ['certificate from a foreign CA with CN=coordinator', (env) => json(`${env.signerUrls[0]}/v1/round1`, { session: newSession() }, {}, env.agents.foreign)],
    ["a signer's server-only certificate as client", (env) => json(`${env.signerUrls[0]}/v1/round1`, { session: newSession() }, {}, env.agents.signerCert)],
    ['plain HTTP to the TLS port', (env) => raw(env.signerUrls[0]!.replace('https:', 'http:'), rawRequest('GET', '/v1/info', []), { timeoutMs: 3_000 })],
  ];
  for (const [what, run] of noHandshake) cases.push({ cls: 'signer.mtls', name: what, surface: 'signer', expect: { kind: 'tls_failure' }, run });

  // --- HTTP-level abuse at the signer -------------------------------------------------------
  const signerHttp: Array<[string, Expectation, (env: Env, b: Base) => Promise<Outcome>]> = [
    [
      'round 2 as application/xml',
      problem('unsupported_media_type'),
      (env, b) => call(`${env.signerUrls[0]}/v1/round2`, { headers: { 'content-type': 'application/xml' }, body: JSON.stringify(b.body), dispatcher: env.agents.coordinator }),
    ],
    ['round 2 without Content-Type', problem('unsupported_media_type'), (env, b) => call(`${env.signerUrls[0]}/v1/round2`, { body: JSON.stringify(b.body), dispatcher: env.agents.coordinator })],
    [
      'round 2 with invalid JSON',
      BAD,
      (env, b) => call(`${env.signerUrls[0]}/v1/round2`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(b.body).slice(0, -2), dispatcher: env.agents.coordinator }),
    ],
    [
      'round 2 with __proto__',
      BAD,
      (env, b) =>
        call(`${env.signerUrls[0]}/v1/round2`, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(b.body).replace(/^\{/, '{"__proto__":{"allow":true},'),
          dispatcher: env.agents.coordinator,
        }),
    ],
    ['GET /v1/round2', problem('not_found'), (env) => call(`${env.signerUrls[0]}/v1/round2`, { method: 'GET', dispatcher: env.agents.coordinator })],
    ['POST /v1//round2', problem('not_found'), (env, b) => json(`${env.signerUrls[0]}/v1//round2`, b.body, {}, env.agents.coordinator)],
    ['round 2 with an extra top-level field', BAD, (env, b) => round2(env, { ...b.body, share: 'x' })],
    ['round 1 with an extra field', BAD, (env) => json(`${env.signerUrls[0]}/v1/round1`, { session: newSession(), nonces: 'AAAA' }, {}, env.agents.coordinator)],
  ];
  for (const [what, expect, run] of signerHttp) {
    cases.push({
      cls: 'signer.request',
      name: what,
      surface: 'signer',
      expect,
      async run(env) {
        return run(env, await honestBase(env));
      },
    });
  }

  return cases;
}
