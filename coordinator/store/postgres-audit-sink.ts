// The PostgreSQL store's audit sink: one hash chain for all replicas. Each group (the coordinator's
// group commit) is one transaction that takes a transaction advisory lock, reads the chain's head,
// chains the group after it and inserts it; replicas appending at once are serialised by the lock,
// and unique idx/prev columns refuse a fork outright. The Merkle log's hash rows go in the same
// transaction. Commit = durable (synchronous_commit).
import type { Pool } from 'pg';
import { ChainVerifier, chainRecords, GENESIS_HASH, type AuditEntry, type AuditRecord } from '../audit-chain.js';
import { withClient } from './postgres-client.js';
import { insertTlogHashes } from './postgres-tlog.js';

/** pg_advisory_xact_lock key for audit appends ("ztm" + 2). */
const AUDIT_LOCK = 0x7a746d02;

export class PostgresAuditSink {
  constructor(private readonly pool: Pool) {}

  commit(entries: AuditEntry[], time: string): Promise<number> {
    return withClient(this.pool, async (client) => {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
        const head = await client.query<{ idx: string; hash: string }>('SELECT idx, hash FROM ztmint_audit ORDER BY idx DESC LIMIT 1');
        const first = head.rows[0] ? Number(head.rows[0].idx) + 1 : 0;
        const { records } = chainRecords(entries, first, head.rows[0]?.hash ?? GENESIS_HASH, time);
        const lines = records.map((r) => JSON.stringify(r));
        await client.query('INSERT INTO ztmint_audit (idx, prev, hash, record) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])', [
          records.map((r) => r.index),
          records.map((r) => r.prev),
          records.map((r) => r.hash),
          lines,
        ]);
        // The Merkle log's rows in the same transaction: leaf i is exactly the stored record i.
        await insertTlogHashes(
          client,
          first,
          lines.map((line) => Buffer.from(line)),
        );
        await client.query('COMMIT');
        return first;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    // The pool belongs to the store, which ends it.
  }
}

/** Checks the whole chain in the database page by page (each record `visit`ed); returns the count and head, or throws naming the first bad record. */
export async function verifyPostgresAudit(pool: Pool, pageSize = 5000, visit?: (record: AuditRecord) => void): Promise<{ count: number; head: string }> {
  const verifier = new ChainVerifier(visit);
  for (;;) {
    const { rows } = await pool.query<{ idx: string; prev: string; hash: string; record: string }>('SELECT idx, prev, hash, record FROM ztmint_audit WHERE idx >= $1 ORDER BY idx LIMIT $2', [
      verifier.count,
      pageSize,
    ]);
    for (const row of rows) {
      if (Number(row.idx) !== verifier.count) throw new Error(`record ${verifier.count}: missing (next stored index is ${row.idx})`);
      const record = verifier.push(row.record);
      if (record.prev !== row.prev || record.hash !== row.hash) throw new Error(`record ${record.index}: columns do not match the record`);
    }
    if (rows.length < pageSize) return { count: verifier.count, head: verifier.head };
  }
}
