// Round-1 preprocessing, coordinator side: per signer, a pool of single-use commitments that the
// signer handed out ahead of time (POST /v1/round1 {"session","count"}), so a mint needs only
// round 2 at the chosen signers. The pool lives in memory only: a restart loses its entries, and
// the signer never accepts a session twice, so nothing is ever used twice.
//
// - take() removes the entry it returns: whatever happens to the round 2 it is never offered again.
// - Refilled in the background, one batch at a time, when fewer than `lowWater` remain; never
//   holds more than `max`; backs off after a failed refill.
// - Entries older than `maxAgeMs` (shorter than the signer's PREPROCESSED_TTL_S) are dropped.
// - clear() forgets everything (the signer restarted or no longer knows our sessions); a batch
//   that was in flight at the time is discarded too.
import { randomBytes } from 'node:crypto';
import type { WireCommitment } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { PREPROCESSED_TTL_S, ROUND1_MAX_COUNT, preprocessedSession } from '../protocol/wire.js';

export interface CommitmentPoolOptions {
  /** Refill when fewer than this many remain (default 64). */
  lowWater?: number;
  /** Commitments asked for per refill (default 64, at most ROUND1_MAX_COUNT). */
  batch?: number;
  /** Never hold more than this many (default 256). */
  max?: number;
  /** Drop entries older than this (default: the signer's lifetime minus one minute). */
  maxAgeMs?: number;
  /** First delay after a failed refill; doubles up to `maxRetryMs` (defaults 500 ms, 30 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How often to drop old entries and top up while idle (default 30 s). */
  tickMs?: number;
  now?: () => number;
}

export interface PooledCommitment {
  session: string;
  commitment: WireCommitment;
  /** When the pool stops offering it (ms, `now()` clock). */
  expiresAt: number;
}

/** Asks the signer for `count` commitments under batch id `session`; returns them in order. */
export type FetchBatch = (session: string, count: number) => Promise<WireCommitment[]>;

export class CommitmentPool {
  private queue: PooledCommitment[] = [];
  private head = 0;
  private inflight = false;
  private generation = 0;
  private failures = 0;
  private retryAt = 0;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly lowWater: number;
  private readonly batch: number;
  private readonly max: number;
  private readonly maxAgeMs: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fetchBatch: FetchBatch,
    opts: CommitmentPoolOptions = {},
    private readonly log?: (event: Record<string, unknown>, msg: string) => void,
  ) {
    this.batch = Math.max(1, Math.min(ROUND1_MAX_COUNT, opts.batch ?? 64));
    this.max = Math.max(this.batch, opts.max ?? 256);
    this.lowWater = Math.max(1, Math.min(this.max, opts.lowWater ?? 64));
    this.maxAgeMs = Math.min(opts.maxAgeMs ?? (PREPROCESSED_TTL_S - 60) * 1000, PREPROCESSED_TTL_S * 1000);
    this.retryMs = opts.retryMs ?? 500;
    this.maxRetryMs = opts.maxRetryMs ?? 30_000;
    this.now = opts.now ?? (() => Date.now());
    this.timer = setInterval(() => {
      this.dropExpired();
      this.refill();
    }, opts.tickMs ?? 30_000);
    this.timer.unref();
    this.refill();
  }

  /** Commitments on offer (expired ones not yet dropped included). */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Removes and returns the oldest usable commitment, or undefined when the pool is empty. */
  take(): PooledCommitment | undefined {
    this.dropExpired();
    let entry: PooledCommitment | undefined;
    if (this.head < this.queue.length) {
      entry = this.queue[this.head]!;
      this.queue[this.head++] = undefined as never; // no reference kept to a used entry
      this.compact();
    }
    this.refill();
    return entry;
  }

  /** The signer answered something else: if a refill is backing off, try again now. */
  wake(): void {
    if (this.retryAt === 0) return;
    this.retryAt = 0;
    this.refill();
  }

  /** Forgets every entry (and a batch in flight). */
  clear(): void {
    this.queue = [];
    this.head = 0;
    this.generation++;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.clear();
  }

  private dropExpired(): void {
    const now = this.now();
    while (this.head < this.queue.length && this.queue[this.head]!.expiresAt <= now) this.queue[this.head++] = undefined as never;
    this.compact();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private refill(): void {
    if (this.closed || this.inflight || this.size >= this.lowWater || this.now() < this.retryAt) return;
    const count = Math.min(this.batch, this.max - this.size);
    const generation = this.generation;
    const session = b64url(randomBytes(16));
    // Conservative: the signer's clock for these nonces starts after this moment.
    const expiresAt = this.now() + this.maxAgeMs;
    this.inflight = true;
    this.fetchBatch(session, count).then(
      (commitments) => {
        this.inflight = false;
        this.failures = 0;
        this.retryAt = 0;
        if (this.closed || generation !== this.generation) return;
        for (const [i, commitment] of commitments.entries()) {
          this.queue.push({ session: preprocessedSession(session, i), commitment, expiresAt });
        }
        this.refill();
      },
      (err: Error) => {
        this.inflight = false;
        this.failures++;
        const delay = Math.min(this.maxRetryMs, this.retryMs * 2 ** Math.min(this.failures - 1, 16));
        this.retryAt = this.now() + delay;
        if (this.failures === 1) this.log?.({ error: err.message, retry_ms: delay }, 'round-1 preprocessing failed; falling back to two rounds');
        if (!this.closed) setTimeout(() => this.refill(), delay).unref();
      },
    );
  }
}
