// RFC 8725 attacks on the OIDC token sent to POST /v1/mint. Every forged token carries a
// genuine, fresh set of claims from the dev issuer, so the forgery is the only thing wrong.
import { randomUUID } from 'node:crypto';
import type { Env } from './env.js';
import type { AttackCase, Expectation } from './harness.js';
import { json } from './http.js';
import { flipTrailingBits, jws, padded, seg, signature, toStdAlphabet, unsigned, withDuplicate, type Alg } from './jwt.js';

type Case = AttackCase<Env>;

const INVALID_TOKEN: Expectation = { kind: 'problem', code: 'invalid_token' };
export const CANARY = { scopes: ['deploy:canary'] };

export function mintWith(env: Env, token: string, body: unknown = CANARY, headers: Record<string, string> = {}) {
  return json(`${env.coordinator}/v1/mint`, body, { authorization: `Bearer ${token}`, ...headers });
}

/** A mint case whose token is made by `make`; the token is also a secret that must not be echoed. */
function tokenCase(cls: string, name: string, make: (env: Env) => Promise<string>, opts: Partial<Case> = {}): Case {
  let token = '';
  return {
    cls,
    name,
    surface: 'mint',
    expect: INVALID_TOKEN,
    ...opts,
    get secrets() {
      return token ? [token.split('.')[2] ?? token, token] : [];
    },
    async run(env) {
      token = await make(env);
      return mintWith(env, token);
    },
  };
}

const rsHeader = (env: Env, extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid: env.issuerJwk.kid, ...extra });

const NOBODY = 'B5oQG4TZPGrAaFPaWx7MB9IAbKBpaYjI7-4ySCnz_6s';

