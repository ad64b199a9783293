// Property-based tests of the policy evaluator (the compiled Rego in policies/wasm/mint.wasm,
// through protocol/policy-eval.ts), against policies/data.json and against generated policy data.
// An independent model of docs/policy.md's rules (exact or one-segment glob matches, every
// requested scope defined and granted by a matching grant, ttl under every cap, audience listed,
// pull_request_target only for grants that name it, `require`) is the oracle.
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyFiles, type LoadedPolicy } from '../policy-engine/evaluate.js';
import type { MintDecision } from '../protocol/token.js';

const WASM = new URL('../policies/wasm/mint.wasm', import.meta.url).pathname;
const DATA = new URL('../policies/data.json', import.meta.url).pathname;
const RUNS = { numRuns: 400 } as const;

interface Grant {
  name?: string;
  match: Record<string, string>;
  scopes: string[];
  max_ttl?: number;
}
interface PolicyData {
  ttl: { default: number; max: number };
  scopes: string[];
  audiences: string[];
  grants: Grant[];
  require?: Record<string, string>;
}
interface Request {
  scopes: string[];
  ttl?: number;
  audience?: string;
}

// --- the model -------------------------------------------------------------------------------

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `*` matches any run of characters within one `/`-separated segment; nothing else is special. */
function globMatches(want: string, have: string): boolean {
  if (!want.includes('*')) return want === have;
  const ws = want.split('/');
  const hs = have.split('/');
  if (ws.length !== hs.length) return false;
  return ws.every((w, i) => {
    const h = hs[i]!;
    if (!w.includes('*')) return w === h;
    return new RegExp(`^${w.split('*').map(escapeRe).join('[\\s\\S]*')}$`).test(h);
  });
}

function claimMatches(claims: Record<string, unknown>, key: string, want: unknown): boolean {
  const have = claims[key];
  return typeof want === 'string' && typeof have === 'string' && globMatches(want, have);
}

function grantMatches(claims: Record<string, unknown>, grant: Grant): boolean {
  const conditions = Object.entries(grant.match ?? {});
  if (conditions.length === 0) return false;
  if (!conditions.every(([k, v]) => claimMatches(claims, k, v))) return false;
  // pull_request_target only under a grant that names it exactly.
  return !(claims.event_name === 'pull_request_target' && grant.match.event_name !== 'pull_request_target');
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

interface Expected {
  allow: boolean;
  scopes: string[];
  ttl: number;
  audience: string;
  /** The caps the ttl must respect: ttl.max and the max_ttl of every grant used. */
  caps: number[];
}

/** The decision docs/policy.md describes, for a well-formed request. */
function model(data: PolicyData, claims: Record<string, unknown>, request: Request): Expected {
  const requested = [...new Set(request.scopes)];
  const matching = data.grants.filter((g) => grantMatches(claims, g));
  const used = matching.filter((g) => requested.some((s) => g.scopes.includes(s)));
  const caps = [data.ttl.max, ...used.map((g) => g.max_ttl).filter((t): t is number => Number.isInteger(t) && t! > 0)];
  const ttl = request.ttl ?? Math.min(data.ttl.default, ...caps);
  const audience = request.audience ?? (typeof data.audiences[0] === 'string' ? data.audiences[0] : '');
  const allow =
    requested.every((s) => data.scopes.includes(s) && matching.some((g) => g.scopes.includes(s))) &&
    caps.every((cap) => ttl <= cap) &&
    (request.audience === undefined ? data.audiences.length > 0 : data.audiences.includes(request.audience)) &&
    Object.entries(data.require ?? {}).every(([k, v]) => claimMatches(claims, k, v));
  return { allow, scopes: allow ? requested.sort(byteOrder) : [], ttl, audience, caps };
}

// --- arbitraries ------------------------------------------------------------------------------

const REPOS = ['acme/webapp', 'acme/other', 'acme/webapp2', 'ACME/webapp', 'acme/*', 'acme/[w]ebapp', 'acme/webap?', '*', 'acme/webapp/x', '', '\u0430cme/webapp', 'acme/webapp '];
const REFS = ['refs/heads/main', 'refs/heads/feature', 'refs/tags/v1', 'refs/heads/*', 'refs/heads/main/x', 'refs/heads/mai?'];
const ENVS = ['production', 'Production', 'staging', '*', 'prod*'];
const WORKFLOWS = [
  'acme/webapp/.github/workflows/deploy.yml@refs/heads/main',
  'acme/webapp/.github/workflows/deploy.yml@refs/heads/feature',
  'acme/other/.github/workflows/deploy.yml@refs/heads/main',
  'acme/webapp/.github/workflows/*.yml@refs/heads/main',
];
const EVENTS = ['push', 'pull_request', 'pull_request_target', 'workflow_dispatch', 'Pull_request_target'];
const SCOPES = ['read:logs', 'write:staging', 'deploy:canary', 'deploy:prod', 'deploy:*', '*', 'Deploy:canary', 'admin', 'read:logs ', 'deploy:canar?'];
const AUDIENCES = ['https://deploy.example', 'https://deploy.example/', 'https://other.example', '*', ''];

const odd = fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }));
const claimValue = (pool: string[]) =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...pool) }, { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) }, { weight: 1, arbitrary: odd });

const claimsArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    repository: claimValue(REPOS),
    repository_owner: claimValue(['acme', 'ACME', 'other', '*']),
    ref: claimValue(REFS),
    environment: claimValue(ENVS),
    job_workflow_ref: claimValue(WORKFLOWS),
    workflow_ref: claimValue(WORKFLOWS),
    event_name: claimValue(EVENTS),
    sub: claimValue(['repo:acme/webapp:ref:refs/heads/main', 'repo:acme/webapp:environment:production']),
    actor: claimValue(['octocat', 'dependabot[bot]']),
  },
  { requiredKeys: [] },
);

const scopeArb = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...SCOPES) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }) });
const TTLS = [1, 899, 900, 901, 1800, 1801, 3600, 3601, 86_400];
const hostileRequest: fc.Arbitrary<Request> = fc.record(
  {
    scopes: fc.uniqueArray(scopeArb, { minLength: 1, maxLength: 5 }),
    ttl: fc.oneof(fc.integer({ min: 1, max: 7200 }), fc.constantFrom(...TTLS)),
    audience: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...AUDIENCES) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) }),
  },
  { requiredKeys: ['scopes'] },
);
/** Requests close to what data.json grants, so that both allow and deny are well covered. */
const plausibleRequest: fc.Arbitrary<Request> = fc.record(
  {
    scopes: fc.shuffledSubarray(['read:logs', 'deploy:canary', 'deploy:prod', 'write:staging'], { minLength: 1 }),
    ttl: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.constantFrom(...TTLS)),
    audience: fc.constantFrom('https://deploy.example', 'https://deploy.example', 'https://other.example'),
  },
  { requiredKeys: ['scopes'] },
);
const requestArb: fc.Arbitrary<Request> = fc.oneof(hostileRequest, plausibleRequest);

/** Plausible claims: mostly the demo workflow's, with one or two fields changed. */
const nearMiss: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(claimsArb, fc.subarray(['repository', 'repository_owner', 'ref', 'environment', 'job_workflow_ref', 'event_name'], { maxLength: 2 }))
  .map(([random, keep]) => {
    const base: Record<string, unknown> = {
      repository: 'acme/webapp',
      repository_owner: 'acme',
      ref: 'refs/heads/main',
      environment: 'production',
      job_workflow_ref: WORKFLOWS[0],
      event_name: 'push',
    };
    for (const k of keep) if (k in random) base[k] = random[k];
    return base;
  });
const someClaims = fc.oneof(claimsArb, nearMiss);

const HOSTILE_PATTERNS = ['acme/[w]ebapp', 'acme/webap?', 'acme/{webapp,other}', 'acme\\/webapp', 'acme/*/x', 'acme/**', '*app', ''];
/** Per-claim patterns: mostly ones the demo-like claims can meet (exact or glob), some hostile. */
const pattern = (friendly: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...friendly) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_PATTERNS) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }) },
  );
