// Invariant I2: before releasing a share, a signer re-derives on its own the exact token the mint
// context allows (its own OIDC verification and JWKS cache, its own copy of the hash-pinned
// policy) and signs only if the message is byte for byte that token's signing input. Only `iat`
// and `jti` come from the coordinator: iat must be fresh, jti must carry 128 bits and be new.
import { decodeJwt } from 'jose';
import { ZtmintError } from '../errors/ztmint-error.js';
import { fromB64url } from '../protocol/encoding.js';
import { ExpiringSet } from '../oidc/expiring-set.js';
import type { OidcVerifier } from '../oidc/verifier.js';
import type { PolicySource } from '../policy-engine/holder.js';
import type { LoadedPolicy } from '../policy-engine/evaluate.js';
import { wellFormedPolicyInput } from '../policy-engine/well-formed.js';
import { ProblemError, type SignerConfigurationRefusal } from '../protocol/problem.js';
import { buildToken, signingInput, type TokenClaims } from '../protocol/token.js';
import type { MintContext } from '../protocol/wire.js';

const MAX_CLOCK_SKEW_S = 60;

/**
 * Which check of invariant I2 refused the message. The four configuration refusals (policy
 * revision, issuer, group key, OIDC issuer not accepted here) mean this signer's configuration
 * differs from the coordinator's, which no retry changes: the signer answers them under their own
 * problem codes (protocol/problem.ts SIGNER_CONFIGURATION_REFUSALS), everything else as
 * `context_mismatch`.
 */
export type ContextMismatchCode = 'not_signing_input' | 'oidc_token_invalid' | 'policy_denied' | 'iat_not_fresh' | 'jti_malformed' | 'token_differs' | 'jti_reused' | SignerConfigurationRefusal;

/** The message is not the token the mint context allows (answered as problem `context_mismatch`, or as its configuration mismatch code). */
export class ContextMismatch extends ZtmintError<ContextMismatchCode> {}

export interface MintCheckDeps {
  /** The coordinator's issuer URL: the `iss` every token must carry. */
  tokenIssuer: string;
  /** The kid tokens carry when `check` is not given one (a signer with one key). */
  kid?: string;
  /** Whether this signer holds a share of the key `kid` names (its key ring); default: kid is `kid`. */
  holdsKid?: (kid: string) => boolean;
  oidc: OidcVerifier;
  /** The policies this signer accepts; the token's `pol` picks one. */
  policy: PolicySource;
}

export interface CheckedMessage {
  jti: string;
  exp: number;
}

