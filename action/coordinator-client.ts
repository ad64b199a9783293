// Client for the coordinator's `POST /v1/mint` and `POST /v1/revoke` (see docs/architecture.md).
// One call = one HTTP attempt; retries are the caller's business (retry.ts), guided by
// `CoordinatorError.retryable` and `.retryAfterMs`.
//
// Secrets: the OIDC token and the minted token only ever go into an Authorization header;
// the minted token is handed to `maskSecret` as soon as the response body is parsed, before
// anything else looks at the body. No error here quotes a response body except the
// `detail`/`reasons` of a problem+json error, and the caller redacts those too.

import { parseRetryAfter } from './retry.js';

export type Fetch = typeof globalThis.fetch;

export interface MintRequest {
  scopes: string[];
  ttl?: number;
  audience?: string;
}

/** A successful mint, in the coordinator's field names' camelCase. */
export interface MintResult {
  token: string;
  tokenType: string;
  /** RFC 3339 timestamp, as sent by the coordinator. */
  expiresAt: string;
  expiresIn: number;
  jti: string;
  scopes: string[];
  audience?: string;
  auditIndex: number;
}

/** RFC 9457 problem details as the coordinator sends them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  reasons?: string[];
}

/** Statuses worth another attempt (with a fresh OIDC token for a mint). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** A failed call. `message` says what happened and what to do about it. */
export class CoordinatorError extends Error {
  override name = 'CoordinatorError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly problem?: Problem,
    /** Network errors and 429/502/503/504: another attempt may succeed. */
    readonly retryable = false,
    /** The server's Retry-After, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface CallOptions {
  fetch: Fetch;
  /** Whether a client certificate is configured; only used in error hints. */
  clientCert?: boolean;
  coordinatorUrl: string;
  /** Timeout of this attempt in milliseconds. */
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

  const res = await send(opts, url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${opts.oidcToken}`,
      'content-type': 'application/json',
      accept: ACCEPT,
    },
    body: JSON.stringify(body),
  });
  const text = await readBody(res);
  if (!res.ok) throw problemError('mint', res, text, opts);

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CoordinatorError(
      `coordinator answered HTTP ${res.status} with a body that is not JSON ` +
        `(content-type ${JSON.stringify(res.headers.get('content-type') ?? '')}); is \`coordinator-url\` right?`,
      res.status,
    );
  }
  // Mask first, validate after: nothing else may see the token unmasked.
  if (isRecord(parsed) && typeof parsed.token === 'string' && parsed.token !== '') {
    opts.maskSecret(parsed.token);
  }
  return parseMintResponse(parsed);
}

/** POSTs to `${coordinatorUrl}/v1/revoke` once with the minted token as bearer; 2xx = revoked. */
export async function revokeToken(opts: RevokeOptions): Promise<void> {
  const url = `${opts.coordinatorUrl}/v1/revoke`;
  const res = await send(opts, url, {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.token}`, accept: ACCEPT },
  });
  const text = await readBody(res);
  if (!res.ok) throw problemError('revoke', res, text, opts);
}

async function send(opts: CallOptions, url: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await opts.fetch(url, {
      ...init,
      // Never follow a redirect with a token attached.
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, opts.timeoutMs)),
    });
  } catch (err) {
    const { message, retryable } = describeFetchFailure(err, url, opts.timeoutMs, { clientCert: opts.clientCert === true });
    throw new CoordinatorError(message, undefined, undefined, undefined, retryable);
  }
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    await res.body?.cancel().catch(() => undefined);
    throw new CoordinatorError(
      `coordinator answered ${url} with a redirect (HTTP ${res.status}${location ? ` to ${location}` : ''}); ` +
        'set `coordinator-url` to the final base URL',
      res.status,
    );
  }
  return res;
}

async function readBody(res: Response): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    throw new CoordinatorError(
      `reading the coordinator's response failed: ${errorMessage(err)}`,
      res.status,
      undefined,
      undefined,
      true,
    );
  }
}

/** Validates a 200 body; error messages name fields, never their values. */
export function parseMintResponse(body: unknown): MintResult {
  const bad = (what: string): CoordinatorError =>
    new CoordinatorError(`coordinator's mint response is malformed: ${what}`);
  if (!isRecord(body)) throw bad('not a JSON object');
  const { token, token_type, expires_at, expires_in, jti, scopes, audience, audit } = body;
  if (typeof token !== 'string' || token === '') throw bad('`token` missing');
  if (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer') {
    throw bad('`token_type` is not "Bearer"');
  }
  if (typeof expires_at !== 'string' || Number.isNaN(Date.parse(expires_at))) {
    throw bad('`expires_at` is not an RFC 3339 timestamp');
  }
  if (typeof expires_in !== 'number' || !Number.isFinite(expires_in)) throw bad('`expires_in` is not a number');
  if (typeof jti !== 'string' || jti === '') throw bad('`jti` missing');
  if (!Array.isArray(scopes) || !scopes.every((s): s is string => typeof s === 'string')) {
    throw bad('`scopes` is not an array of strings');
  }
  if (audience !== undefined && audience !== null && typeof audience !== 'string') {
    throw bad('`audience` is not a string');
  }
  if (!isRecord(audit) || typeof audit.index !== 'number' || !Number.isInteger(audit.index)) {
    throw bad('`audit.index` is not an integer');
  }
  const result: MintResult = {
    token,
    tokenType: token_type,
    expiresAt: expires_at,
    expiresIn: expires_in,
    jti,
    scopes,
    auditIndex: audit.index,
  };
  if (typeof audience === 'string') result.audience = audience;
  return result;
}

