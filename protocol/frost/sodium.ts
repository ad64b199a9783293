// The libsodium primitives the FROST ciphersuite uses, from sodium-native (prebuilt N-API addon).
// sodium-native ships no TypeScript types of its own, so the few functions we call are typed here.
// Every function takes typed arrays; the ones with a C status throw `Error('status: -1')` on failure.
import { createRequire } from 'node:module';

export interface Sodium {
  /** q = n·B, n < 2^255 taken as is (no clamping); constant time. Throws if n = 0 or q = identity. */
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  /**
   * q = n·p; constant time. Throws unless p is a canonical, on-curve, non-small-order point in the
   * prime-order subgroup, and if n = 0 or q = identity.
   */
  crypto_scalarmult_ed25519_noclamp(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  /** Canonical encoding, on the curve, not of small order, in the prime-order subgroup. */
  crypto_core_ed25519_is_valid_point(p: Uint8Array): boolean;
  /** r = p + q (both must decode to curve points). */
  crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  crypto_core_ed25519_sub(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  /** r = x + y mod L; constant time. */
  crypto_core_ed25519_scalar_add(r: Uint8Array, x: Uint8Array, y: Uint8Array): void;
  crypto_core_ed25519_scalar_sub(r: Uint8Array, x: Uint8Array, y: Uint8Array): void;
  crypto_core_ed25519_scalar_invert(r: Uint8Array, s: Uint8Array): void;
  /** r = s mod L for a 64-byte little-endian s; constant time. */
  crypto_core_ed25519_scalar_reduce(r: Uint8Array, s: Uint8Array): void;
  crypto_hash_sha512(out: Uint8Array, input: Uint8Array): void;
  /** Ed25519 (RFC 8032) verification, variable time (public inputs). */
  crypto_sign_verify_detached(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  randombytes_buf(buffer: Uint8Array): void;
  /** Constant-time equality. */
  sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean;
  sodium_memzero(buffer: Uint8Array): void;
  /** Constant-time all-zero test. */
  sodium_is_zero(buffer: Uint8Array, length?: number): boolean;
}

const require = createRequire(import.meta.url);

export const sodium = require('sodium-native') as Sodium;
