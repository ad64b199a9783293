// Tests of the compiled Rego policy (policies/wasm/mint.wasm) as the coordinator
// and the signers load it: through @open-policy-agent/opa-wasm, with
// policies/data.json set as data.ztmint. The Rego unit tests themselves run with
// `opa test` (scripts/test-policy.sh); the comparison with the OPA CLI is
// test/policy-opa.e2e.test.ts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DATA, ENTRYPOINT, REGO, ROOT, SCHEMA, SOURCES, WASM, decide, load, mainClaims, prodClaims, prtClaims, readJson } from './helpers/policy-fixtures.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const globData = {
  ttl: { default: 900, max: 3600 },
  scopes: ['read:logs'],
  audiences: ['https://deploy.example'],
  grants: [{ name: 'acme-any', match: { repository: 'acme/*' }, scopes: ['read:logs'] }],
};

describe('policies/wasm/mint.wasm', () => {
  it('is built from the current policies/mint.rego', () => {
    const recorded = readFileSync(SOURCES, 'utf8').trim().split(/\s+/);
    expect(recorded[1], 'SOURCES.sha256 names the policy source').toBe('policies/mint.rego');
    const current = sha256(readFileSync(REGO));
    if (recorded[0] !== current) {
      throw new Error('policies/wasm/mint.wasm is stale (policies/mint.rego changed since it was built): run npm run policy:build');
    }
  });

  it('exports only the decision entrypoint and needs no host builtins', async () => {
    const policy = await load(readJson(DATA));
    expect(policy.entrypoints).toEqual({ [ENTRYPOINT]: 0 });
    const module = await WebAssembly.compile(readFileSync(WASM));
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    expect(imports.sort()).toEqual(['env.memory', 'env.opa_abort', 'env.opa_builtin0', 'env.opa_builtin1', 'env.opa_builtin2', 'env.opa_builtin3', 'env.opa_builtin4'].sort());
  });
});

describe('mint policy with policies/data.json', () => {
  let policy: LoadedPolicy;
  beforeAll(async () => {
    policy = await load(readJson(DATA));
  });

  it('returns the result set shape [{ result: decision }]', () => {
    const resultSet = policy.evaluate({ claims: mainClaims, request: { scopes: ['deploy:canary'] } }, ENTRYPOINT);
    expect(resultSet).toEqual([
      {
        result: {
          allow: true,
          scopes: ['deploy:canary'],
          ttl: 900,
          audience: 'https://deploy.example',
          reasons: [],
        },
      },
    ]);
  });

  it('allows webapp main to get deploy:canary with the default ttl and audience', () => {
    expect(decide(policy, { claims: mainClaims, request: { scopes: ['deploy:canary'] } })).toEqual({
      allow: true,
      scopes: ['deploy:canary'],
      ttl: 900,
      audience: 'https://deploy.example',
      reasons: [],
    });
  });

  it('sorts and deduplicates granted scopes, and honours an explicit ttl and audience', () => {
    const d = decide(policy, {
      claims: mainClaims,
      request: { scopes: ['read:logs', 'deploy:canary', 'read:logs'], ttl: 1800, audience: 'https://deploy.example' },
    });
    expect(d).toEqual({
      allow: true,
      scopes: ['deploy:canary', 'read:logs'],
      ttl: 1800,
      audience: 'https://deploy.example',
      reasons: [],
    });
  });

  it('denies deploy:prod from the main branch, with reasons', () => {
    const d = decide(policy, { claims: mainClaims, request: { scopes: ['deploy:canary', 'deploy:prod'] } });
    expect(d.allow).toBe(false);
    expect(d.scopes).toEqual([]);
    expect(d.reasons).toEqual([
      'grant "webapp-prod", which grants "deploy:prod", does not match: claim "environment" is missing',
      'grant "webapp-prod", which grants "deploy:prod", does not match: claim "job_workflow_ref" is "acme/webapp/.github/workflows/ci.yml@refs/heads/main", not "acme/webapp/.github/workflows/deploy.yml@refs/heads/main"',
      'scope "deploy:prod" is not granted to repository "acme/webapp" by any grant',
    ]);
  });

  it('allows deploy:prod from the production environment, capped by the smallest max_ttl', () => {
    const request = { scopes: ['deploy:prod', 'deploy:canary'] };
    expect(decide(policy, { claims: prodClaims, request })).toMatchObject({ allow: true, ttl: 900 });
    expect(decide(policy, { claims: prodClaims, request: { ...request, ttl: 1800 } })).toMatchObject({
      allow: false,
      ttl: 1800,
      reasons: ['ttl 1800 exceeds the maximum 900 of grant "webapp-prod"'],
    });
  });

  it('denies a ttl above the policy maximum and an unlisted audience', () => {
    const d = decide(policy, {
      claims: mainClaims,
      request: { scopes: ['deploy:canary'], ttl: 7200, audience: 'https://evil.example' },
    });
    expect(d).toEqual({
      allow: false,
      scopes: [],
      ttl: 7200,
      audience: 'https://evil.example',
      reasons: ['audience "https://evil.example" is not allowed', 'ttl 7200 exceeds the maximum 1800 of grant "webapp-main"', 'ttl 7200 exceeds the policy maximum 3600'],
    });
  });

  it('denies unknown scopes', () => {
    expect(decide(policy, { claims: mainClaims, request: { scopes: ['deploy:moon'] } }).reasons).toEqual([
      'scope "deploy:moon" is not defined by the policy',
      'scope "deploy:moon" is not granted to repository "acme/webapp" by any grant',
    ]);
  });

  it.each([
    ['no input', undefined],
    ['null', null],
    ['a string', 'garbage'],
    ['no request', { claims: mainClaims }],
    ['scopes not an array', { claims: mainClaims, request: { scopes: 'deploy:canary' } }],
    ['empty scopes', { claims: mainClaims, request: { scopes: [] } }],
    ['non-string scope', { claims: mainClaims, request: { scopes: [1] } }],
    ['string ttl', { claims: mainClaims, request: { scopes: ['deploy:canary'], ttl: '900' } }],
    ['fractional ttl', { claims: mainClaims, request: { scopes: ['deploy:canary'], ttl: 1.5 } }],
    ['no claims', { request: { scopes: ['deploy:canary'] } }],
  ])('always decides, and denies, for garbage input: %s', (_name, input) => {
    const d = decide(policy, input);
    expect(d.allow).toBe(false);
    expect(d.scopes).toEqual([]);
    expect(d.reasons.length).toBeGreaterThan(0);
    expect(typeof d.ttl).toBe('number');
    expect(typeof d.audience).toBe('string');
    expect([...d.reasons].sort()).toEqual(d.reasons);
  });
});

