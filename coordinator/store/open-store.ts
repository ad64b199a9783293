// Picks the state store from `--store`: the embedded file store by default, PostgreSQL for a
// postgres:// URL (loaded only then, so one-process setups never load the database client).
import { ZtmintError } from '../../errors/ztmint-error.js';
import type { GroupCommitObserver } from '../audit.js';
import type { RateLimitConfig } from '../rate-limit.js';
import { openEmbeddedStore } from './embedded-store.js';
import type { StateStore } from './state-store.js';

export interface OpenStoreOptions {
  /** The state directory (the embedded store's files live here). */
  state: string;
  /** Absent or "file": embedded; postgres://… or postgresql://…: PostgreSQL. */
  store?: string;
  rateLimits?: RateLimitConfig;
  now?: () => number;
  /** Warnings about the store (lost connection, resync), without secrets. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Told after each audit group commit (metrics). */
  onGroupCommit?: GroupCommitObserver;
}

export function isPostgresUrl(store: string | undefined): store is string {
  return !!store && /^postgres(ql)?:\/\//i.test(store);
}

export async function openStateStore(opts: OpenStoreOptions): Promise<StateStore> {
  if (!opts.store || opts.store === 'file') return openEmbeddedStore(opts);
  if (isPostgresUrl(opts.store)) {
    const { openPostgresStore } = await import('./postgres-store.js');
    return openPostgresStore({ ...opts, url: opts.store });
  }
  throw new ZtmintError('invalid_store', 'the store must be "file" or a postgres://… URL');
}
