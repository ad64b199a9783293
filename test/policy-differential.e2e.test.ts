// Differential test of the two OPA engines (issue 10 item 10): generated inputs (adversarial claim
// values, glob metacharacters, unpaired surrogates, numbers where strings belong, huge ttls, empty
// scopes, unknown repositories) are evaluated with opa-wasm, through the coordinator's code path
// (loadPolicyFiles → evaluate, which normalises the input), and with the OPA CLI on the raw JSON
// (real policies/mint.rego). Decisions, scopes, ttl, audience and reasons must be identical. All
// inputs of one data set go to one `opa eval` over a JSON array, through a wrapper rule, so the
// test starts two OPA processes in all. Needs .opa/bin/opa (`bash scripts/install-opa.sh`).
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_ENTRYPOINT, loadPolicyFiles, toDecision } from '../policy-engine/evaluate.js';
import { wellFormedPolicyInput } from '../policy-engine/well-formed.js';
import type { MintRequest } from '../protocol/wire.js';

const ROOT = new URL('..', import.meta.url).pathname;
const OPA = join(ROOT, '.opa/bin/opa');
const REGO = join(ROOT, 'policies/mint.rego');
const WASM = join(ROOT, 'policies/wasm/mint.wasm');
const DATA = join(ROOT, 'policies/data.json');
const SEED = Number(process.env.ZTMINT_DIFF_SEED ?? 0x5eed10);
const RUNS = Number(process.env.ZTMINT_DIFF_RUNS ?? 300);

// A second data set whose grants use globs, so the glob matcher meets the generated claims.
const GLOB_DATA = {
  ttl: { default: 600, max: 3600 },
  scopes: ['read:logs', 'deploy:canary', 'deploy:prod', 'x:*'],
  audiences: ['https://deploy.example', 'aud-\ufffd'],
  require: { runner_environment: 'github-hosted' },
  grants: [
    { name: 'org-any-branch', match: { repository: 'acme/*', ref: 'refs/heads/*' }, scopes: ['read:logs', 'deploy:canary'], max_ttl: 1800 },
    { name: 'release-tags', match: { ref: 'refs/tags/v*.*', repository_owner: 'acme' }, scopes: ['deploy:prod'], max_ttl: 900 },
    { name: 'prt', match: { event_name: 'pull_request_target', repository: '**' }, scopes: ['read:logs'] },
    { name: 'literal-metachars', match: { environment: 'env[1]?{a}\\', workflow_ref: '*/*/.github/workflows/*@*' }, scopes: ['x:*'] },
    { name: 'replacement-char', match: { actor: 'octo\ufffd*' }, scopes: ['deploy:canary'] },
    { match: { sub: 'repo:acme/*:environment:prod*' }, scopes: ['deploy:prod'], max_ttl: 60 },
  ],
};

// ---- generators --------------------------------------------------------------------------------

const SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', '\ud800\ud800', '\udc00\ud800', '\ud83d\ude00', '\ud83d', '\ufffd'];
const surrogate = fc.constantFrom(...SURROGATES);
const GLOBBY = ['*', '**', '?', '[', ']', '{', '}', '\\', '/', '@', '.', ' ', '', '\u0000', '"'];
const KNOWN = [
  'acme/webapp',
  'acme/other',
  'evil/webapp',
  'acme',
  'refs/heads/main',
  'refs/heads/release-1',
  'refs/tags/v2.1',
  'refs/tags/v2.1/evil',
  'production',
  'prod',
  'github-hosted',
  'self-hosted',
  'push',
  'pull_request_target',
  'acme/webapp/.github/workflows/deploy.yml@refs/heads/main',
  'repo:acme/webapp:environment:production',
  'octocat',
  'env[1]?{a}\\',
  'https://deploy.example',
  'aud-\ufffd',
];
/** Strings built from known values, glob metacharacters and (unpaired) surrogates. */
const nastyString = fc.oneof(
  fc.constantFrom(...KNOWN),
  fc.array(fc.oneof(fc.constantFrom(...KNOWN), fc.constantFrom(...GLOBBY), surrogate, fc.string({ maxLength: 4 })), { maxLength: 5 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0, 1, -1, 0.5, 1.5, 2147483647, 2147483648, 2 ** 53, 2 ** 53 + 2, 1e21, 1e300, -1e300, 5e-324, 1800, 3600, 3601, 900),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const leaf = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null));