describe('mint policy globs', () => {
  let policy: LoadedPolicy;
  beforeAll(async () => {
    policy = await load(globData);
  });

  it.each([
    ['acme/x', true],
    ['acme/webapp', true],
    ['acme/x/y', false],
    ['acme', false],
    ['acme-corp/x', false],
    ['evil/acme/x', false],
  ])('acme/* against repository %s: allow=%s', (repository, allow) => {
    expect(decide(policy, { claims: { repository }, request: { scopes: ['read:logs'] } }).allow).toBe(allow);
  });

  it('never matches a missing claim', () => {
    const d = decide(policy, { claims: { ref: 'refs/heads/main' }, request: { scopes: ['read:logs'] } });
    expect(d.allow).toBe(false);
    expect(d.reasons).toContain('no grant matches ref "refs/heads/main"');
  });

  it('treats glob metacharacters other than * literally', async () => {
    const literal = await load({
      ...globData,
      grants: [{ name: 'lit', match: { repository: 'acme/a?c[x]{y,z}\\*' }, scopes: ['read:logs'] }],
    });
    const allow = (repository: string) => decide(literal, { claims: { repository }, request: { scopes: ['read:logs'] } }).allow;
    expect(allow('acme/a?c[x]{y,z}\\tail')).toBe(true);
    expect(allow('acme/abcxy\\tail')).toBe(false);
    expect(allow('acme/abc[x]{y,z}\\tail')).toBe(false);
  });
});

type PolicyData = {
  ttl: { default: number; max: number };
  scopes: string[];
  audiences: string[];
  grants: Array<{ name: string; match: Record<string, string>; scopes: string[]; max_ttl?: number }>;
  require?: unknown;
};

const PRT_REASON = 'event "pull_request_target" is refused unless a grant names it explicitly';

