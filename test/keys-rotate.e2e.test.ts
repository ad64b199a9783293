// `ztmint keys rotate` against a running `ztmint dev --state DIR` (docs/keys.md): a load of
// concurrent mints keeps succeeding throughout; every token minted before the activation verifies
// against the JWKS until it expires; after the activation new tokens carry the new kid; after the
// overlap the old key leaves the JWKS; publish, activation and retirement are audited.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startDevStack, type DevStack } from './helpers/dev-stack.js';

/** Short lifetimes so that the overlap (≥ ttl.max) passes within the test. */
const TTL_MAX = 20;
const ACTIVATION_DELAY = 6;

let stack: DevStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ztmint-keys-'));
  const data = JSON.parse(await readFile(new URL('../policies/data.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  data.ttl = { default: 10, max: TTL_MAX };
  await writeFile(join(dataDir, 'data.json'), JSON.stringify(data));
  const unlimited = '100000/min,10000'; // the load is about keys, not rate limits
  stack = await startDevStack(['--policy-data', join(dataDir, 'data.json'), '--rate-repository', unlimited, '--rate-sub', unlimited]);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** `ztmint keys …` as an operator runs it; bounded. */
function ztmint(args: string[], timeoutMs = 240_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

async function jwks(): Promise<JSONWebKeySet> {
  const res = await fetch(stack.jwks, { signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as JSONWebKeySet;
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid as string;
const iatOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number }).iat;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(deadlineS: number): Promise<void> {
  const ms = deadlineS * 1000 - Date.now();
  if (ms > 0) await sleep(ms);
}

interface Minted {
  status: number;
  code?: string;
  token?: string;
}

/** Concurrent mints until stopped; only a problem that says to retry (Retry-After) is retried. */
function mintLoad(workers: number) {
  const results: Minted[] = [];
  let stop = false;
  const run = async () => {
    while (!stop) {
      const res = await stack.mint(await stack.idToken());
      if (res.status !== 200 && res.headers.get('retry-after')) {
        await sleep(Number(res.headers.get('retry-after')) * 1000);
        continue;
      }
      results.push({ status: res.status, code: res.body.code as string | undefined, token: res.body.token as string | undefined });
    }
  };
  const done = Promise.all(Array.from({ length: workers }, run));
  return {
    results,
    async stop() {
      stop = true;
      await done;
    },
  };
}

describe('ztmint keys rotate (live dev stack)', () => {
  it('refuses an overlap shorter than the longest token lifetime, and says why', async () => {
    const r = await ztmint(['keys', 'rotate', '--state', stack.state, '--activation-delay', '1', '--overlap', String(TTL_MAX - 1)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/overlap \(19 s\) is shorter than the longest token lifetime the policy allows \(20 s\).*\[key_conflict\]/);
    expect((await jwks()).keys).toHaveLength(1);
  }, 120_000);

  it('publishes, activates and retires with minting going on throughout', async () => {
    const before = await jwks();
    expect(before.keys).toHaveLength(1);
    const oldKid = before.keys[0]!.kid!;
    const first = await stack.mint(await stack.idToken());
    expect(first.status).toBe(200);
    const oldToken = first.body.token as string;
    expect(kidOf(oldToken)).toBe(oldKid);

    const load = mintLoad(2);
    try {
      await rotateUnderLoad(load, oldKid, oldToken);
    } finally {
      await load.stop();
    }
  }, 300_000);
});

async function rotateUnderLoad(load: ReturnType<typeof mintLoad>, oldKid: string, oldToken: string): Promise<void> {
  const rotated = await ztmint(['keys', 'rotate', '--state', stack.state, '--activation-delay', String(ACTIVATION_DELAY), '--overlap', String(TTL_MAX), '--json']);
  expect(rotated.stderr).toBe('');
  expect(rotated.code).toBe(0);
  const result = JSON.parse(rotated.stdout) as { kid: string; activates_at: number; previous: Array<{ kid: string; retires_at: number }> };
  expect(result.kid).not.toBe(oldKid);
  expect(result.previous).toEqual([{ kid: oldKid, retires_at: result.activates_at + TTL_MAX }]);

  // Published before it signs anything: both keys in the JWKS, tokens still under the old kid.
  const published = await jwks();
  expect(published.keys.map((k) => k.kid).sort()).toEqual([oldKid, result.kid].sort());
  const stillOld = await stack.mint(await stack.idToken());
  expect(stillOld.body).toMatchObject({ token_type: 'Bearer' });
  if (Date.now() / 1000 < result.activates_at - 1) expect(kidOf(stillOld.body.token as string)).toBe(oldKid);

  // After the activation: new tokens carry the new kid.
  await until(result.activates_at + 1);
  const fresh = await stack.mint(await stack.idToken());
  expect(fresh.status).toBe(200);
  expect(kidOf(fresh.body.token as string)).toBe(result.kid);
  await sleep(2000);
  await load.stop();

  // Every mint of the load succeeded, under either key, and each verifies against the JWKS now.
  expect(load.results.length).toBeGreaterThan(0);
  expect(load.results.filter((r) => r.status !== 200)).toEqual([]);
  const tokens = [oldToken, stillOld.body.token as string, ...load.results.map((r) => r.token!)];
  const kids = new Set(tokens.map(kidOf));
  expect(kids).toEqual(new Set([oldKid, result.kid]));
  const keySet = createLocalJWKSet(await jwks());
  for (const token of tokens) {
    // Checked as of its issue time: the signature under a key the JWKS still publishes.
    const { payload } = await jwtVerify(token, keySet, { algorithms: ['EdDSA'], currentDate: new Date(iatOf(token) * 1000) });
    // No token of the old key outlives it in the JWKS.
    if (kidOf(token) === oldKid) expect(payload.exp!).toBeLessThanOrEqual(result.previous[0]!.retires_at);
  }

  // After the overlap the old key leaves the JWKS; the new one stays.
  await until(result.previous[0]!.retires_at + 2);
  const after = await jwks();
  expect(after.keys.map((k) => k.kid)).toEqual([result.kid]);
  const last = await stack.mint(await stack.idToken());
  expect(kidOf(last.body.token as string)).toBe(result.kid);
  await jwtVerify(last.body.token as string, createLocalJWKSet(after), { algorithms: ['EdDSA'] });

  // Introspection checks a token with the key its kid names.
  const introspected = await fetch(`${stack.coordinator}/v1/introspect`, {
    method: 'POST',
    // Introspection needs client authentication: the dev stack's introspection token.
    headers: { 'content-type': 'application/json', authorization: `Bearer ${(await readFile(join(stack.state, 'introspection-token'), 'utf8')).trim()}` },
    body: JSON.stringify({ token: last.body.token }),
    signal: AbortSignal.timeout(30_000),
  });
  expect(((await introspected.json()) as { active: boolean }).active).toBe(true);

  // Every step is in the audit log, in order.
  const events = (await stack.auditRecords()).filter((r) => String(r.event).startsWith('key_'));
  expect(events.map((r) => `${String(r.event)} ${String(r.kid)}`)).toEqual([`key_published ${result.kid}`, `key_activated ${result.kid}`, `key_retired ${oldKid}`]);

  const status = await ztmint(['keys', 'status', '--state', stack.state, '--json']);
  expect(status.code).toBe(0);
  const doc = JSON.parse(status.stdout) as { keys: Array<{ kid: string; state: string; in_jwks: boolean }>; signers: Array<{ name: string; current: string }> };
  expect(doc.keys.map((k) => [k.kid, k.state, k.in_jwks])).toEqual([
    [oldKid, 'retired', false],
    [result.kid, 'active', true],
  ]);
  expect(doc.signers.map((s) => s.current)).toEqual([result.kid, result.kid, result.kid]);
}
