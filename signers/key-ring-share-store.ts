// The ShareStore (signers/share-routes.ts) of a live signer: share refresh, repair and reshare
// (docs/keys.md) change this signer's share of the key signing now in its key ring
// (signers/key-ring.ts). A result is staged in `<signer dir>/staged/<ceremony>/share.sealed`
// (sealed with the key provider of the current share, or the signer's when it holds none; checked
// to unseal) and signs only from activation, when the ring takes the new key set and the staged
// file is renamed over the key's share.
//
// A signer may take part without a share of the key: a repaired member (its share was lost) or a
// new member of a reshare (joining) receives one; a dealer that a reshare leaves out drops its
// share at activation (the ring records `removed`: it signs nothing of that key any more); a
// repair helper gets no share and keeps its own (the key set does not change).
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../protocol/canonical-json.js';
import type { GroupInfo, SecretShare } from '../protocol/ciphersuite.js';
import { checkOwnShare } from '../protocol/frost/refresh.js';
import { thumbprint } from '../protocol/jwk.js';
import { KeyRingError, type KeyRing } from './key-ring.js';
import { SHARE_LOG_SEED_FILE } from './share-log-seed.js';
import type { ShareStore } from './share-routes.js';

export class KeyRingShareStore implements ShareStore {
  /** `keep`: a repair helper, whose share and key set stay as they are; no share otherwise: left out of a reshare. */
  private staged?: { ceremony: string; kid: string; group: GroupInfo; share?: SecretShare; keep?: true };

  constructor(
    private readonly ring: KeyRing,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  current(): { group: GroupInfo; share?: SecretShare } {
    const e = this.ring.current(this.nowS());
    const share = this.ring.shareOf(e.kid);
    return { group: e.group, ...(share ? { share } : {}) };
  }

  private stagedDir(ceremony: string): string {
    return join(this.ring.dir, 'staged', ceremony);
  }

  async stage(ceremony: string, result: { share?: SecretShare; group: GroupInfo }): Promise<void> {
    // Same group key (refresh, repair, reshare change shares, never the key): the ring's entry of it.
    const kid = thumbprint(result.group.group_public_key);
    if (!this.ring.entry(kid)) throw new KeyRingError('kid_unknown', `key ${kid} is not in this signer's key ring`);
    if (result.share) {
      // The ceremony checked it already; a share is sealed only if share·G is its verifying share.
      checkOwnShare(result.group, result.share);
      await this.ring.sealStaged(kid, result.share, result.group, join(this.stagedDir(ceremony), 'share.sealed'), [join(this.ring.dir, SHARE_LOG_SEED_FILE)]);
    } else if (this.ring.identifier in result.group.verifying_shares) {
      // No new share, yet the key set still counts this signer: a repair helper. A repair changes
      // no key set, so this signer's share and key set stay exactly as they are.
      if (canonicalJson(result.group) !== canonicalJson(this.ring.entry(kid)!.group) || !this.ring.shareOf(kid)) {
        throw new KeyRingError('ring_invalid', `the ceremony's key set lists this signer but gives it no share, and is not the key set it holds a share of`);
      }
      this.staged = { ceremony, kid, group: result.group, keep: true };
      return;
    }
    this.staged = { ceremony, kid, group: result.group, ...(result.share ? { share: { identifier: result.share.identifier, signingShare: Uint8Array.from(result.share.signingShare) } } : {}) };
  }

  async activate(ceremony: string): Promise<void> {
    const s = this.staged;
    if (!s || s.ceremony !== ceremony) throw new Error(`nothing staged for ceremony ${ceremony}`);
    if (s.keep) {
      // A repair helper: nothing of this signer changes.
    } else if (s.share) {
      await this.ring.replaceShare(s.kid, s.share, s.group, join(this.stagedDir(ceremony), 'share.sealed'));
      s.share.signingShare.fill(0);
    } else {
      // Left out of a reshare: this signer holds no share of the key from now on.
      await this.ring.dropShare(s.kid, s.group);
    }
    this.staged = undefined;
    await rm(this.stagedDir(ceremony), { recursive: true, force: true });
  }

  async discard(ceremony: string): Promise<void> {
    if (this.staged?.ceremony === ceremony) {
      this.staged.share?.signingShare.fill(0);
      this.staged = undefined;
    }
    if (existsSync(this.stagedDir(ceremony))) await rm(this.stagedDir(ceremony), { recursive: true, force: true });
  }
}
