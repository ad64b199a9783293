// Signers without a share on the live dev stack (`ztmint dev --state DIR`, restarted on the same
// state), the ceremonies driven with the coordinator's certificate through ShareRelay (as
// test/share-live.e2e.test.ts; the `ztmint keys` commands are the coordinator's side):
//
//   - the share log key stays across a refresh and restarts (share-log.seed), cross-check passes;
//   - a signer whose share was lost starts share-less: it runs, /readyz 503 names the repair,
//     /v1/info says `missing`, round 1 is refused `not_ready`, the stack mints with the others;
//     an interrupted repair changes nothing; a repair by 1 and 3 gives signer-2 its share back
//     (share·G = its verifying share) and the stack mints with signer-1 killed;
//   - `--signers 5` on a 2-of-3 state starts signers 4 and 5 as joiners (certificates from the
//     state CA); a reshare 2-of-3 → 3-of-5 gives every one a share: any 3 sign, no 2 do, and the
//     live signers sign a token with the new shares;
//   - a reshare 3-of-5 → 2-of-2 by dealers 1, 3, 5 that leaves signers 3 and 5 out: they drop
//     their shares and refuse to sign (signer 4, not in the ceremony at all, is not told);
//   - on a fresh stack, a reshare 2-of-3 → 2-of-2 leaving signer-3 out: it drops its share and
//     refuses, and signers 1 and 2 sign with their new shares.
import { signsValid } from './helpers/key-ceremony.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DkgRelayError } from '../coordinator/dkg-relay.js';
import { ShareRelay } from '../coordinator/share-relay.js';
import { SignerClient } from '../coordinator/signer-client.js';
import { frostSign } from '../coordinator/signing.js';
import { readDevStackFile } from '../cli/dev-stack-file.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { ed25519PublicKey, thumbprint, verifyEd25519 } from '../protocol/jwk.js';
import { unsealShare } from '../signers/sealed-share.js';
import { CLI, killPid, signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { honestToken } from './helpers/honest-token.js';

let state: string;
let stack: DevStack | undefined;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ztmint-shareless-'));
});
afterAll(async () => {
  await stack?.stop();
  await rm(state, { recursive: true, force: true });
});

/** Starts `ztmint dev` on the shared state (after the previous one's processes are gone). */
async function start(...args: string[]): Promise<DevStack> {
  stack = await startDevStack(args, {}, { state });
  return stack;
}

/** Stops the stack and waits (bounded) until its processes have exited: the next start reuses the state. */
async function stop(): Promise<void> {
  const s = stack!;
  const pids = [...s.signers.map((x) => x.pid), ...readDevStackFile(state).coordinator.pids];
  await s.stop();
  stack = undefined;
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
    await new Promise((r) => setTimeout(r, 50));
  }
}

const signerDir = (i: number) => join(state, 'signers', String(i));
const sealedShare = (i: number) => unsealShare(join(signerDir(i), 'share.sealed'));
const url = (i: number) => stack!.signers.find((s) => s.id === i)!.url;
const members = (indices: number[]) => indices.map((i) => ({ name: `signer-${i}`, url: url(i) }));

/** The key set signer i's key ring holds (keyring.json once written, else group.json). */
async function ringGroup(i: number): Promise<GroupInfo> {
  const ring = join(signerDir(i), 'keyring.json');
  if (existsSync(ring)) return (JSON.parse(await readFile(ring, 'utf8')) as { keys: Array<{ group: GroupInfo }> }).keys[0]!.group;
  return JSON.parse(await readFile(join(state, 'group.json'), 'utf8')) as GroupInfo;
}

