// `ztmint policy build | test | eval`: the Rego policy's life cycle from the command line; signed
// bundles and rollouts (`keygen | bundle | verify | revisions`) are in ./policy-bundle-commands.ts.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadPolicyFiles } from '../policy-engine/evaluate.js';
import { registerPolicyBundleCommands } from './policy-bundle-commands.js';
import { DEFAULT_POLICY_DATA, DEFAULT_POLICY_WASM, PACKAGE_ROOT } from './paths.js';

function runScript(script: string): void {
  const result = spawnSync('bash', [join(PACKAGE_ROOT, 'scripts', script)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(resolve(path), 'utf8'));
  } catch (err) {
    throw new Error(`${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('build, test, evaluate, sign and roll out the Rego mint policy');
  policy
    .command('build')
    .description('compile policies/mint.rego to WebAssembly with the pinned OPA (policies/wasm/mint.wasm)')
    .action(() => runScript('build-policy.sh'));
  policy
    .command('test')
    .description('run `opa test` and `opa check --strict` on policies/')
    .action(() => runScript('test-policy.sh'));
  policy
    .command('eval')
    .description('print the decision for a set of OIDC claims and a mint request')
    .requiredOption('--token-claims <file>', 'JSON file with the (verified) OIDC token claims')
    .requiredOption('--request <file>', 'JSON file with the mint request, e.g. {"scopes":["deploy:canary"]}')
    .option('--policy-wasm <file>', 'compiled policy', DEFAULT_POLICY_WASM)
    .option('--policy-data <file>', 'policy data', DEFAULT_POLICY_DATA)
    .action(async (opts) => {
      const loaded = await loadPolicyFiles(resolve(opts.policyWasm), resolve(opts.policyData));
      const claims = (await readJson(opts.tokenClaims, 'token claims')) as Record<string, unknown>;
      const request = (await readJson(opts.request, 'request')) as { scopes: string[] };
      const decision = loaded.evaluate(claims, request);
      console.log(JSON.stringify({ policy: loaded.hash, decision }, null, 2));
      if (!decision.allow) process.exitCode = 3;
    });
  registerPolicyBundleCommands(policy);
}
