// Bounded reads of the coordinator's response bodies. The limit is enforced while the body
// streams in (a Content-Length above it is refused before reading), and on excess the
// connection is aborted: whatever the server sends, an oversized or endless body costs at most
// `limit` bytes of memory, and the step ends instead of waiting for the end of the body.
import { CoordinatorError } from './coordinator-error.js';
import { untrusted } from './log-text.js';

/** Limit for a mint response (a token of at most 16 KiB and a few small fields). */
export const MINT_BODY_LIMIT = 64 * 1024;
/** Limit for a revoke response and for problem details. */
export const SMALL_BODY_LIMIT = 16 * 1024;

/** The body, or `tooLarge` when it exceeded `limit` (the connection is aborted then). */
export type BodyRead = { bytes: Buffer; tooLarge: false } | { bytes: undefined; tooLarge: true };

/**
 * Reads at most `limit` bytes of `res`'s body; `abort` must tear the connection down (the
 * AbortController of the request). Throws CoordinatorError on a network failure or timeout.
 */
export async function readBoundedBody(res: Response, limit: number, abort: () => void): Promise<BodyRead> {
  const declared = Number(res.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > limit) {
    abort();
    await res.body?.cancel().catch(() => undefined);
    return { bytes: undefined, tooLarge: true };
  }
  if (res.body === null) return { bytes: Buffer.alloc(0), tooLarge: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        abort();
        await reader.cancel().catch(() => undefined);
        return { bytes: undefined, tooLarge: true };
      }
      chunks.push(value);
    }
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new CoordinatorError(
      timedOut ? 'coordinator_timeout' : 'coordinator_unreachable',
      timedOut ? 'the coordinator did not finish its answer in time; retry later' : `reading the coordinator's response failed: ${untrusted(err instanceof Error ? err.message : String(err))}`,
      { status: res.status, retryable: true, cause: err },
    );
  }
  return { bytes: Buffer.concat(chunks), tooLarge: false };
}

/** The bytes as UTF-8 text, or undefined if they are not valid UTF-8. */
export function utf8Text(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
