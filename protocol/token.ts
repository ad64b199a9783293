// The minted token: header, claims and JWS signing input, as fixed by docs/architecture.md.
import { b64url, utf8 } from './encoding.js';

/** OIDC claims copied into the minted token when present. */
export const WORKFLOW_CLAIMS = ['repository', 'repository_owner', 'ref', 'sha', 'environment', 'workflow_ref', 'job_workflow_ref', 'run_id', 'run_attempt', 'actor', 'event_name'] as const;

export interface MintDecision {
  allow: boolean;
  scopes: string[];
  ttl: number;
  audience: string;
  reasons: string[];
}

export interface TokenHeader {
  alg: 'EdDSA';
  typ: 'JWT';
  kid: string;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  scope: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  pol: string;
  [claim: string]: unknown;
}

export interface ClaimInputs {
  issuer: string;
  kid: string;
  oidcClaims: Record<string, unknown>;
  decision: MintDecision;
  policyHash: string;
  now: number;
  jti: string;
}

export function buildToken(inputs: ClaimInputs): { header: TokenHeader; claims: TokenClaims } {
  const { oidcClaims, decision } = inputs;
  const claims: TokenClaims = {
    iss: inputs.issuer,
    // The OIDC verifier guarantees a string `sub`. Anything else (never reached by the services) is
    // written as JSON: String() throws for an object whose toString is not a function.
    sub: typeof oidcClaims.sub === 'string' ? oidcClaims.sub : (JSON.stringify(oidcClaims.sub) ?? ''),
    aud: decision.audience,
    scope: decision.scopes.join(' '),
    iat: inputs.now,
    nbf: inputs.now,
    exp: inputs.now + decision.ttl,
    jti: inputs.jti,
    pol: inputs.policyHash,
  };
  for (const name of WORKFLOW_CLAIMS) {
    const value = oidcClaims[name];
    if (typeof value === 'string' && value !== '') claims[name] = value;
  }
  return { header: { alg: 'EdDSA', typ: 'JWT', kid: inputs.kid }, claims };
}

/** JWS signing input (RFC 7515 §5.1): BASE64URL(header) '.' BASE64URL(payload). */
export function signingInput(header: TokenHeader, claims: TokenClaims): string {
  return `${b64url(utf8(JSON.stringify(header)))}.${b64url(utf8(JSON.stringify(claims)))}`;
}