/** One part (0: header, 1: payload) of a JWS signing input, as a JSON object. */
function decodePart(message: string, part: 0 | 1): Record<string, unknown> {
  const text = message.split('.')[part];
  try {
    const value: unknown = JSON.parse(Buffer.from(fromB64url(text ?? '')).toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new ContextMismatch('not_signing_input', `message is not a JWS signing input with a JSON ${part === 0 ? 'header' : 'payload'}`);
}

/** A value from the coordinator quoted in a refusal: printable, bounded (the coordinator reduces it again). */
function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value.replace(/[^\x20-\x7e]+/g, ' ') : JSON.stringify(value ?? null);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 79)}…` : text);
}

/** The unverified `iss` of a compact JWT, or undefined when it has none (verification says why). */
function unverifiedIssuer(token: string): unknown {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

function differingClaims(got: Record<string, unknown>, want: TokenClaims): string[] {
  const names = new Set([...Object.keys(got), ...Object.keys(want)]);
  return [...names].filter((n) => JSON.stringify(got[n]) !== JSON.stringify(want[n])).sort();
}

/** The `kid` of a JWS signing input's header ('' when there is none: the check then refuses it). */
export function headerKid(message: string): string {
  try {
    const header: unknown = JSON.parse(Buffer.from(fromB64url(message.split('.')[0] ?? '')).toString('utf8'));
    const kid = header && typeof header === 'object' ? (header as { kid?: unknown }).kid : undefined;
    return typeof kid === 'string' ? kid : '';
  } catch {
    return '';
  }
}

export class MintChecker {
  /** Minted jtis this signer has signed, kept until the token expires. */
  private readonly signed = new ExpiringSet();

  constructor(private readonly deps: MintCheckDeps) {}

  /**
   * The policy revisions this signer signs tokens for (the `pol` claims): with signed bundles,
   * those its revisions file lists and whose bundles verified; else the policy hash.
   */
  acceptedRevisions(): string[] {
    return this.deps.policy.acceptedRevisions();
  }

  /** Whether a token naming policy revision `pol` may be signed here. */
  acceptsPolicyRevision(pol: unknown): boolean {
    return typeof pol === 'string' && this.acceptedRevisions().includes(pol);
  }

  /** What this signer checks tokens against, for GET /v1/info (the coordinator's readiness compares it). */
  describe(): { token_issuer: string; oidc_issuers: string[]; policy_revisions: string[] } {
    return { token_issuer: this.deps.tokenIssuer, oidc_issuers: this.deps.oidc.trustedIssuers(), policy_revisions: this.acceptedRevisions() };
  }

  /**
   * Configuration checks first: when the coordinator's group key, issuer, policy revision or
   * trusted OIDC issuers differ from this signer's, every token would be refused, and the
   * operator needs to be told which of the four it is (not a generic claims difference). Only
   * values of the right type count: a message without them is malformed, not misconfigured.
   */
  private checkConfiguration(header: Record<string, unknown>, claims: Record<string, unknown>, context: MintContext): void {
    if (typeof header.kid === 'string' && !(this.deps.holdsKid ?? ((k: string) => k === this.deps.kid))(header.kid)) {
      throw new ContextMismatch(
        'group_key_not_held',
        `token kid ${quoted(header.kid)} is not a group key this signer holds a share of: the coordinator's group.json or keys.json differs from this signer's key ring (docs/keys.md)`,
      );
    }
    if (typeof claims.iss === 'string' && claims.iss !== this.deps.tokenIssuer) {
      throw new ContextMismatch(
        'issuer_not_accepted',
        `token iss ${quoted(claims.iss)} is not this signer's --token-issuer ${quoted(this.deps.tokenIssuer)}: set the coordinator's --public-url and the signers' --token-issuer to the same URL`,
      );
    }
    if (typeof claims.pol === 'string' && !this.acceptsPolicyRevision(claims.pol)) {
      throw new ContextMismatch(
        'policy_not_accepted',
        `token pol ${quoted(claims.pol)} is not a policy revision this signer accepts (${this.acceptedRevisions().join(', ')}): roll the revision out to every signer before the coordinator switches to it, or deploy the same policy to the coordinator and the signers`,
      );
    }
    const oidcIssuer = unverifiedIssuer(context.oidc_token);
    if (typeof oidcIssuer === 'string' && !this.deps.oidc.trusts(oidcIssuer)) {
      throw new ContextMismatch(
        'oidc_issuer_not_trusted',
        `the context's OIDC token is from issuer ${quoted(oidcIssuer)}, which this signer does not trust: add it to the signers' --oidc-issuer or remove it from the coordinator's`,
      );
    }
  }

  /** The policy to evaluate: the bundle of the revision the token names (checked accepted above). */
  private policyFor(pol: unknown): LoadedPolicy {
    const policy = typeof pol === 'string' ? this.deps.policy.accepted(pol) : undefined;
    if (!policy) throw new ContextMismatch('token_differs', 'the token names no policy revision (pol) this signer accepts');
    return policy;
  }

  /** `kid`: the key the token is to be signed with (from its header; the key ring checks it is usable). */
  async check(message: string, context: MintContext, nowS: number, kid = this.deps.kid): Promise<CheckedMessage> {
    if (message.split('.').length !== 2 || !kid) throw new ContextMismatch('not_signing_input', 'message is not a JWS signing input');
    const header = decodePart(message, 0);
    const claims = decodePart(message, 1);
    this.checkConfiguration(header, claims, context);
    const policy = this.policyFor(claims.pol);

    let oidcClaims: Record<string, unknown>;
    try {
      oidcClaims = await this.deps.oidc.verify(context.oidc_token);
    } catch (err) {
      throw new ContextMismatch('oidc_token_invalid', `the context's OIDC token does not verify here: ${err instanceof ProblemError ? err.message : 'unknown error'}`, { cause: err });
    }
    // The coordinator's normalisation, by the same function: unpaired surrogates become U+FFFD.
    const input = wellFormedPolicyInput(oidcClaims, context.request);
    oidcClaims = input.claims;
    const decision = policy.evaluate(oidcClaims, input.request);
    if (!decision.allow) throw new ContextMismatch('policy_denied', "this signer's policy denies the request in the context");

    const { iat, jti } = claims;
    if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || Math.abs(iat - nowS) > MAX_CLOCK_SKEW_S) {
      throw new ContextMismatch('iat_not_fresh', 'iat is not a fresh timestamp');
    }
    if (typeof jti !== 'string' || !/^[A-Za-z0-9_-]{22,64}$/.test(jti)) throw new ContextMismatch('jti_malformed', 'jti must be base64url with at least 128 bits');

    const expected = buildToken({
      issuer: this.deps.tokenIssuer,
      kid,
      oidcClaims,
      decision,
      policyHash: policy.revision,
      now: iat,
      jti,
    });
    if (signingInput(expected.header, expected.claims) !== message) {
      const differing = differingClaims(claims, expected.claims);
      throw new ContextMismatch('token_differs', differing.length ? `claims differ from what the context allows: ${differing.join(', ')}` : 'header or encoding differs from the canonical token');
    }
    if (!this.signed.add(jti, expected.claims.exp, nowS)) throw new ContextMismatch('jti_reused', 'this signer already signed a token with that jti');
    return { jti, exp: expected.claims.exp };
  }
}
