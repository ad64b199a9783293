// A set whose members leave at their own expiry time: used for replay caches (OIDC jti, minted jti).
// A member may be admitted up to `maxUses` times. Sweeping runs at most once a second, so each
// insert stays O(1) amortised.

interface Entry {
  until: number;
  uses: number;
}

export class ExpiringSet {
  private readonly entries = new Map<string, Entry>();
  private lastSweep = 0;

  /** Admits `key` until `expiresAt` (any monotone unit); false once it was admitted `maxUses` times. */
  add(key: string, expiresAt: number, now: number, maxUses = 1): boolean {
    this.sweep(now);
    const current = this.entries.get(key);
    if (current && current.until >= now) {
      if (current.uses >= maxUses) return false;
      current.uses += 1;
      return true;
    }
    this.entries.set(key, { until: expiresAt, uses: 1 });
    return true;
  }

  has(key: string, now: number): boolean {
    const current = this.entries.get(key);
    return current !== undefined && current.until >= now;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 1) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) if (entry.until < now) this.entries.delete(key);
  }
}
