// The embedded state store: local files in the state directory, for `ztmint dev` and one-process
// setups. The audit log is the one durable record: revocations and the OIDC replay set are rebuilt
// from it at start (every outcome past OIDC verification is audited with the token's iss, jti and
// exp), rate-limit counters live in memory. An exclusive lock keeps a second process out.
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ExpiringSet } from '../../oidc/expiring-set.js';
import { AuditLog, type AuditRecord, type GroupCommitObserver } from '../audit.js';
import { RateLimiter, type RateLimitConfig } from '../rate-limit.js';
import { Revocations } from '../revocations.js';
import { FileAuditSink, readAuditFile } from './file-audit-sink.js';
import { lockStateDirectory } from './state-lock.js';
import type { ReplayGuard, StateStore } from './state-store.js';

/** Kept for a replayed jti whose audit record has no OIDC exp: longer than any token's life. */
const FALLBACK_REPLAY_S = 3600;
/** Added to a token's exp when rebuilt: more than any clock tolerance the verifier allows. */
const REBUILD_SKEW_S = 300;

class EmbeddedReplayGuard implements ReplayGuard {
  private readonly seen = new ExpiringSet();

  constructor(private readonly nowS: () => number) {}

  async claim(issuer: string, jti: string, expiresAtS: number): Promise<boolean> {
    return this.seen.add(`${issuer} ${jti}`, expiresAtS, this.nowS());
  }

  /** Audit-log visitor: every audited outcome after OIDC verification used up its token. */
  readonly replay = (record: AuditRecord): void => {
    const oidc = record.oidc as { iss?: unknown; jti?: unknown; exp?: unknown } | undefined;
    if (typeof oidc?.iss !== 'string' || typeof oidc.jti !== 'string') return;
    const exp = typeof oidc.exp === 'number' ? oidc.exp + REBUILD_SKEW_S : Math.floor(Date.parse(record.time) / 1000) + FALLBACK_REPLAY_S;
    this.seen.add(`${oidc.iss} ${oidc.jti}`, exp, this.nowS());
  };
}

export async function openEmbeddedStore(opts: { state: string; rateLimits?: RateLimitConfig; now?: () => number; onGroupCommit?: GroupCommitObserver }): Promise<StateStore> {
  const now = opts.now ?? (() => Date.now());
  const nowS = () => Math.floor(now() / 1000);
  const lock = lockStateDirectory(opts.state);
  try {
    const revocations = new Revocations(nowS);
    const replay = new EmbeddedReplayGuard(nowS);
    const sink = await FileAuditSink.open(join(opts.state, 'audit'), (record) => {
      revocations.replay(record);
      replay.replay(record);
    });
    const audit = new AuditLog(sink, undefined, opts.onGroupCommit);
    const description = `file store in ${opts.state}`;
    return {
      description,
      async health() {
        try {
          await access(join(opts.state, 'audit'), fsConstants.W_OK);
          return { ok: true, store: description };
        } catch (err) {
          return { ok: false, store: description, error: `the audit folder is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
        }
      },
      audit,
      tlog: sink.tlog,
      revocations,
      rateLimiter: new RateLimiter(opts.rateLimits),
      replay,
      readAudit: (from, limit) => readAuditFile(join(opts.state, 'audit'), from, limit),
      async close() {
        try {
          await audit.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