const matchArb = fc.record(
  {
    repository: pattern(['acme/webapp', 'acme/*', '*/webapp', 'acme/web*', '*', 'acme/other']),
    repository_owner: pattern(['acme', '*', 'ACME']),
    ref: pattern(['refs/heads/main', 'refs/heads/*', 'refs/*/main', 'refs/tags/*']),
    environment: pattern(['production', 'prod*', '*', 'staging']),
    job_workflow_ref: pattern([WORKFLOWS[0]!, 'acme/webapp/.github/workflows/*@refs/heads/main', 'acme/*/.github/workflows/deploy.yml@refs/heads/main']),
    event_name: pattern(['push', 'pull_request_target', '*']),
  },
  { requiredKeys: [] },
);
const grantArb: fc.Arbitrary<Grant> = fc.record(
  {
    name: fc.string({ minLength: 1, maxLength: 8 }),
    match: matchArb as fc.Arbitrary<Record<string, string>>,
    scopes: fc.subarray(['read:logs', 'write:staging', 'deploy:canary', 'deploy:prod', 'admin', '*'], { minLength: 1 }),
    max_ttl: fc.integer({ min: 1, max: 5000 }),
  },
  { requiredKeys: ['match', 'scopes'] },
);
const dataArb: fc.Arbitrary<PolicyData> = fc
  .record(
    {
      ttlDefault: fc.integer({ min: 1, max: 4000 }),
      ttlMax: fc.integer({ min: 1, max: 4000 }),
      scopes: fc.subarray(['read:logs', 'write:staging', 'deploy:canary', 'deploy:prod', 'deploy:*', 'admin'], { minLength: 2 }),
      audiences: fc.oneof(fc.constant(['https://deploy.example']), fc.subarray(['https://deploy.example', 'https://other.example', '*'])) as fc.Arbitrary<string[]>,
      grants: fc.array(grantArb, { minLength: 1, maxLength: 4 }),
      require: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.record(
            { repository: fc.constantFrom('acme/*', 'acme/webapp', 'nope/*'), ref: fc.constantFrom('refs/heads/*', 'refs/tags/*'), event_name: fc.constantFrom('push', '*') },
            { requiredKeys: [] },
          ),
        },
      ),
    },
    { requiredKeys: ['ttlDefault', 'ttlMax', 'scopes', 'audiences', 'grants'] },
  )
  .map(({ ttlDefault, ttlMax, require, ...rest }): PolicyData => ({ ttl: { default: ttlDefault, max: ttlMax }, ...rest, ...(require ? { require: require as Record<string, string> } : {}) }));

/**
 * Inputs built to satisfy one grant of `d`: claims meeting its conditions (each `*` filled with a
 * slash-free string) and a request for some of its scopes, so that allows are common and every
 * allow condition is exercised near its boundary (ttl around the caps, audience listed or not).
 */
function nearAllowFor(d: PolicyData): fc.Arbitrary<[Record<string, unknown>, Request]> {
  const fill = fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', '*', '?'), maxLength: 3 });
  return fc.constantFrom(...d.grants).chain((grant) => {
    const inPolicy = grant.scopes.filter((sc) => d.scopes.includes(sc));
    const pool = inPolicy.length ? inPolicy : grant.scopes;
    const cap = Math.min(d.ttl.max, grant.max_ttl ?? Infinity);
    const claims = fc.tuple(fc.array(fill, { minLength: 16, maxLength: 16 }), nearMiss).map(([fills, base]) => {
      const c: Record<string, unknown> = { ...base };
      let f = 0;
      for (const [k, want] of Object.entries(grant.match)) c[k] = want.split('*').reduce((acc, part) => `${acc}${fills[f++ % fills.length]}${part}`);
      return c;
    });
    const request = fc.record(
      {
        scopes: fc.oneof(
          { weight: 4, arbitrary: fc.shuffledSubarray(pool, { minLength: 1 }) },
          { weight: 1, arbitrary: fc.shuffledSubarray([...new Set([...pool, 'deploy:prod', 'admin'])], { minLength: 1 }) },
        ),
        ttl: fc.oneof(
          fc.constantFrom(1, cap - 1, cap, cap + 1).filter((t) => t >= 1),
          fc.integer({ min: 1, max: 4000 }),
        ),
        audience: fc.constantFrom(...d.audiences, 'https://other.example'),
      },
      { requiredKeys: ['scopes'] },
    );
    return fc.tuple(claims, request);
  });
}

const dataWithInputs = dataArb.chain((d) => fc.tuple(fc.constant(d), fc.array(fc.oneof(fc.tuple(someClaims, requestArb), nearAllowFor(d), nearAllowFor(d)), { minLength: 1, maxLength: 12 })));

// --- checks ----------------------------------------------------------------------------------

/**
 * FIXED (the policy bounds request.ttl; format_int only sees formattable numbers): in the compiled (wasm) policy, a glob
 * pattern containing `(`, `)` or `$` does not match literally as it does under `opa eval` / `opa
 * test` (Go): opa-wasm's glob.match turns the pattern into a regular expression without escaping
 * them, and mint.rego's glob_escape does not escape them either. `x(y)*` matches "xy" but not
 * "x(y)" (fail-open: a grant matches values its author did not list); `a$*` matches nothing.
 */
