// Verifies a GitHub Actions OIDC token: RS256 only, issuer and audience pinned, JWKS discovered
// from the issuer and cached, exp/nbf/iat within a small skew, each jti accepted once.
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { request, type Dispatcher } from 'undici';
import { ExpiringSet } from '../protocol/expiring-set.js';
import { ProblemError } from '../protocol/problem.js';

export interface OidcConfig {
  issuer: string;
  audience: string;
  /** Defaults to the jwks_uri of `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  clockToleranceS?: number;
  jwksCacheMs?: number;
  dispatcher?: Dispatcher;
  now?: () => number;
}

export const REQUIRED_CLAIMS = ['sub', 'jti', 'iat', 'exp', 'repository', 'repository_owner', 'ref', 'run_id'] as const;
const MAX_TOKEN_BYTES = 16 * 1024;

async function getJson(url: string, dispatcher?: Dispatcher): Promise<unknown> {
  const res = await request(url, { method: 'GET', dispatcher, headersTimeout: 5_000, bodyTimeout: 5_000, maxRedirections: 0 } as never);
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${url} answered ${res.statusCode}`);
  }
  return res.body.json();
}

export class OidcVerifier {
  private jwks?: { set: ReturnType<typeof createLocalJWKSet>; fetchedAt: number };
  private inflight?: Promise<ReturnType<typeof createLocalJWKSet>>;
  private readonly seenJti = new ExpiringSet();

  constructor(private readonly config: OidcConfig) {}

  private now(): number {
    return this.config.now ? this.config.now() : Date.now();
  }

  private async loadJwks(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const cacheMs = this.config.jwksCacheMs ?? 10 * 60_000;
    if (this.jwks && this.now() - this.jwks.fetchedAt < cacheMs) return this.jwks.set;
    this.inflight ??= (async () => {
      try {
        let uri = this.config.jwksUri;
        if (!uri) {
          const discovery = (await getJson(`${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, this.config.dispatcher)) as { jwks_uri?: unknown; issuer?: unknown };
          if (discovery.issuer !== this.config.issuer || typeof discovery.jwks_uri !== 'string') {
            throw new Error('issuer discovery document does not match the configured issuer');
          }
          uri = discovery.jwks_uri;
        }
        const set = createLocalJWKSet((await getJson(uri, this.config.dispatcher)) as JSONWebKeySet);
        this.jwks = { set, fetchedAt: this.now() };
        return set;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** Returns the verified claims, or throws a ProblemError `invalid_token` / `token_replayed`. */
  async verify(token: string): Promise<JWTPayload & Record<string, unknown>> {
    if (token.length > MAX_TOKEN_BYTES) throw new ProblemError('invalid_token', 'OIDC token is too large');
    let keys: ReturnType<typeof createLocalJWKSet>;
    try {
      keys = await this.loadJwks();
    } catch {
      throw new ProblemError('issuer_unavailable', 'cannot fetch the OIDC issuer\'s keys; try again shortly');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clockToleranceS ?? 60,
        requiredClaims: [...REQUIRED_CLAIMS],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      throw new ProblemError('invalid_token', describe(err));
    }
    const skew = this.config.clockToleranceS ?? 60;
    const nowS = Math.floor(this.now() / 1000);
    if (typeof payload.iat !== 'number' || payload.iat > nowS + skew) {
      throw new ProblemError('invalid_token', 'OIDC token was issued in the future (iat)');
    }
    for (const claim of REQUIRED_CLAIMS) {
      const value = payload[claim];
      const ok = claim === 'iat' || claim === 'exp' ? typeof value === 'number' : typeof value === 'string' && value !== '';
      if (!ok) throw new ProblemError('invalid_token', `OIDC token claim "${claim}" has the wrong type`);
    }
    this.claimJti(payload.jti!, payload.exp!, nowS);
    return payload as JWTPayload & Record<string, unknown>;
  }

  /** Single use: a jti is remembered until its token expires (plus skew). */
  private claimJti(jti: string, exp: number, nowS: number): void {
    if (!this.seenJti.add(jti, exp + (this.config.clockToleranceS ?? 60), nowS)) throw new ProblemError('token_replayed', 'this OIDC token was already used: request a new one for each mint');
  }
}

/** A reason safe to show: names the check, never echoes token content. */
function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'OIDC token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `OIDC token claim "${err.claim}" is invalid (${err.reason})`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'OIDC token must be signed with RS256';
  if (err instanceof errors.JWKSNoMatchingKey) return 'OIDC token is signed by a key the issuer does not publish';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'OIDC token signature is invalid';
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return 'OIDC token is malformed';
  if (err instanceof errors.JOSENotSupported) return 'OIDC token uses an unsupported algorithm or key';
  return 'OIDC token could not be verified';
}
