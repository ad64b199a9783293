// Staged policy rollout on live processes (3 signers, t = 2, each with its own revisions file,
// as on separate hosts): revision A → A+B → B while workers mint without pause, none failing and
// every token's `pol` naming A, then B (B built and signed by the real OPA CLI when it is installed,
// so signers accept `opa build --signing-key` bundles). Then bad bundles (tampered, wrong key,
// unsigned) are refused and logged by every process while B stays in force, and a coordinator that
// switches to a revision the signers do not accept hears `policy_not_accepted` from them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleArchive, writeBundleArchive } from '../policy-engine/bundle-archive.js';
import { OPA, REGO, readJson, DATA } from './helpers/policy-fixtures.js';
import { CLI, Stack } from './helpers/stack.js';

const TEST_TIMEOUT_MS = 240_000;
const WAIT_MS = 60_000;

let stack: Stack;
let dir: string;
let agent: Agent;
const revisionsFile = (who: string) => join(dir, `${who}.revisions`);
const bundleDir = () => join(dir, 'bundles');

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ztmint ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const setRevisions = (who: string, ...revisions: string[]) => cli('policy', 'revisions', '--file', revisionsFile(who), ...revisions);

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function signerRevisions(url: string): Promise<string[]> {
  const res = await request(`${url}/v1/info`, { dispatcher: agent, headersTimeout: 30_000, bodyTimeout: 30_000 });
  return ((await res.body.json()) as { policy_revisions: string[] }).policy_revisions;
}

async function readyz(): Promise<{ ready: boolean; policy: string; policy_revisions: string[] }> {
  return (await (await fetch(`${stack.coordinatorUrl}/readyz`, { signal: AbortSignal.timeout(30_000) })).json()) as { ready: boolean; policy: string; policy_revisions: string[] };
}

const sameList = (a: string[], b: string[]) => a.join('\n') === b.join('\n');

async function signersAccept(indexes: number[], revisions: string[]): Promise<void> {
  await until(`signers ${indexes.join(',')} to accept ${revisions.join(', ')}`, async () => {
    for (const i of indexes) if (!sameList(await signerRevisions(stack.signers[i - 1]!.url), revisions)) return undefined;
    return true;
  });
}