/** Turns a non-2xx response into a CoordinatorError whose message says what to do. */
function problemError(
  call: 'mint' | 'revoke',
  res: Response,
  text: string,
  opts: CallOptions & { oidcAudience?: string; oidcIssuer?: string },
): CoordinatorError {
  const status = res.status;
  const retryable = RETRYABLE_STATUSES.has(status);
  const retryAfterMs = retryable ? parseRetryAfter(res.headers.get('retry-after'), (opts.now ?? Date.now)()) : undefined;
  const make = (message: string, code?: string, problem?: Problem) =>
    new CoordinatorError(message, status, code, problem, retryable, retryAfterMs);

  const contentType = (res.headers.get('content-type') ?? '').toLowerCase();
  let problem: Problem | undefined;
  if (contentType.includes('json')) {
    try {
      problem = toProblem(JSON.parse(text));
    } catch {
      problem = undefined;
    }
  }
  if (problem === undefined) {
    // Not our coordinator's error format (a proxy, a wrong URL...): do not quote the body.
    const hint =
      status === 404 && call === 'revoke'
        ? 'the coordinator has no revocation endpoint (POST /v1/revoke); upgrade it, or set `revoke: false`'
        : status === 407
          ? 'a proxy asks for authentication: put its credentials in HTTPS_PROXY (http://user:password@host:port)'
          : 'check `coordinator-url` and that the coordinator is up';
    return make(
      `coordinator answered HTTP ${status}${res.statusText ? ` ${res.statusText}` : ''} ` +
        `without a problem+json body (content-type ${JSON.stringify(contentType)}); ${hint}`,
    );
  }
  const code = problem.code ?? codeFromType(problem.type);
  const detail = problem.detail ?? problem.title ?? '';
  const said = detail ? `: ${detail}` : '';
  const retryAfter = res.headers.get('retry-after');
  const later =
    `Retry later${retryAfter ? ` (the coordinator asks for ${retryAfter} s)` : ''}: re-run the job, ` +
    'or raise the `retries` / `timeout-seconds` inputs';
  let message: string;

  if (call === 'revoke') {
    switch (code) {
      case 'invalid_token':
        message =
          `the coordinator does not accept the token for revocation (invalid_token)${said}\n` +
          'It has most likely expired already, which makes it unusable anyway.';
        break;
      default:
        message =
          `the coordinator refused to revoke the token with HTTP ${status}${code ? ` (${code})` : ''}${said}` +
          (retryable ? `\n${later}.` : '');
    }
    return make(message, code, problem);
  }

  switch (code) {
    case 'policy_denied': {
      const reasons = problem.reasons ?? [];
      message =
        `the coordinator's policy denied the mint (policy_denied)${said}` +
        (reasons.length > 0 ? `\nReasons:\n${reasons.map((r) => `  - ${r}`).join('\n')}` : '') +
        '\nRequest only scopes, ttl and audience that the policy grants to this repository, ref, ' +
        'environment and workflow (the OIDC claims are in the "OIDC token claims" log group above), ' +
        'or ask the policy owners to add a grant.';
      break;
    }
    case 'invalid_token':
      if (/"aud"|audience/i.test(detail)) {
        message =
          `the coordinator does not accept the audience of this job's OIDC token (invalid_token)${said}\n` +
          `The action asked GitHub for an OIDC token with audience ${JSON.stringify(opts.oidcAudience ?? '')} ` +
          '(input `oidc-audience`, default: `coordinator-url`). Set `oidc-audience` to the audience the ' +
          'coordinator is configured to expect (its --oidc-audience).';
      } else if (/"iss"|issuer/i.test(detail)) {
        message =
          `the coordinator does not accept the issuer of this job's OIDC token (invalid_token)${said}\n` +
          `The token's issuer is ${JSON.stringify(opts.oidcIssuer ?? '')}; the coordinator must be configured ` +
          'with that issuer (on GitHub Enterprise Server it is https://<host>/_services/token).';
      } else {
        message =
          `the coordinator rejected this job's OIDC token (invalid_token)${said}\n` +
          `Check that \`oidc-audience\`${opts.oidcAudience ? ` (now ${JSON.stringify(opts.oidcAudience)})` : ''} ` +
          "is the audience the coordinator expects, and that the coordinator trusts this workflow's OIDC issuer" +
          `${opts.oidcIssuer ? ` (${opts.oidcIssuer})` : ''}.`;
      }
      break;
    case 'invalid_request':
      message =
        `the coordinator rejected the request (invalid_request)${said}\n` +
        'Check the `scopes`, `ttl` and `audience` inputs.';
      break;
    case 'token_replayed':
      message =
        `the coordinator has already seen this OIDC token (token_replayed)${said}\n` +
        'Each OIDC token can be used once; re-run the job to get a fresh one.';
      break;
    case 'rate_limited':
      message = `the coordinator is rate limiting mints (rate_limited)${said}\n${later}.`;
      break;
    case 'quorum_unavailable':
      message =
        `not enough signers are reachable to sign the token (quorum_unavailable)${said}\n` +
        `No token was issued. ${later}; if it persists, ask the coordinator's operators to check the signers.`;
      break;
    case 'audit_unavailable':
      message =
        `the coordinator could not write its audit log (audit_unavailable)${said}\n` +
        `No token was issued. ${later}; if it persists, ask the coordinator's operators to check the audit store.`;
      break;
    default:
      message =
        `the coordinator refused the mint with HTTP ${status}` +
        `${code ? ` (${code})` : ''}${problem.title && problem.title !== detail ? `: ${problem.title}` : ''}${said}` +
        (retryable ? `\n${later}.` : '');
  }
  return make(message, code, problem);
}

