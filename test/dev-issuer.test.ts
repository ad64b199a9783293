// The dev issuer is a tool for making bad tokens: whatever JSON claim overrides it is given, it
// signs them as given or answers 400 problem+json with a reason, and never 500 (issue 10 item 9).
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, compactVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OVERRIDE_DEPTH, startDevIssuer, type DevIssuer } from '../cli/dev-issuer.js';

const AUDIENCE = 'https://coordinator.example';
let issuer: DevIssuer;

beforeAll(async () => {
  issuer = await startDevIssuer({ audience: () => AUDIENCE });
});
afterAll(async () => {
  await issuer.close();
});

async function post(body: string, contentType = 'application/json') {
  const res = await fetch(`${issuer.url}/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', json: (await res.json()) as Record<string, unknown> };
}

/** The payload exactly as signed (jose's decodeJwt would refuse e.g. a non-numeric exp). */
async function signedPayload(token: string): Promise<Record<string, unknown>> {
  const jwks = (await (await fetch(`${issuer.url}/.well-known/jwks`)).json()) as { keys: JWK[] };
  const key = await importJWK(jwks.keys[0]!, 'RS256');
  const { payload } = await compactVerify(token, key);
  expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
  return JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
}

const nested = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { d: value };
  return value;
};

// [name, JSON body text, the claims the signed payload must hold (JSON-parsed), names it must lack]
const SIGNED: Array<[string, string, Record<string, unknown>, string[]?]> = [
  ['exp as a string', '{"exp":"never"}', { exp: 'never' }],
  ['iat, nbf, exp as strings', '{"iat":"now","nbf":"","exp":"1e9"}', { iat: 'now', nbf: '', exp: '1e9' }],
  ['exp as an object', '{"exp":{"seconds":5}}', { exp: { seconds: 5 } }],
  ['exp as an array', '{"exp":[1,2]}', { exp: [1, 2] }],
  ['exp as a boolean', '{"exp":true}', { exp: true }],
  ['exp as a fraction', '{"exp":1.5}', { exp: 1.5 }],
  ['negative exp', '{"exp":-1}', { exp: -1 }],
  ['huge exp (beyond 2^53)', '{"exp":1e300}', { exp: 1e300 }],
  ['null removes exp', '{"exp":null}', {}, ['exp']],
  ['null removes iat, nbf, aud, iss', '{"iat":null,"nbf":null,"aud":null,"iss":null}', {}, ['iat', 'nbf', 'aud', 'iss']],
  ['null removes sub and repository', '{"sub":null,"repository":null}', {}, ['sub', 'repository']],
  ['aud as an object', '{"aud":{"x":1}}', { aud: { x: 1 } }],
  ['aud as an empty array', '{"aud":[]}', { aud: [] }],
  ['aud as a number', '{"aud":7}', { aud: 7 }],
  ['iss as an array', '{"iss":["a","b"]}', { iss: ['a', 'b'] }],
  ['repository as a number', '{"repository":12}', { repository: 12 }],
  ['repository as an array', '{"repository":["acme/webapp"]}', { repository: ['acme/webapp'] }],
  ['run_id as a number', '{"run_id":12345}', { run_id: 12345 }],
  ['lone high surrogate', '{"workflow_ref":"\\ud800"}', { workflow_ref: '\ud800' }],
  ['lone low surrogate', '{"ref":"refs/heads/\\udc00"}', { ref: 'refs/heads/\udc00' }],
  ['two high surrogates', '{"aud":"x\\ud800\\ud800"}', { aud: 'x\ud800\ud800' }],
  ['surrogate in a claim name', '{"\\ud800":"x"}', { '\ud800': 'x' }],
  ['a valid pair and NUL', '{"actor":"\\ud83d\\ude00\\u0000"}', { actor: '\u{1F600}\u0000' }],
  ['glob metacharacters', '{"repository":"acme/*","ref":"refs/heads/**/[x]?"}', { repository: 'acme/*', ref: 'refs/heads/**/[x]?' }],
  ['an empty object', '{}', {}],
  ['nested objects', JSON.stringify({ environment: nested(MAX_OVERRIDE_DEPTH - 1) }), { environment: nested(MAX_OVERRIDE_DEPTH - 1) }],
  ['unknown claims of every type', '{"a":1,"b":"s","c":[],"d":{},"e":false}', { a: 1, b: 's', c: [], d: {}, e: false }],
];

const REFUSED: Array<[string, string, string?]> = [
  ['a JSON array', '[1,2]'],
  ['a JSON string', '"exp"'],
  ['a JSON number', '42'],
  ['JSON null', 'null'],
  ['not JSON', '{"exp":'],
  ['prototype poisoning', '{"__proto__":{"x":1}}'],
  ['nesting deeper than the limit', JSON.stringify({ environment: nested(MAX_OVERRIDE_DEPTH + 5) })],
  ['nesting deep enough to overflow JSON.stringify', '{"x":' + '['.repeat(30_000) + ']'.repeat(30_000) + '}'],
  ['exp beyond the range of a double (JSON cannot carry Infinity)', '{"exp":1e400}'],
  ['a private claim beyond the range of a double', '{"a":[{"b":-1e999}]}'],
  ['text', 'exp', 'text/plain'],
];

describe('dev issuer: POST /token signs any claim overrides or says why not', () => {
  it.each(SIGNED)('signs %s', async (_name, body, expected, absent = []) => {
    const res = await post(body);
    expect(res.status).toBe(200);
    const payload = await signedPayload(res.json.value as string);
    for (const [claim, value] of Object.entries(expected)) expect(payload[claim]).toStrictEqual(value);
    for (const claim of absent) expect(payload).not.toHaveProperty(claim);
    // Defaults the overrides did not touch are still there.
    const overridden = Object.keys(JSON.parse(body) as object);
    if (!overridden.includes('aud') && !overridden.includes('repository')) expect(payload.aud).toBe(AUDIENCE);
    if (!overridden.includes('jti')) expect(typeof payload.jti).toBe('string');
  });

  it.each(REFUSED)('answers 400 problem+json to %s', async (_name, body, contentType) => {
    const res = await post(body, contentType);
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.json.code).toBe('invalid_request');
    expect(typeof res.json.detail).toBe('string');
  });

  it('answers 415 problem+json to a form body', async () => {
    const res = await post('exp=never', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect(res.json.code).toBe('unsupported_media_type');
  });

  it('still mints a verifiable, well-formed ID token with no overrides', async () => {
    const res = await post('{}');
    const jwks = (await (await fetch(`${issuer.url}/.well-known/jwks`)).json()) as { keys: JWK[] };
    const { payload } = await jwtVerify(res.json.value as string, await importJWK(jwks.keys[0]!, 'RS256'), { issuer: issuer.url, audience: AUDIENCE });
    expect(payload.repository).toBe('acme/webapp');
    expect(decodeJwt(res.json.value as string).sub).toBe('repo:acme/webapp:ref:refs/heads/main');
  });

  it('signs the same overrides through issue() as over HTTP', async () => {
    const payload = await signedPayload(await issuer.issue({ exp: 'never', aud: null, run_id: 7 }));
    expect(payload.exp).toBe('never');
    expect(payload).not.toHaveProperty('aud');
    expect(payload.run_id).toBe(7);
  });
});
