// Revocation rules: "every token of repository R issued before T" and "every token issued before
// T", set by an operator through the admin API (`ztmint admin revoke --repository R [--before T]`,
// `--all-before T`). A rule matters only while a token it covers can still be valid: the longest
// lifetime a mint may ask for is MAX_TOKEN_TTL_S, so a rule is forgotten that long after T.

/** The MintRequest schema's ttl maximum (coordinator/openapi.json): no token lives longer. */
export const MAX_TOKEN_TTL_S = 86_400;

export interface RevocationRule {
  /** Only tokens of this repository (their `repository` claim); absent: every token. */
  repository?: string;
  /** Tokens issued (`iat`) strictly before this time (seconds since the epoch) are inactive. */
  before: number;
}

/** The claims of a minted token a revocation can be decided on. */
export interface RevocableClaims {
  jti: string;
  iat?: number;
  repository?: unknown;
}

export function ruleCovers(rule: RevocationRule, claims: RevocableClaims): boolean {
  if (typeof claims.iat !== 'number' || claims.iat >= rule.before) return false;
  return rule.repository === undefined || claims.repository === rule.repository;
}

/** When no token the rule covers can be valid any more. */
export function ruleExpiry(rule: RevocationRule): number {
  return rule.before + MAX_TOKEN_TTL_S;
}

/** One key per rule, so that setting the same rule twice is one rule (and "already set"). */
export function ruleKey(rule: RevocationRule): string {
  return `${rule.before} ${rule.repository ?? '*'}`;
}

/** A replica's copy of the rules in force (few: operators set them by hand). */
export class RuleSet {
  private readonly rules = new Map<string, RevocationRule>();

  /** False if this rule was already set. */
  add(rule: RevocationRule, nowS: number): boolean {
    this.prune(nowS);
    const key = ruleKey(rule);
    if (this.rules.has(key) || ruleExpiry(rule) < nowS) return false;
    this.rules.set(key, { ...rule });
    return true;
  }

  covers(claims: RevocableClaims, nowS: number): boolean {
    this.prune(nowS);
    for (const rule of this.rules.values()) if (ruleCovers(rule, claims)) return true;
    return false;
  }

  private prune(nowS: number): void {
    for (const [key, rule] of this.rules) if (ruleExpiry(rule) < nowS) this.rules.delete(key);
  }
}
