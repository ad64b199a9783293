// A signer's key ring: every group key this signer holds a share of, by `kid` (RFC 7638 thumbprint
// of the group key), with the window in which it may sign with it. Rotation (`ztmint keys rotate`,
// docs/keys.md) adds a key next to the old one; refresh/repair/reshare may replace a share of a kid.
//
// On disk, under `<state>/signers/<i>/`:
//   share.sealed                 the first key's share (keygen / `ztmint dkg`; its group is <state>/group.json)
//   keys/<kid>/share.sealed      every later key's share, sealed with the same key provider
//   keyring.json                 { version: 1, keys: [{ kid, group, sealed, activates_at, retires_at, retires_for? }] }
//                                (written atomically; absent until the first rotation: the ring is then
//                                the one key of share.sealed + group.json, active since always)
//
// A key may be held WITHOUT a share (`no_share`, the entry says why): `missing` (the group expects
// this signer's share but its sealed file is gone: it waits for `ztmint keys repair`), `joining`
// (a new member, not in the key set yet: it waits for a reshare) or `removed` (a reshare left it
// out: its share was deleted at activation). Such a key signs nothing at this signer; a repair or
// reshare that gives it a share clears the reason. `missing` and `joining` are found at load (the
// file is absent), `removed` is kept in keyring.json.
//
// Signing window of a key (unix seconds, the signer's clock, ±CLOCK_SKEW_S):
//   activates_at   null until the coordinator schedules it (a key fresh from a ceremony never signs
//                  before that); the signer signs with it from then on
//   retires_at     null while open-ended; set when a later key is scheduled: the older key leaves the
//                  JWKS then, so this signer signs no token with it that expires after it (I12)
// A pending or scheduled key that a newer schedule supersedes is dropped (and the retirement it
// set on older keys undone), so an interrupted rotation is cleaned up by the next one.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ZtmintError } from '../errors/ztmint-error.js';
import { identifierFromIndex, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { thumbprint } from '../protocol/jwk.js';
import { checkUnseal, readSealedShare, sealShare, unsealShare, type ProviderOptions, type SealTarget, type UnsealedShare } from './sealed-share.js';
import type { ProviderParams } from './key-providers/index.js';

/** Clocks of coordinator and signers may differ this much around activation and retirement. */
const CLOCK_SKEW_S = 60;

const RING_FILE = 'keyring.json';
const KID_RE = /^[A-Za-z0-9_-]{43}$/;

export interface KeyRingEntry {
  kid: string;
  group: GroupInfo;
  /** The sealed share, relative to the signer's folder (`share.sealed`, `keys/<kid>/share.sealed`). */
  sealed: string;
  activates_at: number | null;
  retires_at: number | null;
  /** The kid whose scheduling set `retires_at` (undone if that key is cancelled). */
  retires_for?: string;
  /** Set while this signer holds no share of the key, saying why (the file header lists the reasons). */
  no_share?: NoShareReason;
}

/** Why a signer holds no share of a key: lost (awaiting repair), new member (awaiting a reshare), left out by a reshare. */
export type NoShareReason = 'missing' | 'joining' | 'removed';

interface RingFile {
  version: 1;
  keys: KeyRingEntry[];
}

/**
 * Why a key cannot be used or changed: unknown kid, outside its signing window, a token outliving
 * the key, a schedule that does not fit, or a ring on disk that does not match its shares.
 */
export type KeyRingErrorCode = 'kid_unknown' | 'kid_not_active' | 'outlives_key' | 'schedule_invalid' | 'ring_invalid' | 'no_share' | 'no_seal_target';

export class KeyRingError extends ZtmintError<KeyRingErrorCode> {}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${RING_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/** Seal under the same provider (and provider parameters) as an existing sealed share. */
function sameTarget(params: ProviderParams, sealedPath: string): SealTarget {
  switch (params.type) {
    case 'file':
      return { type: 'file', keyFile: isAbsolute(params.key_file) ? params.key_file : resolve(dirname(resolve(sealedPath)), params.key_file) };
    case 'pkcs11':
      return {
        type: 'pkcs11',
        mode: params.mode,
        module: params.module,
        ...(params.token_label !== undefined ? { tokenLabel: params.token_label } : {}),
        ...(params.slot !== undefined ? { slot: params.slot } : {}),
        ...(params.key_label !== undefined ? { keyLabel: params.key_label } : {}),
        ...(params.key_id !== undefined ? { keyId: params.key_id } : {}),
      };
    case 'oci-kms':
      return { type: 'oci-kms', keyId: params.key_id, cryptoEndpoint: params.crypto_endpoint };
  }
}

/** What to tell the operator about a key this signer holds no share of. */
export function noShareDetail(e: Pick<KeyRingEntry, 'kid' | 'no_share' | 'sealed'>, index: number): string {
  switch (e.no_share) {
    case 'joining':
      return `holds no share of key ${e.kid} yet: a new member, waiting for a reshare (\`ztmint keys reshare\`) to give it one`;
    case 'removed':
      return `holds no share of key ${e.kid}: a reshare left it out, so it signs nothing with that key`;
    default:
      return `holds no share of key ${e.kid}: its sealed share ${e.sealed} is missing; run \`ztmint keys repair --index ${index}\``;
  }
}

export interface KeyRingLoadOptions {
  /**
   * This signer's index. With it, a key whose sealed share is absent is loaded without a share
   * (`missing` when the key set has this signer's identifier, else `joining`); without it, every
   * share must be there.
   */
  index?: number;
}

export class KeyRing {
  private readonly shares = new Map<string, UnsealedShare>();

  private constructor(
    /** `<state>/signers/<i>`. */
    readonly dir: string,
    private entries: KeyRingEntry[],
    private readonly provider: ProviderOptions,
    /** This signer's FROST identifier (hex). */
    readonly identifier: string,
    /** This signer's index (1-based). */
    readonly index: number,
  ) {}

  /**
   * Loads the ring of the signer folder `dir` and unseals every share (each must belong to its
   * entry's group); without keyring.json, the ring is share.sealed + `legacyGroupFile`. With
   * `opts.index`, a key whose share file is absent is held without a share (`no_share`).
   */
  static async load(dir: string, legacyGroupFile: string, provider: ProviderOptions = {}, opts: KeyRingLoadOptions = {}): Promise<KeyRing> {
    const ringPath = join(dir, RING_FILE);
    let entries: KeyRingEntry[];
    if (existsSync(ringPath)) {
      const file = JSON.parse(await readFile(ringPath, 'utf8')) as RingFile;
      if (file?.version !== 1 || !Array.isArray(file.keys)) throw new KeyRingError('ring_invalid', `${ringPath}: not a version 1 key ring`);
      entries = file.keys;
    } else {
      const group = JSON.parse(await readFile(legacyGroupFile, 'utf8')) as GroupInfo;
      entries = [{ kid: thumbprint(group.group_public_key), group, sealed: 'share.sealed', activates_at: 0, retires_at: null }];
    }
    if (!entries.length) throw new KeyRingError('ring_invalid', `${dir}: the key ring is empty`);
    const shares = new Map<string, UnsealedShare>();
    const wipeAll = () => {
      for (const s of shares.values()) s.signingShare.fill(0);
    };
    for (const e of entries) {
      if (thumbprint(e.group.group_public_key) !== e.kid) {
        wipeAll();
        throw new KeyRingError('ring_invalid', `key ${e.kid} of the key ring in ${dir} is not the thumbprint of its group key`);
      }
      const path = join(dir, e.sealed);
      if (e.no_share === 'removed') {
        // Left out by a reshare: a share file still there (a crash inside activation) goes now.
        await rm(path, { force: true });
        continue;
      }
      if (!existsSync(path) && opts.index !== undefined) {
        e.no_share = identifierFromIndex(opts.index) in e.group.verifying_shares ? 'missing' : 'joining';
        continue;
      }
      const share = await unsealShare(path, provider);
      if (share.groupPublicKey !== e.group.group_public_key || !(share.identifier in e.group.verifying_shares) || (opts.index !== undefined && share.identifier !== identifierFromIndex(opts.index))) {
        share.signingShare.fill(0);
        wipeAll();
        throw new KeyRingError('ring_invalid', `${path} does not belong to key ${e.kid} of the key ring in ${dir}`);
      }
      delete e.no_share;
      shares.set(e.kid, share);
    }
    const anyHeld = shares.values().next().value;
    const identifier = opts.index !== undefined ? identifierFromIndex(opts.index) : anyHeld?.identifier;
    if (identifier === undefined) throw new KeyRingError('ring_invalid', `${dir}: no sealed share to learn this signer's identifier from`);
    const index = opts.index ?? Number(BigInt(`0x${Buffer.from(identifier, 'hex').reverse().toString('hex')}`));
    const ring = new KeyRing(dir, entries, provider, identifier, index);
    for (const [kid, share] of shares) ring.shares.set(kid, share);
    return ring;
  }

  /** This signer's share of `kid`, if it holds one. */
  shareOf(kid: string): SecretShare | undefined {
    return this.shares.get(kid);
  }

  /**
   * The key provider a new share of this signer is sealed with: the one of a share it holds, else
   * the one `share-log.seed` (or another sealed file of the folder) names, else the file provider
   * with `seal.key` in the folder (the dev stack's); otherwise there is none to choose.
   */
  async sealTarget(alsoFrom: string[] = []): Promise<SealTarget> {
    const candidates = [...this.entries.filter((e) => this.shares.has(e.kid)).map((e) => join(this.dir, e.sealed)), ...alsoFrom];
    for (const path of candidates) {
      if (!existsSync(path)) continue;
      const file = await readSealedShare(path);
      return file.version === 1 ? { type: 'file', keyFile: join(dirname(path), 'seal.key') } : sameTarget(file.provider, path);
    }
    const keyFile = join(this.dir, 'seal.key');
    if (existsSync(keyFile)) return { type: 'file', keyFile };
    throw new KeyRingError(
      'no_seal_target',
      `${this.dir} holds no sealed file to take a key provider from: seal something there first (e.g. \`ztmint signer reseal\` of a copy, or create seal.key for the file provider)`,
    );
  }

  /** Every key, oldest first (public facts only). */
  list(): KeyRingEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  entry(kid: string): KeyRingEntry | undefined {
    return this.entries.find((e) => e.kid === kid);
  }

  /** The key signing now: the latest activated one still before its retirement. */
  current(nowS: number): KeyRingEntry {
    const live = this.entries.filter((e) => e.activates_at !== null && e.activates_at <= nowS && (e.retires_at === null || nowS < e.retires_at));
    return (live.length ? live : this.entries.filter((e) => e.activates_at !== null)).reduce((a, b) => (b.activates_at! > a.activates_at! ? b : a), this.entries[0]!);
  }

  /**
   * The first key (share.sealed, group.json's): the transparency log's key, which signs checkpoints
   * whatever key signs tokens (rotation does not change the log key; docs/keys.md).
   */
  logKey(): { share?: SecretShare; group: GroupInfo; kid: string } {
    const e = this.entries[0]!;
    const share = this.shares.get(e.kid);
    return { ...(share ? { share } : {}), group: e.group, kid: e.kid };
  }

  /** Whether this signer holds a share of the key signing now, and if not why and what to do (/v1/info, /readyz). */
  shareStatus(nowS: number): { kid: string; state: 'held' | NoShareReason; detail?: string } {
    const e = this.current(nowS);
    if (this.shares.has(e.kid)) return { kid: e.kid, state: 'held' };
    return { kid: e.kid, state: e.no_share ?? 'missing', detail: `this signer ${noShareDetail(e, this.index)}` };
  }

  /** Keys this signer holds no share of (public facts), for the start-up warning. */
  withoutShare(): KeyRingEntry[] {
    return this.entries.filter((e) => !this.shares.has(e.kid)).map((e) => ({ ...e }));
  }

  /**
   * The share of the key signing now (for round-1 nonce hedging, which does not depend on the
   * key); none while this signer holds no share of it (round 1 is then refused: it could not sign).
   */
  anyShare(nowS: number): SecretShare | undefined {
    return this.shares.get(this.current(nowS).kid);
  }

  /**
   * The share to sign a token of `kid` expiring at `exp` with, if that key may sign now: known,
   * scheduled and active (within the clock skew), and the token does not outlive the key.
   */
  signing(kid: string, nowS: number, exp: number): { share: SecretShare; group: GroupInfo } {
    const e = this.entry(kid);
    if (!e) throw new KeyRingError('kid_unknown', `this signer holds no share of key ${kid}`);
    if (e.activates_at === null || nowS < e.activates_at - CLOCK_SKEW_S) throw new KeyRingError('kid_not_active', `key ${kid} is not active yet at this signer`);
    if (e.retires_at !== null && nowS > e.retires_at + CLOCK_SKEW_S) throw new KeyRingError('kid_not_active', `key ${kid} is retired at this signer`);
    if (e.retires_at !== null && exp > e.retires_at + CLOCK_SKEW_S) throw new KeyRingError('outlives_key', `the token would expire after key ${kid} leaves the JWKS`);
    const share = this.shares.get(kid);
    if (!share) throw new KeyRingError('no_share', `this signer ${noShareDetail(e, this.index)}`);
    return { share, group: e.group };
  }

  /**
   * Seals the share of a new key (fresh from a ceremony) beside the others, with the key provider
   * of the current share, checks it unseals to the same bytes, and records it unscheduled.
   */
  async addPending(share: SecretShare, group: GroupInfo, nowS: number): Promise<{ path: string; kid: string }> {
    const kid = thumbprint(group.group_public_key);
    if (this.entry(kid)) throw new KeyRingError('schedule_invalid', `key ${kid} is already in the ring`);
    const current = this.current(nowS);
    const target = await this.sealTarget(this.shares.has(current.kid) ? [join(this.dir, current.sealed)] : []);
    const rel = `keys/${kid}/share.sealed`;
    const path = join(this.dir, rel);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await sealShare(share, group.group_public_key, target, path, this.provider);
    await checkUnseal(path, this.provider, (back) => {
      if (back.identifier !== share.identifier || back.groupPublicKey !== group.group_public_key || Buffer.compare(Buffer.from(back.signingShare), Buffer.from(share.signingShare)) !== 0) {
        throw new KeyRingError('ring_invalid', `${path} does not unseal to the share just sealed`);
      }
    });
    this.shares.set(kid, { identifier: share.identifier, signingShare: Uint8Array.from(share.signingShare), groupPublicKey: group.group_public_key });
    this.entries.push({ kid, group, sealed: rel, activates_at: null, retires_at: null });
    await this.save();
    return { path, kid };
  }

  /**
   * Seals `share` (a refreshed, repaired or reshared share of key `kid`, same group key) at `path`
   * with the key provider of the key's current share (or, holding none, `sealTarget`'s) and checks
   * it unseals to the same bytes; it does not sign until `replaceShare`.
   */
  async sealStaged(kid: string, share: SecretShare, group: GroupInfo, path: string, alsoFrom: string[] = []): Promise<void> {
    const e = this.entry(kid);
    if (!e || group.group_public_key !== e.group.group_public_key) throw new KeyRingError('kid_unknown', `key ${kid} is not in this signer's key ring`);
    if (share.identifier !== this.identifier) throw new KeyRingError('ring_invalid', `the share to seal is not this signer's (identifier ${share.identifier})`);
    const target = await this.sealTarget([...(this.shares.has(kid) ? [join(this.dir, e.sealed)] : []), ...alsoFrom]);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await sealShare(share, group.group_public_key, target, path, this.provider);
    await checkUnseal(path, this.provider, (back) => {
      if (back.identifier !== share.identifier || back.groupPublicKey !== group.group_public_key || Buffer.compare(Buffer.from(back.signingShare), Buffer.from(share.signingShare)) !== 0) {
        throw new KeyRingError('ring_invalid', `${path} does not unseal to the share just sealed`);
      }
    });
  }

  /**
   * Signs key `kid` with the share staged at `stagedPath` from now on (share refresh or repair:
   * the group key stays, the verifying shares change): the ring file takes the new key set, then
   * the staged file is renamed over the key's share (each step atomic).
   */
  async replaceShare(kid: string, share: SecretShare, group: GroupInfo, stagedPath: string): Promise<void> {
    const e = this.entry(kid);
    if (!e || group.group_public_key !== e.group.group_public_key) throw new KeyRingError('kid_unknown', `key ${kid} is not in this signer's key ring`);
    e.group = group;
    delete e.no_share; // a repaired or joining signer holds its share from now on
    await this.save();
    await mkdir(dirname(join(this.dir, e.sealed)), { recursive: true, mode: 0o700 });
    await rename(stagedPath, join(this.dir, e.sealed));
    const old = this.shares.get(kid);
    this.shares.set(kid, { identifier: share.identifier, signingShare: Uint8Array.from(share.signingShare), groupPublicKey: group.group_public_key });
    old?.signingShare.fill(0);
  }

  /**
   * A reshare that left this signer out is active: key `kid` has the new key set and this signer
   * no share of it. The ring records `removed` first, then the share file is deleted and the share
   * wiped from memory (a restart in between finds `removed` and deletes the file).
   */
  async dropShare(kid: string, group: GroupInfo): Promise<void> {
    const e = this.entry(kid);
    if (!e || group.group_public_key !== e.group.group_public_key) throw new KeyRingError('kid_unknown', `key ${kid} is not in this signer's key ring`);
    e.group = group;
    e.no_share = 'removed';
    await this.save();
    await rm(join(this.dir, e.sealed), { force: true });
    this.shares.get(kid)?.signingShare.fill(0);
    this.shares.delete(kid);
  }

  /**
   * Schedules `kid` to sign from `activatesAt` and retires every older open key at `retiresAt`.
   * Idempotent for the same values; supersedes (drops) any other key not active yet.
   */
  async schedule(kid: string, activatesAt: number, retiresAt: number, nowS: number): Promise<KeyRingEntry> {
    const e = this.entry(kid);
    if (!e) throw new KeyRingError('kid_unknown', `this signer holds no share of key ${kid}`);
    if (e.activates_at !== null && e.activates_at === activatesAt && this.entries.every((o) => o.retires_for !== kid || o.retires_at === retiresAt)) return { ...e };
    if (e.activates_at !== null) throw new KeyRingError('schedule_invalid', `key ${kid} is already scheduled (activates at ${e.activates_at})`);
    if (!Number.isSafeInteger(activatesAt) || activatesAt < nowS - CLOCK_SKEW_S || !Number.isSafeInteger(retiresAt) || retiresAt < activatesAt) {
      throw new KeyRingError('schedule_invalid', 'activation must not be in the past and the previous key must retire at or after it');
    }
    for (const other of this.entries.filter((o) => o.kid !== kid && (o.activates_at === null || o.activates_at > nowS))) await this.drop(other.kid);
    for (const o of this.entries) {
      if (o.kid !== kid && o.retires_at === null) {
        o.retires_at = retiresAt;
        o.retires_for = kid;
      }
    }
    e.activates_at = activatesAt;
    await this.save();
    return { ...e };
  }

  /** Drops a key that is not active yet (an interrupted rotation), undoing the retirement it set. */
  async cancel(kid: string, nowS: number): Promise<boolean> {
    const e = this.entry(kid);
    if (!e) return false;
    if (e.activates_at !== null && e.activates_at <= nowS) throw new KeyRingError('schedule_invalid', `key ${kid} is active already; it cannot be cancelled`);
    await this.drop(kid);
    await this.save();
    return true;
  }

  private async drop(kid: string): Promise<void> {
    const e = this.entry(kid)!;
    for (const o of this.entries) {
      if (o.retires_for === kid) {
        o.retires_at = null;
        delete o.retires_for;
      }
    }
    this.entries = this.entries.filter((o) => o.kid !== kid);
    this.shares.get(kid)?.signingShare.fill(0);
    this.shares.delete(kid);
    if (e.sealed !== 'share.sealed') await rm(dirname(join(this.dir, e.sealed)), { recursive: true, force: true });
  }

  private async save(): Promise<void> {
    for (const e of this.entries) if (!KID_RE.test(e.kid)) throw new KeyRingError('ring_invalid', `kid ${e.kid} is malformed`);
    const file: RingFile = { version: 1, keys: this.entries };
    await writeAtomically(join(this.dir, RING_FILE), JSON.stringify(file, null, 2) + '\n');
  }
}
