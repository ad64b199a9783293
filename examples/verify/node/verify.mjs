#!/usr/bin/env node
// Relying-party example (Node, jose): verify a ztmint token the way docs/verifying.md says.
//   node verify.mjs <issuer> <audience> <token> [required-scope ...]
// Exits 0 and prints the claims for a genuine token, 1 for any token it refuses, 2 on bad usage.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const LEEWAY_S = 30; // small clock-skew allowance for exp, nbf and iat
const REQUIRED = ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'scope', 'pol'];

async function verify(issuer, audience, token, requiredScopes) {
  // 1. Keys from discovery, never from the token: the issuer's document must name this issuer.
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const discovery = await res.json();
  if (discovery.issuer !== issuer) throw new Error(`discovery names issuer ${JSON.stringify(discovery.issuer)}, not ${JSON.stringify(issuer)}`);
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));

  // 2. Header: EdDSA only (never none, HS*, RS*), typ JWT, a kid to pick the key by.
  const header = decodeProtectedHeader(token);
  if (header.alg !== 'EdDSA') throw new Error(`alg ${JSON.stringify(header.alg)} is not EdDSA`);
  if (typeof header.kid !== 'string' || !header.kid) throw new Error('the header has no kid');

  // 3. Signature, iss, aud, exp/nbf/iat with a small leeway, required claims.
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: ['EdDSA'],
    typ: 'JWT',
    issuer,
    audience,
    clockTolerance: LEEWAY_S,
    requiredClaims: REQUIRED,
  });
  for (const name of ['sub', 'jti', 'scope', 'pol']) {
    if (typeof payload[name] !== 'string') throw new Error(`claim ${name} is not a string`);
  }

  // 4. scope: space-separated scope-tokens; every required scope must be among them.
  const scopes = payload.scope.split(' ').filter(Boolean);
  const missing = requiredScopes.filter((s) => !scopes.includes(s));
  if (missing.length) throw new Error(`missing scope(s): ${missing.join(' ')}`);
  return { ...payload, scopes };
}

const [issuer, audience, token, ...requiredScopes] = process.argv.slice(2);
if (!issuer || !audience || !token) {
  console.error('usage: verify.mjs <issuer> <audience> <token> [required-scope ...]');
  process.exit(2);
}
try {
  console.log(JSON.stringify(await verify(issuer, audience, token, requiredScopes), null, 2));
} catch (err) {
  console.error(`refused: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exit(1);
}
