// Polynomials and Feldman VSS over the Ed25519 scalar field, shared by share refresh, repair and
// reshare (refresh.ts, repair.ts, reshare.ts). Secret scalars (coefficients, shares) only go
// through libsodium's constant-time scalar and base-point functions; public values (identifiers,
// Lagrange coefficients, commitments) use BigInt and noble's points, which may take variable time.
import { ed25519 } from '@noble/curves/ed25519.js';
import { ZtmintError, type ZtmintErrorOptions } from '../../errors/ztmint-error.js';
import { CIPHERSUITE, type GroupInfo } from '../ciphersuite.js';
import { b64url, fromB64url } from '../encoding.js';
import { parseIdentifier, POINT_BYTES, type ParsedId } from './group.js';
import { bigintToScalar, invertPublic, isCanonicalScalar, L, SCALAR_BYTES, scalarMul } from './scalar.js';
import { sodium } from './sodium.js';

/**
 * Why a refresh, repair or reshare step refused its input: the parameters do not fit the key set
 * (`invalid_parameters`), a dealt share does not match its dealer's commitment (`share_invalid`,
 * `culprit` names the dealer), a commitment is malformed or not the dealer's own share
 * (`commitment_invalid`), or the result does not have the group key or the verifying share it
 * must have (`group_mismatch`).
 */
export type ShareSchemeCode = 'invalid_parameters' | 'share_invalid' | 'commitment_invalid' | 'group_mismatch';

export interface ShareSchemeErrorOptions extends ZtmintErrorOptions {
  /** Identifier (hex) of the participant whose message failed a check, when one is to blame. */
  culprit?: string;
}

export class ShareSchemeError extends ZtmintError<ShareSchemeCode> {
  readonly culprit: string | undefined;

  constructor(code: ShareSchemeCode, message: string, options: ShareSchemeErrorOptions = {}) {
    super(code, message, options);
    this.culprit = options.culprit;
  }
}

/** Supplies `n` random bytes (tests pass a seeded one); default libsodium's CSPRNG. */
export type ScalarRng = (n: number) => Uint8Array;

/** A uniformly random scalar: 64 random bytes reduced mod L. */
export function randomScalar(rng?: ScalarRng): Uint8Array {
  const wide = new Uint8Array(64);
  if (rng) {
    const bytes = rng(64);
    if (!(bytes instanceof Uint8Array) || bytes.length !== 64) throw new TypeError('rng must return 64 bytes');
    wide.set(bytes);
  } else {
    sodium.randombytes_buf(wide);
  }
  const out = new Uint8Array(SCALAR_BYTES);
  sodium.crypto_core_ed25519_scalar_reduce(out, wide);
  sodium.sodium_memzero(wide);
  return out;
}

/** f(x) = Σ coefficients[k]·x^k (Horner), constant time in the coefficients. */
export function evaluatePolynomial(coefficients: readonly Uint8Array[], x: ParsedId): Uint8Array {
  const acc = new Uint8Array(SCALAR_BYTES);
  const tmp = new Uint8Array(SCALAR_BYTES);
  for (let k = coefficients.length - 1; k >= 0; k--) {
    scalarMul(tmp, acc, x.bytes);
    sodium.crypto_core_ed25519_scalar_add(acc, tmp, coefficients[k]!);
  }
  sodium.sodium_memzero(tmp);
  return acc;
}

/** s·G for a secret, non-zero scalar (libsodium, constant time). */
function basePoint(scalar: Uint8Array): Uint8Array {
  const out = new Uint8Array(POINT_BYTES);
  sodium.crypto_scalarmult_ed25519_base_noclamp(out, scalar);
  return out;
}

/** Feldman commitment to each coefficient: coefficients[k]·G. */
export function commitPolynomial(coefficients: readonly Uint8Array[]): Uint8Array[] {
  return coefficients.map(basePoint);
}

/** A commitment element from the wire: canonical, in the prime-order subgroup, not the identity. */
export function checkElement(point: unknown, what: string, culprit?: string): Uint8Array {
  if (!(point instanceof Uint8Array) || point.length !== POINT_BYTES || !sodium.crypto_core_ed25519_is_valid_point(point)) {
    throw new ShareSchemeError('commitment_invalid', `${what} is not a valid group element`, { culprit });
  }
  return point;
}

/** A scalar from the wire: 32 bytes, canonical (< L). */
export function checkScalar(scalar: unknown, what: string, culprit?: string): Uint8Array {
  if (!(scalar instanceof Uint8Array) || !isCanonicalScalar(scalar)) {
    throw new ShareSchemeError('share_invalid', `${what} is not a canonical 32-byte scalar`, { culprit });
  }
  return scalar;
}

type Point = InstanceType<typeof ed25519.Point>;

const point = (bytes: Uint8Array): Point => ed25519.Point.fromBytes(bytes);

