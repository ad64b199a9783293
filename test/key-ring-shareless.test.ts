// Key ring entries without a share (signers/key-ring.ts, signers/key-ring-share-store.ts): a
// signer whose share was lost loads as `missing` and gets it back by a repair (checked against
// its verifying share), a new member loads as `joining` and gets a share by a reshare, and a dealer
// that a reshare leaves out drops its share (`removed`, the file deleted). The share-log seed
// (signers/share-log-seed.ts) is created once and stays when the share changes or is absent.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keygen } from '../cli/keygen.js';
import { identifierFromIndex, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { reshareDeal, reshareShare } from '../protocol/frost/reshare.js';
import { KeyRing, KeyRingError } from '../signers/key-ring.js';
import { KeyRingShareStore } from '../signers/key-ring-share-store.js';
import { createSealKey, unsealShare } from '../signers/sealed-share.js';
import { loadShareLogSeed, SHARE_LOG_SEED_FILE } from '../signers/share-log-seed.js';
import { shareLogSeed } from '../signers/share-log.js';

let state: string;
let group: GroupInfo;
const NOW = 1_900_000_000;
const dirOf = (i: number) => join(state, 'signers', String(i));
const groupFile = () => join(state, 'group.json');
const load = (i: number) => KeyRing.load(dirOf(i), groupFile(), {}, { index: i });

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ztmint-ring-shareless-'));
  group = await keygen({ state, signers: 3, threshold: 2 });
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof KeyRingError ? err.code : String(err);
  }
};

describe('a key ring entry without a share', () => {
  it('a lost share loads as missing, signs nothing, and a repair fills it only with the share that matches its verifying share', async () => {
    const original = await unsealShare(join(dirOf(2), 'share.sealed'));
    await rm(join(dirOf(2), 'share.sealed'));
    // Without the index the ring still needs every share (the old contract).
    await expect(KeyRing.load(dirOf(2), groupFile())).rejects.toThrow();
    const ring = await load(2);
    const kid = ring.current(NOW).kid;
    expect(ring.entry(kid)?.no_share).toBe('missing');
    expect(ring.identifier).toBe(identifierFromIndex(2));
    expect(ring.anyShare(NOW)).toBeUndefined();
    expect(codeOf(() => ring.signing(kid, NOW, NOW + 60))).toBe('no_share');
    expect(ring.shareStatus(NOW)).toMatchObject({ kid, state: 'missing' });
    expect(ring.shareStatus(NOW).detail).toMatch(/ztmint keys repair --index 2/);

    const store = new KeyRingShareStore(ring, () => NOW);
    expect(store.current().share).toBeUndefined();
    const wrong: SecretShare = { identifier: original.identifier, signingShare: Uint8Array.from(original.signingShare).fill(7, 0, 1) };
    await expect(store.stage('repair-wrong-share-0001', { share: wrong, group })).rejects.toThrow(/does not match its verifying share/);
    expect(existsSync(join(dirOf(2), 'share.sealed'))).toBe(false);

    await store.stage('repair-right-share-001', { share: original, group });
    // Staged only: nothing signs before activation.
    expect(codeOf(() => ring.signing(kid, NOW, NOW + 60))).toBe('no_share');
    await store.activate('repair-right-share-001');
    expect(codeOf(() => ring.signing(kid, NOW, NOW + 60))).toBe('ok');
    expect(ring.shareStatus(NOW).state).toBe('held');
    const again = await load(2);
    expect(again.entry(kid)?.no_share).toBeUndefined();
    expect(Buffer.from(again.shareOf(kid)!.signingShare).equals(Buffer.from(original.signingShare))).toBe(true);

    // A repair helper gets no share from the ceremony and keeps its own (the key set is unchanged).
    const helper = await load(1);
    const before = Uint8Array.from(helper.shareOf(kid)!.signingShare);
    const helperStore = new KeyRingShareStore(helper, () => NOW);
    await helperStore.stage('repair-right-share-001', { group });
    await helperStore.activate('repair-right-share-001');
    expect(codeOf(() => helper.signing(kid, NOW, NOW + 60))).toBe('ok');
    expect(Buffer.from((await load(1)).shareOf(kid)!.signingShare).equals(Buffer.from(before))).toBe(true);
  });

  it('a new member joins by a reshare; a dealer left out drops its share for good', async () => {
    // Reshare 2-of-3 → 2-of-{1,2,4}: dealers 1 and 2; signer 4 joins, signer 3 is left out.
    await mkdir(dirOf(4), { recursive: true });
    await createSealKey(join(dirOf(4), 'seal.key'));
    const joiner = await load(4);
    const kid = joiner.current(NOW).kid;
    expect(joiner.entry(kid)?.no_share).toBe('joining');
    expect(joiner.shareStatus(NOW).detail).toMatch(/waiting for a reshare/);

    const params = { dealers: [1, 2].map(identifierFromIndex), threshold: 2, identifiers: [1, 2, 4].map(identifierFromIndex) };
    const dealings = await Promise.all([1, 2].map(async (i) => ({ i, d: reshareDeal(group, params, await unsealShare(join(dirOf(i), 'share.sealed'))) })));
    const resultFor = (j: number) =>
      reshareShare(
        group,
        params,
        identifierFromIndex(j),
        dealings.map(({ i, d }) => ({ dealer: identifierFromIndex(i), commitment: d.commitment, share: d.shares.get(identifierFromIndex(j))! })),
      );
    const joined = resultFor(4);

    const joinStore = new KeyRingShareStore(joiner, () => NOW);
    await joinStore.stage('reshare-join-000001', joined);
    await joinStore.activate('reshare-join-000001');
    expect(codeOf(() => joiner.signing(kid, NOW, NOW + 60))).toBe('ok');
    expect((await load(4)).entry(kid)).toMatchObject({ group: joined.group });

    const leaver = await load(3);
    const leaveStore = new KeyRingShareStore(leaver, () => NOW);
    await leaveStore.stage('reshare-join-000001', { group: joined.group });
    expect(codeOf(() => leaver.signing(kid, NOW, NOW + 60))).toBe('ok'); // until activation
    await leaveStore.activate('reshare-join-000001');
    expect(existsSync(join(dirOf(3), 'share.sealed'))).toBe(false);
    expect(codeOf(() => leaver.signing(kid, NOW, NOW + 60))).toBe('no_share');
    const reloaded = await load(3);
    expect(reloaded.entry(kid)?.no_share).toBe('removed');
    expect(reloaded.shareStatus(NOW).detail).toMatch(/a reshare left it out/);
    expect(reloaded.anyShare(NOW)).toBeUndefined();
  });
});

