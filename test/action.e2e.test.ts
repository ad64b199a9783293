// The bundled action (dist/main/index.js and dist/post/index.js) run as the runner runs it:
// separate node processes with INPUT_* variables, file commands, STATE_* for the post step and
// the runner's ID-token endpoint, against the real dev stack (issuer, coordinator, signers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killPid, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { checkMasked, runStep, startConnectProxy, type StepOptions, type StepResult } from './helpers/runner.js';

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

const runnerEnv = () => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: stack.id_token_request_url,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: stack.id_token_request_token,
});

function main(inputs: Record<string, string>, opts: StepOptions = {}): Promise<StepResult> {
  return runStep('main', {
    ...opts,
    inputs: { 'coordinator-url': stack.coordinator, ...inputs },
    env: { ...runnerEnv(), ...opts.env },
  });
}

function post(mainStep: StepResult, inputs: Record<string, string> = {}, opts: StepOptions = {}): Promise<StepResult> {
  // The runner gives the post step the same inputs and the main step's state as STATE_<name>.
  return runStep('post', {
    ...opts,
    inputs: { 'coordinator-url': stack.coordinator, ...inputs },
    state: mainStep.state,
    env: { ...runnerEnv(), ...opts.env },
  });
}

/** Workflow-command messages of one kind (`error`, `warning`), decoded as the runner does. */
function commands(stdout: string, kind: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`::${kind}::`) || l.startsWith(`::${kind} `))
    .map((l) =>
      l
        .slice(l.indexOf('::', 2) + 2)
        .replace(/%0D/g, '\r')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%'),
    );
}

async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await stack.introspect(token);
  expect(res.status, `POST /v1/introspect answered ${res.status}`).toBe(200);
  return res.body;
}

/** The OIDC tokens the step masked (every ::add-mask:: value that looks like an RS256 JWT). */
function maskedOidcTokens(step: StepResult, minted: string): string[] {
  return step.stdout
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) => l.slice('::add-mask::'.length))
    .filter((v) => v !== minted && v.split('.').length === 3);
}

