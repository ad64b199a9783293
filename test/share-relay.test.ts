// Share refresh, repair and reshare over real mTLS: in-process signer servers with the share
// ceremony routes (signers/share-routes.ts) and shares sealed in signer folders
// (signers/share-store.ts, file key provider), driven by the relay (coordinator/share-relay.ts)
// with the coordinator's client certificate. The new shares are sealed on disk and sign; a
// ceremony interrupted by a signer that goes away leaves every signer on its old share; only the
// coordinator's certificate may drive a ceremony.
import { ed25519 } from '@noble/curves/ed25519.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DkgRelayError } from '../coordinator/dkg-relay.js';
import { ShareRelay } from '../coordinator/share-relay.js';
import { installProblemHandlers, sendProblem, STRICT_AJV } from '../http/problem-response.js';
import { aggregate, CIPHERSUITE, commit, frost, identifierFromIndex, signShare, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { createSealKey, sealShare, unsealShare } from '../signers/sealed-share.js';
import { shareCeremonyRoutes, type ShareStore } from '../signers/share-routes.js';
import { FolderShareStore } from '../signers/share-store.js';
import { findSecrets, identityOf, makePki, tlsOf } from './dkg-helpers.js';

let state: string;
let original: { group: GroupInfo; shares: SecretShare[] };
const stores: FolderShareStore[] = [];
const servers: FastifyInstance[] = [];
const urls: string[] = [];

const dirOf = (i: number) => join(state, 'signers', String(i));
const target = (i: number) => ({ type: 'file' as const, keyFile: join(dirOf(i), 'seal.key') });

function dealer(t: number, n: number) {
  const identifiers = Array.from({ length: n }, (_, i) => identifierFromIndex(i + 1));
  const deal = frost.trustedDealer({ min: t, max: n }, identifiers);
  const group: GroupInfo = {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(deal.public.commitments[0]!),
    threshold: t,
    signers: n,
    identifiers,
    verifying_shares: Object.fromEntries(Object.entries(deal.public.verifyingShares).map(([k, v]) => [k, b64url(v)])),
    commitments: deal.public.commitments.map((c) => b64url(c)),
  };
  return { group, shares: identifiers.map((id) => ({ identifier: id, signingShare: deal.secretShares[id]!.signingShare })) };
}

const message = new TextEncoder().encode('ztmint share relay');
function signsValid(group: GroupInfo, signers: SecretShare[]): boolean {
  const rounds = signers.map((s) => commit(s));
  const commitments = rounds.map((r) => r.commitment);
  const shares = Object.fromEntries(signers.map((s, k) => [s.identifier, signShare(s, group, rounds[k]!.nonces, commitments, message)]));
  try {
    return ed25519.verify(aggregate(group, commitments, message, shares), message, fromB64url(group.group_public_key));
  } catch {
    return false;
  }
}

const copy = (s: SecretShare): SecretShare => ({ identifier: s.identifier, signingShare: Uint8Array.from(s.signingShare) });
const held = (i: number) => stores[i - 1]!.current();

/** Signer i's folder: its share (if any) sealed with the file provider, and its copy of the key set. */
async function resetSigner(i: number, group: GroupInfo, share: SecretShare | undefined) {
  await rm(dirOf(i), { recursive: true, force: true });
  await mkdir(dirOf(i), { recursive: true });
  await createSealKey(join(dirOf(i), 'seal.key'));
  if (share) await sealShare(share, group.group_public_key, target(i), join(dirOf(i), 'share.sealed'));
  stores[i - 1] = new FolderShareStore(dirOf(i), join(dirOf(i), 'group.json'), target(i), { group, ...(share ? { share: copy(share) } : {}) });
}

async function resetAll() {
  original = dealer(2, 3);
  for (let i = 1; i <= 5; i++) await resetSigner(i, original.group, original.shares[i - 1]);
}

beforeAll(async () => {
  state = await makePki(5);
  await resetAll();
  for (let i = 1; i <= 5; i++) {
    const app = Fastify({ logger: false, ajv: STRICT_AJV, https: { ...(await tlsOf(state, `signer-${i}`)), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' } });
    installProblemHandlers(app);
    app.addHook('onRequest', async (request, reply) => {
      const cn = (request.raw.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
      if (cn !== 'coordinator') return sendProblem(reply, 'forbidden', 'client certificate is not allowed to call this signer');
    });
    // The routes reach the store through `stores`, so a test can give a signer a fresh folder.
    const store: ShareStore = {
      current: () => stores[i - 1]!.current(),
      stage: (c, r) => stores[i - 1]!.stage(c, r),
      activate: (c) => stores[i - 1]!.activate(c),
      discard: (c) => stores[i - 1]!.discard(c),
    };
    shareCeremonyRoutes(app, { identity: await identityOf(state, i), store });
    await app.listen({ host: '127.0.0.1', port: 0 });
    urls.push(`https://127.0.0.1:${(app.server.address() as { port: number }).port}`);
    servers.push(app);
  }
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(state, { recursive: true, force: true });
});

const signers = (indices: number[]) => indices.map((i) => ({ name: `signer-${i}`, url: urls[i - 1]! }));

async function run(plan: { kind: 'refresh' | 'reshare' | 'repair'; dealers: number[]; recipients: number[]; threshold: number }, extra: Partial<ConstructorParameters<typeof ShareRelay>[0]> = {}) {
  const members = [...new Set([...plan.dealers, ...plan.recipients])].sort();
  const relay = new ShareRelay({ signers: signers(members), plan: { ...plan, group: held(plan.dealers[0]!)!.group }, tls: await tlsOf(state, 'coordinator'), timeoutMs: 20_000, ...extra });
  try {
    return { result: await relay.run(), relay };
  } finally {
    await relay.close();
  }
}

describe('share ceremonies over mTLS, relayed', () => {
  it('refresh: every signer seals and activates a new share of the same key; old and new do not mix; the relay saw no secret', async () => {
    await resetAll();
    const { result, relay } = await run({ kind: 'refresh', dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: 2 });
    expect(result.group.group_public_key).toBe(original.group.group_public_key);
    const fresh = [1, 2, 3].map((i) => copy(held(i)!.share!));
    for (const [k, s] of fresh.entries()) {
      expect(Buffer.from(s.signingShare).equals(Buffer.from(original.shares[k]!.signingShare))).toBe(false);
      const onDisk = await unsealShare(join(dirOf(k + 1), 'share.sealed'));
      expect(Buffer.from(onDisk.signingShare).equals(Buffer.from(s.signingShare))).toBe(true);
      expect(JSON.parse(await readFile(join(dirOf(k + 1), 'group.json'), 'utf8'))).toEqual(result.group);
      expect(existsSync(join(dirOf(k + 1), 'staged'))).toBe(true); // the folder stays, emptied
    }
    expect(signsValid(result.group, [fresh[0]!, fresh[1]!])).toBe(true);
    expect(signsValid(result.group, [original.shares[0]!, fresh[1]!])).toBe(false);
    const secrets = Object.fromEntries([...original.shares.map((s, k) => [`old ${k + 1}`, s.signingShare]), ...fresh.map((s, k) => [`new ${k + 1}`, s.signingShare])]);
    expect(findSecrets(relay.transcript, secrets)).toEqual([]);
  });

  it('a refresh interrupted by a signer that goes away leaves every signer on its old share, and says so', async () => {
    await resetAll();
    const before = [1, 2, 3].map((i) => copy(held(i)!.share!));
    let caught: unknown;
    try {
      await run(
        { kind: 'refresh', dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: 2 },
        {
          // signer-3's answers are dropped from finalize on: as if its host went away there.
          tamper: (step, signer, body) => (step === 'finalize' && signer === 'signer-3' ? { ...body, ceremony: 'x'.repeat(22) } : body),
        },
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DkgRelayError);
    expect((caught as Error).message).toMatch(/failed in finalize.*nothing changed: every signer keeps signing with its current share/);
    for (const i of [1, 2, 3]) expect(Buffer.from(held(i)!.share!.signingShare).equals(Buffer.from(before[i - 1]!.signingShare))).toBe(true);
    for (const i of [1, 2, 3]) expect((await unsealShare(join(dirOf(i), 'share.sealed'))).signingShare).toEqual(before[i - 1]!.signingShare);
    expect(signsValid(original.group, [before[0]!, before[2]!])).toBe(true);
  });

  it('repair: signer 2, its folder lost, gets its share back from signers 1 and 3', async () => {
    await resetAll();
    await resetSigner(2, original.group, undefined);
    await run({ kind: 'repair', dealers: [1, 3], recipients: [2], threshold: 2 });
    const repaired = held(2)!.share!;
    expect(Buffer.from(repaired.signingShare).equals(Buffer.from(original.shares[1]!.signingShare))).toBe(true);
    expect((await unsealShare(join(dirOf(2), 'share.sealed'))).signingShare).toEqual(original.shares[1]!.signingShare);
    expect(b64url(ed25519.Point.BASE.multiply(BigInt(`0x${Buffer.from(repaired.signingShare).reverse().toString('hex')}`)).toBytes())).toBe(original.group.verifying_shares[repaired.identifier]);
    // The helpers get no share from a repair and keep their own, in memory and on disk.
    for (const i of [1, 3]) {
      expect(held(i)!.share!.signingShare).toEqual(original.shares[i - 1]!.signingShare);
      expect((await unsealShare(join(dirOf(i), 'share.sealed'))).signingShare).toEqual(original.shares[i - 1]!.signingShare);
    }
  });

  it('reshare 2-of-3 → 3-of-5: signers 4 and 5 join, any 3 sign, no 2', async () => {
    await resetAll();
    for (const i of [4, 5]) await resetSigner(i, original.group, undefined);
    const { result } = await run({ kind: 'reshare', dealers: [1, 2], recipients: [1, 2, 3, 4, 5], threshold: 3 });
    expect(result.group).toMatchObject({ group_public_key: original.group.group_public_key, threshold: 3, signers: 5 });
    const fresh = [1, 2, 3, 4, 5].map((i) => copy(held(i)!.share!));
    expect(signsValid(result.group, [fresh[0]!, fresh[2]!, fresh[4]!])).toBe(true);
    expect(signsValid(result.group, [fresh[1]!, fresh[3]!, fresh[4]!])).toBe(true);
    expect(signsValid({ ...result.group, threshold: 2, commitments: result.group.commitments.slice(0, 2) }, [fresh[0]!, fresh[3]!])).toBe(false);
  });

  it('refuses a relay without the coordinator certificate', async () => {
    await resetAll();
    await expect(run({ kind: 'refresh', dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: 2 }, { tls: await tlsOf(state, 'admin') })).rejects.toThrow(/forbidden|refused/);
  });
});
