// Round-1 preprocessing (issue #5): signers hand out batches of single-use commitments ahead of
// time (POST /v1/round1 {"session","count"} → sessions `${session}.${i}`), the coordinator keeps
// a per-signer pool, and a mint then needs round 2 only. I3 still holds: each nonce at most once,
// whatever the pool, the retries or a coordinator restart do.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitmentPool } from '../coordinator/commitment-pool.js';
import { SignerClient } from '../coordinator/signer-client.js';
import { frostSign, type SigningDeps } from '../coordinator/signing.js';
import type { Nonces, WireCommitment } from '../protocol/ciphersuite.js';
import { ed25519PublicKey, thumbprint, verifyEd25519 } from '../protocol/jwk.js';
import { ProblemError } from '../protocol/problem.js';
import { PREPROCESSED_TTL_S, ROUND1_MAX_COUNT } from '../protocol/wire.js';
import { NonceStore } from '../signers/nonce-store.js';
import { signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { honestToken } from './helpers/honest-token.js';

const session = () => randomBytes(16).toString('base64url');
const fakeNonces = (): Nonces => ({ hiding: new Uint8Array(32).fill(1), binding: new Uint8Array(32).fill(2) });
const fakeCommitment = (n: number): WireCommitment => ({ identifier: '01'.padEnd(64, '0'), hiding: `h${n}`, binding: `b${n}` });

describe('NonceStore: preprocessed nonces (unit)', () => {
  it('stores a batch under `${batch}.${i}`, single use, only for the client that asked', () => {
    const store = new NonceStore();
    const batch = session();
    const entries = [0, 1, 2].map((i) => ({ nonces: fakeNonces(), commitment: fakeCommitment(i) }));
    expect(store.putBatch(batch, 'coordinator', entries)).toBe(true);
    expect(store.preprocessed('coordinator')).toBe(3);
    // Another client can neither use nor burn them.
    expect(store.take(`${batch}.1`, 'other')).toBeUndefined();
    expect(store.take(`${batch}.1`)).toBeUndefined();
    expect(store.take(`${batch}.1`, 'coordinator')?.commitment).toEqual(fakeCommitment(1));
    expect(store.take(`${batch}.1`, 'coordinator')).toBeUndefined();
    expect(store.take(`${batch}.3`, 'coordinator')).toBeUndefined();
    expect(store.preprocessed('coordinator')).toBe(2);
    // The batch id is spent, in both lanes.
    expect(store.putBatch(batch, 'coordinator', entries)).toBe(false);
    expect(store.put(batch, fakeNonces(), fakeCommitment(9))).toBe(false);
    const single = session();
    expect(store.put(single, fakeNonces(), fakeCommitment(9))).toBe(true);
    expect(store.putBatch(single, 'coordinator', entries)).toBe(false);
    // An interactive session is not found under the preprocessed lane's names, nor the reverse.
    expect(store.take(`${single}.0`, 'coordinator')).toBeUndefined();
    expect(store.take(batch, 'coordinator')).toBeUndefined();
  });

  it('expires preprocessed nonces after their lifetime and wipes them', () => {
    let now = 1_000_000;
    const store = new NonceStore(60_000, 10_000, () => now, { preprocessedTtlMs: PREPROCESSED_TTL_S * 1000 });
    const batch = session();
    const nonces = [fakeNonces(), fakeNonces()];
    store.putBatch(
      batch,
      'c',
      nonces.map((n, i) => ({ nonces: n, commitment: fakeCommitment(i) })),
    );
    now += PREPROCESSED_TTL_S * 1000 - 1;
    expect(store.take(`${batch}.0`, 'c')).toBeDefined(); // still alive just before the end
    now += 1;
    expect(store.take(`${batch}.1`, 'c')).toBeUndefined();
    expect(nonces[1]!.hiding.every((b) => b === 0)).toBe(true);
    // An expired batch's id still cannot be reused for as long as it is remembered.
    expect(store.putBatch(batch, 'c', [{ nonces: fakeNonces(), commitment: fakeCommitment(0) }])).toBe(false);
    // Expired entries are swept on later writes (bounded memory).
    const other = session();
    store.putBatch(other, 'c', [{ nonces: fakeNonces(), commitment: fakeCommitment(0) }]);
    now += PREPROCESSED_TTL_S * 1000 + 2_000;
    store.put(session(), fakeNonces(), fakeCommitment(0));
    expect(store.size).toBe(1);
    expect(store.preprocessed('c')).toBe(0);
  });

  it('holds at most a bounded number per client: the oldest are wiped first', () => {
    const store = new NonceStore(60_000, 10_000, () => 0, { maxPreprocessedPerClient: 5 });
    const first = session();
    const old = [0, 1, 2, 3].map((i) => ({ nonces: fakeNonces(), commitment: fakeCommitment(i) }));
    store.putBatch(first, 'a', old);
    store.putBatch(session(), 'b', [{ nonces: fakeNonces(), commitment: fakeCommitment(0) }]);
    const second = session();
    store.putBatch(
      second,
      'a',
      [0, 1, 2].map((i) => ({ nonces: fakeNonces(), commitment: fakeCommitment(10 + i) })),
    );
    expect(store.preprocessed('a')).toBe(5);
    expect(store.preprocessed('b')).toBe(1); // other clients are not affected
    expect(store.take(`${first}.0`, 'a')).toBeUndefined();
    expect(store.take(`${first}.1`, 'a')).toBeUndefined();
    expect(old[0]!.nonces.binding.every((b) => b === 0)).toBe(true);
    expect(store.take(`${first}.2`, 'a')).toBeDefined();
    expect(store.take(`${second}.2`, 'a')).toBeDefined();
    // A batch larger than the bound is refused outright.
    expect(
      store.putBatch(
        session(),
        'a',
        Array.from({ length: 6 }, (_, i) => ({ nonces: fakeNonces(), commitment: fakeCommitment(i) })),
      ),
    ).toBe(false);
  });
});

describe('CommitmentPool (unit)', () => {
  const tick = () => new Promise((r) => setImmediate(r));

  it('fills in the background up to its marks, hands out each entry once, oldest first', async () => {
    const asked: Array<[string, number]> = [];
    const pool = new CommitmentPool(
      async (s, count) => {
        asked.push([s, count]);
        return Array.from({ length: count }, (_, i) => fakeCommitment(asked.length * 1000 + i));
      },
      { lowWater: 4, batch: 8, max: 10 },
    );
    try {
      await tick();
      expect(asked).toHaveLength(1);
      expect(pool.size).toBe(8);
      const first = pool.take()!;
      expect(first.session).toBe(`${asked[0]![0]}.0`);
      const seen = new Set([first.session]);
      for (let i = 0; i < 4; i++) seen.add(pool.take()!.session);
      expect(seen.size).toBe(5);
      await tick();
      // Below the low-water mark (3 < 4): one batch, capped so the pool never exceeds max.
      expect(asked).toHaveLength(2);
      expect(asked[1]![1]).toBe(7);
      expect(pool.size).toBe(10);
      for (let i = 0; i < 10; i++) {
        const e = pool.take()!;
        expect(seen.has(e.session)).toBe(false);
        seen.add(e.session);
      }
    } finally {
      pool.close();
    }
  });

  it('drops entries older than its maximum age', async () => {
    let now = 0;
    const pool = new CommitmentPool(async (_s, count) => Array.from({ length: count }, (_, i) => fakeCommitment(i)), {
      lowWater: 1,
      batch: 2,
      max: 2,
      maxAgeMs: 1000,
      now: () => now,
    });
    try {
      await tick();
      expect(pool.size).toBe(2);
      now = 999;
      expect(pool.take()?.session).toMatch(/\.0$/);
      now = 1000;
      // The old entry is gone; a new batch was asked for, but this call cannot wait for it.
      expect(pool.take()).toBeUndefined();
      await tick();
      expect(pool.take()?.expiresAt).toBe(2000);
    } finally {
      pool.close();
    }
  });

  it('backs off after a failed refill, and discards a batch that was in flight when cleared', async () => {
    let now = 0;
    let fail = true;
    let calls = 0;
    let release: () => void = () => {};
    const pool = new CommitmentPool(
      async (_s, count) => {
        calls++;
        if (fail) throw new Error('down');
        await new Promise<void>((r) => (release = r));
        return Array.from({ length: count }, (_, i) => fakeCommitment(i));
      },
      { lowWater: 1, batch: 2, max: 2, retryMs: 1000, now: () => now },
    );
    try {
      await tick();
      expect(calls).toBe(1);
      expect(pool.take()).toBeUndefined();
      await tick();
      expect(calls).toBe(1); // backing off
      now = 1000;
      fail = false;
      expect(pool.take()).toBeUndefined();
      await tick();
      expect(calls).toBe(2);
      pool.clear(); // e.g. the signer restarted while the batch was being made
      release();
      await tick();
      await tick();
      expect(pool.size).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('retries at once, without waiting out the back-off, when told the signer answers again', async () => {
    let calls = 0;
    let fail = true;
    const pool = new CommitmentPool(
      async (_s, count) => {
        calls++;
        if (fail) throw new Error('down');
        return Array.from({ length: count }, (_, i) => fakeCommitment(i));
      },
      { lowWater: 1, batch: 2, max: 2, retryMs: 60_000 },
    );
    try {
      await tick();
      expect(calls).toBe(1);
      pool.wake();
      pool.wake();
      await tick();
      expect(calls).toBe(2);
      fail = false;
      pool.wake();
      await tick();
      expect(calls).toBe(3);
      expect(pool.size).toBe(2);
    } finally {
      pool.close();
    }
  });
});

let stack: DevStack;
let asCoordinator: Agent;
let tls: Awaited<ReturnType<typeof signerTls>>;
let group: SigningDeps['group'];
let policyHash: string;

beforeAll(async () => {
  stack = await startDevStack();
  tls = await signerTls(stack.state);
  asCoordinator = new Agent({ connect: tls });
  group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8'));
  policyHash = ((await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string }).policy;
});
afterAll(async () => {
  await asCoordinator?.close();
  await stack?.stop();
});

async function call(url: string, path: string, body: unknown) {
  const res = await request(`${url}${path}`, {
    method: 'POST',
    dispatcher: asCoordinator,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
}

/** What the coordinator would sign for a fresh OIDC token: a builder with a new jti per attempt. */
async function mintInputs() {
  const oidc = await stack.idToken();
  const kid = thumbprint(group.group_public_key);
  const build = () => {
    const { claims, message } = honestToken({ issuer: stack.coordinator, kid, oidc, policyHash });
    return { message, built: claims };
  };
  return { build, context: { oidc_token: oidc, request: { scopes: ['deploy:canary'] } } };
}

function clients(opts: ConstructorParameters<typeof SignerClient>[2] = {}) {
  return stack.signers.map((s) => new SignerClient({ name: `signer-${s.id}`, url: s.url }, tls, opts));
}

/** Records the sessions each client's round 2 used (wraps the instances, not the product code). */
function recordSessions(signers: SignerClient[]) {
  const used: Array<{ signer: SignerClient; session: string }> = [];
  for (const signer of signers) {
    const round2 = signer.round2.bind(signer);
    signer.round2 = (req) => {
      used.push({ signer, session: req.session });
      return round2(req);
    };
  }
  return used;
}

/** Round 2 for a session the signer already consumed: 409 session_unknown, whatever the rest says. */
async function expectBurnt(signer: SignerClient, s: string, message: string, context: unknown) {
  const res = await call(stack.signers.find((x) => `signer-${x.id}` === signer.name)!.url, '/v1/round2', {
    session: s,
    message,
    commitments: [
      { identifier: '01'.padEnd(64, '0'), hiding: 'AA', binding: 'AA' },
      { identifier: '02'.padEnd(64, '0'), hiding: 'AA', binding: 'AA' },
    ],
    context,
  });
  expect(res.status, `${signer.name} ${s}`).toBe(409);
  expect(res.body.code).toBe('session_unknown');
}

async function poolsFilledTo(signers: SignerClient[], n: number) {
  for (let i = 0; i < 400 && signers.some((s) => (s.commitments?.size ?? 0) < n); i++) await new Promise((r) => setTimeout(r, 25));
  expect(signers.map((s) => s.commitments?.size ?? 0).every((size) => size >= n)).toBe(true);
}
const poolsFilled = (signers: SignerClient[]) => poolsFilledTo(signers, 64);

describe('signer API: POST /v1/round1 with count', () => {
  it('answers N distinct commitments for `${session}.${i}`, each usable once in round 2', async () => {
    const s = session();
    const res = await call(stack.signers[0]!.url, '/v1/round1', { session: s, count: 5 });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['batch', 'commitments', 'session']);
    expect(res.body.session).toBe(s);
    const batch = res.body.batch as WireCommitment[];
    expect(batch).toHaveLength(5);
    expect(res.body.commitments).toEqual(batch[0]);
    expect(new Set(batch.map((c) => c.hiding)).size).toBe(5);
    expect(new Set(batch.map((c) => c.identifier)).size).toBe(1);

    // Sign with batch[3] (session `${s}.3`) and signer-2's ordinary round 1.
    const other = session();
    const r1 = await call(stack.signers[1]!.url, '/v1/round1', { session: other });
    const { build, context } = await mintInputs();
    const { message } = build();
    const body = { session: `${s}.3`, message, commitments: [batch[3], r1.body.commitments], context };
    const first = await call(stack.signers[0]!.url, '/v1/round2', body);
    expect(first.status).toBe(200);
    expect(first.body.share).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await call(stack.signers[0]!.url, '/v1/round2', body);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('session_unknown');
    // Sessions the batch never had, and the bare batch id, are unknown.
    for (const name of [`${s}.5`, s, `${s}.03`]) {
      const r = await call(stack.signers[0]!.url, '/v1/round2', { ...body, session: name });
      expect([400, 409], name).toContain(r.status);
    }
  });

  it('accepts a batch id once, ever; without count the API is exactly as before', async () => {
    const s = session();
    expect((await call(stack.signers[0]!.url, '/v1/round1', { session: s, count: 2 })).status).toBe(200);
    const reuse = await call(stack.signers[0]!.url, '/v1/round1', { session: s, count: 2 });
    expect(reuse.status).toBe(409);
    expect(reuse.body.code).toBe('session_unknown');
    expect((await call(stack.signers[0]!.url, '/v1/round1', { session: s })).status).toBe(409);
    // Round 1 cannot name a batch member.
    expect((await call(stack.signers[0]!.url, '/v1/round1', { session: `${s}.0` })).status).toBe(400);

    const plain = await call(stack.signers[0]!.url, '/v1/round1', { session: session() });
    expect(plain.status).toBe(200);
    expect(Object.keys(plain.body).sort()).toEqual(['commitments', 'session']);
  });

  it('refuses counts outside 1…ROUND1_MAX_COUNT with invalid_request', async () => {
    for (const count of [0, -1, ROUND1_MAX_COUNT + 1, 1.5, '3', null]) {
      const r = await call(stack.signers[0]!.url, '/v1/round1', { session: session(), count });
      expect(r.status, String(count)).toBe(400);
      expect(r.body.code).toBe('invalid_request');
    }
    expect((await call(stack.signers[0]!.url, '/v1/round1', { session: session(), count: ROUND1_MAX_COUNT })).status).toBe(200);
  });
});

describe('coordinator: pools and frostSign', () => {
  it('signs in one round trip once the pools are filled, and each nonce is used once', async () => {
    const signers = clients();
    const used = recordSessions(signers);
    try {
      await poolsFilled(signers);
      const deps = { group, groupKey: ed25519PublicKey(group.group_public_key), signers };
      for (let i = 0; i < 6; i++) {
        const { build, context } = await mintInputs();
        const result = await frostSign(deps, build, context);
        expect(result.rounds).toBe(1);
        expect(result.signers).toHaveLength(2);
        expect(result.excluded).toEqual([]);
        expect(verifyEd25519(deps.groupKey, new TextEncoder().encode(result.message), result.signature)).toBe(true);
      }
      // The load was spread: every signer took part.
      expect(new Set(used.map((u) => u.signer.name)).size).toBe(3);
      expect(used.every((u) => /\.\d+$/.test(u.session))).toBe(true);
      // I3: none of them can be used again (as after a coordinator restart: the pool is gone, the signer refuses).
      const { build, context } = await mintInputs();
      for (const { signer, session: s } of used) await expectBurnt(signer, s, build().message, context);
    } finally {
      await Promise.all(signers.map((s) => s.close()));
    }
  });

  it('takes a commitment out of the pool before round 2, also when round 2 fails', async () => {
    const signers = clients();
    const used = recordSessions(signers);
    try {
      await poolsFilled(signers);
      const { build } = await mintInputs();
      // A context whose OIDC token does not verify: every signer refuses (context_mismatch).
      const forged = await mintInputs();
      const [h, p] = forged.context.oidc_token.split('.');
      const context = { ...forged.context, oidc_token: `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}` };
      const deps = { group, groupKey: ed25519PublicKey(group.group_public_key), signers };
      await expect(frostSign(deps, build, context)).rejects.toBeInstanceOf(ProblemError);
      expect(used).toHaveLength(2);
      for (const { signer, session: s } of used) {
        // Gone from the pool (it may have been topped up since, but never with this session) …
        const remaining: string[] = [];
        for (let e = signer.commitments!.take(); e; e = signer.commitments!.take()) remaining.push(e.session);
        expect(remaining).not.toContain(s);
        // … and burnt at the signer.
        await expectBurnt(signer, s, build().message, context);
      }
    } finally {
      await Promise.all(signers.map((s) => s.close()));
    }
  });

  it('falls back to two rounds when a pool is empty or preprocessing is off', async () => {
    const off = clients({ preprocessing: false });
    const mixed = clients();
    try {
      const deps = { group, groupKey: ed25519PublicKey(group.group_public_key), signers: off };
      const { build, context } = await mintInputs();
      const r = await frostSign(deps, build, context);
      expect(r.rounds).toBe(2);
      expect(off.every((s) => s.commitments === undefined)).toBe(true);

      await poolsFilled(mixed);
      mixed[0]!.commitments!.close(); // no more preprocessed commitments from signer-1
      mixed[1]!.commitments!.close();
      for (let i = 0; i < 3; i++) {
        const inputs = await mintInputs();
        const res = await frostSign({ ...deps, signers: mixed }, inputs.build, inputs.context);
        expect(res.signers).toHaveLength(2);
        expect(verifyEd25519(deps.groupKey, new TextEncoder().encode(res.message), res.signature)).toBe(true);
      }
    } finally {
      await Promise.all([...off, ...mixed].map((s) => s.close()));
    }
  });

  it('recovers when a signer no longer knows the pooled sessions (as after a signer restart)', async () => {
    const signers = clients({ preprocessing: { lowWater: 4, batch: 4, max: 4 } });
    try {
      await poolsFilledTo(signers, 4);
      // Only signer-1 and signer-2 have preprocessed commitments, so signer-1's is always used.
      signers[2]!.commitments!.close();
      // Stand-in for a restarted signer: signer-1's pool now holds sessions it never issued.
      const pool = signers[0]!.commitments!;
      const real = pool.take()!;
      const bogus = { ...real, session: `${session()}.0` };
      let offered = false;
      pool.take = () => (offered ? undefined : ((offered = true), bogus));
      const deps = { group, groupKey: ed25519PublicKey(group.group_public_key), signers };
      const logs: string[] = [];
      const { build, context } = await mintInputs();
      const res = await frostSign({ ...deps, log: (_e, m) => logs.push(m) }, build, context);
      expect(res.signers).toHaveLength(2);
      expect(res.excluded).toEqual([]);
      expect(offered).toBe(true);
      expect(logs.join('\n')).toMatch(/no longer knows its preprocessed commitments/);
    } finally {
      await Promise.all(signers.map((s) => s.close()));
    }
  });
});
