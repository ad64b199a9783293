// FROST(Ed25519, SHA-512) (RFC 9591, FROST-ED25519-SHA512-v1) rounds 1 and 2, share verification
// and aggregation on libsodium primitives (sodium-native).
//
// Secret-dependent work is constant time: nonce generation (SHA-512 + libsodium reduce), the
// nonce commitments and the signer's own commitment term (libsodium fixed-base scalarmult),
// every scalar product or sum with a secret (scalar.ts' scalarMul, libsodium scalar_add), and
// comparisons of secret-derived bytes (sodium_memcmp / sodium_is_zero). Public data (other
// signers' commitments, binding factors, the challenge, signature shares during aggregation)
// may take variable time; it still goes through libsodium, which validates every element.
//
// Byte-for-byte the same results as @noble/curves' ed25519_FROST (test/frost-differential.test.ts).
import { ZtmintError, type ZtmintErrorOptions } from '../../errors/ztmint-error.js';
import type { GroupInfo, Nonces, SecretShare, WireCommitment } from '../ciphersuite.js';
import { b64url } from '../encoding.js';
import { decodePoint, groupState, lagrangeCoefficients, parseIdentifier, POINT_BYTES, verifyingShare, type GroupState, type ParsedId } from './group.js';
import { hashToScalar, isCanonicalScalar, SCALAR_BYTES, scalarMul } from './scalar.js';
import { sodium } from './sodium.js';

const SUITE = 'FROST-ED25519-SHA512-v1';
const ascii = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const H1_PREFIX = ascii(`${SUITE}rho`);
const H3_PREFIX = ascii(`${SUITE}nonce`);
const H4_PREFIX = ascii(`${SUITE}msg`);
const H5_PREFIX = ascii(`${SUITE}com`);
/** Encoding of the identity element (x = 0, y = 1). */
const IDENTITY = new Uint8Array(POINT_BYTES);
IDENTITY[0] = 1;

/**
 * Why aggregation failed: the shares do not match the commitment list (`share_set_mismatch`),
 * some shares do not verify (`invalid_shares`, culprits named), or every share verifies but the
 * summed signature does not (`signature_invalid`).
 */
export type FrostAggregateCode = 'share_set_mismatch' | 'invalid_shares' | 'signature_invalid';

export interface FrostAggregateFailureOptions extends ZtmintErrorOptions {
  /** Identifiers (hex) of the signers whose shares do not verify; may be empty. */
  culprits?: string[];
}

/** Aggregation failed; `culprits` are the signers whose shares do not verify (may be empty). */
export class FrostAggregateFailure extends ZtmintError<FrostAggregateCode> {
  readonly culprits: string[];

  constructor(code: FrostAggregateCode, message: string, options: FrostAggregateFailureOptions = {}) {
    super(code, message, options);
    this.culprits = options.culprits ?? [];
  }
}

function shareSetMismatch(what: string): FrostAggregateFailure {
  return new FrostAggregateFailure('share_set_mismatch', `aggregation failed: ${what}`);
}

export type Rng = (n?: number) => Uint8Array;

// ---------------------------------------------------------------------------------------------
// argument checks

function checkSecret(share: SecretShare): void {
  if (typeof share !== 'object' || share === null || typeof share.identifier !== 'string') {
    throw new TypeError('secret share must be {identifier, signingShare}');
  }
  if (!(share.signingShare instanceof Uint8Array) || !isCanonicalScalar(share.signingShare)) {
    throw new Error('signing share must be a canonical 32-byte scalar');
  }
}

function checkNonces(nonces: Nonces): void {
  if (typeof nonces !== 'object' || nonces === null) throw new TypeError('nonces must be {hiding, binding}');
  for (const n of [nonces.hiding, nonces.binding]) {
    if (!(n instanceof Uint8Array) || n.length !== SCALAR_BYTES) throw new Error('nonces must be 32-byte scalars');
  }
}

function checkMessage(message: Uint8Array): void {
  if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
}