describe('the share-log seed', () => {
  it('is derived once from the log key share (the key stays what it was), then kept when the share changes', async () => {
    const other = await mkdtemp(join(tmpdir(), 'ztmint-seed-'));
    try {
      await keygen({ state: other, signers: 3, threshold: 2 });
      const dir = join(other, 'signers', '1');
      const ring = await KeyRing.load(dir, join(other, 'group.json'), {}, { index: 1 });
      const share = ring.logKey().share!;
      const first = await loadShareLogSeed(ring);
      expect(first.origin).toBe('derived');
      expect(Buffer.from(first.seed).equals(Buffer.from(shareLogSeed(share.signingShare)))).toBe(true);
      // The share goes (lost); the seed stays.
      await rm(join(dir, 'share.sealed'));
      const shareless = await KeyRing.load(dir, join(other, 'group.json'), {}, { index: 1 });
      const second = await loadShareLogSeed(shareless);
      expect(second.origin).toBe('sealed');
      expect(Buffer.from(second.seed).equals(Buffer.from(first.seed))).toBe(true);

      // A signer that never had a share draws a random seed; it is kept too.
      const fresh = join(other, 'signers', '9');
      await mkdir(fresh, { recursive: true });
      await createSealKey(join(fresh, 'seal.key'));
      const joiner = await KeyRing.load(fresh, join(other, 'group.json'), {}, { index: 9 });
      const drawn = await loadShareLogSeed(joiner);
      expect(drawn.origin).toBe('random');
      expect(Buffer.from((await loadShareLogSeed(joiner)).seed).equals(Buffer.from(drawn.seed))).toBe(true);

      // Another signer's seed, or a share in the seed's place, is refused.
      await copyFile(join(dir, SHARE_LOG_SEED_FILE), join(fresh, SHARE_LOG_SEED_FILE));
      await copyFile(join(dir, 'seal.key'), join(fresh, 'seal.key'));
      await expect(loadShareLogSeed(joiner)).rejects.toThrow(/not this signer's share-log seed/);
      await copyFile(join(other, 'signers', '2', 'share.sealed'), join(other, 'signers', '2', SHARE_LOG_SEED_FILE));
      const two = await KeyRing.load(join(other, 'signers', '2'), join(other, 'group.json'), {}, { index: 2 });
      await expect(loadShareLogSeed(two)).rejects.toThrow(/not this signer's share-log seed/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