describe('bundled action against the dev stack: main and post steps', () => {
  it('mints, masks before every appearance, writes outputs, state and summary; the post step revokes', async () => {
    const m = await main({ scopes: 'deploy:canary\nread:logs', ttl: '600', audience: 'https://deploy.example' });
    expect(m.status, m.stdout + m.stderr).toBe(0);

    const token = m.outputs.token!;
    expect(token.split('.')).toHaveLength(3);
    expect(m.outputs.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(new Date(m.outputs['expires-at']!).getTime()).toBeGreaterThan(Date.now());
    expect(new Date(m.outputs['expires-at']!).getTime()).toBeLessThanOrEqual(Date.now() + 600_000 + 5_000);
    expect(m.outputs.scopes!.split(',').sort()).toEqual(['deploy:canary', 'read:logs']);
    expect(m.outputs['audit-index']).toMatch(/^[0-9]+$/);
    // The transparency proof: this mint's record, proven into a quorum-signed checkpoint.
    expect(m.outputs['log-index']).toBe(m.outputs['audit-index']);
    const proof = JSON.parse(m.outputs['transparency-proof']!) as { log_index: number; entry: string; checkpoint: string; inclusion_proof: string[] };
    expect(proof.log_index).toBe(Number(m.outputs['audit-index']));
    expect(JSON.parse(proof.entry)).toMatchObject({ event: 'mint', jti: m.outputs.jti });

    // State for the post step (the token only because revoke defaults to true).
    expect(m.state).toMatchObject({
      token,
      'coordinator-url': stack.coordinator,
      jti: m.outputs.jti,
      'expires-at': m.outputs['expires-at'],
      revoke: 'true',
    });
    expect(m.state['export-env']).toBeUndefined();
    expect(m.env).toEqual({}); // nothing exported without export-env

    // `::add-mask::` precedes every appearance of either token, in all output.
    checkMasked(m, token);
    const oidc = maskedOidcTokens(m, token);
    expect(oidc.length).toBeGreaterThanOrEqual(1);
    for (const t of oidc) checkMasked(m, t);

    // Decoded claims in a collapsed group (claims only).
    const group = m.stdout.slice(m.stdout.indexOf('::group::OIDC token claims'), m.stdout.indexOf('::endgroup::'));
    expect(group).toContain('repository: acme/webapp');
    expect(group).toContain('ref: refs/heads/main');
    expect(group).toContain(`aud: ${stack.coordinator}`);
    expect(group).toMatch(/job_workflow_ref: acme\/webapp\/\.github\/workflows\/deploy\.yml@refs\/heads\/main/);

    // Job summary: the facts, no secret.
    expect(m.summary).toContain('acme/webapp');
    expect(m.summary).toContain(m.outputs.jti!.replace(/_/g, '&#95;'));
    expect(m.summary).toMatch(new RegExp(`Audit index \\| ${m.outputs['audit-index']} \\|`));
    expect(m.summary).toContain('deploy:canary');
    expect(m.summary).toContain('https://deploy.example');
    expect(m.summary).toContain(m.outputs['expires-at']!);

    // The coordinator's audit agrees.
    const records = await stack.auditRecords();
    expect(records.some((r) => r.event === 'mint' && r.jti === m.outputs.jti)).toBe(true);

    expect((await introspect(token)).active).toBe(true);

    const p = await post(m);
    expect(p.status, p.stdout + p.stderr).toBe(0);
    expect(commands(p.stdout, 'warning')).toEqual([]);
    expect(p.stdout).toContain(`Revoked token jti=${m.outputs.jti}`);
    checkMasked(p, token);
    expect((await introspect(token)).active).toBe(false);
    const revoked = await stack.auditRecords();
    expect(revoked.some((r) => r.event === 'revoke' && r.jti === m.outputs.jti)).toBe(true);
    // Nor did the token or the OIDC tokens end up in the stack's logs.
    for (const t of [token, ...oidc]) expect(stack.output()).not.toContain(t);
  });

  it('keeps the token active with revoke: false (and does not even save it as state)', async () => {
    const m = await main({ scopes: 'deploy:canary', revoke: 'false' });
    expect(m.status, m.stdout + m.stderr).toBe(0);
    const token = m.outputs.token!;
    expect(m.state.revoke).toBe('false');
    expect(m.state.token).toBeUndefined();
    checkMasked(m, token);

    const p = await post(m, { revoke: 'false' });
    expect(p.status, p.stdout + p.stderr).toBe(0);
    expect(p.stdout).toContain('Not revoking token');
    expect(p.visible).not.toContain(token);
    expect((await introspect(token)).active).toBe(true);
  });

  it('export-env writes the token to GITHUB_ENV; the post step clears it and revokes', async () => {
    const m = await main({ scopes: 'deploy:canary', 'export-env': 'DEPLOY_TOKEN' });
    expect(m.status, m.stdout + m.stderr).toBe(0);
    const token = m.outputs.token!;
    expect(m.env).toEqual({ DEPLOY_TOKEN: token });
    expect(m.state['export-env']).toBe('DEPLOY_TOKEN');
    checkMasked(m, token);

    // The runner would now put DEPLOY_TOKEN into the environment of later steps, the post step too.
    const p = await post(m, { 'export-env': 'DEPLOY_TOKEN' }, { env: { DEPLOY_TOKEN: token } });
    expect(p.status, p.stdout + p.stderr).toBe(0);
    expect(p.env).toEqual({ DEPLOY_TOKEN: '' });
    expect(p.stdout).toContain('Cleared $DEPLOY_TOKEN');
    checkMasked(p, token);
    expect((await introspect(token)).active).toBe(false);
  });

  it('goes through an HTTP proxy (CONNECT) for both the mint and the revocation, and honours NO_PROXY', async () => {
    const proxy = await startConnectProxy();
    try {
      const target = new URL(stack.coordinator).host;
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url };
      const m = await main({ scopes: 'deploy:canary' }, { env });
      expect(m.status, m.stdout + m.stderr).toBe(0);
      expect(proxy.connects).toContain(target);
      checkMasked(m, m.outputs.token!);

      const before = proxy.connects.length;
      const p = await post(m, {}, { env });
      expect(p.status, p.stdout + p.stderr).toBe(0);
      expect(p.stdout).toContain('Revoked token');
      expect(proxy.connects.length).toBeGreaterThan(before);
      expect((await introspect(m.outputs.token!)).active).toBe(false);

      const bypass = proxy.connects.length;
      const direct = await main({ scopes: 'deploy:canary', revoke: 'false' }, { env: { ...env, NO_PROXY: '127.0.0.1' } });
      expect(direct.status, direct.stdout + direct.stderr).toBe(0);
      expect(proxy.connects.length).toBe(bypass);
    } finally {
      await proxy.close();
    }
  });

  it('works on GitHub Enterprise Server: nothing assumes github.com', async () => {
    const ghes = {
      GITHUB_SERVER_URL: 'https://ghes.acme.internal',
      GITHUB_API_URL: 'https://ghes.acme.internal/api/v3',
      GITHUB_GRAPHQL_URL: 'https://ghes.acme.internal/api/graphql',
    };
    const m = await main({ scopes: 'deploy:canary' }, { env: ghes });
    expect(m.status, m.stdout + m.stderr).toBe(0);
    expect(m.summary).toContain('<a href="https://ghes.acme.internal/acme/webapp">acme/webapp</a>');
    expect(m.visible).not.toMatch(/github\.com/);
    const p = await post(m, {}, { env: ghes });
    expect(p.status).toBe(0);
    expect(p.visible).not.toMatch(/github\.com/);
  });
});

