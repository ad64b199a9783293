// The ShareStore (signers/share-routes.ts) of a live signer: share refresh and repair (docs/keys.md)
// replace this signer's share of the key signing now in its key ring (signers/key-ring.ts). A
// result is staged in `<signer dir>/staged/<ceremony>/share.sealed` (sealed with the key provider
// of the current share, checked to unseal) and signs only from activation, when the ring takes
// the new key set and the staged file is renamed over the key's share.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupInfo, SecretShare } from '../protocol/ciphersuite.js';
import type { KeyRing } from './key-ring.js';
import type { ShareStore } from './share-routes.js';

export class KeyRingShareStore implements ShareStore {
  private staged?: { ceremony: string; kid: string; group: GroupInfo; share: SecretShare };

  constructor(
    private readonly ring: KeyRing,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  current(): { group: GroupInfo; share: SecretShare } {
    const nowS = this.nowS();
    return { group: this.ring.current(nowS).group, share: this.ring.anyShare(nowS) };
  }

  private stagedDir(ceremony: string): string {
    return join(this.ring.dir, 'staged', ceremony);
  }

  async stage(ceremony: string, result: { share?: SecretShare; group: GroupInfo }): Promise<void> {
    // A signer left out of a reshare would hold no share of the key; the ring keeps one share per key.
    if (!result.share) throw new Error('this signer keeps a share of every key in its ring: a reshare that leaves it out is not supported on a live signer');
    const kid = this.ring.current(this.nowS()).kid;
    await this.ring.sealStaged(kid, result.share, result.group, join(this.stagedDir(ceremony), 'share.sealed'));
    this.staged = { ceremony, kid, group: result.group, share: { identifier: result.share.identifier, signingShare: Uint8Array.from(result.share.signingShare) } };
  }

  async activate(ceremony: string): Promise<void> {
    const s = this.staged;
    if (!s || s.ceremony !== ceremony) throw new Error(`nothing staged for ceremony ${ceremony}`);
    await this.ring.replaceShare(s.kid, s.share, s.group, join(this.stagedDir(ceremony), 'share.sealed'));
    s.share.signingShare.fill(0);
    this.staged = undefined;
    await rm(this.stagedDir(ceremony), { recursive: true, force: true });
  }

  async discard(ceremony: string): Promise<void> {
    if (this.staged?.ceremony === ceremony) {
      this.staged.share.signingShare.fill(0);
      this.staged = undefined;
    }
    if (existsSync(this.stagedDir(ceremony))) await rm(this.stagedDir(ceremony), { recursive: true, force: true });
  }
}
