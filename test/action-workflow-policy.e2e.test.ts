// docs/action.md and examples/policy/data.json claim that grants matching `job_workflow_ref`
// (and `environment`) can only be used from ztmint's reusable deploy workflow. Check it: the
// dev stack runs with examples/policy/data.json, and the bundled action gets OIDC tokens with
// the claims GitHub would give a job inside and outside that workflow.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { checkMasked, runStep, sendJson, startStub, type StubServer } from './helpers/runner.js';

const POLICY = join(ROOT, 'examples', 'policy', 'data.json');
const WORKFLOW = 'acme/ztmint/.github/workflows/deploy.yml';

let stack: DevStack;
let runner: StubServer;
let claims: Record<string, unknown> = {};
const REQUEST_TOKEN = 'runner-request-token';

beforeAll(async () => {
  stack = await startDevStack(['--policy-data', POLICY]);
  // The runner's ID-token endpoint, handing out the dev issuer's tokens with `claims`.
  runner = await startStub(async (req, res) => {
    if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) return sendJson(res, 401, {});
    const aud = new URL(req.url, 'http://x').searchParams.get('audience');
    sendJson(res, 200, { value: await stack.idToken({ ...claims, ...(aud ? { aud } : {}) }) });
  });
});
afterAll(async () => {
  await runner?.close();
  await stack?.stop();
});

async function mintAs(jobClaims: Record<string, unknown>, scopes: string) {
  claims = jobClaims;
  return runStep('main', {
    inputs: { 'coordinator-url': stack.coordinator, scopes, revoke: 'false' },
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${runner.url}/id-token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
    },
  });
}

const errorOf = (stdout: string) => (stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '').replace(/%0A/g, '\n').replace(/%25/g, '%');

describe('examples/policy/data.json: deploy grants pinned to the reusable workflow', () => {
  it('the reusable workflow, and the action inside it, point at each other', () => {
    const workflow = readFileSync(join(ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8');
    expect(workflow).toContain('uses: acme/ztmint@v1');
    for (const example of ['deploy-to-production.yml', 'canary-then-production.yml']) {
      expect(readFileSync(join(ROOT, 'examples', example), 'utf8')).toContain(`uses: ${WORKFLOW}@v1`);
    }
    expect(readFileSync(POLICY, 'utf8')).toContain(`"job_workflow_ref": "${WORKFLOW}@refs/tags/v1"`);
  });

  it('grants deploy:prod to a production job running the workflow at v1', async () => {
    const m = await mintAs({ environment: 'production', job_workflow_ref: `${WORKFLOW}@refs/tags/v1` }, 'deploy:prod');
    expect(m.status, m.stdout + m.stderr).toBe(0);
    expect(m.outputs.scopes).toBe('deploy:prod');
    checkMasked(m, m.outputs.token!);
    // The claims the grant matched are in the log group.
    expect(m.stdout).toContain(`job_workflow_ref: ${WORKFLOW}@refs/tags/v1`);
    expect(m.stdout).toContain('environment: production');
  });

  it.each([
    ['a workflow of the application repository itself', { environment: 'production', job_workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/heads/main' }],
    ['the reusable workflow at another ref', { environment: 'production', job_workflow_ref: `${WORKFLOW}@refs/heads/my-branch` }],
    ['the reusable workflow without the production environment', { job_workflow_ref: `${WORKFLOW}@refs/tags/v1` }],
    ['a fork of the reusable workflow', { environment: 'production', job_workflow_ref: 'mallory/ztmint/.github/workflows/deploy.yml@refs/tags/v1' }],
  ])('denies deploy:prod to %s, with the reasons', async (_name, jobClaims) => {
    const m = await mintAs(jobClaims, 'deploy:prod');
    expect(m.status).toBe(1);
    const error = errorOf(m.stdout);
    expect(error).toContain('(policy_denied)');
    expect(error).toMatch(/\nReasons:\n {2}- /);
    expect(m.outputs).toEqual({});
  });

  it('grants deploy:canary on the canary environment, and read:logs to any acme workflow', async () => {
    const canary = await mintAs({ environment: 'canary', job_workflow_ref: `${WORKFLOW}@refs/tags/v1` }, 'deploy:canary');
    expect(canary.status, canary.stdout + canary.stderr).toBe(0);
    const logs = await mintAs({}, 'read:logs');
    expect(logs.status, logs.stdout + logs.stderr).toBe(0);
    const notCanary = await mintAs({}, 'deploy:canary');
    expect(notCanary.status).toBe(1);
  });
});
