// The coordinator's key set (docs/keys.md): every group key it publishes, by kid, with its
// schedule. Before any rotation it is the one key of `<state>/group.json`, active since always;
// `ztmint keys rotate` adds a key learnt from the ceremony's results and writes `<state>/keys.json`
// (atomically; every replica on the same state directory re-reads it when it changes).
//
//   published_at  the key is in the JWKS from then on (before it signs anything)
//   activates_at  = published_at + activation delay (≥ JWKS cache time): new tokens carry its kid
//   retires_at    of the previous key = activates_at + overlap (≥ max token lifetime): it leaves
//                 the JWKS then, after every token it signed has expired
//
// Tokens are checked (revoke, introspect) with the key their `kid` names, while it is published.
import { randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ZtmintError } from '../errors/ztmint-error.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { ed25519PublicKey, groupJwk, thumbprint, type Ed25519Jwk } from '../protocol/jwk.js';

const KEYS_FILE = 'keys.json';

export interface KeySetEntry {
  kid: string;
  group: GroupInfo;
  published_at: number;
  activates_at: number;
  retires_at: number | null;
  /** Which transitions are in the audit log already (key_published, key_activated, key_retired). */
  audited: { published: boolean; activated: boolean; retired: boolean };
  /** The ceremony that made it (absent for the first key). */
  ceremony?: string;
  /** The last refresh, repair or reshare of its shares (same key, new verifying shares or quorum). */
  shares_changed?: { kind: 'refresh' | 'repair' | 'reshare'; ceremony: string; at: number };
}

interface KeysFile {
  version: 1;
  keys: KeySetEntry[];
}

export type KeyTransition = 'key_published' | 'key_activated' | 'key_retired';

class KeySetError extends ZtmintError<'keys_invalid'> {}

export interface LoadedKey extends KeySetEntry {
  jwk: Ed25519Jwk;
  publicKey: KeyObject;
}

function loaded(e: KeySetEntry): LoadedKey {
  return { ...e, jwk: groupJwk(e.group.group_public_key), publicKey: ed25519PublicKey(e.group.group_public_key) };
}

export class KeySet {
  private keys: LoadedKey[];
  private mtimeMs = -1;

  private constructor(
    private readonly state: string | undefined,
    entries: KeySetEntry[],
  ) {
    this.keys = entries.map(loaded);
  }

  /** One key, active since always (tests, and a coordinator before any rotation). */
  static single(group: GroupInfo): KeySet {
    return new KeySet(undefined, [initialEntry(group)]);
  }

  /** `<state>/keys.json` if a rotation wrote it, else the one key of `group`. */
  static load(state: string, group: GroupInfo): KeySet {
    const set = new KeySet(state, [initialEntry(group)]);
    set.refresh();
    return set;
  }

  /** Re-reads keys.json when it changed (another replica rotated); cheap when it did not. */
  refresh(): void {
    if (!this.state) return;
    const path = join(this.state, KEYS_FILE);
    if (!existsSync(path)) return;
    const mtime = statSync(path).mtimeMs;
    if (mtime === this.mtimeMs) return;
    const file = JSON.parse(readFileSync(path, 'utf8')) as KeysFile;
    if (file?.version !== 1 || !Array.isArray(file.keys) || !file.keys.length) throw new KeySetError('keys_invalid', `${path}: not a version 1 key set`);
    for (const k of file.keys) {
      if (thumbprint(k.group.group_public_key) !== k.kid) throw new KeySetError('keys_invalid', `${path}: kid ${k.kid} is not the thumbprint of its group key`);
    }
    this.keys = file.keys.map(loaded);
    this.mtimeMs = mtime;
  }

  list(): LoadedKey[] {
    return [...this.keys];
  }

  /** The key new tokens are signed with: the latest one active at `nowS`. */
  signing(nowS: number): LoadedKey {
    const active = this.keys.filter((k) => k.activates_at <= nowS);
    return active.reduce((a, b) => (b.activates_at >= a.activates_at ? b : a), active[0] ?? this.keys[0]!);
  }

  /** The keys in the JWKS at `nowS`: published, not retired. */
  published(nowS: number): LoadedKey[] {
    return this.keys.filter((k) => k.published_at <= nowS && (k.retires_at === null || nowS < k.retires_at));
  }

