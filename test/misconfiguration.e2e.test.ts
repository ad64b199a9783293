// Issue #13, diagnosable refusals: four misconfigurations that used to end as the same retryable
// `503 quorum_unavailable` with nothing logged. Each now has its own non-retryable problem code, a
// coordinator log line naming the signer and its reason, a /readyz that names the signers that
// disagree, and the bundled Action gives up after one attempt. One live stack (3 signers, t = 2)
// is reconfigured for each case by restarting processes with other flags.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIssuer, type DevIssuer } from '../cli/dev-issuer.js';
import { CLI, ROOT, Stack } from './helpers/stack.js';
import { runStep } from './helpers/runner.js';

let stack: Stack;
/** Another OIDC issuer: the coordinator may be told to trust it, the signers never are. */
let otherIssuer: DevIssuer;
/** Read by the stack at every (re)start. */
const signerExtra: string[] = [];
const coordinatorExtra: string[] = [];

beforeAll(async () => {
  stack = await Stack.start({ signerArgs: () => [...signerExtra], coordinatorArgs: coordinatorExtra });
  otherIssuer = await startDevIssuer({ host: '127.0.0.1', audience: () => stack.coordinatorUrl });
});
afterAll(async () => {
  await stack?.stop();
  await otherIssuer?.close();
});

/** Restarts the signers and the coordinator with these extra flags. */
async function reconfigure(extra: { signers?: string[]; coordinator?: string[] }): Promise<void> {
  signerExtra.splice(0, signerExtra.length, ...(extra.signers ?? []));
  coordinatorExtra.splice(0, coordinatorExtra.length, ...(extra.coordinator ?? []));
  await Promise.all([...stack.signers, stack.coordinator].map((p) => p.kill('SIGTERM')));
  await Promise.all(stack.signers.map((s) => s.start()));
  await stack.coordinator.start();
}

