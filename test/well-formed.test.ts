// Policy input is well-formed Unicode before evaluation, by one shared function, in the
// coordinator and in every signer (issue 10 item 10): unpaired surrogates become U+FFFD as in
// OPA's own JSON decoder. The differential test against the OPA CLI is policy-differential.e2e.test.ts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_DATA, DEFAULT_POLICY_WASM } from '../cli/paths.js';
import { startDevIssuer, type DevIssuer } from '../cli/dev-issuer.js';
import { OidcVerifier } from '../oidc/verifier.js';
import { loadPolicyFiles, type LoadedPolicy } from '../policy-engine/evaluate.js';
import { PolicyHolder } from '../policy-engine/holder.js';
import { toWellFormedJson, wellFormedPolicyInput } from '../policy-engine/well-formed.js';
import { buildToken, signingInput } from '../protocol/token.js';
import { MintChecker } from '../signers/mint-check.js';

const R = '\ufffd';

describe('toWellFormedJson', () => {
  it.each([
    ['\ud800', R],
    ['\udc00', R],
    ['x\ud800\ud800', `x${R}${R}`],
    ['\udc00\ud800', `${R}${R}`],
    ['\ud83d\ude00', '\u{1F600}'],
    ['a\ud83d\ude00\ud83d', `a\u{1F600}${R}`],
    ['plain ascii', 'plain ascii'],
    ['', ''],
    ['\u0000\uffff\ufffd', '\u0000\uffff\ufffd'],
  ])('replaces each unpaired surrogate of %j with U+FFFD', (input, expected) => {
    expect(toWellFormedJson(input)).toBe(expected);
    expect(toWellFormedJson({ deep: [{ s: input }] })).toStrictEqual({ deep: [{ s: expected }] });
  });

  it('normalises object keys, keeps non-strings, and does not modify its input', () => {
    const input = { '\ud800': 1, n: 2.5, b: false, z: null, a: [1, '\udfff', { k: '\ud800' }] };
    const copy = structuredClone(input);
    expect(toWellFormedJson(input)).toStrictEqual({ [R]: 1, n: 2.5, b: false, z: null, a: [1, R, { k: R }] });
    expect(input).toStrictEqual(copy);
  });

  it('keeps the last value when keys become equal, as Go (OPA) does', () => {
    expect(toWellFormedJson(JSON.parse('{"\\ud800":1,"\\udc00":2}'))).toStrictEqual({ [R]: 2 });
  });

  it('keeps a "__proto__" key as data, never as a prototype', () => {
    const out = toWellFormedJson(JSON.parse('{"__proto__":{"polluted":"\\ud800"}}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual({ polluted: R });
  });

  it('is idempotent', () => {
    const once = toWellFormedJson({ a: 'x\ud800', b: ['\udc00y'] });
    expect(toWellFormedJson(once)).toStrictEqual(once);
  });
});

const CLAIMS = {
  sub: 'repo:acme/webapp:ref:refs/heads/main',
  repository: 'acme/webapp',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  run_id: '1',
};

describe('the compiled policy (opa-wasm) on ill-formed input', () => {
  let policy: LoadedPolicy;
  beforeAll(async () => {
    policy = await loadPolicyFiles(DEFAULT_POLICY_WASM, DEFAULT_POLICY_DATA);
  });

  it('evaluates a lone surrogate in a claim as U+FFFD instead of failing', () => {
    const decision = policy.evaluate({ ...CLAIMS, workflow_ref: '\ud800' }, { scopes: ['deploy:canary'] });
    expect(decision).toMatchObject({ allow: true, scopes: ['deploy:canary'] });
  });

  it('sees "x\\ud800\\ud800" as two U+FFFD, as OPA does (opa-wasm alone read one wrong character)', () => {
    const decision = policy.evaluate(CLAIMS, { scopes: ['deploy:canary'], audience: 'x\ud800\ud800' });
    expect(decision.allow).toBe(false);
    expect(decision.reasons).toEqual([`audience "x${R}${R}" is not allowed`]);
    expect(decision.audience).toBe(`x${R}${R}`);
  });

  it('matches a grant on the normalised claim', () => {
    const denied = policy.evaluate({ ...CLAIMS, repository: 'acme/webapp\udc00' }, { scopes: ['deploy:canary'] });
    expect(denied.allow).toBe(false);
    expect(denied.reasons.join('\n')).toContain(`repository "acme/webapp${R}"`);
  });
});

describe('coordinator and signer normalise alike (MintChecker)', () => {
  const AUD = 'https://coordinator.example';
  let issuer: DevIssuer;
  let checker: MintChecker;
  let holder: PolicyHolder;
  let oidc: OidcVerifier;

  beforeAll(async () => {
    issuer = await startDevIssuer({ audience: () => AUD });
    holder = await PolicyHolder.load(DEFAULT_POLICY_WASM, DEFAULT_POLICY_DATA);
    oidc = new OidcVerifier({ issuers: [{ issuer: issuer.url }], audience: AUD, usesPerJti: 10 });
    checker = new MintChecker({ tokenIssuer: AUD, kid: 'k1', oidc, policy: holder });
  });
  afterAll(async () => {
    await issuer.close();
  });

  /** What the coordinator's mint route builds, through the same shared function. */
  async function coordinatorMessage(token: string, request: { scopes: string[]; audience?: string }) {
    const verified = await new OidcVerifier({ issuers: [{ issuer: issuer.url }], audience: AUD }).verify(token);
    const input = wellFormedPolicyInput(verified, request);
    const decision = holder.current.evaluate(input.claims, input.request);
    expect(decision.allow).toBe(true);
    const now = Math.floor(Date.now() / 1000);
    const { header, claims } = buildToken({
      issuer: AUD,
      kid: 'k1',
      oidcClaims: input.claims,
      decision,
      policyHash: holder.current.hash,
      now,
      jti: randomBytes(16).toString('base64url'),
    });
    return { message: signingInput(header, claims), claims, now };
  }

  it('a signer accepts the token the coordinator builds from claims with unpaired surrogates', async () => {
    const token = await issuer.issue({ workflow_ref: 'acme/webapp/.github/workflows/\ud800.yml', actor: 'octo\udc00cat' });
    const { message, claims, now } = await coordinatorMessage(token, { scopes: ['deploy:canary'] });
    expect(claims.workflow_ref).toBe(`acme/webapp/.github/workflows/${R}.yml`);
    expect(claims.actor).toBe(`octo${R}cat`);
    // The signing input is valid UTF-8 JSON with no escaped surrogate left in it.
    const payload = Buffer.from(message.split('.')[1]!, 'base64url').toString('utf8');
    expect(payload).not.toMatch(/\\ud[89a-f]/i);
    await expect(checker.check(message, { oidc_token: token, request: { scopes: ['deploy:canary'] } }, now)).resolves.toMatchObject({ exp: claims.exp });
  });

  it('a signer refuses a token that carries the raw (unnormalised) claims', async () => {
    const token = await issuer.issue({ actor: 'octo\udc00cat' });
    const verified = await new OidcVerifier({ issuers: [{ issuer: issuer.url }], audience: AUD }).verify(token);
    const decision = holder.current.evaluate(verified, { scopes: ['deploy:canary'] });
    const now = Math.floor(Date.now() / 1000);
    const { header, claims } = buildToken({
      issuer: AUD,
      kid: 'k1',
      oidcClaims: verified, // not normalised: the payload would carry "\udc00"
      decision,
      policyHash: holder.current.hash,
      now,
      jti: randomBytes(16).toString('base64url'),
    });
    await expect(checker.check(signingInput(header, claims), { oidc_token: token, request: { scopes: ['deploy:canary'] } }, now)).rejects.toThrow(/actor/);
  });
});
