// Property-based tests of the token builder (protocol/token.ts): for arbitrary OIDC claims and
// decisions, the signing input is two unpadded base64url segments that decode back to exactly
// the header and claims built, the lifetime is the decision's ttl, and only the listed workflow
// claims are copied from the OIDC token, and only when they are non-empty strings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildToken, signingInput, WORKFLOW_CLAIMS, type ClaimInputs, type MintDecision } from '../protocol/token.js';

const RUNS = { numRuns: 500 } as const;
const STANDARD = ['iss', 'sub', 'aud', 'scope', 'iat', 'nbf', 'exp', 'jti', 'pol'];
const B64URL_CANONICAL = /^[A-Za-z0-9_-]+$/;

// Anything a JSON OIDC payload can hold: strings of every kind, numbers, nulls, arrays, objects.
const jsonish = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const workflowClaims = fc.record(Object.fromEntries(WORKFLOW_CLAIMS.map((name) => [name, jsonish])) as Record<(typeof WORKFLOW_CLAIMS)[number], fc.Arbitrary<unknown>>, {
  requiredKeys: [],
});
/** OIDC claims: the workflow claims, the standard ones, and whatever else (incl. __proto__-like keys). */
const oidcClaims: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    workflowClaims,
    fc.record({ sub: jsonish, iss: jsonish, aud: jsonish, jti: jsonish, exp: jsonish, iat: jsonish, scope: jsonish, pol: jsonish }, { requiredKeys: [] }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'ref_type', 'runner_environment', 'admin')), jsonish, { maxKeys: 5 }),
  )
  .map(([w, std, extra]) => {
    // JSON.parse semantics: own properties only, so __proto__ becomes a plain key.
    return JSON.parse(JSON.stringify({ ...extra, ...std, ...w })) as Record<string, unknown>;
  });

const scopeToken = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz:._-*ABCXYZ0123456789!#$%&()+,/;<=>?@[]^`{|}~'), minLength: 1, maxLength: 20 });
const decision: fc.Arbitrary<MintDecision> = fc.record({
  allow: fc.constant(true),
  scopes: fc.uniqueArray(scopeToken, { minLength: 1, maxLength: 6 }),
  ttl: fc.integer({ min: 1, max: 86_400 }),
  audience: fc.string({ unit: 'binary', maxLength: 40 }),
  reasons: fc.constant([] as string[]),
});
const inputs: fc.Arbitrary<ClaimInputs> = fc.record({
  issuer: fc.oneof(fc.webUrl(), fc.string({ unit: 'binary', maxLength: 30 })),
  kid: fc.string({ unit: 'binary', maxLength: 50 }),
  oidcClaims,
  decision,
  policyHash: fc.stringMatching(/^[0-9a-f]{64}$/),
  now: fc.integer({ min: 0, max: 2 ** 40 }),
  jti: fc.uint8Array({ minLength: 16, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url')),
});

function decode(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

describe('token builder (protocol/token.ts)', () => {
  it('signing input: two canonical, unpadded base64url segments that decode back to the header and claims', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const { header, claims } = buildToken(input);
        const message = signingInput(header, claims);
        const parts = message.split('.');
        expect(parts).toHaveLength(2);
        for (const part of parts) {
          expect(part).toMatch(B64URL_CANONICAL); // no '=', no '+' or '/'
          expect(Buffer.from(part, 'base64url').toString('base64url')).toBe(part); // no stray trailing bits
        }
        expect(decode(parts[0]!)).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: input.kid });
        expect(Object.keys(decode(parts[0]!) as object)).toEqual(['alg', 'typ', 'kid']);
        expect(decode(parts[1]!)).toEqual(claims);
      }),
      RUNS,
    );
  });

  it('lifetime: iat = nbf = now, exp - iat = ttl; iss, aud, jti, pol from the inputs, sub from the OIDC token', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const { header, claims } = buildToken(input);
        const payload = decode(signingInput(header, claims).split('.')[1]!) as Record<string, unknown>;
        expect(payload.iat).toBe(input.now);
        expect(payload.nbf).toBe(input.now);
        expect((payload.exp as number) - (payload.iat as number)).toBe(input.decision.ttl);
        expect(payload.iss).toBe(input.issuer);
        expect(payload.aud).toBe(input.decision.audience);
        expect(payload.jti).toBe(input.jti);
        expect(payload.pol).toBe(input.policyHash);
        const sub = input.oidcClaims.sub;
        expect(payload.sub).toBe(typeof sub === 'string' ? sub : (JSON.stringify(sub) ?? ''));
      }),
      RUNS,
    );
  });

  it('scope is the granted scopes joined by single spaces, and splits back to them', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const { claims } = buildToken(input);
        expect(claims.scope).toBe(input.decision.scopes.join(' '));
        expect(claims.scope.split(' ')).toEqual(input.decision.scopes);
      }),
      RUNS,
    );
  });

  it('copies only the listed workflow claims, only when they are non-empty strings, and nothing else', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const { claims } = buildToken(input);
        for (const name of WORKFLOW_CLAIMS) {
          const value = input.oidcClaims[name];
          if (typeof value === 'string' && value !== '') expect(claims[name], name).toBe(value);
          else expect(Object.hasOwn(claims, name), name).toBe(false);
        }
        // Nothing else from the OIDC token (its iss/aud/jti/exp/scope/pol, ref_type, __proto__...) is copied.
        for (const key of Object.keys(claims)) expect([...STANDARD, ...WORKFLOW_CLAIMS]).toContain(key);
        expect(Object.getPrototypeOf(claims)).toBe(Object.prototype);
      }),
      RUNS,
    );
  });

  it('is deterministic: the same inputs give byte-identical signing inputs', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const a = buildToken(input);
        const b = buildToken(structuredClone(input));
        expect(signingInput(b.header, b.claims)).toBe(signingInput(a.header, a.claims));
      }),
      RUNS,
    );
  });
});
