// Shared by the `ztmint keys refresh|repair|reshare` e2e tests: the CLI as an operator runs it, a
// concurrent mint load that retries only retryable answers (and counts them), and the crypto
// checks on shares unsealed from the signers' folders.
import { ed25519 } from '@noble/curves/ed25519.js';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aggregate, commit, signShare, type GroupInfo, type SecretShare } from '../../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../../protocol/encoding.js';
import { readDevStackFile } from '../../cli/dev-stack-file.js';
import { CLI, startDevStack, type DevStack } from './dev-stack.js';

/** `ztmint …` as a child process; bounded. */
export function ztmint(args: string[], timeoutMs = 240_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The problem codes a client may retry (docs/errors.md: the coordinator's transient 503s). */
const RETRYABLE = new Set(['quorum_unavailable', 'audit_unavailable', 'store_unavailable', 'not_ready']);

/** Concurrent mints until stopped; a retryable answer is retried (and counted), anything else recorded as a failure. */
export function mintLoad(stack: DevStack, workers: number) {
  const tokens: string[] = [];
  const failures: Array<{ status: number; code?: string; detail?: string }> = [];
  const retried: string[] = [];
  let stop = false;
  const run = async () => {
    while (!stop) {
      const res = await stack.mint(await stack.idToken());
      if (res.status === 200) tokens.push(res.body.token as string);
      else if (RETRYABLE.has(res.body.code as string)) {
        retried.push(`${String(res.body.code)}: ${String(res.body.detail)}`);
        await sleep(Number(res.headers.get('retry-after') ?? 0.2) * 1000);
      } else failures.push({ status: res.status, code: res.body.code as string, detail: res.body.detail as string });
    }
  };
  const done = Promise.all(Array.from({ length: workers }, run));
  return {
    tokens,
    failures,
    retried,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** The coordinator's key set entry of the first key: keys.json once written, else group.json. */
export async function keySetGroup(state: string): Promise<GroupInfo> {
  try {
    const file = JSON.parse(await readFile(join(state, 'keys.json'), 'utf8')) as { keys: Array<{ group: GroupInfo }> };
    return file.keys[0]!.group;
  } catch {
    return JSON.parse(await readFile(join(state, 'group.json'), 'utf8')) as GroupInfo;
  }
}

const message = new TextEncoder().encode('ztmint keys ceremony');

/** Whether these shares sign a valid Ed25519 signature under `g` (FROST, checked with noble). */
export function signsValid(g: GroupInfo, shares: SecretShare[]): boolean {
  try {
    // Fewer than the threshold is refused while signing (an error), more often a bad aggregate: both are "no".
    const rounds = shares.map((s) => commit(s));
    const commitments = rounds.map((r) => r.commitment);
    const sig = Object.fromEntries(shares.map((s, k) => [s.identifier, signShare(s, g, rounds[k]!.nonces, commitments, message)]));
    return ed25519.verify(aggregate(g, commitments, message, sig), message, fromB64url(g.group_public_key));
  } catch {
    return false;
  }
}

/** share·G, base64url: what the key set's verifying share of that signer must be. */
export function verifyingShareOf(share: SecretShare): string {
  return b64url(ed25519.Point.BASE.multiply(BigInt(`0x${Buffer.from(share.signingShare).reverse().toString('hex')}`)).toBytes());
}

/** The token's issue time (tokens are checked as of then). */
export const iatOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number }).iat;

/**
 * A `ztmint dev` stack on one state directory that a test stops and starts again (the state
 * stays): `stop()` waits, bounded, until every process of the stack has exited.
 */
export function restartableStack(state: string) {
  let current: DevStack | undefined;
  return {
    get stack(): DevStack {
      if (!current) throw new Error('the stack is not running');
      return current;
    },
    async start(...args: string[]): Promise<DevStack> {
      current = await startDevStack(args, {}, { state });
      return current;
    },
    async stop(): Promise<void> {
      const s = current;
      if (!s) return;
      const pids = [...s.signers.map((x) => x.pid), ...readDevStackFile(state).coordinator.pids];
      current = undefined;
      await s.stop();
      const gone = (pid: number) => {
        try {
          // A zombie (exited, not reaped yet) has released everything: its state is Z.
          return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
        } catch {
          return true;
        }
      };
      const deadline = Date.now() + 30_000;
      while (!pids.every(gone)) {
        if (Date.now() > deadline) throw new Error(`processes ${pids.filter((p) => !gone(p)).join(', ')} still run 30 s after the stack stopped`);
        await sleep(50);
      }
    },
  };
}
