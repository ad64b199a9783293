// Real GitHub-issued ID tokens (test/vectors/github-oidc/, see test/vectors/SOURCES.md) through the
// coordinator's verifier, with the saved JWKS served over HTTP so the undici fetch path runs.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_ISSUER, OidcVerifier } from '../oidc/verifier.js';
import { ProblemError } from '../protocol/problem.js';

const DIR = new URL('vectors/github-oidc/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DIR), 'utf8').trim();
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

const server = Fastify();
let base = '';
let fetches = 0;
beforeAll(async () => {
  server.get('/counted-jwks.json', async () => (fetches++, JSON.parse(read('jwks.json'))));
  server.get('/jwks.json', async () => JSON.parse(read('jwks.json')));
  server.get('/jwks-2022.json', async () => JSON.parse(read('jwks-2022.json')));
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => server.close());

function verifierFor(token: string, jwks: string, clock?: number) {
  const claims = claimsOf(token);
  return new OidcVerifier({
    issuers: [{ issuer: GITHUB_ISSUER, jwksUri: `${base}/${jwks}` }],
    audience: claims.aud,
    ...(clock === undefined ? {} : { now: () => clock }),
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(ProblemError);
    return `${(err as ProblemError).code}: ${(err as ProblemError).message}`;
  }
}

const CASES = [
  ['token-2025-03-29-rgl.jwt', 'jwks.json'],
  ['token-2026-04-22-marchenko1985.jwt', 'jwks.json'],
  ['token-2023-01-23-flask-oidc.jwt', 'jwks-2022.json'],
  ['token-2022-08-05-step-security.jwt', 'jwks-2022.json'],
] as const;

describe('real GitHub Actions ID tokens', () => {
  it.each(CASES)('%s verifies against %s with the clock just after its iat', async (file, jwks) => {
    const token = read(file);
    const claims = claimsOf(token);
    const verified = await verifierFor(token, jwks, (claims.iat + 60) * 1000).verify(token);
    expect(verified).toMatchObject({ iss: GITHUB_ISSUER, repository: claims.repository, sub: claims.sub });
  });

  it.each(CASES)('%s fails as expired under the real clock', async (file, jwks) => {
    const token = read(file);
    expect(await codeOf(verifierFor(token, jwks).verify(token))).toMatch(/^invalid_token: OIDC token has expired/);
  });

  it('fails the BAD-SIGNATURE token', async () => {
    const token = read('token-2023-01-23-flask-oidc-BAD-SIGNATURE.jwt');
    const clock = (claimsOf(token).iat + 60) * 1000;
    // Its last character was changed upstream, which also leaves non-canonical trailing bits:
    // refused before the RSA check; with those bits cleared the RSA check refuses it.
    expect(await codeOf(verifierFor(token, 'jwks-2022.json', clock).verify(token))).toMatch(/^invalid_token: OIDC token is not a canonical compact JWS/);
    const [h, p, s] = token.split('.');
    const canonical = Buffer.from(s!, 'base64url').toString('base64url');
    expect(await codeOf(verifierFor(token, 'jwks-2022.json', clock).verify(`${h}.${p}.${canonical}`))).toMatch(/signature is invalid/);
  });

  it('fails a token whose key is not in the JWKS (rotated out)', async () => {
    const token = read('token-2023-01-23-flask-oidc.jwt');
    const clock = (claimsOf(token).iat + 60) * 1000;
    expect(await codeOf(verifierFor(token, 'jwks.json', clock).verify(token))).toMatch(/key the issuer does not publish/);
  });

  it('fails when the audience is not the configured one, and accepts each jti once', async () => {
    const token = read('token-2025-03-29-rgl.jwt');
    const clock = (claimsOf(token).iat + 60) * 1000;
    const wrongAud = new OidcVerifier({ issuers: [{ issuer: GITHUB_ISSUER, jwksUri: `${base}/jwks.json` }], audience: 'https://ztmint.example', now: () => clock });
    expect(await codeOf(wrongAud.verify(token))).toMatch(/audience/);
    const verifier = verifierFor(token, 'jwks.json', clock);
    expect(await codeOf(verifier.verify(token))).toBe('ok');
    expect(await codeOf(verifier.verify(token))).toMatch(/^token_replayed/);
  });

  it('does not trust github.com tokens when only a GHES issuer is configured', async () => {
    const token = read('token-2025-03-29-rgl.jwt');
    const ghes = new OidcVerifier({
      issuers: [{ issuer: 'https://ghe.example.com/_services/token', jwksUri: `${base}/jwks.json` }],
      audience: claimsOf(token).aud,
      now: () => (claimsOf(token).iat + 60) * 1000,
    });
    expect(await codeOf(ghes.verify(token))).toMatch(/issuer this coordinator does not trust/);
  });

  it('refreshes the JWKS on an unknown kid at most once per cooldown, so a flood cannot hammer the issuer', async () => {
    const token = read('token-2025-03-29-rgl.jwt');
    const [, payload, signature] = token.split('.');
    const clock = (claimsOf(token).iat + 60) * 1000;
    const verifier = new OidcVerifier({ issuers: [{ issuer: GITHUB_ISSUER, jwksUri: `${base}/counted-jwks.json` }], audience: claimsOf(token).aud, now: () => clock });
    for (let i = 0; i < 50; i++) {
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: `unknown-${i}`, typ: 'JWT' })).toString('base64url');
      expect(await codeOf(verifier.verify(`${header}.${payload}.${signature}`))).toMatch(/^invalid_token/);
    }
    expect(fetches).toBe(2); // the first load, and one refresh for the first unknown kid
  });
});
