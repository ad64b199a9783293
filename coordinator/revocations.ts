// Revoked minted tokens, by jti, until they expire. Revocations are audit records, so the set is
// rebuilt from the audit log at start-up and survives a restart.
import { ExpiringSet } from '../oidc/expiring-set.js';
import type { AuditRecord } from './audit.js';

export class Revocations {
  private readonly revoked = new ExpiringSet();

  constructor(private readonly nowS: () => number) {}

  /** False if the jti was already revoked. */
  add(jti: string, exp: number): boolean {
    return this.revoked.add(jti, exp, this.nowS());
  }

  has(jti: string): boolean {
    return this.revoked.has(jti, this.nowS());
  }

  /** Audit-log visitor: re-applies `revoke` records whose tokens have not expired yet. */
  readonly replay = (record: AuditRecord): void => {
    if (record.event === 'revoke' && typeof record.jti === 'string' && typeof record.exp === 'number') {
      this.add(record.jti, record.exp);
    }
  };
}
