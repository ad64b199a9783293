// Verifies GitHub Actions OIDC tokens as strictly as AWS STS' AssumeRoleWithWebIdentity: trusted
// issuers only (github.com, GHES `https://HOST/_services/token`, enterprise-specific issuers),
// RS256 only, JWKS discovered per issuer and cached (refreshed on an unknown kid at most once per
// cooldown), audience pinned, exp/nbf/iat within a small skew, a maximum age, required claims of
// the right type, and each jti accepted once.
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { request, type Dispatcher } from 'undici';
import { fromB64url } from '../protocol/encoding.js';
import { ExpiringSet } from './expiring-set.js';
import { ProblemError } from '../protocol/problem.js';
import { WORKFLOW_CLAIMS } from '../protocol/token.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface TrustedIssuer {
  issuer: string;
  /** Defaults to the jwks_uri of `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
}

export interface OidcConfig {
  issuers: TrustedIssuer[];
  audience: string;
  clockToleranceS?: number;
  /** Oldest acceptable `iat`, in seconds before now. */
  maxAgeS?: number;
  jwksCacheMs?: number;
  /** Minimum time between two JWKS fetches caused by unknown kids. */
  refreshCooldownMs?: number;
  /** How often one OIDC token (jti) is accepted: 1 at the coordinator; a signer allows the coordinator's retries. */
  usesPerJti?: number;
  /**
   * A replay set shared beyond this process (the coordinator's state store): called instead of the
   * in-memory set, true the first time (issuer, jti) is seen. May throw (store unreachable).
   */
  replay?: (issuer: string, jti: string, expiresAtS: number) => Promise<boolean>;
  dispatcher?: Dispatcher;
  now?: () => number;
  /**
   * Refuse a JWKS URL (configured or discovered) that is not https://: keys fetched in the clear
   * can be replaced on the way. The services set it unless --insecure-allow-http-issuer.
   */
  requireHttpsJwks?: boolean;
}

const REQUIRED_CLAIMS = ['sub', 'jti', 'iat', 'exp', 'repository', 'repository_owner', 'ref', 'run_id'] as const;
const NUMERIC_CLAIMS = ['iat', 'exp', 'nbf'];
const STRING_CLAIMS = [...new Set(['sub', 'jti', ...WORKFLOW_CLAIMS, 'ref_type', 'runner_environment', 'repository_visibility', 'repository_id', 'repository_owner_id'])];
const MAX_TOKEN_BYTES = 8 * 1024;

async function getJson(url: string, dispatcher?: Dispatcher): Promise<unknown> {
  const res = await request(url, { method: 'GET', dispatcher, headersTimeout: 5_000, bodyTimeout: 5_000 });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${url} answered ${res.statusCode}`);
  }
  return res.body.json();
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

/** One issuer's keys: cached, refreshed when stale, or on an unknown kid after a cooldown. */
class IssuerKeys {
  private keys?: { set: KeySet; kids: Set<string>; fetchedAt: number };
  private inflight?: Promise<void>;
  private lastForced = -Infinity;

  constructor(
    private readonly trusted: TrustedIssuer,
    private readonly config: OidcConfig,
    private readonly now: () => number,
  ) {}

  private fetch(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        let uri = this.trusted.jwksUri;
        if (!uri) {
          const discovery = (await getJson(`${this.trusted.issuer}/.well-known/openid-configuration`, this.config.dispatcher)) as Record<string, unknown>;
          if (discovery.issuer !== this.trusted.issuer || typeof discovery.jwks_uri !== 'string') {
            throw new Error('discovery document does not name this issuer');
          }
          uri = discovery.jwks_uri;
        }
        if (this.config.requireHttpsJwks && !uri.startsWith('https://')) {
          throw new Error(`the JWKS URL of ${this.trusted.issuer} is not https:// (allow it only for tests with --insecure-allow-http-issuer)`);
        }
        const jwks = (await getJson(uri, this.config.dispatcher)) as JSONWebKeySet;
        if (!Array.isArray(jwks?.keys)) throw new Error('JWKS has no keys array');
        const kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
        this.keys = { set: createLocalJWKSet(jwks), kids, fetchedAt: this.now() };
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  async forKid(kid: string | undefined): Promise<KeySet> {
    const cacheMs = this.config.jwksCacheMs ?? 10 * 60_000;
    const stale = !this.keys || this.now() - this.keys.fetchedAt >= cacheMs;
    const unknownKid = !!this.keys && kid !== undefined && !this.keys.kids.has(kid);
    const cooldownOver = this.now() - this.lastForced >= (this.config.refreshCooldownMs ?? 60_000);
    if (stale || (unknownKid && cooldownOver)) {
      if (!stale) this.lastForced = this.now();
      try {
        await this.fetch();
      } catch (err) {
        if (!this.keys) throw err; // keep serving the last good keys when a refresh fails
      }
    }
    return this.keys!.set;
  }
}

