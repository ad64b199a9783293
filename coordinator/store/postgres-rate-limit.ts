// Mint rate limits shared by all replicas: the same token buckets as coordinator/rate-limit.ts,
// kept in PostgreSQL and updated by one atomic upsert per bucket, so N replicas together allow
// what one would (not N times as much).
import type { Pool } from 'pg';
import { DEFAULT_RATE_LIMITS, type RateLimitConfig, type RateLimitRule } from '../rate-limit.js';
import type { MintRateLimiter, RateDecision } from './state-store.js';
import { orUnavailable } from './store-unavailable.js';

// $1 key, $2 burst, $3 now (ms), $4 refill per ms. A bucket refills for the time since its last
// use (never negative across replicas' clocks), then gives a token if it holds one.
const TAKE = `
  INSERT INTO ztmint_rate_buckets AS b (key, tokens, at_ms, taken) VALUES ($1, $2::float8 - 1, $3::bigint, true)
  ON CONFLICT (key) DO UPDATE SET
    tokens = least($2::float8, b.tokens + greatest(0, $3::bigint - b.at_ms) * $4::float8)
             - CASE WHEN least($2::float8, b.tokens + greatest(0, $3::bigint - b.at_ms) * $4::float8) >= 1 THEN 1 ELSE 0 END,
    taken = least($2::float8, b.tokens + greatest(0, $3::bigint - b.at_ms) * $4::float8) >= 1,
    at_ms = greatest(b.at_ms, $3::bigint)
  RETURNING tokens, taken`;

export class PostgresRateLimiter implements MintRateLimiter {
  private readonly rules: Array<{ claim: 'repository' | 'sub'; rule: RateLimitRule }> = [];

  constructor(
    private readonly pool: Pool,
    config: RateLimitConfig = DEFAULT_RATE_LIMITS,
    private readonly log?: (msg: string, fields?: Record<string, unknown>) => void,
  ) {
    for (const claim of ['repository', 'sub'] as const) {
      const rule = config[claim];
      if (rule) this.rules.push({ claim, rule });
    }
  }

  async check(claims: Record<string, unknown>, nowMs: number): Promise<RateDecision> {
    for (const { claim, rule } of this.rules) {
      const ratePerMs = rule.perMinute / 60_000;
      const { rows } = await orUnavailable(
        'rate limits',
        () => this.pool.query<{ tokens: number; taken: boolean }>(TAKE, [`${claim}:${String(claims[claim])}`, rule.burst, Math.floor(nowMs), ratePerMs]),
        this.log,
      );
      const bucket = rows[0]!;
      if (!bucket.taken) return { retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000)), limit: claim };
    }
    return { retryAfter: 0 };
  }
}