function equalPublic(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// round 1

/** Round-1 outputs of this process, so round 2 need not recompute the commitments (2 base mults). */
interface Issued {
  binding: Uint8Array;
  /** SHA-512(hiding || binding) at commit time: the cached commitments only count for unchanged nonces. */
  tag: Uint8Array;
  hidingPoint: Uint8Array;
  bindingPoint: Uint8Array;
}
const issued = new WeakMap<Uint8Array, Issued>();

function nonceTag(nonces: Nonces): Uint8Array {
  const both = new Uint8Array(2 * SCALAR_BYTES);
  both.set(nonces.hiding);
  both.set(nonces.binding, SCALAR_BYTES);
  const tag = new Uint8Array(64);
  sodium.crypto_hash_sha512(tag, both);
  sodium.sodium_memzero(both);
  return tag;
}

/**
 * RFC 9591 §4.1 nonce_generate: H3(random_bytes(32) || SerializeScalar(secret)), for the hiding
 * and then the binding nonce (the order in which `rng`, when given, is asked for bytes).
 */
function generateNonces(nonces: Nonces, secret: Uint8Array, rng: Rng | undefined): void {
  const p = H3_PREFIX.length;
  const input = new Uint8Array(p + 2 * SCALAR_BYTES);
  const random = new Uint8Array(64);
  try {
    if (rng) {
      for (const half of [0, 32]) {
        const bytes = rng(32);
        if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw new Error('rng must return 32 bytes');
        random.set(bytes, half);
      }
    } else {
      sodium.randombytes_buf(random);
    }
    input.set(H3_PREFIX);
    input.set(secret, p + 32);
    input.set(random.subarray(0, 32), p);
    hashToScalar(nonces.hiding, input);
    input.set(random.subarray(32), p);
    hashToScalar(nonces.binding, input);
  } finally {
    sodium.sodium_memzero(input);
    sodium.sodium_memzero(random);
  }
}

/** Round 1 (RFC 9591 §5.1): fresh nonces and their commitments. */
export function commit(share: SecretShare, rng?: Rng): { nonces: Nonces; commitment: WireCommitment } {
  checkSecret(share);
  if (rng !== undefined && typeof rng !== 'function') throw new TypeError('rng must be a function');
  const nonces = { hiding: new Uint8Array(SCALAR_BYTES), binding: new Uint8Array(SCALAR_BYTES) };
  generateNonces(nonces, share.signingShare, rng);
  const hidingPoint = new Uint8Array(POINT_BYTES);
  const bindingPoint = new Uint8Array(POINT_BYTES);
  sodium.crypto_scalarmult_ed25519_base_noclamp(hidingPoint, nonces.hiding);
  sodium.crypto_scalarmult_ed25519_base_noclamp(bindingPoint, nonces.binding);
  issued.set(nonces.hiding, { binding: nonces.binding, tag: nonceTag(nonces), hidingPoint, bindingPoint });
  return { nonces, commitment: { identifier: share.identifier, hiding: b64url(hidingPoint), binding: b64url(bindingPoint) } };
}

function ownCommitment(nonces: Nonces): { hidingPoint: Uint8Array; bindingPoint: Uint8Array } {
  const known = issued.get(nonces.hiding);
  if (known && known.binding === nonces.binding && sodium.sodium_memcmp(nonceTag(nonces), known.tag)) return known;
  const hidingPoint = new Uint8Array(POINT_BYTES);
  const bindingPoint = new Uint8Array(POINT_BYTES);
  sodium.crypto_scalarmult_ed25519_base_noclamp(hidingPoint, nonces.hiding);
  sodium.crypto_scalarmult_ed25519_base_noclamp(bindingPoint, nonces.binding);
  return { hidingPoint, bindingPoint };
}

// ---------------------------------------------------------------------------------------------
// the commitment list (public)

interface Entry {
  id: ParsedId;
  /** D_i, E_i: decoded but not yet validated. */
  hiding: Uint8Array;
  binding: Uint8Array;
  /** binding factor rho_i */
  rho: Uint8Array;
  /** D_i + rho_i·E_i, once computed (both validated on the way). */
  term?: Uint8Array;
}

/** Decodes the list and sorts it by identifier (RFC 9591 §5: commitment lists are sorted). */
function decodeList(commitments: readonly WireCommitment[]): Entry[] {
  if (!Array.isArray(commitments)) throw new TypeError('commitments must be an array');
  const entries: Entry[] = commitments.map((c: WireCommitment) => {
    if (typeof c !== 'object' || c === null) throw new TypeError('commitment must be an object');
    return {
      id: parseIdentifier(c.identifier),
      hiding: decodePoint(c.hiding),
      binding: decodePoint(c.binding),
      rho: new Uint8Array(SCALAR_BYTES),
    };
  });
  entries.sort((a, b) => (a.id.value < b.id.value ? -1 : a.id.value > b.id.value ? 1 : 0));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.id.value === entries[i - 1]!.id.value) throw new Error('duplicate identifier in commitment list');
  }
  return entries;
}

