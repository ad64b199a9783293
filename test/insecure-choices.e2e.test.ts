// Insecure choices are loud (issue #13 item 5): a share sealed with the `file` key provider, an
// http:// OIDC issuer, a coordinator without signers. Each refuses to start without the flag that
// names it; with the flag the process starts, warns in its log and reports the choice (signer
// /v1/info `insecure`, coordinator /readyz `warnings`). The test processes run WITHOUT the
// variables the test suite normally sets (test/setup/insecure-test-env.ts): production defaults.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIssuer, type DevIssuer } from '../cli/dev-issuer.js';
import { signerTls } from './helpers/dev-stack.js';
import { CLI, freePorts } from './helpers/stack.js';
import { INSECURE_TEST_ENV } from './setup/insecure-test-env.js';
import { SignerClient } from '../coordinator/signer-client.js';

const GITHUB = 'https://token.actions.githubusercontent.com';
let state: string;
let issuer: DevIssuer;

/** The environment without the test suite's allowances: what production sees. */
function productionEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ZTMINT_LOG_LEVEL: 'warn' };
  for (const key of Object.keys(INSECURE_TEST_ENV)) delete env[key];
  return env;
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ztmint-insecure-'));
  const keygen = spawnSync(process.execPath, [CLI, 'keygen', '--state', state, '--signers', '3', '--threshold', '2'], { encoding: 'utf8' });
  if (keygen.status !== 0) throw new Error(keygen.stderr);
  issuer = await startDevIssuer({ host: '127.0.0.1', audience: () => 'https://ztmint.example.com' });
});
afterAll(async () => {
  await issuer?.close();
  if (state) await rm(state, { recursive: true, force: true });
});

/** Runs `ztmint <args>` until it prints its ready line (then stops it) or exits; bounded. */
function run(args: string[], onReady?: (ready: Record<string, unknown>) => Promise<void>): Promise<{ code: number | null; ready?: Record<string, unknown>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: productionEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let ready: Record<string, unknown> | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ztmint ${args[0]} neither got ready nor exited in 90 s:\n${stderr}`));
    }, 90_000);
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (ready || !stdout.includes('\n')) return;
      ready = JSON.parse(stdout.split('\n')[0]!) as Record<string, unknown>;
      void (onReady ? onReady(ready) : Promise.resolve()).catch(reject).finally(() => child.kill('SIGTERM'));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...(ready ? { ready } : {}), stderr });
    });
  });
}

const signerBase = (port: number, oidcIssuer: string) => [
  'signer',
  '--state',
  state,
  '--index',
  '1',
  '--port',
  String(port),
  '--token-issuer',
  'https://ztmint.example.com',
  '--oidc-audience',
  'https://ztmint.example.com',
  '--oidc-issuer',
  oidcIssuer,
];

const coordinatorBase = (oidcIssuer: string) => ['coordinator', '--state', state, '--oidc-audience', 'https://ztmint.example.com', '--oidc-issuer', oidcIssuer];

describe('insecure choices refuse to start without their flag, and warn with it', () => {
  it('signer: a share sealed with the file key provider', async () => {
    const [port] = await freePorts(1);
    const refused = await run(signerBase(port!, GITHUB));
    expect(refused.ready).toBeUndefined();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refusing to start: the share in .* is sealed with the file key provider/);
    expect(refused.stderr).toContain('--insecure-allow-file-key-provider');
  });

  it('signer: an http:// OIDC issuer', async () => {
    const [port] = await freePorts(1);
    const refused = await run([...signerBase(port!, issuer.url), '--insecure-allow-file-key-provider']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`refusing to start: OIDC issuer ${issuer.url} is not https://`));
    expect(refused.stderr).toContain('--insecure-allow-http-issuer');
  });

  it('signer: with both flags it starts, warns in its log and lists both in /v1/info', async () => {
    const [port] = await freePorts(1);
    const tls = await signerTls(state);
    let insecure: string[] = [];
    const started = await run([...signerBase(port!, issuer.url), '--insecure-allow-file-key-provider', '--insecure-allow-http-issuer'], async (ready) => {
      const client = new SignerClient({ name: 'signer-1', url: ready.url as string }, tls, { timeoutMs: 30_000, preprocessing: false });
      try {
        insecure = (await client.info()).insecure ?? [];
      } finally {
        await client.close();
      }
    });
    expect(started.ready).toMatchObject({ ready: true });
    expect(started.stderr).toMatch(/INSECURE: the share in .* is sealed with the file key provider/);
    expect(started.stderr).toMatch(/INSECURE: OIDC issuer http:\/\/127\.0\.0\.1:\d+ is not https:\/\//);
    expect(insecure).toHaveLength(2);
  });

  it('coordinator: an http:// OIDC issuer, and no signers', async () => {
    const http = await run([...coordinatorBase(issuer.url), '--signer', 'signer-1=https://127.0.0.1:1']);
    expect(http.code).toBe(1);
    expect(http.stderr).toMatch(/refusing to start: OIDC issuer .* is not https:\/\/.*--insecure-allow-http-issuer/);
    const none = await run(coordinatorBase(GITHUB));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/refusing to start: no signer is configured.*--insecure-allow-no-signers/);
  });

  it('coordinator: with the flags it starts, warns in its log and in /readyz (never ready without signers)', async () => {
    let readyz: { status: number; body: Record<string, unknown> } | undefined;
    const started = await run([...coordinatorBase(issuer.url), '--insecure-allow-http-issuer', '--insecure-allow-no-signers'], async (ready) => {
      const res = await fetch(`${ready.url as string}/readyz`, { signal: AbortSignal.timeout(30_000) });
      readyz = { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    expect(started.ready).toMatchObject({ ready: true });
    expect(started.stderr).toMatch(/INSECURE: no signer is configured/);
    expect(started.stderr).toMatch(/INSECURE: OIDC issuer http:\/\/127\.0\.0\.1:\d+ is not https:\/\//);
    expect(readyz!.status).toBe(503);
    expect(readyz!.body.warnings).toEqual([expect.stringMatching(/OIDC issuer http:/), expect.stringMatching(/no signer is configured/)]);
  });

  it('coordinator: --insecure-no-transparency-proofs (benchmarks only) warns, and discovery names no transparency log', async () => {
    let readyz: Record<string, unknown> | undefined;
    let discovery: Record<string, unknown> | undefined;
    const started = await run([...coordinatorBase(issuer.url), '--insecure-allow-http-issuer', '--insecure-allow-no-signers', '--insecure-no-transparency-proofs'], async (ready) => {
      readyz = (await (await fetch(`${ready.url as string}/readyz`, { signal: AbortSignal.timeout(30_000) })).json()) as Record<string, unknown>;
      discovery = (await (await fetch(`${ready.url as string}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(30_000) })).json()) as Record<string, unknown>;
    });
    expect(started.ready).toMatchObject({ ready: true });
    expect(started.stderr).toMatch(/INSECURE: no transparency-log checkpoints are signed and mints carry no inclusion proof/);
    expect(readyz!.warnings).toContainEqual(expect.stringMatching(/no transparency-log checkpoints/));
    expect(discovery).toBeDefined();
    expect(discovery!.transparency_log).toBeUndefined();
  });
});
