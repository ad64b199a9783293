// A set whose members leave at their own expiry time: used for replay caches (OIDC jti, minted jti).
// Sweeping runs at most once a second, so each insert stays O(1) amortised.

export class ExpiringSet {
  private readonly until = new Map<string, number>();
  private lastSweep = 0;

  /** Adds `key` until `expiresAt` (any monotone unit); false if it is already present. */
  add(key: string, expiresAt: number, now: number): boolean {
    this.sweep(now);
    const current = this.until.get(key);
    if (current !== undefined && current >= now) return false;
    this.until.set(key, expiresAt);
    return true;
  }

  has(key: string, now: number): boolean {
    const current = this.until.get(key);
    return current !== undefined && current >= now;
  }

  get size(): number {
    return this.until.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 1) return;
    this.lastSweep = now;
    for (const [key, expiresAt] of this.until) if (expiresAt < now) this.until.delete(key);
  }
}
