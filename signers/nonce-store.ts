// Round-1 nonces: in memory only, single use, expiring. A session id is accepted once, ever
// (for this process), so a replayed round 1 or round 2 can never reuse or recreate a nonce.
import type { Nonces, WireCommitment } from '../protocol/ciphersuite.js';

interface Entry {
  nonces: Nonces;
  commitment: WireCommitment;
  expiresAt: number;
}

export class NonceStore {
  private readonly live = new Map<string, Entry>();
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxLive = 10_000,
    private readonly now = () => Date.now(),
  ) {}

  /** Registers fresh nonces for a new session; false if the id was ever used or the store is full. */
  put(session: string, nonces: Nonces, commitment: WireCommitment): boolean {
    this.sweep();
    if (this.seen.has(session) || this.live.size >= this.maxLive) return false;
    const expiresAt = this.now() + this.ttlMs;
    this.live.set(session, { nonces, commitment, expiresAt });
    // Remember the id for longer than the nonce lives, so it can never be recreated.
    this.seen.set(session, expiresAt + this.ttlMs);
    return true;
  }

  /** Removes and returns the session's nonces: whatever happens next, they are never used again. */
  take(session: string): Entry | undefined {
    const entry = this.live.get(session);
    if (!entry) return undefined;
    this.live.delete(session);
    if (entry.expiresAt <= this.now()) {
      wipe(entry.nonces);
      return undefined;
    }
    return entry;
  }

  get size(): number {
    return this.live.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [session, entry] of this.live) {
      if (entry.expiresAt <= now) {
        wipe(entry.nonces);
        this.live.delete(session);
      }
    }
    for (const [session, until] of this.seen) if (until <= now) this.seen.delete(session);
  }
}

export function wipe(nonces: Nonces): void {
  nonces.hiding.fill(0);
  nonces.binding.fill(0);
}