const sha512 = (input: Uint8Array): Uint8Array => {
  const out = new Uint8Array(64);
  sodium.crypto_hash_sha512(out, input);
  return out;
};

/** RFC 9591 §4.4 compute_binding_factors: rho_i = H1(PK || H4(msg) || H5(encoded list) || id_i). */
function computeBindingFactors(gpk: Uint8Array, message: Uint8Array, sorted: Entry[]): void {
  const encoded = new Uint8Array(H5_PREFIX.length + sorted.length * 96);
  encoded.set(H5_PREFIX);
  let off = H5_PREFIX.length;
  for (const e of sorted) {
    encoded.set(e.id.bytes, off);
    encoded.set(e.hiding, off + 32);
    encoded.set(e.binding, off + 64);
    off += 96;
  }
  const msgInput = new Uint8Array(H4_PREFIX.length + message.length);
  msgInput.set(H4_PREFIX);
  msgInput.set(message, H4_PREFIX.length);

  const p = H1_PREFIX.length;
  const rhoInput = new Uint8Array(p + 32 + 64 + 64 + 32);
  rhoInput.set(H1_PREFIX);
  rhoInput.set(gpk, p);
  rhoInput.set(sha512(msgInput), p + 32);
  rhoInput.set(sha512(encoded), p + 96);
  for (const e of sorted) {
    rhoInput.set(e.id.bytes, p + 160);
    hashToScalar(e.rho, rhoInput);
  }
}

/** D_i + rho_i·E_i for another signer's commitment, validating both elements (RFC 9591 §3.1). */
function termOf(e: Entry): Uint8Array {
  if (e.term) return e.term;
  if (!sodium.crypto_core_ed25519_is_valid_point(e.hiding)) throw new Error('invalid commitment: hiding is not a prime-order group element');
  const term = new Uint8Array(POINT_BYTES);
  try {
    // Validates E_i (canonical, on curve, not small order, prime-order subgroup) and multiplies.
    sodium.crypto_scalarmult_ed25519_noclamp(term, e.rho, e.binding);
  } catch {
    throw new Error('invalid commitment: binding is not a prime-order group element');
  }
  sodium.crypto_core_ed25519_add(term, term, e.hiding);
  e.term = term;
  return term;
}

/** RFC 9591 §4.5 compute_group_commitment over every entry. */
function groupCommitment(sorted: Entry[]): Uint8Array {
  const R = termOf(sorted[0]!).slice();
  for (let i = 1; i < sorted.length; i++) sodium.crypto_core_ed25519_add(R, R, termOf(sorted[i]!));
  return R;
}

/** RFC 9591 §4.2 derive_interpolating_value (cached per signer set). */
const lambdaOf = (sorted: Entry[], e: Entry): Uint8Array => lagrangeCoefficients(sorted.map((x) => x.id)).get(e.id.hex)!;

/** RFC 9591 §4.6 compute_challenge: H2(R || PK || msg), H2 undecorated for Ed25519. */
function challenge(R: Uint8Array, gpk: Uint8Array, message: Uint8Array): Uint8Array {
  const input = new Uint8Array(64 + message.length);
  input.set(R);
  input.set(gpk, 32);
  input.set(message, 64);
  const c = new Uint8Array(SCALAR_BYTES);
  hashToScalar(c, input);
  return c;
}

