// Client for the coordinator's `POST /v1/mint` and `POST /v1/revoke` (docs/architecture.md).
// One call = one HTTP attempt; retries are the caller's business (retry.ts), guided by
// `CoordinatorError.retryable` and `.retryAfterMs`.
//
// The coordinator is not trusted with anything the Action prints, saves or keeps in memory:
// bodies are read with a size limit (response-body.ts), a mint response is validated strictly
// before use (mint-response.ts), and error messages quote the coordinator only through
// `untrusted()` (problem-message.ts). Secrets: the OIDC token and the minted token only ever go
// into an Authorization header; a minted token of the right shape is handed to `maskSecret` as
// soon as the body is parsed, before anything else looks at the body.

import { CoordinatorError } from './coordinator-error.js';
import { untrusted } from './log-text.js';
import { parseMintResponse, type MintResult } from './mint-response.js';
import { problemError } from './problem-message.js';
import { MINT_BODY_LIMIT, readBoundedBody, SMALL_BODY_LIMIT, utf8Text } from './response-body.js';
import { isCompactJws } from './untrusted-values.js';

export { CoordinatorError } from './coordinator-error.js';
export type { MintResult } from './mint-response.js';

export type Fetch = typeof globalThis.fetch;

export interface MintRequest {
  scopes: string[];
  ttl?: number;
  audience?: string;
}

export interface CallOptions {
  fetch: Fetch;
  /** Whether a client certificate is configured; only used in error hints. */
  clientCert?: boolean;
  coordinatorUrl: string;
  /** Timeout of this attempt in milliseconds (the body included). */
  timeoutMs: number;
  now?: () => number;
}

export interface MintOptions extends CallOptions {
  oidcToken: string;
  /** The audience that was requested for the OIDC token; only used in error hints. */
  oidcAudience?: string;
  /** The OIDC token's issuer (`iss`); only used in error hints. */
  oidcIssuer?: string;
  request: MintRequest;
  /** Called with the minted token before the response is inspected any further. */
  maskSecret: (secret: string) => void;
}

export interface RevokeOptions extends CallOptions {
  token: string;
}

const ACCEPT = 'application/json, application/problem+json';

/** POSTs to `${coordinatorUrl}/v1/mint` once and returns the minted token, or throws CoordinatorError. */
export async function mintToken(opts: MintOptions): Promise<MintResult> {
  const url = `${opts.coordinatorUrl}/v1/mint`;
  const body: MintRequest = { scopes: opts.request.scopes };
  if (opts.request.ttl !== undefined) body.ttl = opts.request.ttl;
  if (opts.request.audience !== undefined) body.audience = opts.request.audience;
  const now = opts.now ?? Date.now;

  const { res, abort } = await send(opts, url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${opts.oidcToken}`,
      'content-type': 'application/json',
      accept: ACCEPT,
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const read = await readBoundedBody(res, SMALL_BODY_LIMIT, abort);
    throw problemError('mint', { status: res.status, statusText: res.statusText, headers: res.headers, body: read.bytes }, { ...opts, now: now() });
  }
  const read = await readBoundedBody(res, MINT_BODY_LIMIT, abort);
  if (read.tooLarge) {
    throw new CoordinatorError(
      'response_too_large',
      `coordinator answered HTTP ${res.status} with a body larger than ${MINT_BODY_LIMIT / 1024} KiB; ` + 'the Action stopped reading it. Is `coordinator-url` right?',
      { status: res.status },
    );
  }
  const text = utf8Text(read.bytes);
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) {
    throw new CoordinatorError(
      'malformed_response',
      `coordinator answered HTTP ${res.status} with a body that is not JSON ` + `(content-type "${untrusted(res.headers.get('content-type') ?? '')}"); is \`coordinator-url\` right?`,
      { status: res.status },
    );
  }
  // Mask first, validate after: nothing else may see the token unmasked. Only a value of the
  // token's shape is masked (a one-character "token" would mask that character everywhere);
  // any other value is refused below without ever being shown.
  const token = isRecord(parsed) ? parsed.token : undefined;
  if (isCompactJws(token)) opts.maskSecret(token);
  return parseMintResponse(parsed, now());
}

