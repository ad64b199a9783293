// FROST(Ed25519, SHA-512), RFC 9591, as one interface. Today it is @noble/curves' ed25519_FROST;
// the wire carries bytes as base64url and identifiers as noble's canonical hex scalars.
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { b64url, fromB64url } from './encoding.js';

export const CIPHERSUITE = 'FROST-ED25519-SHA512-v1';
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
    verifyingShares: Object.fromEntries(
      Object.entries(group.verifying_shares).map(([id, share]) => [id, fromB64url(share)]),
    ),
  };
}

export function commitmentToWire(c: { identifier: string; hiding: Uint8Array; binding: Uint8Array }): WireCommitment {
  return { identifier: c.identifier, hiding: b64url(c.hiding), binding: b64url(c.binding) };
}

export function commitmentFromWire(c: WireCommitment) {
  return { identifier: c.identifier, hiding: fromB64url(c.hiding), binding: fromB64url(c.binding) };
}

/** Round 1 (RFC 9591 §5.1): fresh nonces and their public commitments. */
export function commit(share: SecretShare, rng?: (n?: number) => Uint8Array) {
  const out = rng ? frost.commit(share, rng) : frost.commit(share);
  return { nonces: out.nonces as Nonces, commitment: commitmentToWire(out.commitments) };
}

/** Round 2 (RFC 9591 §5.2). Consumes (zeroes) `nonces`. */
export function signShare(
  share: SecretShare,
  group: GroupInfo,
  nonces: Nonces,
  commitments: WireCommitment[],
  message: Uint8Array,
): Uint8Array {
  return frost.signShare(share, toFrostPublic(group), nonces, commitments.map(commitmentFromWire), message);
}

/** RFC 9591 §5.4: is one signer's share valid? Used to name a cheating signer. */
export function verifyShare(
  group: GroupInfo,
  commitments: WireCommitment[],
  message: Uint8Array,
  identifier: Identifier,
  share: Uint8Array,
): boolean {
  try {
    return frost.verifyShare(toFrostPublic(group), commitments.map(commitmentFromWire), message, identifier, share);
  } catch {
    return false;
  }
}

export class AggregationError extends Error {
  constructor(readonly culprits: Identifier[]) {
    super(culprits.length ? `invalid signature shares from ${culprits.join(', ')}` : 'aggregation failed');
    this.name = 'AggregationError';
  }
}

/** RFC 9591 §5.3: sum the shares; on failure name the signers whose shares do not verify. */
export function aggregate(
  group: GroupInfo,
  commitments: WireCommitment[],
  message: Uint8Array,
  shares: Record<Identifier, Uint8Array>,
): Uint8Array {
  try {
    return frost.aggregate(toFrostPublic(group), commitments.map(commitmentFromWire), message, shares);
  } catch (err) {
    const culprits = (err as { cheaters?: Identifier[] }).cheaters ?? [];
    throw new AggregationError(culprits);
  }
}