// ---------------------------------------------------------------------------------------------
// round 2

/** Round 2 (RFC 9591 §5.2). Consumes (zeroes) `nonces` on success. */
export function signShare(share: SecretShare, group: GroupInfo, nonces: Nonces, commitments: readonly WireCommitment[], message: Uint8Array): Uint8Array {
  checkSecret(share);
  const state = groupState(group);
  checkNonces(nonces);
  checkMessage(message);
  const sorted = decodeList(commitments);
  if (sorted.length < state.min || sorted.length > state.max) throw new Error(`Wrong number of commitments=${sorted.length}`);
  if (sodium.sodium_is_zero(nonces.hiding) || sodium.sodium_is_zero(nonces.binding)) throw new Error('signing nonces already used');
  if (!isCanonicalScalar(nonces.hiding) || !isCanonicalScalar(nonces.binding)) throw new Error('nonces must be canonical scalars');

  // The coordinator must hand back exactly this signer's round-1 commitment.
  const mine = sorted.find((e) => e.id.hex === share.identifier);
  if (!mine) throw new Error('missing signer commitment');
  const own = ownCommitment(nonces);
  if (!equalPublic(mine.hiding, own.hidingPoint) || !equalPublic(mine.binding, own.bindingPoint)) {
    throw new Error('incorrect signer commitment');
  }

  computeBindingFactors(state.gpk, message, sorted);
  // Everyone else's terms first: invalid elements are refused before any secret is touched.
  for (const e of sorted) if (e !== mine) termOf(e);

  const t = new Uint8Array(SCALAR_BYTES);
  const k = new Uint8Array(SCALAR_BYTES);
  try {
    // k = d + rho·e, and our own term D + rho·E = k·G with one constant-time fixed-base mult.
    scalarMul(t, mine.rho, nonces.binding);
    sodium.crypto_core_ed25519_scalar_add(k, nonces.hiding, t);
    const R = new Uint8Array(POINT_BYTES);
    sodium.crypto_scalarmult_ed25519_base_noclamp(R, k);
    for (const e of sorted) if (e !== mine) sodium.crypto_core_ed25519_add(R, R, e.term!);

    const c = challenge(R, state.gpk, message);
    const lambdaC = new Uint8Array(SCALAR_BYTES);
    scalarMul(lambdaC, lambdaOf(sorted, mine), c);
    // z = d + rho·e + lambda·c·s
    scalarMul(t, lambdaC, share.signingShare);
    const z = new Uint8Array(SCALAR_BYTES);
    sodium.crypto_core_ed25519_scalar_add(z, k, t);

    issued.delete(nonces.hiding);
    nonces.hiding.fill(0);
    nonces.binding.fill(0);
    return z;
  } finally {
    sodium.sodium_memzero(k);
    sodium.sodium_memzero(t);
  }
}

// ---------------------------------------------------------------------------------------------
// share verification and aggregation (public data)

/** RFC 9591 §5.4: z_i·G == D_i + rho_i·E_i + (c·lambda_i)·Y_i. Needs e.term (groupCommitment). */
function shareMatches(state: GroupState, group: GroupInfo, sorted: Entry[], e: Entry, c: Uint8Array, z: Uint8Array): boolean {
  const Y = verifyingShare(state, group, e.id.hex);
  const lhs = new Uint8Array(POINT_BYTES);
  if (sodium.sodium_is_zero(z)) lhs.set(IDENTITY);
  else sodium.crypto_scalarmult_ed25519_base_noclamp(lhs, z);
  const lambdaC = new Uint8Array(SCALAR_BYTES);
  scalarMul(lambdaC, lambdaOf(sorted, e), c);
  const rhs = new Uint8Array(POINT_BYTES);
  sodium.crypto_scalarmult_ed25519_noclamp(rhs, lambdaC, Y);
  sodium.crypto_core_ed25519_add(rhs, rhs, e.term!);
  return equalPublic(lhs, rhs);
}