/** POSTs to `${coordinatorUrl}/v1/revoke` once with the minted token as bearer; 2xx = revoked. */
export async function revokeToken(opts: RevokeOptions): Promise<void> {
  const url = `${opts.coordinatorUrl}/v1/revoke`;
  const now = opts.now ?? Date.now;
  const { res, abort } = await send(opts, url, {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.token}`, accept: ACCEPT },
  });
  const read = await readBoundedBody(res, SMALL_BODY_LIMIT, abort);
  if (!res.ok) {
    throw problemError('revoke', { status: res.status, statusText: res.statusText, headers: res.headers, body: read.bytes }, { ...opts, now: now() });
  }
}

/** One request with the attempt's timeout (covering the body too) and a way to tear it down. */
async function send(opts: CallOptions, url: string, init: RequestInit): Promise<{ res: Response; abort: () => void }> {
  const controller = new AbortController();
  const abort = (): void => controller.abort(new Error('response body too large'));
  let res: Response;
  try {
    res = await opts.fetch(url, {
      ...init,
      // Never follow a redirect with a token attached.
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(Math.max(1, opts.timeoutMs)), controller.signal]),
    });
  } catch (err) {
    const { message, retryable, timedOut } = describeFetchFailure(err, url, opts.timeoutMs, { clientCert: opts.clientCert === true });
    throw new CoordinatorError(timedOut ? 'coordinator_timeout' : 'coordinator_unreachable', message, { retryable, cause: err });
  }
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    abort();
    await res.body?.cancel().catch(() => undefined);
    throw new CoordinatorError(
      'coordinator_redirect',
      `coordinator answered ${url} with a redirect (HTTP ${res.status}${location ? ` to ${untrusted(location)}` : ''}); ` + 'set `coordinator-url` to the final base URL',
      { status: res.status },
    );
  }
  return { res, abort };
}

/** Explains a failed fetch() and says whether another attempt might help. */
export function describeFetchFailure(err: unknown, url: string, timeoutMs: number, context: { clientCert?: boolean } = {}): { message: string; retryable: boolean; timedOut: boolean } {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
    return { message: `coordinator did not answer ${url} within ${limit}; retry later`, retryable: true, timedOut: true };
  }
  // fetch() reports "fetch failed" and puts the reason (ECONNREFUSED, a TLS error, a proxy's
  // refusal...) in `cause`, sometimes a few levels deep.
  const chain: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const text = errorMessage(e).replace(/\.$/, '');
    if (text !== 'fetch failed' && !chain.includes(text)) chain.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  // The chain can hold text chosen by the server (the names in its certificate, a proxy's answer).
  const reason = untrusted(chain.join(': ') || 'fetch failed');
  let hint = 'check `coordinator-url` and that the coordinator is reachable from the runner';
  let retryable = true;
  if (/certificate required|alert number 116/i.test(reason)) {
    hint = 'the coordinator requires a client certificate (mTLS): set the `client-cert` and `client-key` inputs';
    retryable = false;
  } else if (/bad certificate|alert number 42|unknown ca|alert number 48/i.test(reason)) {
    hint = "the coordinator did not accept the client certificate: check `client-cert` / `client-key` with the coordinator's operators";
    retryable = false;
  } else if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY|unable to get (local )?issuer/i.test(reason)) {
    hint = "the coordinator's TLS certificate is not trusted: set the `ca-cert` input to the PEM of the CA " + 'that issued it (or use a publicly trusted certificate)';
    retryable = false;
  } else if (/proxy/i.test(reason)) {
    hint = 'the HTTP(S) proxy refused the connection: check HTTPS_PROXY / HTTP_PROXY / NO_PROXY for this step';
  } else if (url.startsWith('https:') && !context.clientCert && /other side closed|ECONNRESET|socket hang up/i.test(reason)) {
    // With TLS 1.3 a server that demands a client certificate just closes the connection.
    hint = 'the coordinator closed the connection; if it requires client certificates (mTLS), set the ' + '`client-cert` and `client-key` inputs, otherwise check `coordinator-url` and retry later';
  }
  return { message: `could not reach the coordinator at ${url}: ${reason}; ${hint}`, retryable, timedOut: false };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
