// Starts `ztmint dev --json` as a real process tree (issuer, signer processes, coordinator) and
// collects everything the processes print, so tests can also check that no secret was logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_STACK_READY_TIMEOUT_MS, readyLine, stopChild } from './child-process.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CLI = join(ROOT, 'bin', 'ztmint.js');
/** One request to the stack; a mint waits for the signers, so generous on a loaded machine. */
const HTTP_TIMEOUT_MS = 30_000;

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
  /** Each replica's admin listener (HTTPS, admin client certificate). */
  admin: string[];
  /** The bearer token file for POST /v1/introspect. */
  introspection_token_file: string;
  child: ChildProcess;
  /** Everything the stack printed so far (stdout and stderr of every process). */
  output(): string;
  idToken(claims?: Record<string, unknown>): Promise<string>;
  mint(oidcToken: string, body?: unknown): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  auditRecords(): Promise<Array<Record<string, unknown>>>;
  /** POST /v1/introspect (form) with the stack's introspection token, at `at` (default: the public URL). */
  introspect(token: string, at?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** POST /v1/introspect with a bearer token, the way a resource server calls it. */
async function introspectAt(url: string, bearer: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/introspect`, {
    method: 'POST',
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * `opts.state`: run on this (existing) state directory, which `stop()` then leaves in place for
 * the caller (a restart on the same state); otherwise a fresh one, removed by `stop()`.
 */
export async function startDevStack(args: string[] = [], env: Record<string, string> = {}, opts: { state?: string } = {}): Promise<DevStack> {
  const state = opts.state ?? (await mkdtemp(join(tmpdir(), 'ztmint-test-')));
  const child = spawn(process.execPath, [CLI, 'dev', '--json', '--state', state, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZTMINT_LOG_LEVEL: 'info', ...env },
  });
  let printed = '';
  child.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  // The signers start together, then the coordinator, each within the CLI's own readiness bound.
  const ready = await readyLine(
    child,
    'ztmint dev',
    () => printed,
    DEV_STACK_READY_TIMEOUT_MS,
    (line) => (printed += `${line}\n`),
  );
  const stack = ready as unknown as DevStack;
  const bearer = (await readFile(stack.introspection_token_file, 'utf8')).trim();
  return {
    ...stack,
    state,
    child,
    output: () => printed,
    async idToken(claims = {}) {
      const res = await fetch(`${stack.issuer}/token`, {
        method: 'POST',
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aud: stack.coordinator, ...claims }),
      });
      return ((await res.json()) as { value: string }).value;
    },
    async mint(oidcToken, body = { scopes: ['deploy:canary'] }) {
      const res = await fetch(`${stack.coordinator}/v1/mint`, {
        method: 'POST',
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        headers: { authorization: `Bearer ${oidcToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
    },
    async auditRecords() {
      const text = await readFile(join(state, 'audit', 'audit.jsonl'), 'utf8');
      return text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    introspect: (token, at = stack.coordinator) => introspectAt(at, bearer, token),
    async stop() {
      await stopChild(child, 'ztmint dev');
      if (!opts.state) await rm(state, { recursive: true, force: true });
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

/**
 * Kills a process of the stack (not a child of this one) and waits until it is gone: until its
 * parent, `ztmint dev`, has reaped it (a zombie still answers signal 0). Bounded: 15 s.
 */
export async function killPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} did not exit within 15 s of SIGKILL`);
}
