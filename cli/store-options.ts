// `--store` for the commands that read or write the coordinator's shared state, and
// `ztmint audit verify` for either store. Kept apart from main.ts so each command adds one line.
import { Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AUDIT_FILE, verifyAuditText } from '../coordinator/audit.js';
import { isPostgresUrl } from '../coordinator/store/open-store.js';

export function storeOption(): Option {
  return new Option('--store <store>', 'shared state: "file" (files in --state, one process) or postgres://… (replicas share it; sslmode etc. in the URL)').env('ZTMINT_STORE');
}

/** Checks the audit chain end to end in the file store (--state) or PostgreSQL (--store); returns the summary line. */
export async function verifyAudit(opts: { state?: string; store?: string }): Promise<string> {
  if (isPostgresUrl(opts.store)) {
    const pg = (await import('pg')).default;
    const { verifyPostgresAudit } = await import('../coordinator/store/postgres-audit-sink.js');
    const { describePostgresUrl } = await import('../coordinator/store/postgres-store.js');
    const pool = new pg.Pool({ connectionString: opts.store, max: 1, connectionTimeoutMillis: 10_000, application_name: 'ztmint-audit-verify' });
    try {
      const { count, head } = await verifyPostgresAudit(pool);
      return `${describePostgresUrl(opts.store)}: ${count} records, chain intact, head ${head}`;
    } finally {
      await pool.end();
    }
  }
  if (opts.store && opts.store !== 'file') throw new Error('--store must be "file" or a postgres://… URL');
  if (!opts.state) throw new Error('--state is required for the file store');
  const path = join(resolve(opts.state), 'audit', AUDIT_FILE);
  const { count, head } = verifyAuditText(await readFile(path, 'utf8'));
  return `${path}: ${count} records, chain intact, head ${head}`;
}
