// The PostgreSQL store's Merkle log: one row per stored subtree hash (level, idx) in
// ztmint_tlog_hashes, written in the same transaction as the audit rows they cover (so every
// replica sees the log and the chain move together), and signed checkpoints in
// ztmint_tlog_checkpoints. Entries are the `record` column of ztmint_audit, byte for byte.
import type { Pool, PoolClient } from 'pg';
import { hashesToStore, leafHash, type HashReader, type NodeId } from '../../transparency/merkle.js';
import { TransparencyError } from '../../transparency/errors.js';
import { withClient } from './postgres-client.js';
import type { TlogStore } from './tlog-store.js';

type Queryable = Pick<Pool | PoolClient, 'query'>;

const key = (n: NodeId) => `${n.level}/${n.index}`;

async function readRows(db: Queryable, nodes: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
  const { rows } = await db.query<{ level: number; idx: string; hash: Buffer }>(
    'SELECT h.level, h.idx, h.hash FROM ztmint_tlog_hashes h JOIN unnest($1::int[], $2::bigint[]) AS w(level, idx) ON h.level = w.level AND h.idx = w.idx',
    [nodes.map((n) => n.level), nodes.map((n) => n.index)],
  );
  return new Map(rows.map((r) => [`${r.level}/${r.idx}`, new Uint8Array(r.hash)]));
}

/**
 * Inside the audit append transaction (the append lock held): the hash rows for the records
 * `first`, `first + 1`, … whose stored bytes are `entries`. Reads each older subtree hash it needs
 * at most once.
 */
export async function insertTlogHashes(client: PoolClient, first: number, entries: readonly Uint8Array[]): Promise<void> {
  const known = new Map<string, Uint8Array>();
  const reader: HashReader = {
    async readHashes(nodes) {
      const missing = nodes.filter((n) => !known.has(key(n)));
      if (missing.length) for (const [k, h] of await readRows(client, missing)) known.set(k, h);
      return nodes.map((n) => {
        const h = known.get(key(n));
        if (!h) throw new TransparencyError('tlog_out_of_range', `the Merkle log lacks the hash at level ${n.level} index ${n.index}`);
        return h;
      });
    },
  };
  const rows: Array<NodeId & { hash: Uint8Array }> = [];
  for (const [i, entry] of entries.entries()) {
    for (const row of await hashesToStore(reader, first + i, leafHash(entry))) {
      known.set(key(row), row.hash);
      rows.push(row);
    }
  }
  await client.query('INSERT INTO ztmint_tlog_hashes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])', [
    rows.map((r) => r.level),
    rows.map((r) => r.index),
    rows.map((r) => Buffer.from(r.hash)),
  ]);
}

/** pg_advisory_xact_lock key for audit appends: the same as postgres-audit-sink.ts. */
const AUDIT_LOCK = 0x7a746d02;
const BACKFILL_PAGE = 1000;

/**
 * Audit records written before the Merkle log existed (schema version 1) get their hash rows,
 * page by page under the append lock, so the log covers the whole chain from record 0.
 */
export async function backfillTlog(pool: Pool, log: (msg: string, fields?: Record<string, unknown>) => void): Promise<void> {
  for (;;) {
    const done = await withClient(pool, async (client) => {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
        const { rows: have } = await client.query<{ n: string }>('SELECT coalesce(max(idx) + 1, 0) AS n FROM ztmint_tlog_hashes WHERE level = 0');
        const from = Number(have[0]!.n);
        const { rows } = await client.query<{ record: string }>('SELECT record FROM ztmint_audit WHERE idx >= $1 ORDER BY idx LIMIT $2', [from, BACKFILL_PAGE]);
        if (rows.length) {
          await insertTlogHashes(
            client,
            from,
            rows.map((r) => Buffer.from(r.record)),
          );
          log('Merkle log backfilled for older audit records', { from, count: rows.length });
        }
        await client.query('COMMIT');
        return rows.length < BACKFILL_PAGE;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    if (done) return;
  }
}

export class PostgresTlog implements TlogStore {
  constructor(private readonly pool: Pool) {}

  async size(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT coalesce(max(idx) + 1, 0) AS n FROM ztmint_tlog_hashes WHERE level = 0');
    return Number(rows[0]!.n);
  }

  async readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    if (nodes.length === 0) return [];
    const found = await readRows(this.pool, nodes);
    return nodes.map((n) => {
      const h = found.get(key(n));
      if (!h) throw new TransparencyError('tlog_out_of_range', `no stored hash at level ${n.level} index ${n.index}`);
      return h;
    });
  }

  async readEntries(start: number, count: number): Promise<Uint8Array[]> {
    if (count === 0) return [];
    const { rows } = await this.pool.query<{ idx: string; record: string }>('SELECT idx, record FROM ztmint_audit WHERE idx >= $1 AND idx < $2 ORDER BY idx', [start, start + count]);
    if (rows.length !== count || rows.some((r, i) => Number(r.idx) !== start + i)) throw new RangeError(`entries ${start}..${start + count - 1} are not all in the log`);
    return rows.map((r) => new Uint8Array(Buffer.from(r.record)));
  }

  async latestCheckpoint(): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ note: string }>('SELECT note FROM ztmint_tlog_checkpoints ORDER BY size DESC LIMIT 1');
    return rows[0]?.note;
  }

  async saveCheckpoint(note: string, size: number): Promise<void> {
    // Replicas may sign the same size at once: one note per size is enough (same tree, same root).
    await this.pool.query('INSERT INTO ztmint_tlog_checkpoints (size, note) VALUES ($1, $2) ON CONFLICT (size) DO NOTHING', [size, note]);
  }

  async saveCosignedCheckpoint(note: string, size: number): Promise<void> {
    // Same size, same tree: the cosigned note replaces the bare one (or another replica's cosigned one).
    await this.pool.query('UPDATE ztmint_tlog_checkpoints SET note = $2 WHERE size = $1', [size, note]);
  }
}
