// The token a coordinator would ask signers to sign for an OIDC token under the default policy:
// what signer tests start from before forging one thing.
import { decodeJwt } from 'jose';
import { randomBytes } from 'node:crypto';
import { buildToken, signingInput } from '../../protocol/token.js';

export interface HonestTokenInputs {
  issuer: string;
  kid: string;
  oidc: string;
  policyHash: string;
  scopes?: string[];
}

/** Header, claims and signing input, with a fresh jti and iat = now on every call. */
export function honestToken({ issuer, kid, oidc, policyHash, scopes = ['deploy:canary'] }: HonestTokenInputs) {
  const { header, claims } = buildToken({
    issuer,
    kid,
    oidcClaims: decodeJwt(oidc),
    decision: { allow: true, scopes, ttl: 900, audience: 'https://deploy.example', reasons: [] },
    policyHash,
    now: Math.floor(Date.now() / 1000),
    jti: randomBytes(16).toString('base64url'),
  });
  return { header, claims, message: signingInput(header, claims) };
}