const anyValue = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.dictionary(nastyString, leaf, { maxKeys: 3 }) });
const CLAIM_NAMES = ['repository', 'repository_owner', 'ref', 'ref_type', 'environment', 'event_name', 'job_workflow_ref', 'workflow_ref', 'runner_environment', 'sub', 'actor'];
const claimName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...CLAIM_NAMES) }, { weight: 1, arbitrary: nastyString });
const PLAUSIBLE = {
  repository: 'acme/webapp',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  runner_environment: 'github-hosted',
  sub: 'repo:acme/webapp:ref:refs/heads/main',
  event_name: 'push',
};
const claims = fc.oneof(
  // mostly string claims, adversarial ones
  fc.dictionary(claimName, nastyString, { maxKeys: 8 }),
  // any JSON value where a string belongs
  fc.dictionary(claimName, anyValue, { maxKeys: 8 }),
  // a plausible token with one or two claims replaced
  fc.dictionary(claimName, anyValue, { maxKeys: 2 }).map((over) => ({ ...PLAUSIBLE, ...over })),
);
const SCOPES = ['read:logs', 'write:staging', 'deploy:canary', 'deploy:prod', 'x:*', 'unknown:scope'];
const scopes = fc.oneof(
  { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom(...SCOPES), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(nastyString, fc.constantFrom(...SCOPES)), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(anyValue, { maxLength: 3 }) },
  { weight: 1, arbitrary: leaf },
);
const ttl = fc.oneof(fc.integer({ min: -5, max: 4000 }), nastyNumber, fc.constantFrom(null, '900', 'never', [900], { s: 1 }));
const audience = fc.oneof(fc.constantFrom('https://deploy.example', 'aud-\ufffd', 'aud-\ud800', 'x\ud800\ud800', ''), nastyString, anyValue);
const request = fc.record({ scopes, ttl, audience }, { requiredKeys: ['scopes'] });
// Near the allowed region: a grantable request from a plausible token, with at most small changes.
const nearlyAllowed = fc.record({
  claims: fc.oneof(
    fc.constant(PLAUSIBLE),
    fc.dictionary(fc.constantFrom(...CLAIM_NAMES), nastyString, { maxKeys: 1 }).map((over) => ({ ...PLAUSIBLE, ...over })),
  ),
  request: fc.record(
    {
      scopes: fc.uniqueArray(fc.constantFrom('read:logs', 'deploy:canary'), { minLength: 1 }),
      ttl: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.constant(null)),
      audience: fc.constantFrom('https://deploy.example', 'aud-\ufffd', 'aud-\ud800'),
    },
    { requiredKeys: ['scopes'] },
  ),
});
const policyInput = fc.oneof({ weight: 3, arbitrary: fc.record({ claims, request }) }, { weight: 1, arbitrary: nearlyAllowed });

type Input = { claims: Record<string, unknown>; request: Record<string, unknown> };

// ---- the OPA CLI side ----------------------------------------------------------------------------

const WRAPPER = `package ztmint_differential

import rego.v1

# One decision per case, in order: each case is the whole input of one evaluation.
results := [d | some c in input.cases; d := data.ztmint.mint.decision with input as c]
`;