async function mint(oidcToken: string) {
  const res = await fetch(`${stack.coordinatorUrl}/v1/mint`, {
    method: 'POST',
    signal: AbortSignal.timeout(60_000),
    headers: { authorization: `Bearer ${oidcToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['deploy:canary'] }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function readyz() {
  const res = await fetch(`${stack.coordinatorUrl}/readyz`, { signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as { ready: boolean; disagreeing: Array<{ signer: string; code: string; detail: string }> } };
}

async function denials(code: string): Promise<number> {
  const { records } = await stack.auditRecords();
  return records.filter((r) => r.event === 'deny' && r.code === code).length;
}

/** The coordinator's log lines (JSON) that report a signer's refusal with `code`. */
async function refusalLogLines(code: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(stack.state, 'logs', 'coordinator.log'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.code === code && typeof l.signer === 'string' && typeof l.reason === 'string');
}

interface Case {
  code: string;
  /** The signers' own code for the refusal (protocol/problem.ts SIGNER_CONFIGURATION_REFUSALS). */
  signerCode: string;
  setup: () => Promise<{ signers?: string[]; coordinator?: string[] }>;
  /** The runner's ID-token endpoint for the Action (the OIDC issuer of the job). */
  issuer: () => DevIssuer;
  /** What the signers' refusal reason says. */
  reason: RegExp;
}

const cases: Case[] = [
  {
    code: 'policy_mismatch',
    signerCode: 'policy_not_accepted',
    async setup() {
      // The signers get a policy with other data: another policy revision than the coordinator's.
      const data = JSON.parse(await readFile(join(ROOT, 'policies', 'data.json'), 'utf8')) as { ttl: { default: number } };
      data.ttl.default = 600;
      const file = join(stack.state, 'signer-data.json');
      await writeFile(file, JSON.stringify(data));
      return { signers: ['--policy-data', file] };
    },
    issuer: () => stack.issuer,
    reason: /is not a policy revision this signer accepts/,
  },
  {
    code: 'issuer_mismatch',
    signerCode: 'issuer_not_accepted',
    setup: async () => ({ coordinator: ['--public-url', 'https://ztmint.example.com'] }),
    issuer: () => stack.issuer,
    reason: /is not this signer's --token-issuer/,
  },
  {
    code: 'group_mismatch',
    signerCode: 'group_key_not_held',
    async setup() {
      // A stale group.json at the coordinator: another key set's, with the stack's mTLS credentials.
      const stale = await mkdtemp(join(tmpdir(), 'ztmint-stale-group-'));
      const keygen = spawnSync(process.execPath, [CLI, 'keygen', '--state', stale, '--signers', '3', '--threshold', '2'], { encoding: 'utf8' });
      expect(keygen.status, keygen.stderr).toBe(0);
      const tls = join(stack.state, 'tls');
      return {
        coordinator: ['--state', stale, '--mtls-cert', join(tls, 'coordinator.pem'), '--mtls-key', join(tls, 'coordinator-key.pem'), '--mtls-ca', join(tls, 'ca.pem')],
      };
    },
    issuer: () => stack.issuer,
    // The token names its key by kid (docs/keys.md): a stale group file means a kid no signer holds.
    reason: /is not a group key this signer holds a share of/,
  },
  {
    code: 'oidc_issuer_mismatch',
    signerCode: 'oidc_issuer_not_trusted',
    setup: async () => ({ coordinator: ['--oidc-issuer', otherIssuer.url] }),
    issuer: () => otherIssuer,
    reason: /which this signer does not trust/,
  },
];

describe('a misconfigured quorum refuses with its own code, logs it, is not ready, and is not retried', () => {
  for (const c of cases) {
    it(c.code, { timeout: 400_000 }, async () => {
      await reconfigure(await c.setup());
      const issuer = c.issuer();
      // The stale-group case writes its audit log into the other state directory.
      const auditHere = !coordinatorExtra.includes('--state');

      const res = await mint(await issuer.issue({ aud: stack.coordinatorUrl }));
      expect(res.status, JSON.stringify(res.body)).toBe(500);
      expect(res.body).toMatchObject({ code: c.code, type: `urn:ztmint:error:${c.code}`, status: 500 });
      expect(String(res.body.detail)).toMatch(/retrying cannot help/);
      expect(res.body.token).toBeUndefined();
      const reasons = res.body.reasons as string[];
      expect(
        reasons.some((r) => /^signer-\d refused: /.test(r) && r.includes(c.signerCode) && c.reason.test(r)),
        reasons.join('\n'),
      ).toBe(true);

      const logged = await refusalLogLines(c.signerCode);
      expect(logged.length).toBeGreaterThanOrEqual(2); // t = 2 signers asked, each refused
      expect(logged.every((l) => /^signer-\d$/.test(l.signer as string) && c.reason.test(l.reason as string))).toBe(true);

      const ready = await readyz();
      expect(ready.status).toBe(503);
      expect(ready.body.ready).toBe(false);
      expect(ready.body.disagreeing.filter((d) => d.code === c.code).map((d) => d.signer)).toEqual(['signer-1', 'signer-2', 'signer-3']);

      // The bundled Action, as a runner runs it: one attempt, no retry, a message that says why.
      const before = auditHere ? await denials(c.code) : 0;
      const step = await runStep('main', {
        inputs: { 'coordinator-url': stack.coordinatorUrl, scopes: 'deploy:canary', retries: '3' },
        env: { ACTIONS_ID_TOKEN_REQUEST_URL: issuer.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: issuer.requestToken },
        timeoutMs: 120_000,
      });
      expect(step.status, step.stdout).not.toBe(0);
      expect(step.stdout).toContain(`(${c.code})`);
      expect(step.stdout).toMatch(/retrying cannot help/);
      expect(step.stdout).not.toMatch(/Retrying in|Attempt 1 of/);
      if (auditHere) expect(await denials(c.code)).toBe(before + 1);
    });
  }

  it('with the configuration aligned again: ready and minting', async () => {
    await reconfigure({});
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body.disagreeing).toEqual([]);
    expect((await mint(await stack.idToken())).status).toBe(200);
  });
});