function toProblem(value: unknown): Problem | undefined {
  if (!isRecord(value)) return undefined;
  const p: Problem = {};
  if (typeof value.type === 'string') p.type = value.type;
  if (typeof value.title === 'string') p.title = value.title;
  if (typeof value.status === 'number') p.status = value.status;
  if (typeof value.detail === 'string') p.detail = value.detail;
  if (typeof value.code === 'string') p.code = value.code;
  if (Array.isArray(value.reasons)) p.reasons = value.reasons.filter((r): r is string => typeof r === 'string');
  if (p.code === undefined && p.type === undefined && p.title === undefined && p.detail === undefined) {
    return undefined;
  }
  return p;
}

function codeFromType(type: string | undefined): string | undefined {
  const prefix = 'urn:ztmint:error:';
  return type?.startsWith(prefix) ? type.slice(prefix.length) : undefined;
}

/** Explains a failed fetch() and says whether another attempt might help. */
export function describeFetchFailure(
  err: unknown,
  url: string,
  timeoutMs: number,
  context: { clientCert?: boolean } = {},
): { message: string; retryable: boolean } {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
    return { message: `coordinator did not answer ${url} within ${limit}; retry later`, retryable: true };
  }
  // fetch() reports "fetch failed" and puts the reason (ECONNREFUSED, a TLS error, a proxy's
  // refusal...) in `cause`, sometimes a few levels deep.
  const chain: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const text = errorMessage(e).replace(/\.$/, '');
    if (text !== 'fetch failed' && !chain.includes(text)) chain.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  const reason = chain.join(': ') || 'fetch failed';
  let hint = 'check `coordinator-url` and that the coordinator is reachable from the runner';
  let retryable = true;
  if (/certificate required|alert number 116/i.test(reason)) {
    hint = 'the coordinator requires a client certificate (mTLS): set the `client-cert` and `client-key` inputs';
    retryable = false;
  } else if (/bad certificate|alert number 42|unknown ca|alert number 48/i.test(reason)) {
    hint = "the coordinator did not accept the client certificate: check `client-cert` / `client-key` with the coordinator's operators";
    retryable = false;
  } else if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY|unable to get (local )?issuer/i.test(reason)) {
    hint =
      "the coordinator's TLS certificate is not trusted: set the `ca-cert` input to the PEM of the CA " +
      'that issued it (or use a publicly trusted certificate)';
    retryable = false;
  } else if (/proxy/i.test(reason)) {
    hint = 'the HTTP(S) proxy refused the connection: check HTTPS_PROXY / HTTP_PROXY / NO_PROXY for this step';
  } else if (url.startsWith('https:') && !context.clientCert && /other side closed|ECONNRESET|socket hang up/i.test(reason)) {
    // With TLS 1.3 a server that demands a client certificate just closes the connection.
    hint =
      'the coordinator closed the connection; if it requires client certificates (mTLS), set the ' +
      '`client-cert` and `client-key` inputs, otherwise check `coordinator-url` and retry later';
  }
  return { message: `could not reach the coordinator at ${url}: ${reason}; ${hint}`, retryable };
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
