// Revoked minted tokens, by jti until they expire, and the admin API's revocation rules. Both are
// audit records (`revoke` with `jti`/`exp`, or with `rule`), so the embedded store rebuilds them
// from the audit log at start-up and they survive a restart.
import { ExpiringSet } from '../oidc/expiring-set.js';
import type { AuditRecord } from './audit.js';
import { RuleSet, type RevocableClaims, type RevocationRule } from './revocation-rules.js';

export class Revocations {
  private readonly revoked = new ExpiringSet();
  private readonly rules = new RuleSet();

  constructor(private readonly nowS: () => number) {}

  /** False if the jti was already revoked. */
  add(jti: string, exp: number): boolean {
    return this.revoked.add(jti, exp, this.nowS());
  }

  has(jti: string): boolean {
    return this.revoked.has(jti, this.nowS());
  }

  addRule(rule: RevocationRule): boolean {
    return this.rules.add(rule, this.nowS());
  }

  covers(claims: RevocableClaims): boolean {
    return this.has(claims.jti) || this.rules.covers(claims, this.nowS());
  }

  /** Audit-log visitor: re-applies `revoke` records whose tokens have not expired yet. */
  readonly replay = (record: AuditRecord): void => {
    if (record.event !== 'revoke') return;
    if (typeof record.jti === 'string' && typeof record.exp === 'number') this.add(record.jti, record.exp);
    const rule = record.rule as { repository?: unknown; before?: unknown } | undefined;
    if (rule && typeof rule.before === 'number') {
      this.addRule({ before: rule.before, ...(typeof rule.repository === 'string' ? { repository: rule.repository } : {}) });
    }
  };
}
