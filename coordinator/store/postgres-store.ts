// The PostgreSQL state store, for coordinator replicas behind a load balancer. One connection pool
// per replica (plus one listener connection for revocations); TLS to the database as the URL says
// (sslmode, sslrootcert, sslcert, sslkey: parsed by pg-connection-string). Migrations run at start.
// A lost database makes each operation fail fast as `store_unavailable` / `audit_unavailable`
// (503 with Retry-After, nothing issued); the pool reconnects by itself once it is back.
import pg from 'pg';
import { ZtmintError } from '../../errors/ztmint-error.js';
import { AuditLog, type AuditRecord } from '../audit.js';
import { PostgresAuditSink } from './postgres-audit-sink.js';
import { migrate } from './postgres-migrations.js';
import { PostgresRateLimiter } from './postgres-rate-limit.js';
import { PostgresRevocations } from './postgres-revocations.js';
import { backfillTlog, PostgresTlog } from './postgres-tlog.js';
import type { OpenStoreOptions } from './open-store.js';
import type { ReplayGuard, StateStore } from './state-store.js';
import { orUnavailable } from './store-unavailable.js';

export interface PostgresStoreOptions extends OpenStoreOptions {
  url: string;
  /** How long start-up waits for the database (it may be starting too). */
  startupWaitMs?: number;
  poolSize?: number;
  /** Revocation resync interval (the backstop for a lost notification). */
  resyncMs?: number;
}

/** Expired replay entries, revocations and idle buckets are deleted this often by each replica. */
const CLEANUP_MS = 60_000;
/** A bucket unused this long has refilled under any sane rule and can go. */
const IDLE_BUCKET_MS = 24 * 3600_000;

/** The URL without its password (and without query parameters that may name key files). */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Connection settings shared by the pool and the listener: bounded waits everywhere. */
function connectionConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: 3_000,
    query_timeout: 10_000,
    statement_timeout: 10_000,
    keepAlive: true,
    application_name: 'ztmint-coordinator',
  };
}

async function waitForDatabase(pool: pg.Pool, waitMs: number, description: string): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new ZtmintError('store_unavailable', `cannot reach the database at ${description}: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A health probe gives up after this long: a readiness check must answer quickly. */
const HEALTH_TIMEOUT_MS = 2_000;

export async function openPostgresStore(opts: PostgresStoreOptions): Promise<StateStore> {
  const now = opts.now ?? (() => Date.now());
  const nowS = () => Math.floor(now() / 1000);
  const log = opts.log ?? (() => undefined);
  const description = describePostgresUrl(opts.url);
  const connection = connectionConfig(opts.url);
  const pool = new pg.Pool({ ...connection, max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  // An idle connection that dies (database restart) is reported here; the pool replaces it.
  pool.on('error', (err) => log('state store connection lost', { code: (err as { code?: unknown }).code }));
  const revocations = new PostgresRevocations(pool, connection, nowS, log, { resyncMs: opts.resyncMs });
  try {
    await waitForDatabase(pool, opts.startupWaitMs ?? 30_000, description);
    await migrate(pool);
    await backfillTlog(pool, log);
    await revocations.start();
  } catch (err) {
    await revocations.close();
    await pool.end().catch(() => undefined);
    throw err;
  }

  const replay: ReplayGuard = {
    async claim(issuer, jti, expiresAtS) {
      const result = await orUnavailable(
        'OIDC replay set',
        () => pool.query('INSERT INTO ztmint_oidc_jti (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [issuer, jti, expiresAtS]),
        log,
      );
      return result.rowCount === 1;
    },
  };

  const cleanup = setInterval(() => {
    const s = nowS();
    void Promise.all([
      pool.query('DELETE FROM ztmint_oidc_jti WHERE expires_at < $1', [s]),
      pool.query('DELETE FROM ztmint_revocations WHERE expires_at < $1', [s]),
      pool.query('DELETE FROM ztmint_revocation_rules WHERE expires_at < $1', [s]),
      pool.query('DELETE FROM ztmint_rate_buckets WHERE at_ms < $1', [now() - IDLE_BUCKET_MS]),
    ]).catch(() => undefined); // the next round tries again
  }, CLEANUP_MS);
  cleanup.unref();

  const audit = new AuditLog(new PostgresAuditSink(pool), undefined, opts.onGroupCommit);
  return {
    description: `PostgreSQL store at ${description}`,
    async health() {
      const store = `PostgreSQL store at ${description}`;
      try {
        await pool.query({ text: 'SELECT 1', query_timeout: HEALTH_TIMEOUT_MS } as pg.QueryConfig);
        return { ok: true, store };
      } catch (err) {
        return { ok: false, store, error: `the database does not answer (${String((err as { code?: unknown }).code ?? (err as Error).name)})` };
      }
    },
    audit,
    tlog: new PostgresTlog(pool),
    revocations,
    rateLimiter: new PostgresRateLimiter(pool, opts.rateLimits, log),
    replay,
    async readAudit(from, limit) {
      const { rows } = await orUnavailable('audit log', () => pool.query<{ record: string }>('SELECT record FROM ztmint_audit WHERE idx >= $1 ORDER BY idx LIMIT $2', [from, limit]), log);
      return rows.map((row) => JSON.parse(row.record) as AuditRecord);
    },
    async close() {
      clearInterval(cleanup);
      await audit.close();
      await revocations.close();
      await pool.end();
    },
  };
}
