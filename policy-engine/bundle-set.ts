// Staged policy rollout: the signed bundles in a directory (every `*.tar.gz`, each verified against
// the policy-admin keys) and the revisions file (one revision a line, `#` comments, in order of
// preference) decide what a service accepts: a revision listed there whose bundle verified. The
// coordinator mints with the first of them (`current`); a signer evaluates each request with the
// bundle of the token's `pol`, if that revision is accepted. Both are polled: a rollout is publish
// bundle B → signers list A and B → the coordinator lists B first → everyone lists only B. A bundle
// that does not verify is refused and logged, and what was in force stays; so does a revisions
// file that would leave nothing accepted.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError } from './bundle-archive.js';
import { loadAdminKey, type AdminKey } from './bundle-signature.js';
import { readPolicyBundle, REVISION_PATTERN, type VerifiedBundle } from './bundle.js';
import type { LoadedPolicy } from './evaluate.js';
import type { PolicySource } from './holder.js';

/** Size, mtime and inode: a replaced or rewritten file gets a new stamp. */
async function fileStamp(path: string): Promise<string> {
  const st = await stat(path);
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}

/** Refusals are warnings; verified bundles and accepted revisions are information. */
type Log = (msg: string, fields?: Record<string, unknown>, level?: 'info' | 'warn') => void;

export interface BundleSetOptions {
  bundleDir: string;
  adminKeys: string[];
  revisionsFile: string;
  log?: Log;
}

interface LoadedFile {
  stamp: string;
  bundle: VerifiedBundle;
}

/** Parses the revisions file: one revision a line; blank lines and `#` comments ignored. */
export function parseRevisions(text: string, source: string): string[] {
  const out: string[] = [];
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    if (!REVISION_PATTERN.test(line)) throw new BundleError('revisions_file_invalid', `${source} line ${n + 1}: ${JSON.stringify(line.slice(0, 40))} is not a revision`);
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

export class BundlePolicySet implements PolicySource {
  private readonly files = new Map<string, LoadedFile>();
  private revisions: string[] = [];
  private revisionsStamp = '';
  private active: LoadedPolicy[] = [];
  private reloading?: Promise<boolean>;

  private constructor(
    private readonly opts: BundleSetOptions,
    private readonly keys: AdminKey[],
    private readonly log: Log,
  ) {}

  static async load(opts: BundleSetOptions): Promise<BundlePolicySet> {
    if (opts.adminKeys.length === 0) throw new BundleError('admin_key_missing', 'policy bundles need at least one --policy-admin-key (PEM public key)');
    const keys = await Promise.all(opts.adminKeys.map((k) => loadAdminKey(k)));
    const set = new BundlePolicySet(opts, keys, opts.log ?? (() => {}));
    await set.reload();
    if (set.active.length === 0) {
      throw new BundleError(
        'policy_none_accepted',
        `no accepted policy: none of the revisions in ${opts.revisionsFile} (${set.revisions.join(', ') || 'none'}) has a verified bundle in ${opts.bundleDir} (verified: ${set.verifiedRevisions().join(', ') || 'none'})`,
      );
    }
    return set;
  }

  get current(): LoadedPolicy {
    return this.active[0]!;
  }

  accepted(revision: string): LoadedPolicy | undefined {
    return this.active.find((p) => p.revision === revision);
  }

  acceptedRevisions(): string[] {
    return this.active.map((p) => p.revision);
  }

  private verifiedRevisions(): string[] {
    return [...new Set([...this.files.values()].map((f) => f.bundle.policy.revision))].sort();
  }

  /** Rescans the directory and the revisions file; true when the accepted list changed. */
  reload(): Promise<boolean> {
    this.reloading ??= this.rescan().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async rescan(): Promise<boolean> {
    await this.rescanBundles();
    await this.rereadRevisions();
    const next: LoadedPolicy[] = [];
    for (const revision of this.revisions) {
      const file = [...this.files.values()].find((f) => f.bundle.policy.revision === revision);
      if (file) next.push(file.bundle.policy);
    }
    const before = this.acceptedRevisions();
    const after = next.map((p) => p.revision);
    if (before.join('\n') === after.join('\n')) return false;
    if (next.length === 0) {
      this.log('policy revisions refused: no listed revision has a verified bundle; keeping the accepted ones', { listed: this.revisions, accepted: before });
      return false;
    }
    this.active = next;
    this.log('policy revisions accepted', { accepted: after, current: after[0], before }, 'info');
    return true;
  }

  private async rescanBundles(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.opts.bundleDir)).filter((n) => n.endsWith('.tar.gz')).sort();
    } catch (err) {
      this.logOnce('dir', 'policy bundle directory unreadable; keeping the bundles loaded', { dir: this.opts.bundleDir, error: (err as Error).message });
      return;
    }
    for (const gone of [...this.files.keys()].filter((n) => !names.includes(n))) this.files.delete(gone);
    for (const name of names) {
      const path = join(this.opts.bundleDir, name);
      const stamp = await fileStamp(path).catch(() => undefined);
      if (stamp === undefined) continue; // removed while scanning
      if (this.files.get(name)?.stamp === stamp || this.refused.get(name) === stamp) continue;
      try {
        const bundle = await readPolicyBundle(await readFile(path), this.keys);
        const clash = [...this.files.entries()].find(([n, f]) => n !== name && f.bundle.policy.revision === bundle.policy.revision && f.bundle.policy.hash !== bundle.policy.hash);
        if (clash) throw new BundleError('bundle_revision_clash', `revision ${bundle.policy.revision} is already loaded from ${clash[0]} with other content; give the new bundle a new revision`);
        this.files.set(name, { stamp, bundle });
        this.refused.delete(name);
        this.log('policy bundle verified', { file: name, revision: bundle.policy.revision, policy: bundle.policy.hash, signed_by: bundle.signedBy }, 'info');
      } catch (err) {
        // Logged once per version of the file; what this file held before, if it verified, stays.
        this.refused.set(name, stamp);
        const code = err instanceof BundleError ? err.code : 'bundle_unreadable';
        this.log('policy bundle refused', { file: name, code, error: (err as Error).message, kept: this.files.get(name)?.bundle.policy.revision ?? null });
      }
    }
  }

  /** Bundle files refused, with the stamp they were refused at (not read again until they change). */
  private readonly refused = new Map<string, string>();
  private readonly logged = new Map<string, string>();

  private logOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    const text = JSON.stringify(fields);
    if (this.logged.get(key) === text) return;
    this.logged.set(key, text);
    this.log(msg, fields);
  }

  private async rereadRevisions(): Promise<void> {
    try {
      const stamp = await fileStamp(this.opts.revisionsFile);
      if (stamp === this.revisionsStamp) return;
      this.revisions = parseRevisions(await readFile(this.opts.revisionsFile, 'utf8'), this.opts.revisionsFile);
      this.revisionsStamp = stamp;
      this.logged.delete('revisions');
    } catch (err) {
      this.logOnce('revisions', 'policy revisions file refused; keeping the revisions accepted', { file: this.opts.revisionsFile, error: (err as Error).message });
    }
  }

  watch(intervalMs = 1_000): () => void {
    const timer = setInterval(() => void this.reload(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