describe('mint policy claim conditions (event_name, ref_type, runner_environment, job_workflow_ref, environment, require)', () => {
  let base: PolicyData;
  let policy: LoadedPolicy;
  beforeAll(async () => {
    base = readJson(DATA) as PolicyData;
    policy = await load(base);
  });
  const withGrants = (grants: PolicyData['grants'], extra: Partial<PolicyData> = {}) => load({ ...base, grants, ...extra });

  it('refuses pull_request_target through a grant that does not name it, listing every reason', () => {
    expect(decide(policy, { claims: prtClaims, request: { scopes: ['deploy:canary'] } })).toEqual({
      allow: false,
      scopes: [],
      ttl: 900,
      audience: 'https://deploy.example',
      reasons: [
        PRT_REASON,
        'grant "webapp-main", which grants "deploy:canary", does not match: it does not name event "pull_request_target" explicitly',
        'no grant matches repository "acme/webapp", ref "refs/heads/main"',
        'scope "deploy:canary" is not granted to repository "acme/webapp" by any grant',
      ],
    });
  });

  it.each(['*', 'pull_request*', '*_target'])('does not let the event glob %s grant pull_request_target', async (pattern) => {
    const p = await withGrants([{ name: 'any-event', match: { repository: 'acme/webapp', event_name: pattern }, scopes: ['read:logs'] }]);
    const d = decide(p, { claims: prtClaims, request: { scopes: ['read:logs'] } });
    expect(d.allow).toBe(false);
    expect(d.reasons).toContain(PRT_REASON);
  });

  it('allows pull_request_target through a grant whose match.event_name is exactly pull_request_target', async () => {
    const p = await withGrants([...base.grants, { name: 'prt-logs', match: { repository: 'acme/webapp', event_name: 'pull_request_target' }, scopes: ['read:logs'], max_ttl: 300 }]);
    expect(decide(p, { claims: prtClaims, request: { scopes: ['read:logs'] } })).toEqual({
      allow: true,
      scopes: ['read:logs'],
      ttl: 300,
      audience: 'https://deploy.example',
      reasons: [],
    });
    // ...and nothing else: webapp-main still does not apply to it
    expect(decide(p, { claims: prtClaims, request: { scopes: ['read:logs', 'deploy:canary'] } }).reasons).toEqual([
      PRT_REASON,
      'grant "webapp-main", which grants "deploy:canary", does not match: it does not name event "pull_request_target" explicitly',
      'scope "deploy:canary" is not granted to repository "acme/webapp" by any grant',
    ]);
  });

  it('denies a self-hosted runner to a grant pinned to runner_environment github-hosted', async () => {
    const p = await withGrants([{ name: 'hosted-only', match: { repository: 'acme/webapp', runner_environment: 'github-hosted' }, scopes: ['deploy:canary'] }]);
    const request = { scopes: ['deploy:canary'] };
    expect(decide(p, { claims: { ...mainClaims, runner_environment: 'github-hosted' }, request }).allow).toBe(true);
    expect(decide(p, { claims: { ...mainClaims, runner_environment: 'self-hosted' }, request }).reasons).toEqual([
      'grant "hosted-only", which grants "deploy:canary", does not match: claim "runner_environment" is "self-hosted", not "github-hosted"',
      'no grant matches repository "acme/webapp", ref "refs/heads/main"',
      'scope "deploy:canary" is not granted to repository "acme/webapp" by any grant',
    ]);
  });

  it.each([
    'acme/webapp/.github/workflows/deploy.yml@refs/heads/dev',
    'acme/webapp/.github/workflows/deploy.yml@refs/tags/v1.0.0',
    'acme/webapp/.github/workflows/deploy.yml@refs/heads/main-2',
    'acme/webapp/.github/workflows/deploy.yml@0123456789abcdef0123456789abcdef01234567',
  ])('denies deploy:prod to the pinned workflow at another ref: %s', (jobWorkflowRef) => {
    const d = decide(policy, { claims: { ...prodClaims, job_workflow_ref: jobWorkflowRef }, request: { scopes: ['deploy:prod'] } });
    expect(d).toEqual({
      allow: false,
      scopes: [],
      ttl: 900,
      audience: 'https://deploy.example',
      reasons: [
        `grant "webapp-prod", which grants "deploy:prod", does not match: claim "job_workflow_ref" is "${jobWorkflowRef}", not "acme/webapp/.github/workflows/deploy.yml@refs/heads/main"`,
        'scope "deploy:prod" is not granted to repository "acme/webapp" by any grant',
      ],
    });
  });

  it('globs job_workflow_ref within path segments only (@ is no separator)', async () => {
    const p = await withGrants([
      {
        name: 'shared-deploy',
        match: { repository_owner: 'acme', job_workflow_ref: 'acme/shared/.github/workflows/deploy.yml@refs/tags/v*' },
        scopes: ['deploy:canary'],
      },
    ]);
    const allow = (jobWorkflowRef: string) => decide(p, { claims: { ...mainClaims, repository: 'acme/api', job_workflow_ref: jobWorkflowRef }, request: { scopes: ['deploy:canary'] } }).allow;
    expect(allow('acme/shared/.github/workflows/deploy.yml@refs/tags/v3')).toBe(true);
    expect(allow('acme/shared/.github/workflows/deploy.yml@refs/tags/v3/x')).toBe(false);
    expect(allow('acme/shared/.github/workflows/deploy.yml@refs/heads/v3')).toBe(false);
    expect(allow('acme/shared/.github/workflows/other.yml@refs/tags/v3')).toBe(false);
  });

  it('tells ref_type tag from branch', async () => {
    const p = await withGrants([{ name: 'release-tags', match: { repository: 'acme/webapp', ref_type: 'tag', ref: 'refs/tags/v*' }, scopes: ['write:staging'] }]);
    const request = { scopes: ['write:staging'] };
    expect(decide(p, { claims: { ...mainClaims, ref: 'refs/tags/v1.2.3', ref_type: 'tag' }, request }).allow).toBe(true);
    expect(decide(p, { claims: { ...mainClaims, ref: 'refs/tags/v1.2.3', ref_type: 'branch' }, request }).reasons).toEqual([
      'grant "release-tags", which grants "write:staging", does not match: claim "ref_type" is "branch", not "tag"',
      'no grant matches repository "acme/webapp", ref "refs/tags/v1.2.3"',
      'scope "write:staging" is not granted to repository "acme/webapp" by any grant',
    ]);
    expect(decide(p, { claims: { ...mainClaims, ref_type: 'branch' }, request }).allow).toBe(false);
  });

  it('pins deploy:prod to the production environment', () => {
    const request = { scopes: ['deploy:prod'] };
    expect(decide(policy, { claims: prodClaims, request }).allow).toBe(true);
    expect(decide(policy, { claims: { ...prodClaims, environment: 'staging' }, request }).reasons).toEqual([
      'grant "webapp-prod", which grants "deploy:prod", does not match: claim "environment" is "staging", not "production"',
      'scope "deploy:prod" is not granted to repository "acme/webapp" by any grant',
    ]);
    const { environment: _omitted, ...noEnvironment } = prodClaims;
    expect(decide(policy, { claims: noEnvironment, request }).reasons).toContain('grant "webapp-prod", which grants "deploy:prod", does not match: claim "environment" is missing');
  });

  it('does not match acme/* against acme/x/y', async () => {
    const p = await withGrants([{ name: 'acme-any', match: { repository: 'acme/*' }, scopes: ['read:logs'] }]);
    expect(decide(p, { claims: { repository: 'acme/x' }, request: { scopes: ['read:logs'] } }).allow).toBe(true);
    expect(decide(p, { claims: { repository: 'acme/x/y' }, request: { scopes: ['read:logs'] } })).toEqual({
      allow: false,
      scopes: [],
      ttl: 900,
      audience: 'https://deploy.example',
      reasons: [
        'grant "acme-any", which grants "read:logs", does not match: claim "repository" is "acme/x/y", not "acme/*"',
        'no grant matches repository "acme/x/y"',
        'scope "read:logs" is not granted to repository "acme/x/y" by any grant',
      ],
    });
  });

  it('never grants a scope outside `scopes`, even through a matching grant that lists it', async () => {
    const p = await withGrants([{ name: 'too-generous', match: { repository: 'acme/webapp' }, scopes: ['read:logs', 'admin:all'] }]);
    expect(decide(p, { claims: mainClaims, request: { scopes: ['admin:all'] } })).toEqual({
      allow: false,
      scopes: [],
      ttl: 900,
      audience: 'https://deploy.example',
      reasons: ['scope "admin:all" is not defined by the policy'],
    });
    expect(decide(p, { claims: mainClaims, request: { scopes: ['read:logs', 'admin:all'] } }).scopes).toEqual([]);
  });

  it.each([
    ["a grant's max_ttl", mainClaims, ['deploy:canary'], 1801, ['ttl 1801 exceeds the maximum 1800 of grant "webapp-main"']],
    ['the smallest max_ttl of the grants used', prodClaims, ['deploy:canary', 'deploy:prod'], 901, ['ttl 901 exceeds the maximum 900 of grant "webapp-prod"']],
    ["ttl.max and a grant's max_ttl", mainClaims, ['read:logs'], 3601, ['ttl 3601 exceeds the maximum 1800 of grant "webapp-main"', 'ttl 3601 exceeds the policy maximum 3600']],
  ])('denies (never cuts) a ttl above %s', (_name, claims, scopes, ttl, reasons) => {
    expect(decide(policy, { claims, request: { scopes, ttl } })).toEqual({
      allow: false,
      scopes: [],
      ttl,
      audience: 'https://deploy.example',
      reasons,
    });
  });

  it('denies a ttl above ttl.max when no grant caps it', async () => {
    const p = await withGrants([{ name: 'uncapped', match: { repository: 'acme/webapp' }, scopes: ['read:logs'] }]);
    expect(decide(p, { claims: mainClaims, request: { scopes: ['read:logs'], ttl: 3600 } }).allow).toBe(true);
    expect(decide(p, { claims: mainClaims, request: { scopes: ['read:logs'], ttl: 3601 } })).toMatchObject({
      allow: false,
      ttl: 3601,
      reasons: ['ttl 3601 exceeds the policy maximum 3600'],
    });
  });

  describe('require', () => {
    it('applies to every request on top of the grants; each unmet requirement is its own reason', async () => {
      const p = await load({
        ...base,
        require: { runner_environment: 'github-hosted', job_workflow_ref: 'acme/*/.github/workflows/*@refs/heads/main' },
      });
      const request = { scopes: ['deploy:canary'] };
      expect(decide(p, { claims: { ...mainClaims, runner_environment: 'github-hosted' }, request }).allow).toBe(true);
      expect(decide(p, { claims: { ...mainClaims, runner_environment: 'self-hosted' }, request })).toEqual({
        allow: false,
        scopes: [],
        ttl: 900,
        audience: 'https://deploy.example',
        reasons: ['policy requirement not met: claim "runner_environment" is "self-hosted", not "github-hosted"'],
      });
      const claims = { ...mainClaims, job_workflow_ref: 'acme/webapp/.github/workflows/ci.yml@refs/heads/dev' };
      expect(decide(p, { claims, request }).reasons).toEqual([
        'policy requirement not met: claim "job_workflow_ref" is "acme/webapp/.github/workflows/ci.yml@refs/heads/dev", not "acme/*/.github/workflows/*@refs/heads/main"',
        'policy requirement not met: claim "runner_environment" is missing',
      ]);
    });

    it('is no requirement when absent or {}', async () => {
      const empty = await load({ ...base, require: {} });
      const input = { claims: mainClaims, request: { scopes: ['deploy:canary'] } };
      expect(decide(empty, input)).toEqual(decide(policy, input));
      expect(decide(policy, input).allow).toBe(true);
    });

    it.each([
      ['a string', 'github-hosted', 'policy data: require must be an object'],
      ['an array', [], 'policy data: require must be an object'],
      ['null', null, 'policy data: require must be an object'],
      ['a non-string value', { runner_environment: 1 }, 'policy requirement not met: claim "runner_environment" has an invalid pattern'],
    ])('denies every request when it is broken: %s', async (_name, require, reason) => {
      const p = await load({ ...base, require });
      const d = decide(p, { claims: { ...mainClaims, runner_environment: 'github-hosted' }, request: { scopes: ['deploy:canary'] } });
      expect(d).toMatchObject({ allow: false, scopes: [], reasons: [reason] });
    });
  });

  it('lists every reason, sorted, whatever the order of the request', async () => {
    const p = await load({ ...base, require: { runner_environment: 'github-hosted' } });
    const claims = { ...prtClaims, runner_environment: 'self-hosted' };
    const request = { scopes: ['deploy:prod', 'deploy:canary', 'deploy:moon'], ttl: 7200, audience: 'https://evil.example' };
    const d = decide(p, { claims, request });
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual([...d.reasons].sort());
    expect(d.reasons).toEqual([
      'audience "https://evil.example" is not allowed',
      PRT_REASON,
      'grant "webapp-main", which grants "deploy:canary", does not match: it does not name event "pull_request_target" explicitly',
      'grant "webapp-prod", which grants "deploy:prod", does not match: claim "environment" is missing',
      'grant "webapp-prod", which grants "deploy:prod", does not match: claim "job_workflow_ref" is "acme/webapp/.github/workflows/ci.yml@refs/heads/main", not "acme/webapp/.github/workflows/deploy.yml@refs/heads/main"',
      'grant "webapp-prod", which grants "deploy:prod", does not match: it does not name event "pull_request_target" explicitly',
      'no grant matches repository "acme/webapp", ref "refs/heads/main"',
      'policy requirement not met: claim "runner_environment" is "self-hosted", not "github-hosted"',
      'scope "deploy:canary" is not granted to repository "acme/webapp" by any grant',
      'scope "deploy:moon" is not defined by the policy',
      'scope "deploy:moon" is not granted to repository "acme/webapp" by any grant',
      'scope "deploy:prod" is not granted to repository "acme/webapp" by any grant',
      'ttl 7200 exceeds the policy maximum 3600',
    ]);
    const reordered = { ...request, scopes: ['deploy:moon', 'deploy:canary', 'deploy:prod', 'deploy:moon'] };
    expect(decide(p, { claims, request: reordered })).toEqual(d);
  });
});

