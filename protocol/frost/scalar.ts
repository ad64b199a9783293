// Scalars mod L = 2^252 + 27742317777372353535851937790883648493 (the Ed25519 group order),
// as 32-byte little-endian arrays, which is RFC 9591's SerializeScalar for FROST(Ed25519, SHA-512).
//
// Secret scalars (shares, nonces, and everything derived from them) only go through libsodium's
// constant-time scalar functions and `scalarMul` below. sodium-native does not bind
// crypto_core_ed25519_scalar_mul, so the 256×256-bit product is computed here with a fixed
// sequence of float64 multiply-adds on 16-bit limbs (no secret-dependent branch or memory
// access), and the 512-bit result is reduced mod L by libsodium's crypto_core_ed25519_scalar_reduce.
// BigInt is used only for public scalars (identifiers, Lagrange coefficients).
import { sodium } from './sodium.js';

export const SCALAR_BYTES = 32;
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const LIMB = 65536;
const INV_LIMB = 1 / LIMB;
const A = new Float64Array(16);
const B = new Float64Array(16);
const C = new Float64Array(32);
const WIDE = new Uint8Array(64);

/** out = a·b mod L. `a`, `b` are 32-byte little-endian integers (< 2^256); constant time. */
export function scalarMul(out: Uint8Array, a: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < 16; i++) {
    A[i] = a[2 * i]! + a[2 * i + 1]! * 256;
    B[i] = b[2 * i]! + b[2 * i + 1]! * 256;
  }
  C.fill(0);
  // Each column sum is at most 16·(2^16 − 1)^2 < 2^36: exact in a float64.
  for (let i = 0; i < 16; i++) {
    const ai = A[i]!;
    for (let j = 0; j < 16; j++) C[i + j]! += ai * B[j]!;
  }
  let carry = 0;
  for (let k = 0; k < 32; k++) {
    const v = C[k]! + carry;
    carry = Math.floor(v * INV_LIMB);
    const limb = v - carry * LIMB;
    WIDE[2 * k] = limb & 0xff;
    WIDE[2 * k + 1] = limb >>> 8;
  }
  sodium.crypto_core_ed25519_scalar_reduce(out, WIDE);
  A.fill(0);
  B.fill(0);
  C.fill(0);
  WIDE.fill(0);
}

const CANON = new Uint8Array(64);
const CANON_OUT = new Uint8Array(32);

/** s < L, for a 32-byte s; constant time (safe on secrets). */
export function isCanonicalScalar(s: Uint8Array): boolean {
  if (s.length !== SCALAR_BYTES) return false;
  CANON.set(s);
  sodium.crypto_core_ed25519_scalar_reduce(CANON_OUT, CANON);
  const same = sodium.sodium_memcmp(CANON_OUT, s);
  CANON.fill(0);
  CANON_OUT.fill(0);
  return same;
}

const DIGEST = new Uint8Array(64);

/** out = SHA-512(input) mod L (RFC 9591 H1/H2/H3 for this ciphersuite, prefix included in input). */
export function hashToScalar(out: Uint8Array, input: Uint8Array): void {
  sodium.crypto_hash_sha512(DIGEST, input);
  sodium.crypto_core_ed25519_scalar_reduce(out, DIGEST);
  DIGEST.fill(0);
}

// ---- public scalars only (variable time) ----

export function bigintToScalar(n: bigint): Uint8Array {
  const out = new Uint8Array(SCALAR_BYTES);
  let v = ((n % L) + L) % L;
  for (let i = 0; i < SCALAR_BYTES; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** a^-1 mod L (a ≠ 0 mod L), by the extended Euclidean algorithm. Public inputs only. */
export function invertPublic(a: bigint): bigint {
  let [r0, r1] = [L, ((a % L) + L) % L];
  let [t0, t1] = [0n, 1n];
  if (r1 === 0n) throw new Error('zero has no inverse');
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return ((t0 % L) + L) % L;
}
