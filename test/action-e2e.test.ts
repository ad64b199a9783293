// The bundled action (dist/main/index.js) run as the runner runs it: a separate node process with
// INPUT_* variables, file commands and the runner's ID-token endpoint, against the dev stack.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** Parses a GITHUB_OUTPUT file (`name<<DELIMITER` heredocs, or `name=value`). */
function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]!);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      const [k, ...v] = lines[i]!.split('=');
      out[k!] = v.join('=');
    }
  }
  return out;
}

async function runAction(inputs: Record<string, string>, extraEnv: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ztmint-runner-'));
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_ENV: join(dir, 'env'), GITHUB_STATE: join(dir, 'state') };
  for (const f of Object.values(files)) await writeFile(f, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...files,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    ACTIONS_ID_TOKEN_REQUEST_URL: stack.id_token_request_url,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: stack.id_token_request_token,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    ...extraEnv,
  };
  const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'main', 'index.js')], { env, encoding: 'utf8', timeout: 60_000 });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outputs: parseFileCommands(await readFile(files.GITHUB_OUTPUT, 'utf8')),
  };
}

describe('bundled action against the dev stack', () => {
  it('mints, masks the token before any line that could hold it, and writes the outputs', async () => {
    const run = await runAction({ 'coordinator-url': stack.coordinator, scopes: 'deploy:canary, read:logs' });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const token = run.outputs.token!;
    expect(token.split('.')).toHaveLength(3);
    expect(run.outputs.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(new Date(run.outputs['expires-at']!).getTime()).toBeGreaterThan(Date.now());

    // The coordinator agrees that this token was minted (audit holds its jti).
    const records = await stack.auditRecords();
    expect(records.some((r) => r.event === 'mint' && r.jti === run.outputs.jti)).toBe(true);

    // Every line of output: the mask command comes first, and nothing else ever shows the token
    // or any recognisable part of it.
    const lines = `${run.stdout}\n${run.stderr}`.split('\n');
    const maskAt = lines.indexOf(`::add-mask::${token}`);
    expect(maskAt).toBeGreaterThanOrEqual(0);
    const [, payload, signature] = token.split('.');
    lines.forEach((line, i) => {
      if (i === maskAt) return;
      expect(line.includes(signature!) || line.includes(payload!), `line ${i} shows the token`).toBe(false);
    });
    // The OIDC token is masked as well.
    expect(lines.filter((l) => l.startsWith('::add-mask::')).length).toBeGreaterThanOrEqual(2);
  });

  it('fails with the coordinator\'s reasons when the policy denies, and sets no token', async () => {
    const run = await runAction({ 'coordinator-url': stack.coordinator, scopes: 'deploy:prod' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/::error::.*deploy:prod/);
    expect(run.outputs.token).toBeUndefined();
  });

  it('tells the author to grant id-token: write when the runner offers no OIDC token', async () => {
    const run = await runAction({ 'coordinator-url': stack.coordinator, scopes: 'deploy:canary' }, { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('permissions: id-token: write');
  });
});