  /** A published key by kid (revoke and introspect check a token with the key it names). */
  byKid(kid: string, nowS: number): LoadedKey | undefined {
    return this.published(nowS).find((k) => k.kid === kid);
  }

  /** Adds a rotated key (published, activation and the previous keys' retirement as the signers scheduled them). */
  async add(group: GroupInfo, ceremony: string, publishedAt: number, activatesAt: number, retiresAt: number): Promise<LoadedKey> {
    if (!this.state) throw new KeySetError('keys_invalid', 'this key set has no state directory to persist to');
    const kid = thumbprint(group.group_public_key);
    if (this.keys.some((k) => k.kid === kid)) throw new KeySetError('keys_invalid', `key ${kid} is already in the key set`);
    const next: KeySetEntry[] = this.keys.map((k) => ({ ...strip(k), retires_at: k.retires_at ?? retiresAt }));
    next.push({ kid, group, published_at: publishedAt, activates_at: activatesAt, retires_at: null, audited: { published: false, activated: false, retired: false }, ceremony });
    await this.save(next);
    return this.keys.find((k) => k.kid === kid)!;
  }

  /**
   * Same kid, new shares (refresh, repair, reshare): the entry's group (verifying shares, and for
   * a reshare threshold, signers and identifiers) becomes `group`. The group key must stay: the
   * JWKS does not change, only how signature shares are checked and how many signers a run needs.
   */
  async replaceGroup(kid: string, group: GroupInfo, change: NonNullable<KeySetEntry['shares_changed']>): Promise<LoadedKey> {
    if (!this.state) throw new KeySetError('keys_invalid', 'this key set has no state directory to persist to');
    this.refresh();
    const entry = this.keys.find((k) => k.kid === kid);
    if (!entry) throw new KeySetError('keys_invalid', `key ${kid} is not in the key set`);
    if (thumbprint(group.group_public_key) !== kid) throw new KeySetError('keys_invalid', `the new key set of ${kid} has another group key (${thumbprint(group.group_public_key)})`);
    await this.save(this.keys.map((k) => (k.kid === kid ? { ...strip(k), group, shares_changed: change } : strip(k))));
    return this.keys.find((k) => k.kid === kid)!;
  }

  /** Transitions that happened by `nowS` and are not audited yet, oldest first. */
  due(nowS: number): Array<{ event: KeyTransition; key: LoadedKey }> {
    const out: Array<{ event: KeyTransition; key: LoadedKey; at: number }> = [];
    for (const k of this.keys) {
      if (!k.audited.published && k.published_at <= nowS) out.push({ event: 'key_published', key: k, at: k.published_at });
      if (!k.audited.activated && k.activates_at <= nowS) out.push({ event: 'key_activated', key: k, at: k.activates_at });
      if (!k.audited.retired && k.retires_at !== null && k.retires_at <= nowS) out.push({ event: 'key_retired', key: k, at: k.retires_at });
    }
    return out.sort((a, b) => a.at - b.at).map(({ event, key }) => ({ event, key }));
  }

  /** Records that a transition is in the audit log. */
  async markAudited(kid: string, event: KeyTransition): Promise<void> {
    const field = ({ key_published: 'published', key_activated: 'activated', key_retired: 'retired' } as const)[event];
    await this.save(this.keys.map((k) => ({ ...strip(k), audited: k.kid === kid ? { ...k.audited, [field]: true } : k.audited })));
  }

  private async save(entries: KeySetEntry[]): Promise<void> {
    const path = join(this.state!, KEYS_FILE);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(JSON.stringify({ version: 1, keys: entries } satisfies KeysFile, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    this.keys = entries.map(loaded);
    this.mtimeMs = statSync(path).mtimeMs;
  }
}

function initialEntry(group: GroupInfo): KeySetEntry {
  // Before any rotation, nothing is to be audited about the first key: it was there from the start.
  return { kid: thumbprint(group.group_public_key), group, published_at: 0, activates_at: 0, retires_at: null, audited: { published: true, activated: true, retired: false } };
}

function strip(k: LoadedKey): KeySetEntry {
  const { jwk: _jwk, publicKey: _publicKey, ...entry } = k;
  return entry;
}
