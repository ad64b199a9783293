// The seed of a signer's share-log note key (signers/share-log.ts), kept in
// `<signer dir>/share-log.seed`, sealed with the signer's key provider like a share (0600). The
// log key must outlive every share: a refresh, repair or reshare replaces the share, and a signer
// may start with none (awaiting a repair or a reshare), yet auditors keep checking one log under
// one key (`ztmint audit cross-check`).
//
// Created once: a signer that already had a log (before this file existed) derives the seed from
// the share of its log key, the old way (shareLogSeed), so the key stays what it was; a signer
// without a share draws a random one. The sealed file binds the signer's identifier and a label
// of its own in place of a group key, so a seed never unseals as a share and no share passes for
// a seed.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyRing } from './key-ring.js';
import { KeyRingError } from './key-ring.js';
import { checkUnseal, sealShare, unsealShare, type ProviderOptions } from './sealed-share.js';
import { shareLogSeed } from './share-log.js';

export const SHARE_LOG_SEED_FILE = 'share-log.seed';
/** Stands where a sealed share has its group key (bound as AAD): a seed is not a share of any key. */
const SEED_LABEL = 'ztmint-share-log-seed-v1';

/**
 * The share log's seed for the signer of `ring`: unsealed from share-log.seed, or created and
 * sealed there (`origin` says how) on the first start with this code.
 */
export async function loadShareLogSeed(ring: KeyRing, provider: ProviderOptions = {}): Promise<{ seed: Uint8Array; origin: 'sealed' | 'derived' | 'random' }> {
  const path = join(ring.dir, SHARE_LOG_SEED_FILE);
  if (existsSync(path)) {
    const sealed = await unsealShare(path, provider);
    if (sealed.groupPublicKey !== SEED_LABEL || sealed.identifier !== ring.identifier || sealed.signingShare.length !== 32) {
      sealed.signingShare.fill(0);
      throw new KeyRingError('ring_invalid', `${path} is not this signer's share-log seed (identifier ${sealed.identifier}); restore the signer's own file`);
    }
    return { seed: sealed.signingShare, origin: 'sealed' };
  }
  const { share } = ring.logKey();
  const seed = share ? shareLogSeed(share.signingShare) : new Uint8Array(randomBytes(32));
  const target = await ring.sealTarget();
  await sealShare({ identifier: ring.identifier, signingShare: seed }, SEED_LABEL, target, path, provider);
  await checkUnseal(path, provider, (back) => {
    if (back.identifier !== ring.identifier || back.groupPublicKey !== SEED_LABEL || back.signingShare.length !== 32 || !timingSafeEqual(back.signingShare, seed)) {
      throw new KeyRingError('ring_invalid', `${path} does not unseal to the seed just sealed`);
    }
  });
  return { seed, origin: share ? 'derived' : 'random' };
}
