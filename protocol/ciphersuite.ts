// FROST(Ed25519, SHA-512), RFC 9591, as one interface. Signing (commit, signShare, verifyShare,
// aggregate) runs on libsodium (protocol/frost/, constant time wherever a secret is involved);
// @noble/curves' ed25519_FROST stays exported as `frost` for keygen/DKG and as the test oracle.
// The wire carries bytes as base64url and identifiers as noble's canonical hex scalars.
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { fromB64url } from './encoding.js';
import * as sodiumFrost from './frost/sign.js';
import { ZtmintError, type ZtmintErrorOptions } from '../errors/ztmint-error.js';

export const CIPHERSUITE = 'FROST-ED25519-SHA512-v1';
/** noble's FROST: key generation (trusted dealer, DKG) and the reference the sodium code is tested against. */
export const frost = ed25519_FROST;

export type Identifier = string;

/** The public half of a key set: what `<state>/group.json` holds. */
export interface GroupInfo {
  ciphersuite: typeof CIPHERSUITE;
  group_public_key: string;
  threshold: number;
  signers: number;
  identifiers: Identifier[];
  verifying_shares: Record<Identifier, string>;
  /** VSS commitments (public); commitments[0] is the group public key. */
  commitments: string[];
}

export interface WireCommitment {
  identifier: Identifier;
  hiding: string;
  binding: string;
}

export interface SecretShare {
  identifier: Identifier;
  signingShare: Uint8Array;
}

export interface Nonces {
  hiding: Uint8Array;
  binding: Uint8Array;
}

export function identifierFromIndex(index: number): Identifier {
  return frost.Identifier.fromNumber(index);
}

export function toFrostPublic(group: GroupInfo) {
  return {
    signers: { min: group.threshold, max: group.signers },
    commitments: group.commitments.map(fromB64url),
    verifyingShares: Object.fromEntries(Object.entries(group.verifying_shares).map(([id, share]) => [id, fromB64url(share)])),
  };
}

export function commitmentFromWire(c: WireCommitment) {
  return { identifier: c.identifier, hiding: fromB64url(c.hiding), binding: fromB64url(c.binding) };
}

/**
 * Round 1 (RFC 9591 §5.1): fresh nonces and their public commitments. `rng` (tests only) supplies
 * the 32 random bytes of each nonce, hiding first: nonce = H3(random || signing share).
 */
export function commit(share: SecretShare, rng?: (n?: number) => Uint8Array): { nonces: Nonces; commitment: WireCommitment } {
  return sodiumFrost.commit(share, rng);
}

/**
 * Round 2 (RFC 9591 §5.2). Consumes (zeroes) `nonces`; refuses all-zero nonces, a commitment list
 * whose entry for this signer is not its own round-1 commitment, and invalid group elements.
 */
export function signShare(share: SecretShare, group: GroupInfo, nonces: Nonces, commitments: WireCommitment[], message: Uint8Array): Uint8Array {
  return sodiumFrost.signShare(share, group, nonces, commitments, message);
}

/** RFC 9591 §5.4: is one signer's share valid? Used to name a cheating signer. */
export function verifyShare(group: GroupInfo, commitments: WireCommitment[], message: Uint8Array, identifier: Identifier, share: Uint8Array): boolean {
  try {
    return sodiumFrost.verifyShare(group, commitments, message, identifier, share);
  } catch {
    return false;
  }
}

/** The FROST failure codes, and `malformed_input` for shares or commitments that do not decode. */
export type AggregationErrorCode = sodiumFrost.FrostAggregateCode | 'malformed_input';

export interface AggregationErrorOptions extends ZtmintErrorOptions {
  /** Signers whose shares do not verify (may be empty). */
  culprits?: Identifier[];
}

export class AggregationError extends ZtmintError<AggregationErrorCode> {
  readonly culprits: Identifier[];

  constructor(code: AggregationErrorCode, message: string, options: AggregationErrorOptions = {}) {
    super(code, message, options);
    this.culprits = options.culprits ?? [];
  }
}

/**
 * RFC 9591 §5.3: sum the shares and verify the signature once; only if that fails, verify each
 * share (§5.4) and name the signers whose shares do not verify (a malformed share counts too).
 */
export function aggregate(
  group: GroupInfo,
  commitments: WireCommitment[],
  message: Uint8Array,
  shares: Record<Identifier, Uint8Array>,
  /** Replaces the default libsodium check of the final signature (e.g. an independent verifier). */
  verify?: (signature: Uint8Array, message: Uint8Array) => boolean,
): Uint8Array {
  try {
    return sodiumFrost.aggregate(group, commitments, message, shares, verify);
  } catch (err) {
    if (err instanceof sodiumFrost.FrostAggregateFailure) throw new AggregationError(err.code, err.message, { culprits: err.culprits, cause: err });
    throw new AggregationError('malformed_input', 'aggregation failed: a commitment or share does not decode', { cause: err });
  }
}
