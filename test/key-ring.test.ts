// The signer's key ring (signers/key-ring.ts): which key may sign when, persisted beside the
// first share, and invariant I12 — a signer never signs a token that outlives its key in the JWKS.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keygen } from '../cli/keygen.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { thumbprint } from '../protocol/jwk.js';
import { KeyRing, KeyRingError } from '../signers/key-ring.js';
import { unsealShare } from '../signers/sealed-share.js';

let first: string;
let second: string;
let nextGroup: GroupInfo;
const NOW = 1_900_000_000;

beforeAll(async () => {
  first = await mkdtemp(join(tmpdir(), 'ztmint-ring-'));
  second = await mkdtemp(join(tmpdir(), 'ztmint-ring-next-'));
  await keygen({ state: first, signers: 3, threshold: 2 });
  nextGroup = await keygen({ state: second, signers: 3, threshold: 2 });
});

afterAll(async () => {
  await rm(first, { recursive: true, force: true });
  await rm(second, { recursive: true, force: true });
});

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof KeyRingError ? err.code : String(err);
  }
};

describe('KeyRing', () => {
  it('holds a rotated key beside the first, signs with each only in its window, and never past its retirement (I12)', async () => {
    const dir = join(first, 'signers', '1');
    const ring = await KeyRing.load(dir, join(first, 'group.json'));
    const oldKid = ring.current(NOW).kid;
    expect(codeOf(() => ring.signing(oldKid, NOW, NOW + 3600))).toBe('ok');
    expect(codeOf(() => ring.signing('A'.repeat(43), NOW, NOW + 60))).toBe('kid_unknown');

    const share = await unsealShare(join(second, 'signers', '1', 'share.sealed'));
    const { kid } = await ring.addPending(share, nextGroup, NOW);
    expect(kid).toBe(thumbprint(nextGroup.group_public_key));
    expect(existsSync(join(dir, 'keys', kid, 'share.sealed'))).toBe(true);
    // Fresh from a ceremony: never signs before it is scheduled.
    expect(codeOf(() => ring.signing(kid, NOW, NOW + 60))).toBe('kid_not_active');
    expect(ring.current(NOW).kid).toBe(oldKid);

    await ring.schedule(kid, NOW + 600, NOW + 600 + 3600, NOW);
    expect(codeOf(() => ring.signing(kid, NOW, NOW + 60))).toBe('kid_not_active');
    expect(codeOf(() => ring.signing(kid, NOW + 600, NOW + 660))).toBe('ok');
    // The old key signs until its retirement, only tokens that expire before it leaves the JWKS.
    expect(codeOf(() => ring.signing(oldKid, NOW + 600, NOW + 600 + 3600))).toBe('ok');
    expect(codeOf(() => ring.signing(oldKid, NOW + 600, NOW + 600 + 3600 + 61))).toBe('outlives_key');
    expect(codeOf(() => ring.signing(oldKid, NOW + 600 + 3600 + 61, NOW + 600 + 3600 + 62))).toBe('kid_not_active');
    expect(ring.current(NOW + 601).kid).toBe(kid);

    // Persisted: a restarted signer loads the same ring and schedule.
    const again = await KeyRing.load(dir, join(first, 'group.json'));
    expect(again.list()).toEqual(ring.list());
    expect(JSON.parse(await readFile(join(dir, 'keyring.json'), 'utf8'))).toMatchObject({ version: 1 });

    // Scheduling twice with the same values is harmless; with others it is refused.
    await again.schedule(kid, NOW + 600, NOW + 4200, NOW);
    await expect(again.schedule(kid, NOW + 700, NOW + 4200, NOW)).rejects.toMatchObject({ code: 'schedule_invalid' });

    // Cancelled before its activation: gone, and the old key open-ended again.
    expect(await again.cancel(kid, NOW + 10)).toBe(true);
    expect(again.list().map((e) => [e.kid, e.retires_at])).toEqual([[oldKid, null]]);
    expect(existsSync(join(dir, 'keys', kid))).toBe(false);
    expect(codeOf(() => again.signing(oldKid, NOW, NOW + 100_000))).toBe('ok');
  });

  it('a newer schedule supersedes a key left pending by an interrupted rotation', async () => {
    const dir = join(first, 'signers', '2');
    const ring = await KeyRing.load(dir, join(first, 'group.json'));
    const share = await unsealShare(join(second, 'signers', '2', 'share.sealed'));
    const { kid } = await ring.addPending(share, nextGroup, NOW);
    await ring.schedule(kid, NOW + 5, NOW + 50, NOW);
    // Another key appears (a later ceremony) while the first is scheduled but not active yet: the
    // ring drops the earlier one when the later is scheduled.
    const third = await mkdtemp(join(tmpdir(), 'ztmint-ring-third-'));
    try {
      const thirdGroup = await keygen({ state: third, signers: 3, threshold: 2 });
      const { kid: thirdKid } = await ring.addPending(await unsealShare(join(third, 'signers', '2', 'share.sealed')), thirdGroup, NOW);
      await ring.schedule(thirdKid, NOW + 10, NOW + 100, NOW + 1);
      expect(ring.list().map((e) => e.kid)).not.toContain(kid);
      expect(ring.list().map((e) => [e.activates_at, e.retires_at])).toEqual([
        [0, NOW + 100],
        [NOW + 10, null],
      ]);
    } finally {
      await rm(third, { recursive: true, force: true });
    }
  });
});