describe('bundled action against the dev stack: errors that say what to do', () => {
  it("policy denied: fails with the coordinator's reasons, sets no output and no state", async () => {
    const m = await main({ scopes: 'deploy:prod', ttl: '7200' });
    expect(m.status).toBe(1);
    const [error] = commands(m.stdout, 'error');
    expect(error).toMatch(/policy denied the mint \(policy_denied\)/);
    expect(error).toMatch(/\nReasons:\n {2}- .*deploy:prod/);
    expect(error).toMatch(/Request only scopes, ttl and audience that the policy grants/);
    expect(m.outputs).toEqual({});
    expect(m.state).toEqual({});
    // The job summary explains the failure: code, status, the reasons and what to do; no secret.
    expect(m.summary).toContain('### ztmint: no deploy token minted');
    expect(m.summary).toContain('| Problem code | <code>policy&#95;denied</code> |');
    expect(m.summary).toContain('| HTTP status | 403 |');
    expect(m.summary).toMatch(/> - .*deploy:prod/);
    expect(m.summary).toContain('> Request only scopes, ttl and audience that the policy grants');
    // One attempt only: a decision is not retried.
    expect(m.stdout).not.toMatch(/Retrying/);

    const p = await post(m);
    expect(p.status).toBe(0);
    expect(p.stdout).toContain('No token was minted');
  });

  it('audience mismatch: says which audience was asked for and to set oidc-audience', async () => {
    const m = await main({ scopes: 'deploy:canary', 'oidc-audience': 'https://not-the-coordinator.example' });
    expect(m.status).toBe(1);
    const [error] = commands(m.stdout, 'error');
    expect(error).toContain("does not accept the audience of this job's OIDC token (invalid_token)");
    expect(error).toContain('"https://not-the-coordinator.example"');
    expect(error).toContain('Set `oidc-audience` to the audience the coordinator is configured to expect');
  });

  it('no ACTIONS_ID_TOKEN_REQUEST_*: tells the author to grant id-token: write', async () => {
    const m = await main({ scopes: 'deploy:canary' }, { env: { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' } });
    expect(m.status).toBe(1);
    const [error] = commands(m.stdout, 'error');
    expect(error).toContain('add `permissions: id-token: write` to the job (fork pull requests never get an OIDC token)');
  });

  // Last in this file: it takes signers away from the shared stack.
  it('quorum unavailable: retries with a fresh OIDC token, then says to retry later', async () => {
    for (const s of stack.signers.slice(0, 2)) await killPid(s.pid);
    const m = await main({ scopes: 'deploy:canary', retries: '1' });
    expect(m.status).toBe(1);
    expect(m.stdout).toMatch(/Attempt 1 of 2 failed: .*quorum_unavailable/);
    const [error] = commands(m.stdout, 'error');
    expect(error).toMatch(/not enough signers are reachable to sign the token \(quorum_unavailable\)/);
    expect(error).toMatch(/No token was issued\. Retry later.*re-run the job, or raise the `retries` \/ `timeout-seconds` inputs/);
    expect(error).toMatch(/gave up after 2 attempts/);
    // Two attempts, two different OIDC tokens (the coordinator accepts each one once).
    expect(new Set(maskedOidcTokens(m, '')).size).toBe(2);
    expect(stack.output()).not.toMatch(/token_replayed/);
  });
});
