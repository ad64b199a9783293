// Invariant I2: before releasing a share, a signer re-derives on its own the exact token the mint
// context allows (its own OIDC verification and JWKS cache, its own copy of the hash-pinned
// policy) and signs only if the message is byte for byte that token's signing input. Only `iat`
// and `jti` come from the coordinator: iat must be fresh, jti must carry 128 bits and be new.
import { ZtmintError } from '../errors/ztmint-error.js';
import { fromB64url } from '../protocol/encoding.js';
import { ExpiringSet } from '../oidc/expiring-set.js';
import type { OidcVerifier } from '../oidc/verifier.js';
import type { PolicyHolder } from '../policy-engine/holder.js';
import { wellFormedPolicyInput } from '../policy-engine/well-formed.js';
import { ProblemError } from '../protocol/problem.js';
import { buildToken, signingInput, type TokenClaims } from '../protocol/token.js';
import type { MintContext } from '../protocol/wire.js';

const MAX_CLOCK_SKEW_S = 60;

/** Which check of invariant I2 refused the message. */
export type ContextMismatchCode = 'not_signing_input' | 'oidc_token_invalid' | 'policy_denied' | 'iat_not_fresh' | 'jti_malformed' | 'token_differs' | 'jti_reused';

/** The message is not the token the mint context allows (answered as problem `context_mismatch`). */
export class ContextMismatch extends ZtmintError<ContextMismatchCode> {}

export interface MintCheckDeps {
  /** The coordinator's issuer URL: the `iss` every token must carry. */
  tokenIssuer: string;
  kid: string;
  oidc: OidcVerifier;
  policy: PolicyHolder;
}

export interface CheckedMessage {
  jti: string;
  exp: number;
}

function decodePayload(message: string): Record<string, unknown> {
  const payload = message.split('.')[1];
  try {
    const value: unknown = JSON.parse(Buffer.from(fromB64url(payload ?? '')).toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new ContextMismatch('not_signing_input', 'message is not a JWS signing input with a JSON payload');
}

function differingClaims(got: Record<string, unknown>, want: TokenClaims): string[] {
  const names = new Set([...Object.keys(got), ...Object.keys(want)]);
  return [...names].filter((n) => JSON.stringify(got[n]) !== JSON.stringify(want[n])).sort();
}

export class MintChecker {
  /** Minted jtis this signer has signed, kept until the token expires. */
  private readonly signed = new ExpiringSet();

  constructor(private readonly deps: MintCheckDeps) {}

  async check(message: string, context: MintContext, nowS: number): Promise<CheckedMessage> {
    if (message.split('.').length !== 2) throw new ContextMismatch('not_signing_input', 'message is not a JWS signing input');
    const claims = decodePayload(message);

    let oidcClaims: Record<string, unknown>;
    try {
      oidcClaims = await this.deps.oidc.verify(context.oidc_token);
    } catch (err) {
      throw new ContextMismatch('oidc_token_invalid', `the context's OIDC token does not verify here: ${err instanceof ProblemError ? err.message : 'unknown error'}`, { cause: err });
    }
    // The coordinator's normalisation, by the same function: unpaired surrogates become U+FFFD.
    const input = wellFormedPolicyInput(oidcClaims, context.request);
    oidcClaims = input.claims;
    const policy = this.deps.policy.current;
    const decision = policy.evaluate(oidcClaims, input.request);
    if (!decision.allow) throw new ContextMismatch('policy_denied', "this signer's policy denies the request in the context");

    const { iat, jti } = claims;
    if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || Math.abs(iat - nowS) > MAX_CLOCK_SKEW_S) {
      throw new ContextMismatch('iat_not_fresh', 'iat is not a fresh timestamp');
    }
    if (typeof jti !== 'string' || !/^[A-Za-z0-9_-]{22,64}$/.test(jti)) throw new ContextMismatch('jti_malformed', 'jti must be base64url with at least 128 bits');

    const expected = buildToken({
      issuer: this.deps.tokenIssuer,
      kid: this.deps.kid,
      oidcClaims,
      decision,
      policyHash: policy.hash,
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