/** Σ terms[k]·x^k for public points: what a share at x must equal under a Feldman commitment. */
export function evaluateCommitment(terms: readonly Uint8Array[], x: bigint): Point {
  let acc = ed25519.Point.ZERO;
  let power = 1n;
  for (const term of terms) {
    acc = acc.add(point(term).multiplyUnsafe(power));
    power = (power * x) % L;
  }
  return acc;
}

/** Σ of public points (commitments, verifying shares). */
export function sumPoints(points: readonly Uint8Array[]): Point {
  return points.reduce((acc, p) => acc.add(point(p)), ed25519.Point.ZERO);
}

export function pointBytes(p: Point): Uint8Array {
  return new Uint8Array(p.toBytes());
}

/** share·G equals the point (both sides public once the share has been received). */
export function shareMatches(share: Uint8Array, expected: Point): boolean {
  if (sodium.sodium_is_zero(share)) return expected.is0();
  return expected.equals(point(basePoint(share)));
}

/** Σ of secret scalars, constant time. */
export function sumScalars(scalars: readonly Uint8Array[]): Uint8Array {
  const acc = new Uint8Array(SCALAR_BYTES);
  for (const s of scalars) sodium.crypto_core_ed25519_scalar_add(acc, acc, s);
  return acc;
}

/** scalar·public, constant time in `scalar`. */
export function mulScalar(scalar: Uint8Array, lambda: bigint): Uint8Array {
  const out = new Uint8Array(SCALAR_BYTES);
  scalarMul(out, scalar, bigintToScalar(lambda));
  return out;
}

/**
 * The Lagrange coefficient of `i` in `set`, evaluated at x: Π_{j≠i} (x − x_j)/(x_i − x_j) mod L.
 * At x = 0 it is RFC 9591's derive_interpolating_value; at x = a lost participant's identifier,
 * the ζ_i of the repairable threshold scheme. Public values only.
 */
export function lagrangeAt(set: readonly ParsedId[], i: ParsedId, x: bigint): bigint {
  let num = 1n;
  let den = 1n;
  for (const j of set) {
    if (j.hex === i.hex) continue;
    num = (num * (((x - j.value) % L) + L)) % L;
    den = (den * (((i.value - j.value) % L) + L)) % L;
  }
  return (num * invertPublic(den)) % L;
}

/** Parses and checks a set of identifiers: canonical, distinct, sorted by value (for every party to agree). */
export function identifierSet(ids: readonly string[], what: string): ParsedId[] {
  if (!Array.isArray(ids) || ids.length === 0) throw new ShareSchemeError('invalid_parameters', `${what} must be a non-empty list of identifiers`);
  let parsed: ParsedId[];
  try {
    parsed = ids.map((id) => parseIdentifier(id));
  } catch (err) {
    throw new ShareSchemeError('invalid_parameters', `${what}: ${(err as Error).message}`, { cause: err });
  }
  const sorted = [...parsed].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.hex === sorted[k - 1]!.hex) throw new ShareSchemeError('invalid_parameters', `${what} lists an identifier twice`);
  }
  return sorted;
}

/** The member of `set` with this identifier, or an invalid_parameters error. */
export function member(set: readonly ParsedId[], id: string, what: string): ParsedId {
  const found = set.find((p) => p.hex === id);
  if (!found) throw new ShareSchemeError('invalid_parameters', `${what} is not in the set`);
  return found;
}

/**
 * The public key set (group.json's format) of a degree-(threshold−1) sharing whose summed VSS
 * commitment is `commitments` (commitments[0] = the group key): each verifying share is the
 * commitment evaluated at its identifier.
 */
export function groupFromCommitments(commitments: readonly Uint8Array[], threshold: number, identifiers: readonly ParsedId[]): GroupInfo {
  return {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(commitments[0]!),
    threshold,
    signers: identifiers.length,
    identifiers: identifiers.map((id) => id.hex),
    verifying_shares: Object.fromEntries(identifiers.map((id) => [id.hex, b64url(pointBytes(evaluateCommitment(commitments, id.value)))])),
    commitments: commitments.map((c) => b64url(c)),
  };
}

/** The key set's commitments, group key first, decoded and checked. */
export function groupCommitments(group: GroupInfo): Uint8Array[] {
  if (!Array.isArray(group.commitments) || group.commitments.length !== group.threshold) {
    throw new ShareSchemeError('invalid_parameters', `the key set has ${String(group.commitments?.length)} VSS commitments, its threshold is ${group.threshold}`);
  }
  const out = group.commitments.map((c, k) => {
    let bytes: Uint8Array;
    try {
      bytes = fromB64url(c);
    } catch {
      throw new ShareSchemeError('invalid_parameters', `key set commitment ${k} is not base64url`);
    }
    return checkElement(bytes, `key set commitment ${k}`);
  });
  if (group.group_public_key !== group.commitments[0]) throw new ShareSchemeError('invalid_parameters', "the key set's group key is not its commitments[0]");
  return out;
}
