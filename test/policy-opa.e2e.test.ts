// The compiled policy (opa-wasm, as the coordinator and signers run it) against the OPA CLI itself:
// the wasm in policies/wasm/ is byte-identical to a fresh `opa build`, and both give the same decisions
// for the same inputs. Starts the OPA CLI, so e2e; needs the pinned OPA that `npm run setup` links at
// .opa/bin/opa (scripts/install-opa.sh).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA, OPA, ROOT, SOURCES, WASM, decide, load, mainClaims, prodClaims, prtClaims, readJson, type Decision } from './helpers/policy-fixtures.js';
import { toolAvailable } from './helpers/tools.js';

const pinnedVersion = /OPA_VERSION="\$\{OPA_VERSION:-v([0-9.]+)\}"/.exec(readFileSync(join(ROOT, 'scripts', 'install-opa.sh'), 'utf8'))?.[1];
const installedVersion = existsSync(OPA) ? /^Version: *(\S+)/m.exec(execFileSync(OPA, ['version'], { encoding: 'utf8', timeout: 60_000 }))?.[1] : undefined;
const haveOpa = toolAvailable(`OPA ${pinnedVersion} at .opa/bin/opa (found ${installedVersion ?? 'none'})`, pinnedVersion !== undefined && installedVersion === pinnedVersion);

describe.skipIf(!haveOpa)(`with OPA ${pinnedVersion} from .opa/bin${haveOpa ? '' : ' (not installed: npm run setup)'}`, () => {
  it('rebuilds a byte-identical policies/wasm/mint.wasm', () => {
    const out = mkdtempSync(join(tmpdir(), 'ztmint-policy-'));
    try {
      execFileSync(join(ROOT, 'scripts', 'build-policy.sh'), [out], { cwd: ROOT, stdio: 'pipe', timeout: 110_000 });
      expect(readFileSync(join(out, 'SOURCES.sha256'), 'utf8')).toBe(readFileSync(SOURCES, 'utf8'));
      const rebuilt = readFileSync(join(out, 'mint.wasm'));
      if (!rebuilt.equals(readFileSync(WASM))) {
        throw new Error('policies/wasm/mint.wasm differs from a fresh build: run npm run policy:build');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('gives the same decisions as opa eval', async () => {
    const data = readJson(DATA);
    const policy = await load(data);
    const inputs: unknown[] = [
      { claims: mainClaims, request: { scopes: ['deploy:canary'] } },
      { claims: mainClaims, request: { scopes: ['deploy:prod', 'write:staging', 'x y'], ttl: 99999, audience: 'z' } },
      { claims: prodClaims, request: { scopes: ['deploy:prod', 'deploy:canary', 'read:logs'], ttl: 900 } },
      { claims: { ...mainClaims, repository: 'acme/webapp/x' }, request: { scopes: ['read:logs'] } },
      { claims: {}, request: { scopes: ['read:logs'], audience: 1 } },
      { claims: mainClaims, request: { scopes: [], ttl: -1 } },
      { claims: prtClaims, request: { scopes: ['deploy:canary', 'deploy:prod'] } },
      { claims: { ...mainClaims, runner_environment: 'self-hosted', ref_type: 'branch' }, request: { scopes: ['deploy:canary'] } },
      { claims: { ...prodClaims, job_workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/heads/dev' }, request: { scopes: ['deploy:prod'] } },
      'garbage',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'ztmint-policy-data-'));
    try {
      const requireData = join(dir, 'data.json');
      writeFileSync(requireData, JSON.stringify({ ...(data as object), require: { runner_environment: 'github-hosted' } }));
      const withRequire = await load(readJson(requireData));
      for (const [file, p] of [
        [DATA, policy],
        [requireData, withRequire],
      ] as const) {
        const query = `[d | some c in input; d := data.ztmint.mint.decision with input as c]`;
        const out = execFileSync(OPA, ['eval', '-f', 'json', '-I', '-d', 'policies/mint.rego', '-d', `ztmint:${file}`, query], {
          cwd: ROOT,
          input: JSON.stringify(inputs),
          encoding: 'utf8',
          timeout: 50_000,
        });
        const fromGo = JSON.parse(out).result[0].expressions[0].value as Decision[];
        expect(fromGo).toHaveLength(inputs.length);
        expect(inputs.map((input) => decide(p, input))).toEqual(fromGo);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