const wellFormedShare = (z: unknown): z is Uint8Array => z instanceof Uint8Array && isCanonicalScalar(z);

/** RFC 9591 §5.4. Throws on malformed input (the caller maps that to `false`). */
export function verifyShare(group: GroupInfo, commitments: readonly WireCommitment[], message: Uint8Array, identifier: string, share: Uint8Array): boolean {
  const state = groupState(group);
  checkMessage(message);
  parseIdentifier(identifier);
  if (!wellFormedShare(share)) throw new Error('signature share must be a canonical 32-byte scalar');
  const sorted = decodeList(commitments);
  const e = sorted.find((x) => x.id.hex === identifier);
  if (!e) throw new Error('cannot find identifier commitment');
  verifyingShare(state, group, identifier);
  computeBindingFactors(state.gpk, message, sorted);
  const R = groupCommitment(sorted);
  return shareMatches(state, group, sorted, e, challenge(R, state.gpk, message), share);
}

/**
 * RFC 9591 §5.3: sum the shares and verify the signature once (one variable-base check). Only if
 * that fails is every share verified (§5.4), to name the culprits.
 * Throws FrostAggregateFailure (culprits possibly empty), or a plain Error for invalid elements.
 */
export function aggregate(
  group: GroupInfo,
  commitments: readonly WireCommitment[],
  message: Uint8Array,
  shares: Record<string, Uint8Array>,
  /** The one check of the summed signature (default: libsodium); per-share checks only if it fails. */
  verify: (signature: Uint8Array, message: Uint8Array) => boolean = (sig, msg) => sodium.crypto_sign_verify_detached(sig, msg, groupState(group).gpk),
): Uint8Array {
  const state = groupState(group);
  checkMessage(message);
  if (!Array.isArray(commitments)) throw new TypeError('commitments must be an array');
  if (typeof shares !== 'object' || shares === null) throw new TypeError('shares must be an object');
  const n = commitments.length;
  if (n < state.min || n > state.max) throw shareSetMismatch(`${n} commitments, need ${state.min} to ${state.max}`);
  const ids = commitments.map((c) => (c as WireCommitment | null)?.identifier);
  if (new Set(ids).size !== n) throw shareSetMismatch('an identifier is repeated in the commitment list');
  if (Object.keys(shares).length !== n) throw shareSetMismatch('not one share per commitment');
  const verifying = group.verifying_shares ?? {};
  for (const id of ids) {
    if (typeof id !== 'string' || !Object.hasOwn(shares, id) || !Object.hasOwn(verifying, id)) throw shareSetMismatch('a share is missing or from a non-member');
  }
  const sorted = decodeList(commitments);
  computeBindingFactors(state.gpk, message, sorted);
  const R = groupCommitment(sorted);

  const sum = new Uint8Array(SCALAR_BYTES);
  let wellFormed = true;
  for (const id of ids as string[]) {
    const z = shares[id];
    if (!wellFormedShare(z)) {
      wellFormed = false;
      break;
    }
    sodium.crypto_core_ed25519_scalar_add(sum, sum, z);
  }
  if (wellFormed) {
    const signature = new Uint8Array(64);
    signature.set(R);
    signature.set(sum, 32);
    if (verify(signature, message)) return signature;
  }

  // Something is wrong: find out who.
  const c = challenge(R, state.gpk, message);
  const byId = new Map(sorted.map((e) => [e.id.hex, e]));
  const culprits: string[] = [];
  for (const id of ids as string[]) {
    const z = shares[id];
    if (!wellFormedShare(z) || !shareMatches(state, group, sorted, byId.get(id)!, c, z)) culprits.push(id);
  }
  throw culprits.length
    ? new FrostAggregateFailure('invalid_shares', `invalid signature shares from ${culprits.join(', ')}`, { culprits })
    : new FrostAggregateFailure('signature_invalid', 'aggregation failed: every share verifies but the signature does not');
}
