// The group key as a JOSE key: OKP/Ed25519 JWK whose kid is its RFC 7638 thumbprint.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { b64url } from './encoding.js';

export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace. */
export function thumbprint(x: string): string {
  const canonical = JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x });
  return b64url(createHash('sha256').update(canonical).digest());
}

export function groupJwk(groupPublicKeyB64url: string): Ed25519Jwk {
  return { kty: 'OKP', crv: 'Ed25519', x: groupPublicKeyB64url, kid: thumbprint(groupPublicKeyB64url), alg: 'EdDSA', use: 'sig' };
}

export function ed25519PublicKey(groupPublicKeyB64url: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: groupPublicKeyB64url }, format: 'jwk' });
}

/** Independent check of an aggregate with node:crypto (OpenSSL), not the FROST library. */
export function verifyEd25519(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
