// Client for the coordinator's `POST /v1/mint` (see shared ARCHITECTURE.md).
//
// Secrets: the OIDC token only goes into the Authorization header; the minted
// token is handed to `maskSecret` as soon as the response body is parsed, before
// anything else looks at the body. Neither ever goes into an error message: no
// error here quotes a response body except the `detail`/`reasons` of a
// problem+json error, and those are passed through `redact` by the caller.

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

/** A failed mint. `message` says what happened and what to do about it. */
export class MintError extends Error {
  override name = 'MintError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly problem?: Problem,
  ) {
    super(message);
  }
}

export interface MintOptions {
  fetch: Fetch;
  coordinatorUrl: string;
  oidcToken: string;
  /** The audience that was requested for the OIDC token; only used in error hints. */
  oidcAudience?: string;
  request: MintRequest;
  /** Called with the minted token before the response is inspected any further. */
  maskSecret: (secret: string) => void;
  /** Request timeout in milliseconds (default 60 s). */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/** POSTs to `${coordinatorUrl}/v1/mint` and returns the minted token, or throws MintError. */
export async function mintToken(opts: MintOptions): Promise<MintResult> {
  const url = `${opts.coordinatorUrl}/v1/mint`;
  const body: MintRequest = { scopes: opts.request.scopes };
  if (opts.request.ttl !== undefined) body.ttl = opts.request.ttl;
  if (opts.request.audience !== undefined) body.audience = opts.request.audience;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  let res: Response;
  try {
    res = await opts.fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${opts.oidcToken}`,
        'content-type': 'application/json',
        accept: 'application/json, application/problem+json',
      },
      body: JSON.stringify(body),
      // Never follow a redirect with the OIDC token attached.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new MintError(describeFetchFailure(err, url, timeoutMs));
  }

  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    throw new MintError(
      `coordinator answered ${url} with a redirect (HTTP ${res.status}${location ? ` to ${location}` : ''}); ` +
        'set `coordinator-url` to the final base URL',
      res.status,
    );
  }

  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new MintError(`reading the coordinator's response failed: ${errorMessage(err)}`, res.status);
  }

  if (!res.ok) {
    throw problemError(res, text, opts.oidcAudience);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MintError(
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

/** Validates a 200 body; error messages name fields, never their values. */
export function parseMintResponse(body: unknown): MintResult {
  const bad = (what: string): MintError =>
    new MintError(`coordinator's mint response is malformed: ${what}`);
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

/** Turns a non-2xx response into a MintError whose message says what to do. */
function problemError(res: Response, text: string, oidcAudience: string | undefined): MintError {
  const status = res.status;
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
    return new MintError(
      `coordinator answered HTTP ${status}${res.statusText ? ` ${res.statusText}` : ''} ` +
        `without a problem+json body (content-type ${JSON.stringify(contentType)}); ` +
        'check `coordinator-url` and that the coordinator is up',
      status,
    );
  }
  const code = problem.code ?? codeFromType(problem.type);
  const detail = problem.detail ?? problem.title ?? '';
  const said = detail ? `: ${detail}` : '';
  let message: string;
  switch (code) {
    case 'policy_denied': {
      const reasons = problem.reasons ?? [];
      message =
        `the coordinator's policy denied the mint (policy_denied)${said}` +
        (reasons.length > 0 ? `\nReasons:\n${reasons.map((r) => `  - ${r}`).join('\n')}` : '') +
        '\nRequest only scopes, ttl and audience that the policy grants to this repository, ref, ' +
        'environment and workflow, or ask the policy owners to add a grant.';
      break;
    }
    case 'invalid_token':
      message =
        `the coordinator rejected this job's OIDC token (invalid_token)${said}\n` +
        `Check that \`oidc-audience\`${oidcAudience ? ` (now ${JSON.stringify(oidcAudience)})` : ''} ` +
        "is the audience the coordinator expects, and that the coordinator trusts this workflow's OIDC issuer.";
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
    case 'rate_limited': {
      const retryAfter = res.headers.get('retry-after');
      message =
        `the coordinator is rate limiting mints (rate_limited)${said}\n` +
        `Retry later${retryAfter ? ` (after ${retryAfter} s)` : ''}.`;
      break;
    }
    case 'quorum_unavailable':
      message =
        `not enough signers are reachable to sign the token (quorum_unavailable)${said}\n` +
        'No token was issued. Retry later; if it persists, ask the operators to check the signers.';
      break;
    case 'audit_unavailable':
      message =
        `the coordinator could not write its audit log (audit_unavailable)${said}\n` +
        'No token was issued. Retry later; if it persists, ask the operators to check the audit store.';
      break;
    default:
      message =
        `the coordinator refused the mint with HTTP ${status}` +
        `${code ? ` (${code})` : ''}${problem.title && problem.title !== detail ? `: ${problem.title}` : ''}${said}`;
  }
  return new MintError(message, status, code, problem);
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

function describeFetchFailure(err: unknown, url: string, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
    return `coordinator did not answer ${url} within ${limit}; retry later`;
  }
  // fetch() reports "fetch failed" and puts the reason (ECONNREFUSED, a TLS error...) in `cause`.
  const cause = err instanceof Error && err.cause !== undefined ? errorMessage(err.cause) : '';
  const reason = cause || errorMessage(err);
  let hint = 'check `coordinator-url` and that the coordinator is reachable from the runner';
  if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY/i.test(reason)) {
    hint = "the coordinator's TLS certificate is not trusted: use a publicly trusted certificate, " +
      'or set NODE_EXTRA_CA_CERTS to its CA bundle for this step';
  }
  return `could not reach the coordinator at ${url}: ${reason}; ${hint}`;
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
