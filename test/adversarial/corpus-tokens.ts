// Replay of OIDC tokens at /v1/mint, and /v1/revoke and /v1/introspect fed with tokens that are
// not ours: foreign tokens, forgeries under the coordinator's kid (carrying the jti of a genuine,
// active token, so a forged revoke that "worked" would show), alg none, expired and revoked ones.
import { randomBytes } from 'node:crypto';
import type { ProblemCode } from '../../protocol/problem.js';
import { mintWith } from './corpus-jwt.js';
import type { Env } from './env.js';
import type { AttackCase, Expectation, Outcome } from './harness.js';
import { parseJson } from './harness.js';
import { call } from './http.js';
import { jws, padded, seg, unsigned } from './jwt.js';

type Case = AttackCase<Env>;

const PROD = { scopes: ['deploy:prod'] };

function replayCase(name: string, run: (env: Env) => Promise<Outcome | Outcome[]>, expect: Expectation, judge?: Case['judge']): Case {
  return { cls: 'replay.oidc', name, surface: 'mint', expect, run, judge };
}

/** Claims of a token as this coordinator mints them, with the jti of the genuine active token when there is one. */
async function mintedClaims(env: Env): Promise<Record<string, unknown>> {
  if (env.genuine) return { ...env.genuine.claims };
  return env.mintedShape((await env.fresh()).claims).claims;
}

const edHeader = (env: Env, extra: Record<string, unknown> = {}) => ({ alg: 'EdDSA', typ: 'JWT', kid: env.kid, ...extra });

function requireToken(env: Env, slot: 'genuine' | 'revoked' | 'expired'): string {
  const got = env[slot];
  if (!got) throw new Error(`setup: no ${slot} minted token (${env.setupProblem ?? 'unknown reason'})`);
  return got.token;
}

/** Forged or foreign tokens presented to revoke and introspect. */
const FOREIGN: Array<[string, (env: Env) => Promise<string>]> = [
  ['an OIDC token from the trusted issuer', (env) => env.idToken()],
  ['alg none under the group kid', async (env) => unsigned(edHeader(env, { alg: 'none' }), await mintedClaims(env))],
  ['group kid, random 64-byte signature', async (env) => `${seg(edHeader(env))}.${seg(await mintedClaims(env))}.${randomBytes(64).toString('base64url')}`],
  [
    'genuine signature on an escalated payload (scope + deploy:prod)',
    async (env) => {
      const [h, , s] = requireToken(env, 'genuine').split('.');
      return `${h}.${seg({ ...(await mintedClaims(env)), scope: 'deploy:canary deploy:prod' })}.${s}`;
    },
  ],
  [
    'genuine signature on a payload with a later exp',
    async (env) => {
      const [h, , s] = requireToken(env, 'genuine').split('.');
      const claims = await mintedClaims(env);
      return `${h}.${seg({ ...claims, exp: Number(claims.exp) + 86_400 })}.${s}`;
    },
  ],
  ['attacker Ed25519 key under the group kid', async (env) => jws(edHeader(env), await mintedClaims(env), 'EdDSA', env.attacker.ed)],
  ['alg "Ed25519" by an attacker key', async (env) => jws(edHeader(env, { alg: 'Ed25519' }), await mintedClaims(env), 'EdDSA', env.attacker.ed)],
  ['HS256 keyed with the group key (base64url text)', async (env) => jws(edHeader(env, { alg: 'HS256' }), await mintedClaims(env), 'HS256', env.groupX)],
  ['HS256 keyed with the group key (raw 32 bytes)', async (env) => jws(edHeader(env, { alg: 'HS256' }), await mintedClaims(env), 'HS256', Buffer.from(env.groupX, 'base64url'))],
  ['embedded jwk with the attacker key', async (env) => jws(edHeader(env, { jwk: env.attacker.edPublicJwk }), await mintedClaims(env), 'EdDSA', env.attacker.ed)],
  ['attacker key, iss of another coordinator', async (env) => jws(edHeader(env), { ...(await mintedClaims(env)), iss: 'https://ztmint.evil.example' }, 'EdDSA', env.attacker.ed)],
  [
    'JWE-shaped (5 parts)',
    async (env) => `${seg({ alg: 'dir', enc: 'A256GCM', kid: env.kid })}..${randomBytes(12).toString('base64url')}.${seg(await mintedClaims(env))}.${randomBytes(16).toString('base64url')}`,
  ],
  ['genuine token + trailing dot', async (env) => `${requireToken(env, 'genuine')}.`],
  [
    'genuine token, signature of the revoked one',
    async (env) => {
      const [h, p] = requireToken(env, 'genuine').split('.');
      return `${h}.${p}.${requireToken(env, 'revoked').split('.')[2]}`;
    },
  ],
];

