// Invariant I2 (walking-skeleton depth): before releasing a share, a signer checks on its own that
// the message is a ztmint token for this key whose claims follow from the mint context. Verifying
// the OIDC token's signature and re-evaluating policy here is the next step (issue 6).
import { decodeJwt } from 'jose';
import { fromB64url } from '../protocol/encoding.js';
import { ExpiringSet } from '../protocol/expiring-set.js';
import { WORKFLOW_CLAIMS } from '../protocol/token.js';
import type { MintContext } from '../protocol/wire.js';

export const MAX_CLOCK_SKEW_S = 60;
export const HARD_MAX_TTL_S = 3600;

export class ContextMismatch extends Error {}

function decodeSegment(segment: string | undefined, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(fromB64url(segment ?? '')).toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new ContextMismatch(`message ${what} is not a JSON object`);
}

export interface CheckedMessage {
  jti: string;
  exp: number;
}

export function checkMessage(message: string, context: MintContext, kid: string, nowS: number): CheckedMessage {
  const parts = message.split('.');
  if (parts.length !== 2) throw new ContextMismatch('message is not a JWS signing input');
  const header = decodeSegment(parts[0], 'header');
  const claims = decodeSegment(parts[1], 'payload');
  if (header.alg !== 'EdDSA' || header.typ !== 'JWT' || header.kid !== kid || Object.keys(header).length !== 3) {
    throw new ContextMismatch('header is not {alg: EdDSA, typ: JWT, kid: <group kid>}');
  }

  let oidc: Record<string, unknown>;
  try {
    oidc = decodeJwt(context.oidc_token);
  } catch {
    throw new ContextMismatch('context holds no decodable OIDC token');
  }
  if (claims.sub !== oidc.sub) throw new ContextMismatch('sub differs from the OIDC token');
  for (const name of WORKFLOW_CLAIMS) {
    const expected = typeof oidc[name] === 'string' && oidc[name] !== '' ? oidc[name] : undefined;
    if (claims[name] !== expected) throw new ContextMismatch(`${name} differs from the OIDC token`);
  }

  const requested = new Set(context.request.scopes);
  const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (granted.length === 0 || granted.some((s) => !requested.has(s)) || granted.length !== requested.size) {
    throw new ContextMismatch('scope differs from the requested scopes');
  }
  if (context.request.audience !== undefined && claims.aud !== context.request.audience) {
    throw new ContextMismatch('aud differs from the requested audience');
  }

  const { iat, nbf, exp, jti } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || nbf !== iat || !Number.isInteger(iat) || !Number.isInteger(exp)) {
    throw new ContextMismatch('iat, nbf and exp must be integers with nbf = iat');
  }
  if (Math.abs(iat - nowS) > MAX_CLOCK_SKEW_S) throw new ContextMismatch('iat is not fresh');
  const ttl = exp - iat;
  const cap = context.request.ttl ?? HARD_MAX_TTL_S;
  if (ttl <= 0 || ttl > cap || ttl > HARD_MAX_TTL_S) throw new ContextMismatch('lifetime exceeds the request');
  if (typeof jti !== 'string' || fromB64urlLength(jti) < 16) throw new ContextMismatch('jti must carry at least 128 random bits');
  return { jti, exp };
}

function fromB64urlLength(text: string): number {
  try {
    return fromB64url(text).length;
  } catch {
    return 0;
  }
}

/** A signer never signs two tokens with the same jti; entries live until the token expires. */
export class JtiRegistry {
  private readonly seen = new ExpiringSet();

  claim(jti: string, exp: number, nowS: number): boolean {
    return this.seen.add(jti, exp, nowS);
  }
}
