// For services that receive ztmint tokens: verify the bearer token of an HTTP request exactly as
// docs/verifying.md says (keys from the issuer's discovery document via jose's createRemoteJWKSet,
// EdDSA only, typ JWT, kid, iss, aud, exp/nbf/iat with a small leeway, required claims, scopes),
// and answer as RFC 6750 says when it fails: 401 with WWW-Authenticate for a missing or bad token,
// 403 insufficient_scope, 400 for a malformed Authorization header, 503 when the issuer's keys
// cannot be fetched. Optionally, RFC 7662 introspection for revocation on high-value routes.
// One framework-neutral core, `(req) => claims`, and thin adapters for Express/Connect and
// Fastify. Exported by the package as `ztmint/middleware`.
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type {} from 'fastify';
import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { ZtmintError } from '../errors/ztmint-error.js';
import { PROBLEM_CONTENT_TYPE, problem } from '../protocol/problem.js';

export interface RequireZtmintTokenOptions {
  /** The coordinator's issuer URL (the tokens' `iss`); keys come from its discovery document. */
  issuer: string;
  /** This service's audience: the token's `aud` must be exactly this. */
  audience: string;
  /** Every one of these must be in the token's `scope`. */
  requireScopes?: string[];
  /** Leeway for exp, nbf and iat, in seconds (default 30; keep it small). */
  clockToleranceS?: number;
  /** Keys to use instead of discovery (pinned keys, tests): a jose key getter or a public key. */
  keys?: JWTVerifyGetKey | KeyObject | CryptoKey;
  /** Timeout of the discovery and JWKS fetches, in ms (default 5000). */
  fetchTimeoutMs?: number;
  /** `realm` of the WWW-Authenticate challenge (default "ztmint"). */
  realm?: string;
  /**
   * Also ask the issuer (RFC 7662 introspection, after all local checks) whether the token is
   * still active, i.e. not revoked: for high-value routes. The endpoint defaults to discovery's
   * `introspection_endpoint`; `headers` carry the client authentication the coordinator requires.
   * Unreachable → 503 (fail closed); inactive → 401.
   */
  introspect?: boolean | { endpoint?: string; headers?: Record<string, string> };
}

/** The verified claims, with `scope` split into `scopes`. */
export interface ZtmintClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  scope: string;
  pol: string;
  scopes: string[];
  repository?: string;
  ref?: string;
  environment?: string;
}

export type ZtmintAuthCode = 'missing_token' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'issuer_unavailable';

const STATUS: Record<ZtmintAuthCode, number> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  issuer_unavailable: 503,
};
const PROBLEM = {
  missing_token: 'invalid_token',
  invalid_request: 'invalid_request',
  invalid_token: 'invalid_token',
  insufficient_scope: 'forbidden',
  issuer_unavailable: 'issuer_unavailable',
} as const;

/** Why a request was refused: the status, the headers (WWW-Authenticate) and a problem+json body. */
export class ZtmintAuthError extends ZtmintError<ZtmintAuthCode> {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: ZtmintAuthCode, message: string, opts: { realm: string; scopes?: string[]; cause?: unknown }) {
    super(code, message, { cause: opts.cause });
    this.status = STATUS[code];
    const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
    const params = [`realm=${quote(opts.realm)}`];
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    if (code === 'invalid_request' || code === 'invalid_token' || code === 'insufficient_scope') {
      params.push(`error=${quote(code)}`, `error_description=${quote(message)}`);
    }
    if (code === 'insufficient_scope' && opts.scopes?.length) params.push(`scope=${quote(opts.scopes.join(' '))}`);
    this.headers = code === 'issuer_unavailable' ? { 'retry-after': '5' } : { 'www-authenticate': `Bearer ${params.join(', ')}` };
  }

  /** The problem+json document (RFC 9457) to send. */
  get body() {
    return problem(PROBLEM[this.code], this.message);
  }
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'scope', 'pol'];
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

interface Discovery {
  jwks_uri: string;
  introspection_endpoint?: string;
}

/** The issuer's discovery document, fetched once (again after a failure); its `issuer` must match. */
function discovery(issuer: string, timeoutMs: number): () => Promise<Discovery> {
  let doc: Promise<Discovery> | undefined;
  const load = async (): Promise<Discovery> => {
    const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const found = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown; introspection_endpoint?: unknown };
    if (found.issuer !== issuer) throw new Error('the discovery document names another issuer');
    if (typeof found.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
    return {
      jwks_uri: found.jwks_uri,
      ...(typeof found.introspection_endpoint === 'string' ? { introspection_endpoint: found.introspection_endpoint } : {}),
    };
  };
  return () =>
    (doc ??= load().catch((err: unknown) => {
      doc = undefined; // try again on the next request
      throw err;
    }));
}

/** The issuer's keys, from the JWKS that its discovery document names. */
function discoveredKeys(getDiscovery: () => Promise<Discovery>, timeoutMs: number): JWTVerifyGetKey {
  let jwks: { uri: string; get: JWTVerifyGetKey } | undefined;
  return async (header, token) => {
    const { jwks_uri: uri } = await getDiscovery();
    if (jwks?.uri !== uri) jwks = { uri, get: createRemoteJWKSet(new URL(uri), { timeoutDuration: timeoutMs }) };
    return jwks.get(header, token);
  };
}

/** RFC 7662: is the token still active at the issuer? Throws when the issuer cannot answer. */
async function isActive(endpoint: string, token: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`introspection answered ${res.status}`);
  return ((await res.json()) as { active?: unknown }).active === true;
}

export interface ZtmintTokenVerifier {
  /** Verifies a token; throws ZtmintAuthError. */
  verifyToken(token: string): Promise<ZtmintClaims>;
  /** Verifies the request's `Authorization: Bearer` token; throws ZtmintAuthError. */
  authenticate(req: { headers: IncomingHttpHeaders }): Promise<ZtmintClaims>;
}

