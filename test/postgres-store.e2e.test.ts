// The PostgreSQL state store against a real server: migrations applied once by replicas starting
// together, the replay set, revocations (seen by another replica within a second), shared rate
// limits, one audit chain from concurrent appenders, and recovery after the database restarts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLocalPki } from '../pki/local-pki.js';
import { verifyPostgresAudit } from '../coordinator/store/postgres-audit-sink.js';
import { openPostgresStore } from '../coordinator/store/postgres-store.js';
import type { StateStore } from '../coordinator/store/state-store.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 180_000);
afterAll(() => server?.stop());

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

describe('PostgreSQL state store', () => {
  it('applies its migrations once when replicas start together, and records the version', async () => {
    const url = await server.createDatabase('migrations');
    const stores = await Promise.all(Array.from({ length: 3 }, () => openPostgresStore({ state: '/nonexistent', url })));
    const pool = new pg.Pool({ connectionString: url });
    const { rows } = await pool.query<{ version: number }>('SELECT version FROM ztmint_schema_version ORDER BY version');
    // Each migration once, in order, none missing (1 … the newest).
    expect(rows.map((r) => r.version)).toEqual(rows.map((_, i) => i + 1));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    await pool.end();
    await Promise.all(stores.map((s) => s.close()));
    await (await openPostgresStore({ state: '/nonexistent', url })).close(); // a restart migrates nothing
  });

  it('shares the replay set, revocations and rate limits between replicas', async () => {
    const url = await server.createDatabase('shared');
    const rateLimits = { sub: { perMinute: 60, burst: 3 } };
    const [a, b] = (await Promise.all([1, 2].map(() => openPostgresStore({ state: '/nonexistent', url, rateLimits })))) as [StateStore, StateStore];
    try {
      expect(await a.replay.claim('https://iss', 'jti-1', 2_000_000_000)).toBe(true);
      expect(await b.replay.claim('https://iss', 'jti-1', 2_000_000_000)).toBe(false);
      expect(await b.replay.claim('https://other', 'jti-1', 2_000_000_000)).toBe(true);

      const exp = Math.floor(Date.now() / 1000) + 600;
      expect(b.revocations.has('tok-1')).toBe(false);
      expect(await a.revocations.add('tok-1', exp)).toBe(true);
      expect(await b.revocations.add('tok-1', exp)).toBe(false);
      expect(await a.revocations.add('tok-2', exp)).toBe(true);
      const seenAfter = await until(() => b.revocations.has('tok-2'), 1_000);
      expect(seenAfter).toBeLessThan(1_000);

      const now = Date.now();
      const claims = { sub: 'repo:acme/webapp:ref:refs/heads/main' };
      const decisions = [await a.rateLimiter.check(claims, now), await b.rateLimiter.check(claims, now), await a.rateLimiter.check(claims, now), await b.rateLimiter.check(claims, now)];
      expect(decisions.map((d) => d.retryAfter)).toEqual([0, 0, 0, 1]);
      expect(decisions[3]).toMatchObject({ limit: 'sub' });
      expect((await a.rateLimiter.check(claims, now + 1_000)).retryAfter).toBe(0); // refilled one token
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps one intact chain when replicas append concurrently', async () => {
    const url = await server.createDatabase('chain');
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ state: '/nonexistent', url })));
    const indices = (await Promise.all(stores.flatMap((s, r) => Array.from({ length: 200 }, (_, n) => s.audit.append({ event: 'mint', replica: r, n }))))).sort((x, y) => x - y);
    expect(indices).toEqual(Array.from({ length: 600 }, (_, i) => i));
    const pool = new pg.Pool({ connectionString: url });
    expect((await verifyPostgresAudit(pool, 128)).count).toBe(600);
    await pool.end();
    await Promise.all(stores.map((s) => s.close()));
  });

  it('fails fast as store_unavailable while the database is down, and recovers by itself', async () => {
    const url = await server.createDatabase('outage');
    const store = await openPostgresStore({ state: '/nonexistent', url, resyncMs: 200 });
    const other = await openPostgresStore({ state: '/nonexistent', url });
    try {
      expect(await store.audit.append({ event: 'mint', n: 0 })).toBe(0);
      await server.restart();
      // The restart cut every session: the next operations fail or reconnect, never hang.
      for (let i = 0; ; i++) {
        try {
          await store.replay.claim('https://iss', `after-restart-${i}`, 2_000_000_000);
          break;
        } catch (err) {
          expect(err).toMatchObject({ code: 'store_unavailable', retryAfter: 2 });
          if (i > 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      let appended: number | undefined;
      await until(async () => {
        appended = await store.audit.append({ event: 'mint', n: 1 }).catch(() => undefined);
        return appended !== undefined;
      }, 20_000);
      expect(appended).toBe(1);
      // The listener reconnected: a revocation elsewhere reaches this replica again.
      await Promise.resolve(other.revocations.add('after-restart', Math.floor(Date.now() / 1000) + 600)).catch(async () => {
        await new Promise((r) => setTimeout(r, 1_000));
        await other.revocations.add('after-restart', Math.floor(Date.now() / 1000) + 600);
      });
      await until(() => store.revocations.has('after-restart'), 10_000);
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  }, 120_000);
});

describe('PostgreSQL store over TLS', () => {
  let tlsServer: PostgresServer;
  beforeAll(async () => {
    tlsServer = await startPostgres({ tls: true });
  }, 180_000);
  afterAll(() => tlsServer?.stop());

  it('honours sslmode and sslrootcert in the URL: verified TLS, or no connection at all', async () => {
    const plain = await tlsServer.createDatabase('tls');
    const verified = `${plain}?sslmode=verify-full&sslrootcert=${encodeURIComponent(tlsServer.caFile!)}`;
    const store = await openPostgresStore({ state: '/nonexistent', url: verified });
    try {
      expect(await store.audit.append({ event: 'mint', n: 0 })).toBe(0);
      const client = new pg.Client({ connectionString: verified });
      await client.connect();
      const { rows } = await client.query('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      await client.end();
      expect(rows[0]).toMatchObject({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) });
    } finally {
      await store.close();
    }
    // A CA that did not issue the server's certificate: the store refuses to start.
    const otherCa = join(await mkdtemp(join(tmpdir(), 'ztmint-other-ca-')), 'tls');
    await writeLocalPki(otherCa, [], 1);
    const wrongCa = `${plain}?sslmode=verify-full&sslrootcert=${encodeURIComponent(join(otherCa, 'ca.pem'))}`;
    await expect(openPostgresStore({ state: '/nonexistent', url: wrongCa, startupWaitMs: 0 })).rejects.toMatchObject({ code: 'store_unavailable' });
  }, 120_000);
});