const GLOB_BUG = 'wasm policy: glob patterns containing ( ) or $ are not literal (x(y)* matches "xy", not "x(y)"; a$* matches nothing), unlike opa eval';
const GLOB_ALPHABET = ['a', 'b', '*', '?', '(', ')', '$', '[', ']', '{', '}', ',', '\\', '.', '-', '+', '^', '|', '!', '#', '%', '&', "'", '"', ';', ':', '<', '>', '=', '@', '`', '~', ' ', 'é'];

/**
 * FIXED (the policy bounds request.ttl; format_int only sees formattable numbers): the compiled policy throws the string
 * "strings: get uint failed" instead of returning a decision when request.ttl is an integer
 * >= 2^31 (the ttl reasons call format_int on it). /v1/mint's schema caps ttl at 86400, but the
 * signers' round-2 schema does not (`ttl: {type: integer, minimum: 1}`), so a signer that
 * evaluates the context's request (signers/mint-check.ts) gets an exception, not a denial.
 */
const FORMAT_INT_BUG = 'policy evaluate() throws "strings: get uint failed" for an integer request.ttl >= 2^31 instead of denying';

function expectWellFormed(d: MintDecision): void {
  expect(typeof d.allow).toBe('boolean');
  expect(Array.isArray(d.scopes) && d.scopes.every((s) => typeof s === 'string')).toBe(true);
  expect(Number.isInteger(d.ttl)).toBe(true);
  expect(typeof d.audience).toBe('string');
  expect(Array.isArray(d.reasons) && d.reasons.every((r) => typeof r === 'string')).toBe(true);
  if (d.allow) {
    expect(d.reasons).toEqual([]);
    expect(d.scopes.length).toBeGreaterThan(0);
    expect(d.ttl).toBeGreaterThan(0);
  } else {
    expect(d.reasons.length).toBeGreaterThan(0);
    expect(d.scopes).toEqual([]);
  }
}

/** Evaluator vs. model, plus the allow-implies conditions stated directly. */
function expectAgreesWithModel(data: PolicyData, claims: Record<string, unknown>, request: Request, d: MintDecision): void {
  expectWellFormed(d);
  const want = model(data, claims, request);
  expect({ allow: d.allow, scopes: d.scopes }, JSON.stringify({ claims, request, reasons: d.reasons })).toEqual({ allow: want.allow, scopes: want.scopes });
  if (!d.allow) return;
  expect(d.ttl).toBe(want.ttl);
  expect(d.audience).toBe(want.audience);
  for (const s of request.scopes) {
    expect(data.scopes).toContain(s);
    expect(data.grants.some((g) => grantMatches(claims, g) && g.scopes.includes(s))).toBe(true);
  }
  for (const cap of want.caps) expect(d.ttl).toBeLessThanOrEqual(cap);
  expect(data.audiences).toContain(d.audience);
  expect([...d.scopes].sort(byteOrder)).toEqual(d.scopes);
}

// --- the properties --------------------------------------------------------------------------

let policy: LoadedPolicy;
let data: PolicyData;
let dir: string;