export class OidcVerifier {
  private readonly issuers = new Map<string, IssuerKeys>();
  private readonly seenJti = new ExpiringSet();
  private readonly now: () => number;

  constructor(private readonly config: OidcConfig) {
    this.now = config.now ?? (() => Date.now());
    for (const trusted of config.issuers) {
      const issuer = trusted.issuer.replace(/\/+$/, '');
      this.issuers.set(issuer, new IssuerKeys({ ...trusted, issuer }, config, this.now));
    }
  }

  /** The issuers this verifier trusts (trailing slashes removed), for /v1/info and readiness checks. */
  trustedIssuers(): string[] {
    return [...this.issuers.keys()];
  }

  /** Whether `issuer` (a token's unverified `iss`) is one this verifier trusts. */
  trusts(issuer: unknown): boolean {
    return typeof issuer === 'string' && this.issuers.has(issuer);
  }

  /** Returns the verified claims, or throws a ProblemError (`invalid_token`, `token_replayed`, `issuer_unavailable`). */
  async verify(token: string): Promise<JWTPayload & Record<string, unknown>> {
    if (token.length > MAX_TOKEN_BYTES) throw new ProblemError('invalid_token', 'OIDC token is too large');
    if (!isCanonicalCompactJws(token)) throw new ProblemError('invalid_token', 'OIDC token is not a canonical compact JWS');
    let unverified: JWTPayload;
    let kid: string | undefined;
    try {
      unverified = decodeJwt(token);
      const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid?: unknown };
      kid = typeof header.kid === 'string' ? header.kid : undefined;
    } catch {
      throw new ProblemError('invalid_token', 'OIDC token is malformed');
    }
    const issuer = typeof unverified.iss === 'string' ? unverified.iss : '';
    const keys = this.issuers.get(issuer);
    if (!keys) throw new ProblemError('invalid_token', 'OIDC token is from an issuer this coordinator does not trust');

    let keySet: KeySet;
    try {
      keySet = await keys.forKid(kid);
    } catch {
      throw new ProblemError('issuer_unavailable', "cannot fetch the OIDC issuer's keys; try again shortly");
    }
    const skew = this.config.clockToleranceS ?? 60;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        algorithms: ['RS256'],
        issuer,
        audience: this.config.audience,
        clockTolerance: skew,
        maxTokenAge: this.config.maxAgeS ?? 15 * 60,
        requiredClaims: [...REQUIRED_CLAIMS],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      throw new ProblemError('invalid_token', describe(err));
    }
    checkClaimTypes(payload);
    const nowS = Math.floor(this.now() / 1000);
    if (payload.iat! > nowS + skew) throw new ProblemError('invalid_token', 'OIDC token was issued in the future (iat)');
    const fresh = this.config.replay ? await this.config.replay(issuer, payload.jti!, payload.exp! + skew) : this.seenJti.add(payload.jti!, payload.exp! + skew, nowS, this.config.usesPerJti ?? 1);
    if (!fresh) {
      throw new ProblemError('token_replayed', 'this OIDC token was already used: request a new one for each mint');
    }
    return payload as JWTPayload & Record<string, unknown>;
  }
}

/** Three segments of canonical base64url: one token has exactly one spelling. */
export function isCanonicalCompactJws(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    for (const part of parts) if (part === '' || fromB64url(part).length === 0) return false;
    return true;
  } catch {
    return false;
  }
}

function checkClaimTypes(payload: JWTPayload): void {
  for (const claim of NUMERIC_CLAIMS) {
    const value = payload[claim];
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value))) {
      throw new ProblemError('invalid_token', `OIDC token claim "${claim}" must be an integer`);
    }
  }
  for (const claim of STRING_CLAIMS) {
    const value = payload[claim];
    const required = (REQUIRED_CLAIMS as readonly string[]).includes(claim);
    if ((value !== undefined || required) && (typeof value !== 'string' || (required && value === ''))) {
      throw new ProblemError('invalid_token', `OIDC token claim "${claim}" must be a${required ? ' non-empty' : ''} string`);
    }
  }
}

/** A reason safe to show: names the check, never echoes token content. */
function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) {
    return err.claim === 'iat' ? 'OIDC token is too old (iat beyond the maximum age)' : 'OIDC token has expired';
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return "OIDC token audience does not match this coordinator (set the action's oidc-audience)";
    if (err.claim === 'nbf') return 'OIDC token is not yet valid (nbf)';
    if (err.claim === 'iat') return 'OIDC token is too old or its iat is invalid';
    return `OIDC token claim "${err.claim}" is invalid (${err.reason})`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'OIDC token must be signed with RS256';
  if (err instanceof errors.JWKSNoMatchingKey) return 'OIDC token is signed by a key the issuer does not publish';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'OIDC token signature is invalid';
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return 'OIDC token is malformed';
  if (err instanceof errors.JOSENotSupported) return 'OIDC token uses an unsupported algorithm or key';
  return 'OIDC token could not be verified';
}
