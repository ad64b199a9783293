// Checks a token this coordinator minted (for revoke and introspect): EdDSA under the published
// group key its `kid` names (docs/keys.md), our issuer, within its lifetime.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';
import { isCanonicalCompactJws } from '../oidc/verifier.js';

interface MintedClaims extends JWTPayload {
  jti: string;
  exp: number;
  scope: string;
}

export type MintedCheck = { status: 'valid'; claims: MintedClaims } | { status: 'expired' } | { status: 'invalid' };

export async function checkMinted(token: string, keyFor: (kid: string) => KeyObject | undefined, issuer: string, nowMs: number): Promise<MintedCheck> {
  if (token.length > 16 * 1024 || !isCanonicalCompactJws(token)) return { status: 'invalid' };
  try {
    const { kid } = decodeProtectedHeader(token);
    // Unknown or retired kid: not a token any published key verifies (a retired key's tokens have expired).
    const key = typeof kid === 'string' ? keyFor(kid) : undefined;
    if (!key) return { status: 'invalid' };
    const { payload } = await jwtVerify(token, key, { algorithms: ['EdDSA'], issuer, currentDate: new Date(nowMs) });
    if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number' || typeof payload.scope !== 'string') {
      return { status: 'invalid' };
    }
    return { status: 'valid', claims: payload as MintedClaims };
  } catch (err) {
    // jose checks the signature before the time claims, so "expired" means genuinely ours.
    return err instanceof errors.JWTExpired ? { status: 'expired' } : { status: 'invalid' };
  }
}