beforeAll(async () => {
  policy = await loadPolicyFiles(WASM, DATA);
  data = JSON.parse(await readFile(DATA, 'utf8')) as PolicyData;
  dir = await mkdtemp(join(tmpdir(), 'ztmint-policy-prop-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('policy evaluator (policies/data.json)', () => {
  it('always returns a well-formed decision, whatever the input (deny has reasons)', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), fc.anything({ maxDepth: 3 }), (claims, request) => {
        expectWellFormed(policy.evaluate(claims as Record<string, unknown>, request as Request));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        someClaims,
        fc.record({ scopes: fc.anything({ maxDepth: 2 }), ttl: fc.anything({ maxDepth: 1 }), audience: fc.anything({ maxDepth: 1 }) }, { requiredKeys: [] }),
        (claims, request) => {
          expectWellFormed(policy.evaluate(claims, request as never));
        },
      ),
      RUNS,
    );
  });

  it(`regression: ${FORMAT_INT_BUG}`, () => {
    // Was: loadPolicyFiles(mint.wasm, data.json).evaluate({}, { scopes: ['deploy:canary'], ttl: 2 ** 31 }) threw
    for (const ttl of [2 ** 31, 2 ** 32, 1e15]) expectWellFormed(policy.evaluate({ repository: 'acme/webapp', ref: 'refs/heads/main' }, { scopes: ['deploy:canary'], ttl }));
  });

  it('allows exactly what the rules allow: defined scopes granted by matching grants, ttl under every cap, listed audience', () => {
    const seen = { allow: 0, deny: 0 };
    fc.assert(
      fc.property(someClaims, requestArb, (claims, request) => {
        const d = policy.evaluate(claims, request);
        expectAgreesWithModel(data, claims, request, d);
        seen[d.allow ? 'allow' : 'deny']++;
      }),
      { numRuns: 1000 },
    );
    // Not vacuous: both outcomes were exercised (counts include shrinking, if any).
    expect(seen.allow).toBeGreaterThan(20);
    expect(seen.deny).toBeGreaterThan(20);
  });

  it('allows the demo workflow what data.json grants it (the generators do reach allow)', () => {
    const demo = { repository: 'acme/webapp', ref: 'refs/heads/main', environment: 'production', job_workflow_ref: WORKFLOWS[0], event_name: 'push' };
    expect(policy.evaluate(demo, { scopes: ['deploy:prod', 'deploy:canary', 'read:logs'] })).toMatchObject({ allow: true, ttl: 900 });
    let allowed = 0;
    fc.assert(
      fc.property(nearMiss, requestArb, (claims, request) => {
        if (policy.evaluate(claims, request).allow) allowed++;
      }),
      RUNS,
    );
    expect(allowed).toBeGreaterThan(0);
  });

  it('does not depend on the order of the requested scopes', () => {
    fc.assert(
      fc.property(someClaims, requestArb, fc.infiniteStream(fc.nat()), (claims, request, seeds) => {
        const shuffled = [...request.scopes];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = seeds.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        expect(policy.evaluate(claims, { ...request, scopes: shuffled })).toEqual(policy.evaluate(claims, request));
      }),
      RUNS,
    );
  });

  it('never turns an allow into a deny by asking for fewer scopes', () => {
    fc.assert(
      fc.property(nearMiss, requestArb, fc.nat(), (claims, request, pick) => {
        if (!policy.evaluate(claims, request).allow || request.scopes.length < 2) return;
        const fewer = request.scopes.filter((_, i) => i !== pick % request.scopes.length);
        expect(policy.evaluate(claims, { ...request, scopes: fewer }).allow).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('policy evaluator (generated policy data)', () => {
  let n = 0;
  async function load(d: PolicyData): Promise<LoadedPolicy> {
    const file = join(dir, `data-${n++}.json`);
    await writeFile(file, JSON.stringify(d));
    return loadPolicyFiles(WASM, file);
  }

  it('agrees with the rules for arbitrary grants, globs, caps, audiences and requirements', async () => {
    const seen = { allow: 0, deny: 0 };
    await fc.assert(
      fc.asyncProperty(dataWithInputs, async ([d, inputs]) => {
        const p = await load(d);
        for (const [claims, request] of inputs) {
          const decision = p.evaluate(claims, request);
          expectAgreesWithModel(d, claims, request, decision);
          seen[decision.allow ? 'allow' : 'deny']++;
          const reversed = p.evaluate(claims, { ...request, scopes: [...request.scopes].reverse() });
          expect(reversed).toEqual(decision);
        }
      }),
      { numRuns: 150 },
    );
    expect(seen.allow).toBeGreaterThan(10);
    expect(seen.deny).toBeGreaterThan(10);
  });

  it(`regression: ${GLOB_BUG}`, async () => {
    for (const [pattern, value, want] of [
      ['x(y)*', 'x(y)', true],
      ['x(y)*', 'xy', false],
      ['acme/(web)app*', 'acme/webapp', false],
      ['a$*', 'a$', true],
    ] as const) {
      const p = await load({ ttl: { default: 900, max: 3600 }, scopes: ['s'], audiences: ['a'], grants: [{ name: 'g', match: { environment: pattern }, scopes: ['s'] }] });
      expect(p.evaluate({ environment: value }, { scopes: ['s'] }).allow, `${pattern} vs ${value}`).toBe(want);
    }
  });

  it('matches globs only within one path segment, every other metacharacter literal', async () => {
    const segment = fc.string({ unit: fc.constantFrom(...GLOB_ALPHABET), maxLength: 4 });
    const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
    await fc.assert(
      fc.asyncProperty(path, fc.array(path, { minLength: 1, maxLength: 8 }), async (pattern, values) => {
        const d: PolicyData = { ttl: { default: 900, max: 3600 }, scopes: ['s'], audiences: ['a'], grants: [{ name: 'g', match: { repository: pattern }, scopes: ['s'] }] };
        const p = await load(d);
        for (const value of [pattern, ...values]) {
          const got = p.evaluate({ repository: value }, { scopes: ['s'] }).allow;
          expect(got, `pattern ${JSON.stringify(pattern)} vs ${JSON.stringify(value)}`).toBe(globMatches(pattern, value));
        }
      }),
      { numRuns: 150 },
    );
  });
});
