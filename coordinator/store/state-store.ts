// The coordinator state that every replica must agree on, behind one interface with two
// implementations: the embedded store (files in the state directory, one process) and PostgreSQL
// (any number of replicas). Shared: the OIDC jti replay set, revocations, rate-limit counters and
// the audit log's one hash chain and its Merkle log. Per replica, never here: commitment pools, JWKS and policy caches.
import type { AuditLog, AuditRecord } from '../audit.js';
import type { RevocableClaims, RevocationRule } from '../revocation-rules.js';
import type { TlogStore } from './tlog-store.js';

/** The OIDC replay set: each (issuer, jti) is accepted once, until `expiresAtS` (then it is forgotten). */
export interface ReplayGuard {
  /** True the first time; false if any replica already accepted this token. */
  claim(issuer: string, jti: string, expiresAtS: number): Promise<boolean>;
}

/** Revoked minted tokens by jti, until they expire. */
export interface RevocationSet {
  /** False if the jti was already revoked. */
  add(jti: string, exp: number): boolean | Promise<boolean>;
  /** Answered from this replica's copy, which follows the shared set within a second. */
  has(jti: string): boolean;
  /** Sets a revocation rule (admin API); false if the same rule was set already. */
  addRule(rule: RevocationRule): boolean | Promise<boolean>;
  /** True if the token's jti is revoked or a rule covers it; from this replica's copy, like `has`. */
  covers(claims: RevocableClaims): boolean;
}

export interface RateDecision {
  /** Seconds to wait, or 0 when the request was counted. */
  retryAfter: number;
  /** The claim whose limit was hit. */
  limit?: string;
}

/** Mint rate limits per repository and per OIDC subject. */
export interface MintRateLimiter {
  check(claims: Record<string, unknown>, nowMs: number): RateDecision | Promise<RateDecision>;
}

/** Whether the store answers now (readiness, `ztmint status`); `error` is safe text, never a password. */
export interface StoreHealth {
  ok: boolean;
  store: string;
  error?: string;
}

export interface StateStore {
  /** What to name in logs and errors (never a password). */
  readonly description: string;
  /** A bounded probe of the store (PostgreSQL: one query; files: the audit folder is writable). */
  health(): Promise<StoreHealth>;
  readonly audit: AuditLog;
  /** The Merkle log over the audit records (leaf i = record i) and its latest signed checkpoint. */
  readonly tlog: TlogStore;
  readonly revocations: RevocationSet;
  readonly rateLimiter: MintRateLimiter;
  readonly replay: ReplayGuard;
  /** Up to `limit` durable audit records from index `from` on, in order (admin API: search, tail). */
  readAudit(from: number, limit: number): Promise<AuditRecord[]>;
  close(): Promise<void>;
}
