// The one way a shared-store failure reaches a client: 503 `store_unavailable` with Retry-After,
// and nothing issued. The cause (a driver error) is kept for logs by code only, never echoed.
import { ProblemError } from '../../protocol/problem.js';

/** Seconds a client should wait: a restarted database or a failed-over replica is back within seconds. */
const STORE_RETRY_AFTER_S = 2;

function storeUnavailable(what: string, cause?: unknown): ProblemError {
  return new ProblemError('store_unavailable', `the shared state store cannot be reached (${what}); nothing was issued, retry shortly`, {
    retryAfter: STORE_RETRY_AFTER_S,
    cause,
  });
}

/** Runs a store operation; any failure of the store becomes `store_unavailable`. */
export async function orUnavailable<T>(what: string, operation: () => Promise<T>, log?: (msg: string, fields?: Record<string, unknown>) => void): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    log?.('state store operation failed', { operation: what, code: (err as { code?: unknown }).code });
    throw storeUnavailable(what, err);
  }
}
