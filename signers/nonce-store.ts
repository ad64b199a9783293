// Round-1 nonces: in memory only, single use, expiring. A session id is accepted once, ever
// (for this process), so a replayed round 1 or round 2 can never reuse or recreate a nonce.
//
// Two lanes, each with one lifetime (so insertion order is expiry order and sweeping is cheap):
// - interactive: one nonce per round-1 request, short-lived, bounded in total;
// - preprocessed: batches handed out ahead of time (`${session}.${i}`), long-lived, bounded per
//   client; when a client's batch would exceed its bound, its oldest nonces are wiped first.
// A batch id is remembered like a session id: it cannot be used again, in either lane.
import type { Nonces, WireCommitment } from '../protocol/ciphersuite.js';
import { preprocessedSession } from '../protocol/wire.js';

interface Entry {
  nonces: Nonces;
  commitment: WireCommitment;
  expiresAt: number;
  /** The client a preprocessed nonce was handed to; only it may use the nonce. */
  owner?: string;
}

export interface NonceStoreOptions {
  /** Lifetime of a preprocessed nonce (default 10 min). */
  preprocessedTtlMs?: number;
  /** Preprocessed nonces held per client at most (default 2048). */
  maxPreprocessedPerClient?: number;
}

/** Sweeping expired entries is amortised: at most this often, unless a bound is reached. */
const SWEEP_EVERY_MS = 1_000;

export class NonceStore {
  private readonly live = new Map<string, Entry>();
  private readonly pooled = new Map<string, Entry>();
  /** Preprocessed sessions per owner, oldest first. */
  private readonly owners = new Map<string, Set<string>>();
  /** Ids (sessions and batch ids) ever accepted, kept until no nonce of theirs can exist. */
  private readonly seen = new Map<string, number>();
  private readonly seenBatches = new Map<string, number>();
  private readonly preprocessedTtlMs: number;
  private readonly maxPerClient: number;
  private nextSweep = 0;

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxLive = 10_000,
    private readonly now = () => Date.now(),
    opts: NonceStoreOptions = {},
  ) {
    this.preprocessedTtlMs = opts.preprocessedTtlMs ?? 600_000;
    this.maxPerClient = opts.maxPreprocessedPerClient ?? 2048;
  }

  private used(id: string): boolean {
    return this.seen.has(id) || this.seenBatches.has(id);
  }

  /** Registers fresh nonces for a new session; false if the id was ever used or the store is full. */
  put(session: string, nonces: Nonces, commitment: WireCommitment): boolean {
    this.sweep(this.live.size >= this.maxLive);
    if (this.used(session) || this.live.size >= this.maxLive) return false;
    const expiresAt = this.now() + this.ttlMs;
    this.live.set(session, { nonces, commitment, expiresAt });
    // Remember the id for longer than the nonce lives, so it can never be recreated.
    this.seen.set(session, expiresAt + this.ttlMs);
    return true;
  }

  /**
   * Registers a preprocessing batch for `owner`: entry i under `${batch}.${i}`. False (and nothing
   * stored) if the batch id was ever used. Wipes the owner's oldest nonces beyond its bound.
   */
  putBatch(batch: string, owner: string, entries: Array<{ nonces: Nonces; commitment: WireCommitment }>): boolean {
    this.sweep(false);
    if (this.used(batch) || entries.length > this.maxPerClient) return false;
    const expiresAt = this.now() + this.preprocessedTtlMs;
    this.seenBatches.set(batch, expiresAt + this.preprocessedTtlMs);
    let mine = this.owners.get(owner);
    if (!mine) this.owners.set(owner, (mine = new Set()));
    for (const oldest of mine) {
      if (mine.size + entries.length <= this.maxPerClient) break;
      this.drop(oldest);
    }
    for (const [i, { nonces, commitment }] of entries.entries()) {
      const session = preprocessedSession(batch, i);
      this.pooled.set(session, { nonces, commitment, expiresAt, owner });
      mine.add(session);
    }
    return true;
  }

  /**
   * Removes and returns the session's nonces: whatever happens next, they are never used again.
   * A preprocessed nonce is only found by the client it was handed to (`client`), and is left
   * alone when another one asks.
   */
  take(session: string, client?: string): Entry | undefined {
    let entry = this.live.get(session);
    if (entry) this.live.delete(session);
    else {
      entry = this.pooled.get(session);
      if (!entry || entry.owner !== client) return undefined;
      this.drop(session, false);
    }
    if (entry.expiresAt <= this.now()) {
      wipe(entry.nonces);
      return undefined;
    }
    return entry;
  }

  get size(): number {
    return this.live.size + this.pooled.size;
  }

  /** Nonces held now per lane (expired ones not yet swept included), for metrics. */
  get counts(): { interactive: number; preprocessed: number } {
    return { interactive: this.live.size, preprocessed: this.pooled.size };
  }

  /** Preprocessed nonces currently held for `owner`. */
  preprocessed(owner: string): number {
    return this.owners.get(owner)?.size ?? 0;
  }

  private drop(session: string, wipeIt = true): void {
    const entry = this.pooled.get(session);
    if (!entry) return;
    this.pooled.delete(session);
    const mine = this.owners.get(entry.owner!);
    mine?.delete(session);
    if (mine && mine.size === 0) this.owners.delete(entry.owner!);
    if (wipeIt) wipe(entry.nonces);
  }

  private sweep(force: boolean): void {
    const now = this.now();
    if (!force && now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_EVERY_MS;
    // Each map has one lifetime, so insertion order is expiry order: stop at the first live one.
    for (const [session, entry] of this.live) {
      if (entry.expiresAt > now) break;
      wipe(entry.nonces);
      this.live.delete(session);
    }
    for (const [session, entry] of this.pooled) {
      if (entry.expiresAt > now) break;
      this.drop(session);
    }
    for (const map of [this.seen, this.seenBatches]) {
      for (const [id, until] of map) {
        if (until > now) break;
        map.delete(id);
      }
    }
  }
}

export function wipe(nonces: Nonces): void {
  nonces.hiding.fill(0);
  nonces.binding.fill(0);
}
