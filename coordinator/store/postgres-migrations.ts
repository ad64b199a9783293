// The PostgreSQL store's schema, as numbered migrations applied at start. A version table records
// what was applied; a session advisory lock makes replicas that start together apply each
// migration once, in order; each migration runs in its own transaction with its version row.
import type { Pool } from 'pg';
import { ZtmintError } from '../../errors/ztmint-error.js';
import { withClient } from './postgres-client.js';

/** pg_advisory_lock key for migrations ("ztm" + 1). */
const MIGRATION_LOCK = 0x7a746d01;

interface Migration {
  version: number;
  description: string;
  sql: string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'audit chain, OIDC replay set, revocations, rate-limit buckets',
    sql: `
      -- One hash chain for all replicas: idx and prev are unique, so the chain cannot fork even if
      -- two writers ever raced past the append lock.
      CREATE TABLE ztmint_audit (
        idx bigint PRIMARY KEY CHECK (idx >= 0),
        prev text NOT NULL UNIQUE,
        hash text NOT NULL UNIQUE,
        record text NOT NULL
      );
      -- OIDC tokens already used, until they expire (seconds since the epoch, skew included).
      CREATE TABLE ztmint_oidc_jti (
        issuer text NOT NULL,
        jti text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (issuer, jti)
      );
      CREATE INDEX ztmint_oidc_jti_expires ON ztmint_oidc_jti (expires_at);
      -- Revoked minted tokens, until they expire.
      CREATE TABLE ztmint_revocations (
        jti text PRIMARY KEY,
        expires_at bigint NOT NULL,
        revoked_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ztmint_revocations_expires ON ztmint_revocations (expires_at);
      -- Token buckets of the mint rate limits ("repository:acme/webapp", "sub:repo:…").
      CREATE TABLE ztmint_rate_buckets (
        key text PRIMARY KEY,
        tokens double precision NOT NULL,
        at_ms bigint NOT NULL,
        taken boolean NOT NULL
      );
      CREATE INDEX ztmint_rate_buckets_at ON ztmint_rate_buckets (at_ms);
    `,
  },
  {
    version: 2,
    description: 'revocation rules of the admin API (by repository and issue time)',
    sql: `
      -- "Tokens of repository R (NULL: of every repository) issued before T are inactive", until
      -- no such token can be valid any more (expires_at = T + the longest token lifetime).
      CREATE TABLE ztmint_revocation_rules (
        key text PRIMARY KEY,
        repository text,
        before bigint NOT NULL,
        expires_at bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ztmint_revocation_rules_expires ON ztmint_revocation_rules (expires_at);
    `,
  },
  {
    version: 3,
    description: 'Merkle transparency log: subtree hashes and signed checkpoints',
    sql: `
      -- One row per complete, aligned subtree of the Merkle log over ztmint_audit (leaf idx =
      -- audit idx): level L, index i covers leaves [i * 2^L, (i + 1) * 2^L). Written in the audit
      -- append's transaction; records older than this table are backfilled at start.
      CREATE TABLE ztmint_tlog_hashes (
        level integer NOT NULL CHECK (level >= 0 AND level < 64),
        idx bigint NOT NULL CHECK (idx >= 0),
        hash bytea NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
      );
      -- Checkpoints signed by the signer quorum (C2SP signed notes), one per tree size.
      CREATE TABLE ztmint_tlog_checkpoints (
        size bigint PRIMARY KEY CHECK (size >= 0),
        note text NOT NULL,
        signed_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Applies the migrations this database lacks; refuses a schema newer than this build knows. */
export function migrate(pool: Pool): Promise<{ from: number; to: number }> {
  return withClient(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS ztmint_schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const { rows } = await client.query<{ version: number }>('SELECT coalesce(max(version), 0)::integer AS version FROM ztmint_schema_version');
      const from = rows[0]!.version;
      if (from > SCHEMA_VERSION) {
        throw new ZtmintError('store_schema_newer', `the database schema is at version ${from}, newer than this ztmint knows (${SCHEMA_VERSION}): upgrade ztmint`);
      }
      for (const m of MIGRATIONS.filter((m) => m.version > from)) {
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO ztmint_schema_version (version, description) VALUES ($1, $2)', [m.version, m.description]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
      return { from, to: SCHEMA_VERSION };
    } finally {
      // A dropped session has released the lock already.
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  });
}
