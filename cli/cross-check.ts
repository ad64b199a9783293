// `ztmint audit cross-check`: every token the signers released shares for must be in the
// coordinator's audit log. A token needs t shares and each signer writes the jti into its own log
// before its share leaves (signers/share-log.ts), so a jti in t signer logs and not in the
// coordinator's log is a token that exists and was never recorded: a coordinator (or someone with
// its certificate) minting behind the audit log's back. Fewer than t shares for a jti is reported
// too, as partial: it happens without anyone cheating (a mint retried after a failing signer) but
// also when a signer's log could not be read.
import { isPostgresUrl } from '../coordinator/store/open-store.js';
import { AUDIT_FILE, verifyAuditText, type AuditRecord } from '../coordinator/audit.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ShareLogEntry } from '../signers/share-log.js';

interface MissingToken {
  jti: string;
  /** The signers whose logs hold a share for it (sorted). */
  signers: string[];
  exp: number;
  /** At least `threshold` shares: a valid token can exist. */
  complete: boolean;
}

export interface CrossCheckReport {
  /** Shares per signer log read. */
  signers: Array<{ signer: string; shares: number }>;
  /** Tokens the coordinator's log records. */
  recorded: number;
  missing: MissingToken[];
}

/** Compares the signers' logs with the jtis the coordinator recorded. */
export function crossCheck(logs: ReadonlyArray<{ signer: string; records: readonly ShareLogEntry[] }>, recorded: ReadonlySet<string>, threshold: number): CrossCheckReport {
  const byJti = new Map<string, { signers: Set<string>; exp: number }>();
  for (const log of logs) {
    for (const r of log.records) {
      if (recorded.has(r.jti)) continue;
      const seen = byJti.get(r.jti) ?? { signers: new Set<string>(), exp: r.exp };
      seen.signers.add(log.signer);
      byJti.set(r.jti, seen);
    }
  }
  const missing = [...byJti].map(([jti, m]) => ({ jti, signers: [...m.signers].sort(), exp: m.exp, complete: m.signers.size >= threshold })).sort((a, b) => a.jti.localeCompare(b.jti));
  return { signers: logs.map((l) => ({ signer: l.signer, shares: l.records.length })), recorded: recorded.size, missing };
}

/** The jtis of every mint in the coordinator's audit log (file store in `state`, or PostgreSQL), after checking its chain. */
export async function recordedJtis(opts: { state: string; store?: string }): Promise<Set<string>> {
  const jtis = new Set<string>();
  const visit = (r: AuditRecord) => {
    if (r.event === 'mint' && typeof r.jti === 'string') jtis.add(r.jti);
  };
  if (isPostgresUrl(opts.store)) {
    const pg = (await import('pg')).default;
    const { verifyPostgresAudit } = await import('../coordinator/store/postgres-audit-sink.js');
    const pool = new pg.Pool({ connectionString: opts.store, max: 1, connectionTimeoutMillis: 10_000, application_name: 'ztmint-audit-cross-check' });
    try {
      await verifyPostgresAudit(pool, 5000, visit);
    } finally {
      await pool.end();
    }
  } else {
    verifyAuditText(await readFile(join(opts.state, 'audit', AUDIT_FILE), 'utf8'), visit);
  }
  return jtis;
}

/** The report as lines for a person; the missing tokens first. */
export function formatCrossCheck(report: CrossCheckReport, threshold: number): string[] {
  const lines = report.missing.map((m) =>
    m.complete
      ? `NOT IN THE COORDINATOR'S LOG: token jti=${m.jti} (shares from ${m.signers.join(', ')}; expires ${new Date(m.exp * 1000).toISOString()})`
      : `partial: jti=${m.jti} has ${m.signers.length} of ${threshold} shares (${m.signers.join(', ')}); no token unless another signer's log is incomplete`,
  );
  const complete = report.missing.filter((m) => m.complete).length;
  lines.push(
    `${report.signers.map((s) => `${s.signer}: ${s.shares} shares`).join('; ')}; coordinator: ${report.recorded} tokens recorded; ` +
      (complete ? `${complete} token(s) signed but not recorded: investigate the coordinator and revoke them` : 'every token signed is recorded'),
  );
  return lines;
}
