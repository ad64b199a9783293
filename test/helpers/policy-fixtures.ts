// What the policy tests share: where the policy, its compiled wasm and data live, the GitHub claim
// sets they evaluate, and how the coordinator and signers load and query the wasm (opa-wasm with
// policies/data.json as data.ztmint). Used by test/policy.test.ts (opa-wasm in process) and
// test/policy-opa.e2e.test.ts (the same inputs through the OPA CLI).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { expect } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REGO = join(ROOT, 'policies', 'mint.rego');
export const WASM = join(ROOT, 'policies', 'wasm', 'mint.wasm');
export const SOURCES = join(ROOT, 'policies', 'wasm', 'SOURCES.sha256');
export const DATA = join(ROOT, 'policies', 'data.json');
export const SCHEMA = join(ROOT, 'policies', 'data.schema.json');
export const OPA = join(ROOT, '.opa', 'bin', 'opa');
export const ENTRYPOINT = 'ztmint/mint/decision';

export interface Decision {
  allow: boolean;
  scopes: string[];
  ttl: number;
  audience: string;
  reasons: string[];
}

export const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

export const mainClaims = {
  iss: 'https://token.actions.githubusercontent.com',
  aud: 'https://coordinator.example',
  sub: 'repo:acme/webapp:ref:refs/heads/main',
  repository: 'acme/webapp',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  sha: '0123456789abcdef0123456789abcdef01234567',
  event_name: 'push',
  workflow_ref: 'acme/webapp/.github/workflows/ci.yml@refs/heads/main',
  job_workflow_ref: 'acme/webapp/.github/workflows/ci.yml@refs/heads/main',
  run_id: '42',
  run_attempt: '1',
  actor: 'octocat',
};

export const prodClaims = {
  ...mainClaims,
  sub: 'repo:acme/webapp:environment:production',
  environment: 'production',
  workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/heads/main',
  job_workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/heads/main',
};

export const prtClaims = { ...mainClaims, event_name: 'pull_request_target' };

export async function load(data: unknown): Promise<LoadedPolicy> {
  const policy = await loadPolicy(readFileSync(WASM));
  policy.setData({ ztmint: data });
  return policy;
}

export function decide(policy: LoadedPolicy, input: unknown): Decision {
  // opa-wasm returns the result set: [{ result: <value of data.ztmint.mint.decision> }]
  const resultSet = policy.evaluate(input, ENTRYPOINT) as Array<{ result: Decision }>;
  expect(resultSet).toHaveLength(1);
  return resultSet[0]!.result;
}
