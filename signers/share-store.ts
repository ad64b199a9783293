// A ShareStore (signers/share-routes.ts) over a signer folder: `share.sealed` and the signer's own
// copy of its key set `group.json`, both replaced only at activation. A staged result waits in
// `staged/<ceremony>/` (share sealed with the signer's key provider and checked to unseal to the
// same bytes, plus its key set); activation renames it over the current files, each rename atomic,
// the share last: a signer restarted in between finds the staged files still there.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupInfo, SecretShare } from '../protocol/ciphersuite.js';
import { sealDkgShare } from './dkg-main.js';
import type { SealTarget } from './sealed-share.js';
import type { ShareStore } from './share-routes.js';

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

export class FolderShareStore implements ShareStore {
  private held: { group: GroupInfo; share?: SecretShare } | undefined;
  private staged?: { ceremony: string; group: GroupInfo; share?: SecretShare };
  /** The ceremony in which this signer was a repair helper: activation changes nothing here. */
  private keep?: string;

  /**
   * `dir` is the signer's folder; `groupFile` the key set it signs for; `target` the key provider
   * new shares are sealed with (the one of the current share).
   */
  constructor(
    private readonly dir: string,
    private readonly groupFile: string,
    private readonly target: SealTarget,
    initial: { group: GroupInfo; share?: SecretShare } | undefined,
  ) {
    this.held = initial;
  }

  current() {
    return this.held;
  }

  private stagedDir(ceremony: string): string {
    return join(this.dir, 'staged', ceremony);
  }

  async stage(ceremony: string, result: { share?: SecretShare; group: GroupInfo }): Promise<void> {
    const own = this.held?.share;
    if (!result.share && own && own.identifier in result.group.verifying_shares) {
      // A repair helper: no new share, the key set unchanged; this signer keeps what it holds.
      this.staged = { ceremony, group: result.group, share: { identifier: own.identifier, signingShare: Uint8Array.from(own.signingShare) } };
      this.keep = ceremony;
      return;
    }
    const dir = this.stagedDir(ceremony);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (result.share) await sealDkgShare(join(dir, 'share.sealed'), result.share, result.group, this.target);
    await writeAtomically(join(dir, 'group.json'), JSON.stringify(result.group, null, 2) + '\n');
    this.staged = { ceremony, group: result.group, ...(result.share ? { share: { identifier: result.share.identifier, signingShare: Uint8Array.from(result.share.signingShare) } } : {}) };
  }

  async activate(ceremony: string): Promise<void> {
    const s = this.staged;
    if (!s || s.ceremony !== ceremony) throw new Error(`nothing staged for ceremony ${ceremony}`);
    if (this.keep === ceremony) {
      s.share?.signingShare.fill(0);
      this.staged = undefined;
      this.keep = undefined;
      return;
    }
    const dir = this.stagedDir(ceremony);
    await rename(join(dir, 'group.json'), this.groupFile);
    const sealed = join(this.dir, 'share.sealed');
    if (s.share) await rename(join(dir, 'share.sealed'), sealed);
    else await rm(sealed, { force: true }); // left out of a reshare: this signer holds no share any more
    const old = this.held?.share;
    this.held = { group: s.group, ...(s.share ? { share: s.share } : {}) };
    old?.signingShare.fill(0);
    this.staged = undefined;
    await rm(dir, { recursive: true, force: true });
  }

  async discard(ceremony: string): Promise<void> {
    if (this.staged?.ceremony === ceremony) {
      this.staged.share?.signingShare.fill(0);
      this.staged = undefined;
      this.keep = undefined;
    }
    if (existsSync(this.stagedDir(ceremony))) await rm(this.stagedDir(ceremony), { recursive: true, force: true });
  }
}