async function mint(): Promise<{ status: number; body: Record<string, unknown> }> {
  const oidc = await stack.idToken();
  const res = await fetch(`${stack.coordinatorUrl}/v1/mint`, {
    method: 'POST',
    signal: AbortSignal.timeout(60_000),
    headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['deploy:canary'] }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface MintRecord {
  started: number;
  status: number;
  pol?: string;
  ttl?: number;
  code?: unknown;
}

/** Workers minting back to back until stopped; each mint is recorded with when it started. */
function mintLoop(workers: number) {
  const records: MintRecord[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;
  const one = async () => {
    const started = Date.now();
    const { status, body } = await mint();
    const claims = typeof body.token === 'string' ? decodeJwt(body.token) : undefined;
    records.push({ started, status, pol: claims?.pol as string | undefined, ttl: claims ? claims.exp! - claims.iat! : undefined, code: body.code });
  };
  const worker = async () => {
    while (running) {
      const p = one().catch((err: unknown) => void records.push({ started: Date.now(), status: 0, code: String(err) }));
      inFlight.add(p);
      await p;
      inFlight.delete(p);
    }
  };
  const done = Promise.all(Array.from({ length: workers }, worker));
  return {
    records,
    /** Waits for every mint that is in flight now. */
    drain: () => Promise.all([...inFlight]),
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Bundle B: policy data with a default ttl of 600 s (A: 900 s), so tokens show which data decided. */
async function publishB(): Promise<'opa' | 'ztmint'> {
  const data = readJson(DATA) as { ttl: { default: number } };
  data.ttl.default = 600;
  const out = join(bundleDir(), 'b.tar.gz');
  if (existsSync(OPA)) {
    // Built and signed by OPA itself: signers must accept what `opa build --signing-key` makes.
    const src = join(dir, 'src-b');
    await mkdir(join(src, 'ztmint'), { recursive: true });
    await writeFile(join(src, 'mint.rego'), await readFile(REGO));
    await writeFile(join(src, 'ztmint', 'data.json'), JSON.stringify(data));
    const tmp = join(dir, 'b.tar.gz');
    const r = spawnSync(OPA, ['build', '-b', '-t', 'wasm', '-e', 'ztmint/mint/decision', src, '--signing-key', join(dir, 'admin-key.pem'), '--signing-alg', 'ES256', '--revision', 'B', '-o', tmp], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    if (r.status !== 0) throw new Error(`opa build failed: ${r.stdout}${r.stderr}`);
    await rename(tmp, out);
    return 'opa';
  }
  await writeFile(join(dir, 'data-b.json'), JSON.stringify(data));
  cli('policy', 'bundle', '--revision', 'B', '--policy-data', join(dir, 'data-b.json'), '--signing-key', join(dir, 'admin-key.pem'), '--out', out);
  return 'ztmint';
}

const WHO = ['coordinator', 'signer-1', 'signer-2', 'signer-3'];

beforeAll(async () => {
  const state = await mkdtemp(join(tmpdir(), 'ztmint-rollout-'));
  cli('keygen', '--state', state, '--signers', '3', '--threshold', '2');
  dir = join(state, 'policy');
  await mkdir(bundleDir(), { recursive: true });
  cli('policy', 'keygen', '--private-key', join(dir, 'admin-key.pem'), '--public-key', join(dir, 'admin.pub.pem'));
  cli('policy', 'bundle', '--revision', 'A', '--signing-key', join(dir, 'admin-key.pem'), '--out', join(bundleDir(), 'a.tar.gz'));
  for (const who of WHO) setRevisions(who, 'A');
  const policyArgs = (who: string) => ['--policy-bundle-dir', bundleDir(), '--policy-admin-key', join(dir, 'admin.pub.pem'), '--policy-revisions-file', revisionsFile(who)];
  stack = await Stack.start({
    state,
    signerArgs: (i) => policyArgs(`signer-${i}`),
    // The loop mints far more than the default per-subject limit allows.
    coordinatorArgs: [...policyArgs('coordinator'), '--rate-repository', '100000/min,10000', '--rate-sub', '100000/min,10000'],
  });
  agent = new Agent({
    connect: {
      ca: await readFile(join(state, 'tls', 'ca.pem'), 'utf8'),
      cert: await readFile(join(state, 'tls', 'coordinator.pem'), 'utf8'),
      key: await readFile(join(state, 'tls', 'coordinator-key.pem'), 'utf8'),
    },
  });
}, TEST_TIMEOUT_MS);

afterAll(async () => {
  await agent?.close();
  await stack?.stop();
  if (stack) await rm(stack.state, { recursive: true, force: true });
});

const log = (who: string) => readFile(join(stack.state, 'logs', `${who}.log`), 'utf8');

describe('staged policy rollout (live processes)', () => {
  it(
    'A → A+B → B with concurrent mints: none fails, pol names A then B',
    async () => {
      expect((await readyz()).policy).toBe('A');
      await signersAccept([1, 2, 3], ['A']);
      const loop = mintLoop(3);
      try {
        await until('a first mint under A', async () => (loop.records.some((r) => r.pol === 'A') ? true : undefined));
        // 1. publish B: nothing accepts it until it is listed.
        const builtBy = await publishB();
        // 2. signers accept both.
        for (const i of [1, 2, 3]) setRevisions(`signer-${i}`, 'A', 'B');
        await signersAccept([1, 2, 3], ['A', 'B']);
        expect((await readyz()).policy, 'the coordinator still mints with A').toBe('A');
        // 3. the coordinator switches; mints that started before it saw B are drained.
        setRevisions('coordinator', 'B', 'A');
        await until('the coordinator to switch to B', async () => ((await readyz()).policy === 'B' ? true : undefined));
        const switched = Date.now();
        await loop.drain();
        await until('mints under B', async () => (loop.records.filter((r) => r.started > switched && r.pol === 'B').length >= 3 ? true : undefined));
        // 4. A retired everywhere.
        for (const who of WHO) setRevisions(who, 'B');
        await signersAccept([1, 2, 3], ['B']);
        await until('the coordinator to retire A', async () => (sameList((await readyz()).policy_revisions, ['B']) ? true : undefined));
        const retired = Date.now();
        await until('mints after A is retired', async () => (loop.records.filter((r) => r.started > retired).length >= 3 ? true : undefined));
        await loop.stop();
        const failed = loop.records.filter((r) => r.status !== 200);
        expect(failed, `failed mints (bundle B built by ${builtBy})`).toEqual([]);
        const ordered = [...loop.records].sort((a, b) => a.started - b.started);
        const firstB = ordered.findIndex((r) => r.pol === 'B');
        expect(firstB).toBeGreaterThan(0);
        expect(ordered.slice(0, firstB).every((r) => r.pol === 'A' && r.ttl === 900)).toBe(true);
        expect(
          ordered.filter((r) => r.started > switched).every((r) => r.pol === 'B' && r.ttl === 600),
          "after the switch every token is B, decided by B's data",
        ).toBe(true);
      } finally {
        await loop.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'tampered, wrongly signed and unsigned bundles are refused and logged by every process; B stays in force',
    async () => {
      const good = await readBundleArchive(await readFile(join(bundleDir(), 'b.tar.gz')));
      const tampered = new Map(good);
      tampered.set('data.json', Buffer.from(JSON.stringify({ ztmint: { ...(readJson(DATA) as object), ttl: { default: 3600, max: 86400 } } })));
      tampered.set('.manifest', Buffer.from(JSON.stringify({ revision: 'C', roots: [''] })));
      await writeFile(join(bundleDir(), 'c-tampered.tar.gz'), await writeBundleArchive(tampered));
      cli('policy', 'keygen', '--private-key', join(dir, 'intruder-key.pem'), '--public-key', join(dir, 'intruder.pub.pem'));
      cli('policy', 'bundle', '--revision', 'C', '--signing-key', join(dir, 'intruder-key.pem'), '--out', join(bundleDir(), 'c-wrong-key.tar.gz'));
      const unsigned = new Map(good);
      unsigned.delete('.signatures.json');
      await writeFile(join(bundleDir(), 'c-unsigned.tar.gz'), await writeBundleArchive(unsigned));
      for (const who of WHO) setRevisions(who, 'C', 'B');

      const expected = [
        ['c-tampered.tar.gz', 'bundle_digest_mismatch'],
        ['c-wrong-key.tar.gz', 'bundle_signature_invalid'],
        ['c-unsigned.tar.gz', 'bundle_unsigned'],
      ];
      for (const who of WHO) {
        await until(`${who} to log every refusal`, async () => {
          const lines = (await log(who)).split('\n').filter((l) => l.includes('"policy bundle refused"'));
          return expected.every(([file, code]) => lines.some((l) => l.includes(`"file":"${file}"`) && l.includes(`"code":"${code}"`))) ? true : undefined;
        });
      }
      await signersAccept([1, 2, 3], ['B']);
      expect(await readyz()).toMatchObject({ policy: 'B', policy_revisions: ['B'] });
      const res = await mint();
      expect(res.status).toBe(200);
      expect(decodeJwt(res.body.token as string).pol).toBe('B');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a coordinator ahead of its signers hears policy_not_accepted from them: policy_mismatch naming them, readyz not ready',
    async () => {
      cli('policy', 'bundle', '--revision', 'D', '--signing-key', join(dir, 'admin-key.pem'), '--out', join(bundleDir(), 'd.tar.gz'));
      setRevisions('signer-1', 'B', 'D');
      setRevisions('coordinator', 'D', 'B');
      await signersAccept([1], ['B', 'D']);
      await until('the coordinator to switch to D', async () => ((await readyz()).policy === 'D' ? true : undefined));
      const res = await mint();
      // Two of three signers cannot ever agree: not retryable, named, with what to do.
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('policy_mismatch');
      expect(res.body.detail).toMatch(/signer-2, signer-3 do not accept this coordinator's policy revision: roll it out to the signers/);
      const reasons = (res.body.reasons as string[]).join('\n');
      expect(reasons).toMatch(/signer-[23] refused: policy_not_accepted: .*pol "D" is not a policy revision this signer accepts \(B\)/);
      const ready = await readyz();
      expect(ready).toMatchObject({ ready: false, policy: 'D' });
      // One lagging signer out of three does not stop mints under D (t = 2).
      setRevisions('signer-2', 'B', 'D');
      await signersAccept([2], ['B', 'D']);
      const ok = await mint();
      expect(ok.status).toBe(200);
      expect(decodeJwt(ok.body.token as string).pol).toBe('D');
    },
    TEST_TIMEOUT_MS,
  );
});
