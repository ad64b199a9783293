// Starts `ztmint dev --json` as a real process tree (issuer, signer processes, coordinator) and
// collects everything the processes print, so tests can also check that no secret was logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CLI = join(ROOT, 'bin', 'ztmint.js');

export interface DevStack {
  coordinator: string;
  /** Every coordinator replica's URL (`coordinator` is the first). */
  coordinators: string[];
  issuer: string;
  jwks: string;
  signers: Array<{ id: number; url: string; pid: number }>;
  state: string;
  id_token_request_url: string;
  id_token_request_token: string;
  child: ChildProcess;
  /** Everything the stack printed so far (stdout and stderr of every process). */
  output(): string;
  idToken(claims?: Record<string, unknown>): Promise<string>;
  mint(oidcToken: string, body?: unknown): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  auditRecords(): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

export async function startDevStack(args: string[] = [], env: Record<string, string> = {}): Promise<DevStack> {
  const state = await mkdtemp(join(tmpdir(), 'ztmint-test-'));
  const child = spawn(process.execPath, [CLI, 'dev', '--json', '--state', state, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZTMINT_LOG_LEVEL: 'info', ...env },
  });
  let printed = '';
  child.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev stack not ready in 60 s:\n${printed}`)), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Record<string, unknown>);
    });
    child.once('exit', (code) => reject(new Error(`dev stack exited (${code}):\n${printed}`)));
  });
  lines.on('line', (line) => (printed += `${line}\n`));
  const stack = ready as unknown as DevStack;
  return {
    ...stack,
    state,
    child,
    output: () => printed,
    async idToken(claims = {}) {
      const res = await fetch(`${stack.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aud: stack.coordinator, ...claims }),
      });
      return ((await res.json()) as { value: string }).value;
    },
    async mint(oidcToken, body = { scopes: ['deploy:canary'] }) {
      const res = await fetch(`${stack.coordinator}/v1/mint`, {
        method: 'POST',
        headers: { authorization: `Bearer ${oidcToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
    },
    async auditRecords() {
      const text = await readFile(join(state, 'audit', 'audit.jsonl'), 'utf8');
      return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(state, { recursive: true, force: true });
    },
  };
}

export async function signerTls(state: string, name = 'coordinator') {
  const dir = join(state, 'tls');
  return {
    ca: await readFile(join(dir, 'ca.pem'), 'utf8'),
    cert: await readFile(join(dir, `${name}.pem`), 'utf8'),
    key: await readFile(join(dir, `${name}-key.pem`), 'utf8'),
  };
}

/** Kills a process and waits until it is gone. */
export async function killPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} did not exit`);
}