export function jwtCorpus(): Case[] {
  const cases: Case[] = [];
  const add = (cls: string, name: string, make: (env: Env) => Promise<string>, opts: Partial<Case> = {}) => cases.push(tokenCase(cls, name, make, opts));

  // --- alg none (RFC 8725 §2.1, §3.1) -------------------------------------------------------
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    add('jwt.alg-none', `alg "${alg}", empty signature`, async (env) => unsigned({ alg, typ: 'JWT' }, (await env.fresh()).claims));
  }
  add('jwt.alg-none', 'alg none with the issuer kid', async (env) => unsigned({ alg: 'none', typ: 'JWT', kid: env.issuerJwk.kid }, (await env.fresh()).claims));
  add('jwt.alg-none', 'alg none keeping the genuine signature', async (env) => {
    const f = await env.fresh();
    return `${seg({ alg: 'none', typ: 'JWT', kid: env.issuerJwk.kid })}.${f.payload}.${f.sig}`;
  });
  add('jwt.alg-none', 'no alg at all', async (env) => unsigned({ typ: 'JWT', kid: env.issuerJwk.kid }, (await env.fresh()).claims));
  add('jwt.alg-none', 'alg ""', async (env) => unsigned({ alg: '', typ: 'JWT' }, (await env.fresh()).claims));
  add('jwt.alg-none', 'alg null', async (env) => unsigned({ alg: null, typ: 'JWT' }, (await env.fresh()).claims));

  // --- HMAC with the issuer's public key as the secret (algorithm confusion, RFC 8725 §2.1) ---
  const secrets: Array<[string, (env: Env) => Buffer | string]> = [
    ['its JWK JSON', (env) => JSON.stringify(env.issuerJwk)],
    ['its modulus n (base64url text)', (env) => env.issuerJwk.n!],
    ['its modulus n (bytes)', (env) => Buffer.from(env.issuerJwk.n!, 'base64url')],
    ['its SPKI PEM', (env) => env.issuerKey.export({ type: 'spki', format: 'pem' }) as string],
    ['its PKCS#1 PEM', (env) => env.issuerKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['its SPKI DER', (env) => env.issuerKey.export({ type: 'spki', format: 'der' })],
  ];
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    for (const [what, secret] of secrets) {
      add('jwt.alg-confusion-hmac', `${alg} keyed with ${what}`, async (env) => jws({ alg, typ: 'JWT', kid: env.issuerJwk.kid }, (await env.fresh()).claims, alg, secret(env)));
    }
  }

  // --- other algorithms with the attacker's keys under the issuer's kid -----------------------
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) {
    add('jwt.alg-substitution', `${alg} signed by an attacker RSA key under the issuer kid`, async (env) => jws(rsHeader(env, { alg }), (await env.fresh()).claims, alg, env.attacker.rsa));
  }
  add('jwt.alg-substitution', 'ES256 signed by an attacker P-256 key', async (env) => jws(rsHeader(env, { alg: 'ES256' }), (await env.fresh()).claims, 'ES256', env.attacker.ec));
  add('jwt.alg-substitution', 'EdDSA signed by an attacker Ed25519 key', async (env) => jws(rsHeader(env, { alg: 'EdDSA' }), (await env.fresh()).claims, 'EdDSA', env.attacker.ed));
  add('jwt.alg-substitution', 'alg "Ed25519" (fully specified) by an attacker key', async (env) => jws(rsHeader(env, { alg: 'Ed25519' }), (await env.fresh()).claims, 'EdDSA', env.attacker.ed));
  add('jwt.alg-substitution', 'genuine RS256 signature relabelled PS256', async (env) => {
    const f = await env.fresh();
    return `${seg(rsHeader(env, { alg: 'PS256' }))}.${f.payload}.${f.sig}`;
  });

  // --- kid injection --------------------------------------------------------------------------
  const kids: Array<[string, (env: Env) => unknown]> = [
    ['path traversal', () => '../../../../../../etc/passwd'],
    ['path traversal to /dev/null', () => '../../../../../../dev/null'],
    ['SQL-ish', () => "' OR '1'='1' --"],
    ['SQL-ish with a statement', () => "x'; DROP TABLE keys; --"],
    ['very long (4000 chars)', () => 'k'.repeat(4000)],
    ['unknown uuid', () => randomUUID()],
    ['empty', () => ''],
    ['number', () => 0],
    ['array', () => [randomUUID()]],
    ['null', () => null],
    ['issuer kid + NUL', (env) => `${env.issuerJwk.kid}\u0000`],
    ['issuer kid + space', (env) => `${env.issuerJwk.kid} `],
    ['a URL', (env) => `${env.attackerUrl}/jwks.json`],
  ];
  for (const [what, kid] of kids) {
    add('jwt.kid-injection', `kid ${what} (attacker RS256)`, async (env) => jws(rsHeader(env, { kid: kid(env) }), (await env.fresh()).claims, 'RS256', env.attacker.rsa));
  }
  add('jwt.kid-injection', 'kid /dev/null with HS256 and an empty secret', async (env) =>
    jws({ alg: 'HS256', typ: 'JWT', kid: '../../../../../../dev/null' }, (await env.fresh()).claims, 'HS256', ''),
  );

  // --- jku / x5u / x5c: keys from elsewhere -------------------------------------------------
  const certB64 = (env: Env) => env.attacker.foreignCertPem.replace(/-----[^-]+-----|\s/g, '');
  const keyUrl: Array<[string, (env: Env) => Record<string, unknown>, Alg, (env: Env) => import('node:crypto').KeyObject]> = [
    ['jku to an attacker JWKS, attacker kid', (env) => ({ alg: 'RS256', typ: 'JWT', kid: 'attacker-rsa', jku: `${env.attackerUrl}/jwks.json` }), 'RS256', (env) => env.attacker.rsa],
    ['jku to an attacker JWKS, issuer kid', (env) => ({ alg: 'RS256', typ: 'JWT', kid: env.issuerJwk.kid, jku: `${env.attackerUrl}/jwks.json` }), 'RS256', (env) => env.attacker.rsa],
    ['jku without kid', (env) => ({ alg: 'RS256', typ: 'JWT', jku: `${env.attackerUrl}/jwks.json` }), 'RS256', (env) => env.attacker.rsa],
    ['x5u to an attacker certificate', (env) => ({ alg: 'ES256', typ: 'JWT', x5u: `${env.attackerUrl}/cert.pem` }), 'ES256', (env) => env.attacker.foreignKey],
    ['x5c with a foreign CA certificate', (env) => ({ alg: 'ES256', typ: 'JWT', x5c: [certB64(env)] }), 'ES256', (env) => env.attacker.foreignKey],
    ['x5c under the issuer kid', (env) => ({ alg: 'ES256', typ: 'JWT', kid: env.issuerJwk.kid, x5c: [certB64(env)] }), 'ES256', (env) => env.attacker.foreignKey],
    ['jku to a file: URL', (env) => ({ alg: 'RS256', typ: 'JWT', kid: env.issuerJwk.kid, jku: 'file:///etc/passwd' }), 'RS256', (env) => env.attacker.rsa],
  ];
  for (const [what, header, alg, key] of keyUrl) {
    add('jwt.key-url-headers', what, async (env) => jws(header(env), (await env.fresh()).claims, alg, key(env)));
  }

  // --- embedded jwk header (RFC 8725 §3.10 style key confusion) ----------------------------
  add('jwt.embedded-jwk', 'jwk = attacker RSA key, no kid', async (env) => {
    const { kid: _kid, ...jwk } = env.attacker.rsaPublicJwk;
    return jws({ alg: 'RS256', typ: 'JWT', jwk }, (await env.fresh()).claims, 'RS256', env.attacker.rsa);
  });
  add('jwt.embedded-jwk', 'jwk = attacker RSA key under the issuer kid', async (env) =>
    jws({ alg: 'RS256', typ: 'JWT', kid: env.issuerJwk.kid, jwk: { ...env.attacker.rsaPublicJwk, kid: env.issuerJwk.kid } }, (await env.fresh()).claims, 'RS256', env.attacker.rsa),
  );
  add('jwt.embedded-jwk', 'jwk = attacker Ed25519 key with EdDSA', async (env) =>
    jws({ alg: 'EdDSA', typ: 'JWT', jwk: env.attacker.edPublicJwk }, (await env.fresh()).claims, 'EdDSA', env.attacker.ed),
  );
  add('jwt.embedded-jwk', 'jwk = symmetric oct key with HS256', async (env) =>
    jws({ alg: 'HS256', typ: 'JWT', jwk: { kty: 'oct', k: Buffer.from('attacker').toString('base64url') } }, (await env.fresh()).claims, 'HS256', 'attacker'),
  );
  add('jwt.embedded-jwk', "jwk = the issuer's own key, attacker signature", async (env) =>
    jws({ alg: 'RS256', typ: 'JWT', kid: env.issuerJwk.kid, jwk: env.issuerJwk }, (await env.fresh()).claims, 'RS256', env.attacker.rsa),
  );

  // --- crit --------------------------------------------------------------------------------
  const crits: Array<[string, Record<string, unknown>]> = [
    ['crit ["exp"]', { crit: ['exp'], exp: 1 }],
    ['crit ["b64"] with b64 false', { crit: ['b64'], b64: false }],
    ['crit with an unknown extension', { crit: ['x-ztmint-admin'], 'x-ztmint-admin': true }],
    ['crit []', { crit: [] }],
    ['crit as a string', { crit: 'exp' }],
  ];
  for (const [what, extra] of crits) {
    add('jwt.crit', `${what} (attacker RS256 under the issuer kid)`, async (env) => jws(rsHeader(env, extra), (await env.fresh()).claims, 'RS256', env.attacker.rsa));
  }
  add('jwt.crit', 'crit ["b64"] keeping the genuine signature', async (env) => {
    const f = await env.fresh();
    return `${seg(rsHeader(env, { crit: ['b64'], b64: false }))}.${f.payload}.${f.sig}`;
  });

  // --- duplicate JSON keys -----------------------------------------------------------------
  add('jwt.duplicate-keys', 'header {"alg":"none",...,"alg":"RS256"} (attacker key)', async (env) =>
    jws(withDuplicate(rsHeader(env), 'alg', 'none', 'RS256'), (await env.fresh()).claims, 'RS256', env.attacker.rsa),
  );
  add('jwt.duplicate-keys', 'header {"alg":"RS256",...,"alg":"none"}', async (env) => unsigned(withDuplicate(rsHeader(env), 'alg', 'RS256', 'none'), (await env.fresh()).claims));
  add('jwt.duplicate-keys', 'header with two kids (attacker, issuer)', async (env) =>
    jws(withDuplicate(rsHeader(env), 'kid', 'attacker-rsa', env.issuerJwk.kid), (await env.fresh()).claims, 'RS256', env.attacker.rsa),
  );
  const dupPayload: Array<[string, string, (env: Env) => unknown, (env: Env) => unknown]> = [
    ['two "aud" (other, then coordinator)', 'aud', () => 'https://other.example', (env) => env.coordinator],
    ['two "aud" (coordinator, then other)', 'aud', (env) => env.coordinator, () => 'https://other.example'],
    ['two "iss" (foreign, then issuer)', 'iss', () => 'https://token.actions.githubusercontent.com', (env) => env.issuer],
    ['two "repository" (other, then acme/webapp)', 'repository', () => 'acme/other', () => 'acme/webapp'],
    ['two "exp" (past, then future)', 'exp', () => 1, () => Math.floor(Date.now() / 1000) + 300],
  ];
  for (const [what, key, first, last] of dupPayload) {
    add('jwt.duplicate-keys', `payload with ${what}, attacker RS256`, async (env) => {
      const { claims } = await env.fresh();
      return jws(rsHeader(env), withDuplicate(claims, key, first(env), last(env)), 'RS256', env.attacker.rsa);
    });
  }
  add('jwt.duplicate-keys', 'genuine token with "aud" duplicated in the payload, genuine signature', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${seg(withDuplicate(f.claims, 'aud', 'https://other.example', env.coordinator))}.${f.sig}`;
  });

  // --- non-canonical base64url -------------------------------------------------------------
  add('jwt.base64-noncanonical', 'signature with "=" padding', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${f.payload}.${padded(f.sig)}`;
  });
  add('jwt.base64-noncanonical', 'signature with its unused trailing bits set', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${f.payload}.${flipTrailingBits(f.sig)}`;
  });
  add('jwt.base64-noncanonical', 'signature in the standard alphabet (+/)', async (env) => {
    for (let i = 0; i < 20; i++) {
      const f = await env.fresh();
      if (/[-_]/.test(f.sig)) return `${f.header}.${f.payload}.${toStdAlphabet(f.sig)}`;
    }
    throw new Error('no signature with - or _ in 20 tries');
  });
  add('jwt.base64-noncanonical', 'payload with "=" padding', async (env) => {
    for (let i = 0; i < 20; i++) {
      const f = await env.fresh();
      if (f.payload.length % 4) return `${f.header}.${padded(f.payload)}.${f.sig}`;
    }
    throw new Error('no unpadded payload in 20 tries');
  });
  add('jwt.base64-noncanonical', 'payload with its unused trailing bits set', async (env) => {
    for (let i = 0; i < 20; i++) {
      const f = await env.fresh();
      if (f.payload.length % 4 > 1) return `${f.header}.${flipTrailingBits(f.payload)}.${f.sig}`;
    }
    throw new Error('no payload with spare bits in 20 tries');
  });
  add('jwt.base64-noncanonical', 'header padded or with its unused trailing bits set', async (env) => {
    const f = await env.fresh();
    // The issuer's header is fixed; use whichever non-canonical spelling it admits.
    const variant = f.header.length % 4 ? padded(f.header) : `${f.header}=`;
    return `${variant}.${f.payload}.${f.sig}`;
  });
  add('jwt.base64-noncanonical', 'payload in the standard alphabet (+/)', async (env) => {
    for (let i = 0; i < 20; i++) {
      const f = await env.fresh({ workflow: `deploy ${'~'.repeat(i)}?>>` });
      if (/[-_]/.test(f.payload)) return `${f.header}.${toStdAlphabet(f.payload)}.${f.sig}`;
    }
    throw new Error('no payload with - or _ in 20 tries');
  });
  add('jwt.base64-noncanonical', 'signature with a leading zero byte added', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${f.payload}.${Buffer.concat([Buffer.alloc(1), Buffer.from(f.sig, 'base64url')]).toString('base64url')}`;
  });

  // --- oversized segments --------------------------------------------------------------------
  add('jwt.oversized', 'issuer-signed token larger than 8 KiB (padding claim)', (env) => env.idToken({ padding: 'x'.repeat(9000) }));
  add('jwt.oversized', 'forged 12 KiB token', async (env) => jws(rsHeader(env), { ...(await env.fresh()).claims, pad: 'p'.repeat(9_000) }, 'RS256', env.attacker.rsa));
  add('jwt.oversized', 'header segment of 8 KiB', async (env) => jws(rsHeader(env, { x: 'h'.repeat(6000) }), (await env.fresh()).claims, 'RS256', env.attacker.rsa));
  add('jwt.oversized', '6 KiB signature segment', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${f.payload}.${Buffer.alloc(4500, 7).toString('base64url')}`;
  });
  add('jwt.oversized', 'payload of 200 nested arrays', async (env) =>
    jws(rsHeader(env), { ...(await env.fresh()).claims, deep: JSON.parse('['.repeat(200) + ']'.repeat(200)) }, 'RS256', env.attacker.rsa),
  );

  // --- segment count / JWE shapes ----------------------------------------------------------
  const shapes: Array<[string, (f: Awaited<ReturnType<Env['fresh']>>, env: Env) => string]> = [
    ['JWE-shaped, 5 parts', (f, env) => `${seg({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: env.issuerJwk.kid })}.${NOBODY}.${NOBODY.slice(0, 16)}.${f.payload}.${NOBODY.slice(0, 22)}`],
    ['JWE-shaped with alg dir', (f) => `${seg({ alg: 'dir', enc: 'A128CBC-HS256' })}..${NOBODY.slice(0, 22)}.${f.payload}.${NOBODY.slice(0, 22)}`],
    ['4 parts (genuine + extra segment)', (f) => `${f.token}.${f.sig}`],
    ['genuine + trailing dot', (f) => `${f.token}.`],
    ['2 parts (no signature segment)', (f) => `${f.header}.${f.payload}`],
    ['payload only', (f) => f.payload],
    ['only dots', () => '..'],
    ['detached payload (h..s)', (f) => `${f.header}..${f.sig}`],
    ['empty signature', (f) => `${f.header}.${f.payload}.`],
  ];
  for (const [what, make] of shapes) add('jwt.segments', what, async (env) => make(await env.fresh(), env));

  // --- signature transplant / tampering ----------------------------------------------------
  add('jwt.signature-tampering', 'signature of another genuine token', async (env) => {
    const [a, b] = await Promise.all([env.fresh(), env.fresh()]);
    return `${a.header}.${a.payload}.${b.sig}`;
  });
  add('jwt.signature-tampering', 'genuine signature, repository changed in the payload', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${seg({ ...f.claims, repository: 'acme/other' })}.${f.sig}`;
  });
  add('jwt.signature-tampering', 'genuine signature, environment added to the payload', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${seg({ ...f.claims, environment: 'production' })}.${f.sig}`;
  });
  add('jwt.signature-tampering', 'truncated signature', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${f.payload}.${Buffer.from(f.sig, 'base64url').subarray(0, 255).toString('base64url')}`;
  });
  add('jwt.signature-tampering', 'all-zero 256-byte signature', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${f.payload}.${Buffer.alloc(256).toString('base64url')}`;
  });
  add('jwt.signature-tampering', 'signature equal to the modulus', async (env) => {
    const f = await env.fresh();
    return `${f.header}.${f.payload}.${env.issuerJwk.n}`;
  });
  add('jwt.signature-tampering', 'signature doubled (512 bytes)', async (env) => {
    const f = await env.fresh();
    const s = Buffer.from(f.sig, 'base64url');
    return `${f.header}.${f.payload}.${Buffer.concat([s, s]).toString('base64url')}`;
  });
  add('jwt.signature-tampering', 'HS256 signature over the genuine input keyed with the genuine signature', async (env) => {
    const f = await env.fresh();
    const input = `${seg(rsHeader(env, { alg: 'HS256' }))}.${f.payload}`;
    return `${input}.${signature('HS256', input, Buffer.from(f.sig, 'base64url')).toString('base64url')}`;
  });

  return cases;
}