export function createZtmintTokenVerifier(opts: RequireZtmintTokenOptions): ZtmintTokenVerifier {
  const realm = opts.realm ?? 'ztmint';
  const required = opts.requireScopes ?? [];
  const timeoutMs = opts.fetchTimeoutMs ?? 5_000;
  const getDiscovery = discovery(opts.issuer, timeoutMs);
  const keys = opts.keys ?? discoveredKeys(getDiscovery, timeoutMs);
  const introspection = opts.introspect ? (opts.introspect === true ? {} : opts.introspect) : undefined;
  const fail = (code: ZtmintAuthCode, message: string, cause?: unknown) => new ZtmintAuthError(code, message, { realm, scopes: required, cause });

  const verifyToken = async (token: string): Promise<ZtmintClaims> => {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch (err) {
      throw fail('invalid_token', 'the token is not a JWS', err);
    }
    if (header.alg !== 'EdDSA') throw fail('invalid_token', 'the token is not signed with EdDSA');
    if (typeof header.kid !== 'string' || header.kid === '') throw fail('invalid_token', 'the token header has no kid');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys as JWTVerifyGetKey, {
        algorithms: ['EdDSA'],
        typ: 'JWT',
        issuer: opts.issuer,
        audience: opts.audience,
        clockTolerance: opts.clockToleranceS ?? 30,
        requiredClaims: REQUIRED_CLAIMS,
      }));
    } catch (err) {
      // Could not get the keys: not the token's fault, so not a 401.
      if (!(err instanceof joseErrors.JOSEError) || err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
        throw fail('issuer_unavailable', "the issuer's keys cannot be fetched", err);
      }
      const reason =
        err instanceof joseErrors.JWTExpired
          ? 'the token has expired'
          : err instanceof joseErrors.JWTClaimValidationFailed
            ? `claim ${err.claim} is not acceptable`
            : err instanceof joseErrors.JWKSNoMatchingKey
              ? "no key of the issuer has the token's kid"
              : 'the token does not verify';
      throw fail('invalid_token', reason, err);
    }
    for (const name of ['sub', 'jti', 'scope', 'pol']) {
      if (typeof payload[name] !== 'string') throw fail('invalid_token', `claim ${name} is not a string`);
    }
    const scopes = (payload.scope as string).split(' ').filter(Boolean);
    const missing = required.filter((s) => !scopes.includes(s));
    if (missing.length) throw fail('insufficient_scope', `the token lacks scope ${missing.join(' ')}`);
    if (introspection) {
      let active: boolean;
      try {
        const endpoint = introspection.endpoint ?? (await getDiscovery()).introspection_endpoint;
        if (!endpoint) throw new Error('the discovery document names no introspection_endpoint');
        active = await isActive(endpoint, token, introspection.headers ?? {}, timeoutMs);
      } catch (err) {
        throw fail('issuer_unavailable', 'the issuer cannot say whether the token is revoked', err);
      }
      if (!active) throw fail('invalid_token', 'the token is revoked or no longer active');
    }
    return { ...(payload as ZtmintClaims), scopes };
  };

  return {
    verifyToken,
    authenticate: async (req) => {
      const value = req.headers.authorization;
      if (!value || !/^Bearer(\s|$)/i.test(value)) throw fail('missing_token', 'send the token as "Authorization: Bearer <token>"');
      const token = BEARER.exec(value)?.[1];
      if (!token) throw fail('invalid_request', 'the Authorization header is not "Bearer <token>"');
      return verifyToken(token);
    },
  };
}

/** Sends a refusal on a plain Node response (the Express adapter and plain http servers use it). */
export function sendZtmintAuthError(res: ServerResponse, err: ZtmintAuthError): void {
  const body = JSON.stringify(err.body);
  res.writeHead(err.status, { ...err.headers, 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

type NodeRequest = { headers: IncomingHttpHeaders; ztmint?: ZtmintClaims };

/** Express/Connect middleware: `app.use(requireZtmintToken({...}))`; the claims are `req.ztmint`. */
export function requireZtmintToken(opts: RequireZtmintTokenOptions) {
  const verifier = createZtmintTokenVerifier(opts);
  return (req: NodeRequest, res: ServerResponse, next: (err?: unknown) => void): void => {
    verifier.authenticate(req).then(
      (claims) => {
        req.ztmint = claims;
        next();
      },
      (err: unknown) => (err instanceof ZtmintAuthError ? sendZtmintAuthError(res, err) : next(err)),
    );
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified ztmint claims, set by ztmintFastifyHook. */
    ztmint?: ZtmintClaims;
  }
}

/** The part of Fastify's reply that the hook needs (kept structural: no Fastify import). */
interface ReplyLike {
  code(status: number): ReplyLike;
  headers(values: Record<string, string>): ReplyLike;
  type(contentType: string): ReplyLike;
  send(body: unknown): unknown;
}

/** Fastify onRequest/preHandler hook: `{ onRequest: ztmintFastifyHook({...}) }`; the claims are `request.ztmint`. */
export function ztmintFastifyHook(opts: RequireZtmintTokenOptions) {
  const verifier = createZtmintTokenVerifier(opts);
  return async (request: NodeRequest, reply: ReplyLike): Promise<unknown> => {
    try {
      request.ztmint = await verifier.authenticate(request);
      return undefined;
    } catch (err) {
      if (!(err instanceof ZtmintAuthError)) throw err;
      // Fastify: a hook that replies returns the reply, so the route handler does not run.
      return reply.code(err.status).headers(err.headers).type(PROBLEM_CONTENT_TYPE).send(err.body);
    }
  };
}