async function introspect(env: Env, token: string | undefined, extra = '', authorization = `Bearer ${env.introspectionToken}`): Promise<Outcome> {
  const form = token === undefined ? extra : `token=${encodeURIComponent(token)}${extra}`;
  return call(`${env.coordinator}/v1/introspect`, { headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: form });
}

/** The genuine token must still be active after any forged revoke. */
async function genuineStillActive(env: Env): Promise<string | undefined> {
  if (!env.genuine) return undefined;
  const res = await introspect(env, env.genuine.token);
  const doc = parseJson(res.body) as { active?: boolean } | undefined;
  return doc?.active === true ? undefined : `the genuine token is no longer active (${res.status} ${res.body.slice(0, 80)})`;
}

function revokeCase(name: string, make: (env: Env) => Promise<string | undefined>, expect: Expectation = { kind: 'problem', code: 'invalid_token' }, opts: Partial<Case> = {}): Case {
  let token = '';
  return {
    cls: 'revoke.forged',
    name,
    surface: 'revoke',
    expect,
    get secrets() {
      return token ? [token] : [];
    },
    post: genuineStillActive,
    ...opts,
    async run(env) {
      const t = await make(env);
      token = t ?? '';
      return call(`${env.coordinator}/v1/revoke`, { headers: t === undefined ? {} : { authorization: `Bearer ${t}` } });
    },
  };
}

function introspectCase(name: string, run: (env: Env) => Promise<Outcome>, expect: Expectation = { kind: 'inactive' }): Case {
  return { cls: 'introspect.forged', name, surface: 'introspect', expect, run };
}

const problem = (code: ProblemCode | ProblemCode[]): Expectation => ({ kind: 'problem', code });