describe('docs/policy.md worked example', () => {
  it('decides as the page says', async () => {
    const page = readFileSync(join(ROOT, 'docs', 'policy.md'), 'utf8');
    const json = /```json\n([\s\S]*?)```/.exec(page)?.[1];
    expect(json, 'docs/policy.md has a ```json data example').toBeDefined();
    const p = await load(JSON.parse(json!));
    const claims = {
      ...mainClaims,
      ref: 'refs/tags/v2.0.1',
      ref_type: 'tag',
      environment: 'production',
      runner_environment: 'github-hosted',
      job_workflow_ref: 'acme/platform/.github/workflows/deploy.yml@refs/tags/v2',
    };
    const request = { scopes: ['deploy:prod'] };
    expect(decide(p, { claims, request })).toMatchObject({ allow: true, scopes: ['deploy:prod'], ttl: 900 });
    const denied = (over: Record<string, string>) => decide(p, { claims: { ...claims, ...over }, request });
    expect(denied({ job_workflow_ref: 'acme/platform/.github/workflows/deploy.yml@refs/heads/main' }).reasons).toContain(
      'grant "prod-via-platform-deploy", which grants "deploy:prod", does not match: claim "job_workflow_ref" is "acme/platform/.github/workflows/deploy.yml@refs/heads/main", not "acme/platform/.github/workflows/deploy.yml@refs/tags/v2"',
    );
    expect(denied({ job_workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/tags/v2' }).allow).toBe(false);
    expect(denied({ environment: 'staging' }).allow).toBe(false);
    expect(denied({ runner_environment: 'self-hosted' }).reasons).toEqual(['policy requirement not met: claim "runner_environment" is "self-hosted", not "github-hosted"']);
    expect(denied({ event_name: 'pull_request_target' }).reasons).toContain(PRT_REASON);
  });
});

describe('policies/data.schema.json', () => {
  it('accepts policies/data.json and rejects broken data', async () => {
    // ajv is a devDependency (the major fastify validates with); its CommonJS default export
    // arrives as `default` or `default.default` depending on the loader.
    type Ajv2020 = new (opts?: object) => { compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown } };
    const mod = (await import('ajv/dist/2020.js')) as { default: { default?: unknown } };
    const Ajv2020 = (mod.default.default ?? mod.default) as Ajv2020;
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(readJson(SCHEMA));
    expect(validate(readJson(DATA)), JSON.stringify(validate.errors)).toBe(true);
    const data = readJson(DATA) as typeof globData;
    expect(validate({ ...data, ttl: { default: 0, max: 3600 } })).toBe(false);
    expect(validate({ ...data, scopes: ['has space'] })).toBe(false);
    expect(validate({ ...data, mint: {} })).toBe(false);
    expect(validate({ ...data, grants: [{ name: 'x', match: {}, scopes: ['read:logs'] }] })).toBe(false);
    expect(validate({ ...data, require: { runner_environment: 'github-hosted' } }), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...data, require: {} })).toBe(true);
    expect(validate({ ...data, require: null })).toBe(false);
    expect(validate({ ...data, require: 'github-hosted' })).toBe(false);
    expect(validate({ ...data, require: { runner_environment: 1 } })).toBe(false);
    expect(validate({ ...data, require: { '': 'x' } })).toBe(false);
  });
});
