// The Merkle log in both state stores (issue 15, item 1): leaf i is audit record i exactly as
// stored, appended in the same durable step; tree heads and proofs from the stored hashes equal
// those of a tree rebuilt from the entries; PostgreSQL replicas appending at once build one tree,
// and a database from before the log is backfilled at start. Real PostgreSQL, hence e2e.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../coordinator/store/embedded-store.js';
import { openPostgresStore } from '../coordinator/store/postgres-store.js';
import type { StateStore } from '../coordinator/store/state-store.js';
import type { TlogStore } from '../coordinator/store/tlog-store.js';
import { consistencyProof, equalHashes, inclusionProof, leafHash, MemoryHashStore, treeHash, verifyConsistency, verifyInclusion } from '../transparency/merkle.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 180_000);
afterAll(() => server?.stop());

/** The tree rebuilt from the log's own entries must equal the stored one, for every size we check. */
async function checkTree(tlog: TlogStore, storedLines: string[]): Promise<Uint8Array> {
  const size = await tlog.size();
  expect(size).toBe(storedLines.length);
  const entries = await tlog.readEntries(0, size);
  expect(entries.map((e) => Buffer.from(e).toString('utf8'))).toEqual(storedLines);
  const model = new MemoryHashStore();
  for (const e of entries) model.appendEntry(e);
  for (const n of [1, 2, 7, 255, 256, 257, size]) {
    if (n > size) continue;
    expect(equalHashes(await treeHash(tlog, n), await treeHash(model, n))).toBe(true);
  }
  const root = await treeHash(tlog, size);
  for (const i of [0, 1, 255, 256, size - 1]) verifyInclusion(i, size, leafHash(entries[i]!), await inclusionProof(tlog, i, size), root);
  verifyConsistency(100, size, await treeHash(model, 100), root, await consistencyProof(tlog, 100, size));
  return root;
}

async function appendMany(stores: StateStore[], each: number): Promise<void> {
  await Promise.all(stores.flatMap((s, r) => Array.from({ length: each }, (_, n) => s.audit.append({ event: 'mint', replica: r, n }))));
}

describe('Merkle log in the file store', () => {
  it('logs every audit line as a leaf, keeps the checkpoint (and its witness cosignatures), and rebuilds the same tree on restart', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ztmint-tlog-'));
    let store = await openEmbeddedStore({ state });
    await appendMany([store], 300);
    const lines = () => readFile(join(state, 'audit', 'audit.jsonl'), 'utf8').then((t) => t.trim().split('\n'));
    const root = await checkTree(store.tlog, await lines());
    expect(await store.tlog.latestCheckpoint()).toBeUndefined();
    await store.tlog.saveCheckpoint('note of size 300\n', 300);
    await store.close();

    store = await openEmbeddedStore({ state });
    try {
      expect(equalHashes(await checkTree(store.tlog, await lines()), root)).toBe(true);
      expect(await store.tlog.latestCheckpoint()).toBe('note of size 300\n');
      // Witness cosignatures replace the note of the same size, never a newer one written meanwhile.
      await store.tlog.saveCheckpoint('log/origin\n300\nROOT\n\n— log sig\n', 300);
      await store.tlog.saveCosignedCheckpoint('log/origin\n300\nROOT\n\n— log sig\n— witness sig\n', 300);
      expect(await store.tlog.latestCheckpoint()).toBe('log/origin\n300\nROOT\n\n— log sig\n— witness sig\n');
      await store.tlog.saveCheckpoint('log/origin\n301\nROOT\n\n— log sig\n', 301);
      await store.tlog.saveCosignedCheckpoint('log/origin\n300\nROOT\n\n— log sig\n— late witness\n', 300);
      expect(await store.tlog.latestCheckpoint()).toBe('log/origin\n301\nROOT\n\n— log sig\n');
    } finally {
      await store.close();
    }
  });
});

describe('Merkle log in the PostgreSQL store', () => {
  it('builds one tree from replicas appending at once, in the audit transaction', async () => {
    const url = await server.createDatabase('tlog');
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ state: '/nonexistent', url })));
    const pool = new pg.Pool({ connectionString: url });
    try {
      await appendMany(stores, 100);
      const lines = async () => (await pool.query<{ record: string }>('SELECT record FROM ztmint_audit ORDER BY idx')).rows.map((r) => r.record);
      const root = await checkTree(stores[1]!.tlog, await lines());

      await stores[0]!.tlog.saveCheckpoint('size 300\n', 300);
      await stores[2]!.tlog.saveCheckpoint('size 300 again\n', 300); // another replica, same size: the first stays
      await stores[1]!.tlog.saveCheckpoint('size 200\n', 200);
      expect(await stores[1]!.tlog.latestCheckpoint()).toBe('size 300\n');
      // Witness cosignatures replace the note of that size (any replica); a size never kept stays absent.
      await stores[2]!.tlog.saveCosignedCheckpoint('size 300 cosigned\n', 300);
      await stores[0]!.tlog.saveCosignedCheckpoint('size 500 cosigned\n', 500);
      expect(await stores[1]!.tlog.latestCheckpoint()).toBe('size 300 cosigned\n');

      // A database from before the log: its hash rows are rebuilt at start.
      await Promise.all(stores.map((s) => s.close()));
      await pool.query('DELETE FROM ztmint_tlog_hashes');
      const reopened = await openPostgresStore({ state: '/nonexistent', url });
      try {
        expect(equalHashes(await checkTree(reopened.tlog, await lines()), root)).toBe(true);
        await reopened.audit.append({ event: 'mint', after: 'backfill' });
        await checkTree(reopened.tlog, await lines());
      } finally {
        await reopened.close();
      }
    } finally {
      await pool.end();
    }
  });
});