export function tokensCorpus(): Case[] {
  const cases: Case[] = [];

  // --- replay of OIDC tokens --------------------------------------------------------------------
  cases.push(
    replayCase(
      'same OIDC token twice',
      async (env) => {
        const t = await env.idToken();
        await mintWith(env, t); // first use (an honest mint)
        return mintWith(env, t);
      },
      problem('token_replayed'),
    ),
  );
  cases.push(
    replayCase(
      'same OIDC token after a policy denial',
      async (env) => {
        const t = await env.idToken();
        await mintWith(env, t, PROD);
        return mintWith(env, t, PROD);
      },
      problem('token_replayed'),
    ),
  );
  cases.push(
    replayCase(
      'same OIDC token after a denial, now asking for an allowed scope',
      async (env) => {
        const t = await env.idToken();
        await mintWith(env, t, PROD);
        return mintWith(env, t);
      },
      problem('token_replayed'),
    ),
  );
  cases.push(
    replayCase(
      'same OIDC token re-encoded (signature padded) after a denial',
      async (env) => {
        const t = await env.idToken();
        await mintWith(env, t, PROD);
        const [h, p, s] = t.split('.');
        return mintWith(env, `${h}.${p}.${padded(s!)}`);
      },
      problem(['token_replayed', 'invalid_token']),
    ),
  );
  cases.push(
    replayCase(
      'a new token with a used jti',
      async (env) => {
        const first = await env.fresh();
        await mintWith(env, first.token, PROD);
        return mintWith(env, await env.idToken({ jti: first.claims.jti }));
      },
      problem('token_replayed'),
    ),
  );
  cases.push(
    replayCase(
      'a burst of 6 concurrent uses of one token',
      async (env) => {
        const t = await env.idToken();
        return Promise.all(Array.from({ length: 6 }, () => mintWith(env, t, PROD)));
      },
      problem('token_replayed'),
      (outs) => {
        const codes = outs.map((o) => (parseJson(o.body) as { code?: string } | undefined)?.code);
        const denied = codes.filter((c) => c === 'policy_denied').length;
        const replayed = codes.filter((c) => c === 'token_replayed').length;
        return denied === 1 && replayed === outs.length - 1 ? [] : [`expected 1 policy_denied and ${outs.length - 1} token_replayed, got ${codes.join(',')}`];
      },
    ),
  );

  // --- revoke with tokens that are not ours ---------------------------------------------------
  for (const [what, make] of FOREIGN) cases.push(revokeCase(`revoke with ${what}`, make));
  cases.push(revokeCase('revoke without Authorization', async () => undefined));
  cases.push(
    revokeCase('revoke with the token in a JSON body only', async () => undefined, problem('invalid_token'), {
      async run(env) {
        return call(`${env.coordinator}/v1/revoke`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: requireToken(env, 'genuine') }) });
      },
    }),
  );
  cases.push(
    revokeCase('revoke with the token as a form field only', async () => undefined, problem('invalid_token'), {
      async run(env) {
        return call(`${env.coordinator}/v1/revoke`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${requireToken(env, 'genuine')}` });
      },
    }),
  );
  // Documented: an expired (or already revoked) genuine token is inactive already; revoking it is a harmless 204.
  cases.push(revokeCase('revoke an expired genuine token', async (env) => requireToken(env, 'expired'), { kind: 'status', status: 204 }));
  cases.push(revokeCase('revoke a revoked genuine token again', async (env) => requireToken(env, 'revoked'), { kind: 'status', status: 204 }));

  // --- introspect tokens that are not ours (RFC 7662: 200 {"active":false}) -------------------
  for (const [what, make] of FOREIGN) cases.push(introspectCase(`introspect ${what}`, async (env) => introspect(env, await make(env))));
  cases.push(introspectCase('introspect an empty token', (env) => introspect(env, '')));
  cases.push(introspectCase('introspect a revoked genuine token', (env) => introspect(env, requireToken(env, 'revoked'))));
  cases.push(introspectCase('introspect an expired genuine token', (env) => introspect(env, requireToken(env, 'expired'))));
  cases.push(introspectCase('introspect the genuine token with a leading space', (env) => introspect(env, ` ${requireToken(env, 'genuine')}`)));
  cases.push(
    introspectCase(
      'introspect: token is a number (JSON)',
      (env) => call(`${env.coordinator}/v1/introspect`, { headers: { authorization: `Bearer ${env.introspectionToken}`, 'content-type': 'application/json' }, body: '{"token":1}' }),
      problem('invalid_request'),
    ),
  );
  cases.push(
    introspectCase(
      'introspect: token is an operator object (JSON)',
      (env) => call(`${env.coordinator}/v1/introspect`, { headers: { authorization: `Bearer ${env.introspectionToken}`, 'content-type': 'application/json' }, body: '{"token":{"$ne":null}}' }),
      problem('invalid_request'),
    ),
  );
  cases.push(introspectCase('introspect: token given twice', async (env) => introspect(env, requireToken(env, 'genuine'), `&token=${await env.idToken()}`), problem('invalid_request')));
  // RFC 7662 §2.1: without the introspection token nothing is answered about any token, genuine or not.
  for (const [what, authorization] of [
    ['no Authorization', ''],
    ['a wrong bearer token', 'Bearer wrong-introspection-token-of-sufficient-length'],
    ['the genuine minted token as bearer', 'GENUINE'],
    ['the introspection token with Basic', 'BASIC'],
  ] as const) {
    cases.push(
      introspectCase(
        `introspect the genuine token with ${what}`,
        (env) =>
          introspect(
            env,
            requireToken(env, 'genuine'),
            '',
            authorization === 'GENUINE'
              ? `Bearer ${requireToken(env, 'genuine')}`
              : authorization === 'BASIC'
                ? `Basic ${Buffer.from(`x:${env.introspectionToken}`).toString('base64')}`
                : authorization,
          ),
        problem('invalid_client'),
      ),
    );
  }
  cases.push(introspectCase('introspect: no token field', (env) => introspect(env, undefined, 'foo=bar'), problem('invalid_request')));
  cases.push(introspectCase('introspect: 16 KiB token', (env) => introspect(env, 'a'.repeat(16_385)), problem(['invalid_request', 'payload_too_large'])));
  cases.push(introspectCase('introspect: 100-character token_type_hint', (env) => introspect(env, requireToken(env, 'genuine'), `&token_type_hint=${'h'.repeat(100)}`), problem('invalid_request')));
  cases.push(
    introspectCase(
      'introspect: text/plain body',
      (env) =>
        call(`${env.coordinator}/v1/introspect`, { headers: { authorization: `Bearer ${env.introspectionToken}`, 'content-type': 'text/plain' }, body: `token=${requireToken(env, 'genuine')}` }),
      problem(['invalid_request', 'unsupported_media_type']),
    ),
  );

  return cases;
}
