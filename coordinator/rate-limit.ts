// Token-bucket rate limits per key (repository, OIDC sub). A bucket holds `burst` requests and
// refills at `perMinute`; an empty bucket answers with the seconds until the next token.

export interface RateLimitRule {
  perMinute: number;
  burst: number;
}

export interface RateLimitConfig {
  repository?: RateLimitRule;
  sub?: RateLimitRule;
  /** Buckets kept at most (oldest dropped first), so unique keys cannot exhaust memory. */
  maxKeys?: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  repository: { perMinute: 600, burst: 120 },
  sub: { perMinute: 120, burst: 30 },
};

interface Bucket {
  tokens: number;
  at: number;
}

class Buckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rule: RateLimitRule,
    private readonly maxKeys: number,
  ) {}

  /** Seconds to wait, or 0 if a token was taken. */
  take(key: string, nowMs: number): number {
    const ratePerMs = this.rule.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.rule.burst, at: nowMs };
    bucket.tokens = Math.min(this.rule.burst, bucket.tokens + (nowMs - bucket.at) * ratePerMs);
    bucket.at = nowMs;
    this.buckets.delete(key); // re-insert: Map order is least-recently-used first
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000));
  }
}

export class RateLimiter {
  private readonly limits: Array<{ claim: 'repository' | 'sub'; buckets: Buckets }> = [];

  constructor(config: RateLimitConfig = DEFAULT_RATE_LIMITS) {
    const maxKeys = config.maxKeys ?? 100_000;
    for (const claim of ['repository', 'sub'] as const) {
      const rule = config[claim];
      if (rule) this.limits.push({ claim, buckets: new Buckets(rule, maxKeys) });
    }
  }

  /** Returns Retry-After seconds when any limit is exhausted, else 0 (and counts the request). */
  check(claims: Record<string, unknown>, nowMs: number): { retryAfter: number; limit?: string } {
    for (const { claim, buckets } of this.limits) {
      const wait = buckets.take(String(claims[claim]), nowMs);
      if (wait > 0) return { retryAfter: wait, limit: claim };
    }
    return { retryAfter: 0 };
  }
}