let dir: string;
beforeAll(async () => {
  if (!existsSync(OPA)) throw new Error(`${OPA} is missing: run \`bash scripts/install-opa.sh\` first`);
  dir = await mkdtemp(join(tmpdir(), 'ztmint-diff-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Decisions of the OPA CLI for all cases, from one `opa eval` on the raw JSON text of the cases. */
async function opaDecisions(name: string, data: unknown, casesJson: string): Promise<unknown[]> {
  const bundle = join(dir, name);
  await mkdir(join(bundle, 'ztmint'), { recursive: true });
  await writeFile(join(bundle, 'ztmint', 'data.json'), JSON.stringify(data)); // loaded as data.ztmint
  await writeFile(join(bundle, 'wrapper.rego'), WRAPPER);
  await writeFile(join(dir, `${name}-input.json`), `{"cases":${casesJson}}`);
  const { stdout } = await promisify(execFile)(OPA, ['eval', '--format', 'json', '--data', REGO, '--data', bundle, '--input', join(dir, `${name}-input.json`), 'data.ztmint_differential.results'], {
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = JSON.parse(stdout) as { result?: Array<{ expressions: Array<{ value: unknown[] }> }> };
  const results = out.result?.[0]?.expressions[0]?.value;
  if (!Array.isArray(results)) throw new Error(`opa eval gave no results: ${stdout.slice(0, 500)}`);
  return results;
}

// ---- the comparison ------------------------------------------------------------------------------

async function differential(name: string, data: unknown): Promise<void> {
  const dataPath = join(dir, `${name}.json`);
  await writeFile(dataPath, JSON.stringify(data));
  const loaded = await loadPolicyFiles(WASM, dataPath);
  const raw = await loadPolicy(await readFile(WASM));
  raw.setData({ ztmint: data });

  const cases = fc.sample(policyInput, { numRuns: RUNS, seed: SEED }) as Input[];
  // What reaches the coordinator is JSON text: both sides start from the same text.
  const casesJson = JSON.stringify(cases);
  const parsed = JSON.parse(casesJson) as Input[];
  const opa = await opaDecisions(name, data, casesJson);
  expect(opa).toHaveLength(parsed.length);

  const mismatches: string[] = [];
  parsed.forEach((input, i) => {
    // The coordinator's path: LoadedPolicy.evaluate (normalises, evaluates, validates the decision).
    const viaCoordinator = loaded.evaluate(input.claims, input.request as unknown as MintRequest);
    const viaOpa = toDecision([{ result: opa[i] }]);
    // And the raw decision documents, before validation, on the normalised input.
    const normalised = wellFormedPolicyInput(input.claims, input.request as unknown as MintRequest);
    const rawWasm = (raw.evaluate(normalised, DECISION_ENTRYPOINT) as Array<{ result: unknown }>)[0]?.result;
    if (!isDeepStrictEqual(viaCoordinator, viaOpa) || !isDeepStrictEqual(rawWasm, opa[i])) {
      mismatches.push(`case ${i}: input ${JSON.stringify(cases[i])}\n  opa-wasm: ${JSON.stringify(rawWasm)}\n  opa CLI:  ${JSON.stringify(opa[i])}`);
    }
  });
  if (mismatches.length) {
    throw new Error(
      `${mismatches.length} of ${parsed.length} inputs decided differently (data ${name}, seed ${SEED}, runs ${RUNS}; ` + `rerun with ZTMINT_DIFF_SEED=${SEED}):\n${mismatches.slice(0, 5).join('\n')}`,
    );
  }
  // The generator must reach both outcomes, or the comparison proves little.
  const decisions = parsed.map((input) => loaded.evaluate(input.claims, input.request as unknown as MintRequest));
  expect(decisions.some((d) => d.allow)).toBe(true);
  expect(decisions.some((d) => !d.allow)).toBe(true);
}

describe('opa-wasm (coordinator path) and the OPA CLI decide alike on generated inputs', () => {
  it('with the shipped policies/data.json', async () => {
    await differential('shipped', JSON.parse(await readFile(DATA, 'utf8')));
  }, 180_000);

  it('with glob grants, a require, and U+FFFD in patterns', async () => {
    await differential('globs', GLOB_DATA);
  }, 180_000);

  it('on the inputs of issue 10 (unpaired surrogates)', async () => {
    const data = JSON.parse(await readFile(DATA, 'utf8')) as unknown;
    const base = { repository: 'acme/webapp', repository_owner: 'acme', ref: 'refs/heads/main' };
    const cases = [
      { claims: { ...base, workflow_ref: '\ud800' }, request: { scopes: ['deploy:canary'] } },
      { claims: base, request: { scopes: ['deploy:canary'], audience: 'x\ud800\ud800' } },
    ];
    const opa = await opaDecisions('issue10', data, JSON.stringify(cases));
    const loaded = await loadPolicyFiles(WASM, DATA);
    expect(opa[0]).toMatchObject({ allow: true });
    expect(loaded.evaluate(cases[0]!.claims, cases[0]!.request)).toStrictEqual(toDecision([{ result: opa[0] }]));
    expect((opa[1] as { audience: string }).audience).toBe('x\ufffd\ufffd');
    expect(loaded.evaluate(cases[1]!.claims, cases[1]!.request)).toStrictEqual(toDecision([{ result: opa[1] }]));
  }, 120_000);
});