/** A request to signer i over mTLS, as the coordinator (or `as`). */
async function signerCall(i: number, path: string, body?: unknown, as = 'coordinator'): Promise<{ status: number; body: Record<string, unknown> }> {
  const agent = new Agent({ connect: { ...(await signerTls(state, as)), servername: `signer-${i}` } });
  try {
    const res = await request(`${url(i)}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      dispatcher: agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  } finally {
    await agent.close();
  }
}

async function relay(plan: { kind: 'refresh' | 'repair' | 'reshare'; group: GroupInfo; dealers: number[]; recipients: number[]; threshold: number }, extra: { beforeActivate?: () => void } = {}) {
  const r = new ShareRelay({
    signers: members([...new Set([...plan.dealers, ...plan.recipients])]),
    plan,
    tls: await signerTls(state),
    timeoutMs: 60_000,
    ...extra,
  });
  try {
    return await r.run();
  } finally {
    await r.close();
  }
}

const combinations = <T>(xs: T[], k: number): T[][] => (k === 0 ? [[]] : xs.flatMap((x, i) => combinations(xs.slice(i + 1), k - 1).map((c) => [x, ...c])));

async function mintsOk(times: number) {
  for (let i = 0; i < times; i++) {
    const res = await stack!.mint(await stack!.idToken());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

function ztmint(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ZTMINT_STATE: state } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const shareLogKey = async (i: number) => ((await signerCall(i, '/v1/info', undefined, 'admin')).body.share_log as { key: string }).key;

/** A token signed by the live signers `indices` directly (FROST rounds with the coordinator's certificate) under `group`. */
async function signAtSigners(indices: number[], group: GroupInfo): Promise<boolean> {
  const tls = await signerTls(state);
  const signers = indices.map((i) => new SignerClient({ name: `signer-${i}`, url: url(i) }, tls, { timeoutMs: 30_000, preprocessing: false }));
  try {
    const policyHash = ((await (await fetch(`${stack!.coordinator}/readyz`)).json()) as { policy: string }).policy;
    const deps = { group, groupKey: ed25519PublicKey(group.group_public_key), signers };
    const oidc = await stack!.idToken();
    const build = () => {
      const { claims, message: m } = honestToken({ issuer: stack!.coordinator, kid: thumbprint(group.group_public_key), oidc, policyHash });
      return { message: m, built: claims };
    };
    const result = await frostSign(deps, build, { oidc_token: oidc, request: { scopes: ['deploy:canary'] } });
    return verifyEd25519(deps.groupKey, new TextEncoder().encode(result.message), result.signature);
  } finally {
    await Promise.all(signers.map((s) => s.close()));
  }
}

describe('signers without a share on the live stack', () => {
  let logKeys: string[];

  it('keeps every share log key across a refresh and restarts (share-log.seed); audit cross-check passes', async () => {
    await start();
    await mintsOk(1);
    logKeys = await Promise.all([1, 2, 3].map(shareLogKey));
    for (const i of [1, 2, 3]) expect(existsSync(join(signerDir(i), 'share-log.seed'))).toBe(true);
    const group = await ringGroup(1);
    await relay({ kind: 'refresh', group, dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: 2 });
    await mintsOk(1);
    await stop();
    // Signer 2 loses its share while the stack is down: it starts share-less (next test).
    await rm(join(signerDir(2), 'share.sealed'));
    await start();
    expect(await Promise.all([1, 2, 3].map(shareLogKey))).toEqual(logKeys);
    await mintsOk(1);
    const r = ztmint('audit', 'cross-check', '--json');
    expect(r.status, r.out).toBe(0);
    expect((JSON.parse(r.out.trim().split('\n').at(-1)!) as { missing: unknown[] }).missing).toEqual([]);
  });

  it('a signer whose share was lost runs share-less: it says so, refuses to sign, and the others mint', async () => {
    expect(stack!.signers.map((s) => s.id)).toEqual([1, 2, 3]);
    const kid = thumbprint((await ringGroup(1)).group_public_key);
    const ready = await signerCall(2, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body.problems)).toContain('ztmint keys repair --index 2');
    const info = await signerCall(2, '/v1/info');
    expect(info.status).toBe(200);
    expect(info.body.key_share).toMatchObject({ kid, state: 'missing' });
    expect(info.body.verifying_share).toBeUndefined();
    const round1 = await signerCall(2, '/v1/round1', { session: b64url(new Uint8Array(16).fill(2)) });
    expect(round1.status).toBe(503);
    expect(round1.body).toMatchObject({ code: 'not_ready' });
    expect(stack!.output()).toMatch(/signer-2 holds no share of key \S+: its sealed share share\.sealed is missing; run `ztmint keys repair --index 2`/);
    await mintsOk(3);
    // The coordinator's /readyz does not count it: it agrees on everything but signs nothing.
    const readiness = (await (await fetch(`${stack!.coordinator}/readyz`)).json()) as { signers_agreeing: number; signers: Array<{ name: string; agrees: boolean; share?: string }> };
    expect(readiness.signers.find((s) => s.name === 'signer-2')).toMatchObject({ agrees: false, share: 'missing' });
    expect(readiness.signers_agreeing).toBe(2);
    const status = ztmint('status');
    expect(status.status, status.out).toBe(0);
    expect(status.out).toMatch(/signer-2 \S+: reachable; group key \S+; NO SHARE \(missing\)/);
    expect(status.out).toContain('signer-2 signs nothing (missing)');
  });

  it('an interrupted repair leaves everything as it was', async () => {
    const group = await ringGroup(1);
    const before = await Promise.all([1, 3].map(sealedShare));
    let error: unknown;
    try {
      await relay(
        { kind: 'repair', group, dealers: [1, 3], recipients: [2], threshold: 2 },
        {
          // Every member has staged its result (signer-2 its repaired share): the relay goes away.
          beforeActivate: () => {
            throw new Error('the relay went away before activation');
          },
        },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DkgRelayError);
    expect((error as Error).message).toMatch(/nothing changed: every signer keeps signing with its current share/);
    expect(existsSync(join(signerDir(2), 'share.sealed'))).toBe(false);
    expect(existsSync(join(signerDir(2), 'staged')) ? await readdir(join(signerDir(2), 'staged')) : []).toEqual([]);
    expect((await signerCall(2, '/readyz')).status).toBe(503);
    const after = await Promise.all([1, 3].map(sealedShare));
    for (let k = 0; k < 2; k++) expect(after[k]!.signingShare).toEqual(before[k]!.signingShare);
    await mintsOk(1);
  });

  it('a repair by signers 1 and 3 gives signer-2 its share back; the stack then mints without signer-1', async () => {
    const group = await ringGroup(1);
    const result = await relay({ kind: 'repair', group, dealers: [1, 3], recipients: [2], threshold: 2 });
    expect(result.group).toEqual(group);
    const repaired = await sealedShare(2);
    const point = b64url(ed25519.Point.BASE.multiply(BigInt(`0x${Buffer.from(repaired.signingShare).reverse().toString('hex')}`)).toBytes());
    expect(point).toBe(group.verifying_shares[repaired.identifier]);
    expect((await signerCall(2, '/readyz')).status).toBe(200);
    expect((await signerCall(2, '/v1/info')).body.key_share).toMatchObject({ state: 'held' });
    await killPid(stack!.signers[0]!.pid);
    await mintsOk(2);
  });

  it('--signers 5 starts signers 4 and 5 as joiners; a reshare 2-of-3 → 3-of-5 gives every one a share: any 3 sign, no 2', async () => {
    await stop();
    await start('--signers', '5');
    expect(stack!.signers.map((s) => s.id)).toEqual([1, 2, 3, 4, 5]);
    expect(readDevStackFile(state).signers.map((s) => s.index)).toEqual([1, 2, 3, 4, 5]);
    const readiness = (await (await fetch(`${stack!.coordinator}/readyz`)).json()) as { signers: Array<{ name: string }> };
    expect(readiness.signers.map((s) => s.name)).toEqual(['signer-1', 'signer-2', 'signer-3', 'signer-4', 'signer-5']);
    for (const i of [4, 5]) {
      expect(existsSync(join(state, 'tls', `signer-${i}.pem`))).toBe(true);
      expect((await signerCall(i, '/v1/info')).body.key_share).toMatchObject({ state: 'joining' });
      const ready = await signerCall(i, '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body.problems)).toContain('waiting for a reshare');
    }
    await mintsOk(2);

    const group = await ringGroup(1);
    const result = await relay({ kind: 'reshare', group, dealers: [1, 2, 3], recipients: [1, 2, 3, 4, 5], threshold: 3 });
    expect(result.group).toMatchObject({ group_public_key: group.group_public_key, threshold: 3, signers: 5 });
    const shares = await Promise.all([1, 2, 3, 4, 5].map(sealedShare));
    for (const trio of combinations(shares, 3)) expect(signsValid(result.group, trio)).toBe(true);
    // No pair: not even signing as if the threshold were 2.
    const asIfTwo = { ...result.group, threshold: 2, commitments: result.group.commitments.slice(0, 2) };
    for (const pair of combinations(shares, 2)) expect(signsValid(asIfTwo, pair)).toBe(false);
    for (const i of [1, 2, 3, 4, 5]) {
      expect((await signerCall(i, '/readyz')).status).toBe(200);
      expect(await ringGroup(i)).toEqual(result.group);
    }
    // The live signers sign with the new shares: a token from joiners 4 and 5 with signer 1.
    expect(await signAtSigners([1, 4, 5], result.group)).toBe(true);
  });

  it('a reshare 3-of-5 → 2-of-2 leaves signers 3 and 5 (dealers) out: they drop their shares and refuse to sign', async () => {
    const group = await ringGroup(1);
    const result = await relay({ kind: 'reshare', group, dealers: [1, 3, 5], recipients: [1, 2], threshold: 2 });
    expect(result.group).toMatchObject({ group_public_key: group.group_public_key, threshold: 2, signers: 2 });
    expect(signsValid(result.group, await Promise.all([1, 2].map(sealedShare)))).toBe(true);
    for (const i of [3, 5]) {
      expect(existsSync(join(signerDir(i), 'share.sealed'))).toBe(false);
      expect((await signerCall(i, '/v1/info')).body.key_share).toMatchObject({ state: 'removed' });
      const ready = await signerCall(i, '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body.problems)).toContain('a reshare left it out');
      const round1 = await signerCall(i, '/v1/round1', { session: b64url(new Uint8Array(16).fill(i)) });
      expect(round1.body).toMatchObject({ code: 'not_ready' });
    }
    const ring3 = JSON.parse(await readFile(join(signerDir(3), 'keyring.json'), 'utf8')) as { keys: Array<{ no_share?: string }> };
    expect(ring3.keys[0]!.no_share).toBe('removed');
    // Signers 1 and 2 sign with their new shares.
    expect(await signAtSigners([1, 2], result.group)).toBe(true);
  });
});

describe('a reshare 2-of-3 → 2-of-2 on a fresh stack', () => {
  it('leaves signer-3 out: it drops its share and refuses to sign; signers 1 and 2 sign with their new shares', async () => {
    if (stack) await stop();
    await rm(state, { recursive: true, force: true });
    state = await mkdtemp(join(tmpdir(), 'ztmint-shareless-'));
    await start();
    const group = await ringGroup(1);
    await mintsOk(1);
    const result = await relay({ kind: 'reshare', group, dealers: [1, 2, 3], recipients: [1, 2], threshold: 2 });
    expect(result.group).toMatchObject({ group_public_key: group.group_public_key, threshold: 2, signers: 2 });
    expect(existsSync(join(signerDir(3), 'share.sealed'))).toBe(false);
    expect((await signerCall(3, '/v1/info')).body.key_share).toMatchObject({ state: 'removed' });
    expect((await signerCall(3, '/readyz')).status).toBe(503);
    expect((await signerCall(3, '/v1/round1', { session: b64url(new Uint8Array(16).fill(9)) })).body).toMatchObject({ code: 'not_ready' });
    // Signers 1 and 2 sign with their new shares (the coordinator's own key set is updated by
    // `ztmint keys reshare`, not by a bare relay: checked at the signers).
    expect(await signAtSigners([1, 2], result.group)).toBe(true);
  });
});
