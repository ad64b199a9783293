// Public data, parsed once: identifiers, the group's key and verifying shares (validated as
// group elements once, per GroupInfo object and per encoding), and Lagrange coefficients per
// signer set. Callers never get these cached arrays: they are only read.
import type { GroupInfo } from '../ciphersuite.js';
import { fromB64url } from '../encoding.js';
import { bigintToScalar, invertPublic, L } from './scalar.js';
import { sodium } from './sodium.js';

export const POINT_BYTES = 32;

export interface ParsedId {
  /** noble's canonical form: 64 lowercase hex digits of the 32-byte little-endian scalar. */
  hex: string;
  bytes: Uint8Array;
  value: bigint;
}

const CANONICAL_ID = /^[0-9a-f]{64}$/;
const ids = new Map<string, ParsedId>();
const MAX_CACHED_IDS = 4096;

/** RFC 9591 identifiers: non-zero scalars, in noble's canonical hex. */
export function parseIdentifier(id: unknown): ParsedId {
  if (typeof id !== 'string') throw new TypeError('identifier must be a string');
  const cached = ids.get(id);
  if (cached) return cached;
  if (!CANONICAL_ID.test(id)) throw new Error('expected canonical identifier hex');
  const bytes = new Uint8Array(Buffer.from(id, 'hex'));
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (value === 0n || value >= L) throw new Error('invalid identifier');
  const parsed = { hex: id, bytes, value };
  if (ids.size >= MAX_CACHED_IDS) ids.clear();
  ids.set(id, parsed);
  return parsed;
}

/** 32 bytes from strict base64url; whether it is a valid group element is checked by the caller. */
export function decodePoint(text: unknown): Uint8Array {
  const bytes = fromB64url(text as string);
  if (bytes.length !== POINT_BYTES) throw new Error('invalid point encoding: expected 32 bytes');
  return bytes;
}

/** RFC 9591 DeserializeElement: canonical, on the curve, not the identity, in the prime-order subgroup. */
function decodeElement(text: unknown): Uint8Array {
  const bytes = decodePoint(text);
  if (!sodium.crypto_core_ed25519_is_valid_point(bytes)) throw new Error('invalid point: not a prime-order group element');
  return bytes;
}

const groupElements = new Map<string, Uint8Array>();
const MAX_CACHED_ELEMENTS = 1024;

/** decodeElement for key-set data (group key, verifying shares), which repeats call after call. */
function decodeGroupElement(text: unknown): Uint8Array {
  if (typeof text === 'string') {
    const known = groupElements.get(text);
    if (known) return known;
  }
  const bytes = decodeElement(text);
  if (groupElements.size >= MAX_CACHED_ELEMENTS) groupElements.delete(groupElements.keys().next().value!);
  groupElements.set(text as string, bytes);
  return bytes;
}

export interface GroupState {
  /** min = threshold, max = signers */
  min: number;
  max: number;
  /** commitments[0] as given, to notice an edited GroupInfo. */
  gpkText: string;
  /** The group public key (validated). */
  gpk: Uint8Array;
  /** Verifying shares validated so far, with the text they came from. */
  shares: Map<string, { text: string; bytes: Uint8Array }>;
}

const groups = new WeakMap<object, GroupState>();

function checkSigners(min: unknown, max: unknown): void {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || (min as number) < 2 || (max as number) < 2 || (min as number) > (max as number)) {
    throw new Error(`Wrong signers info: min=${String(min)} max=${String(max)}`);
  }
}

/** The parsed public half of a key set; reparsed if the object's key or quorum changed. */
export function groupState(group: GroupInfo): GroupState {
  if (typeof group !== 'object' || group === null) throw new TypeError('group must be an object');
  const gpkText = Array.isArray(group.commitments) ? group.commitments[0] : undefined;
  let state = groups.get(group);
  if (state && state.gpkText === gpkText && state.min === group.threshold && state.max === group.signers) return state;
  checkSigners(group.threshold, group.signers);
  if (typeof gpkText !== 'string') throw new Error('group has no commitments (commitments[0] is the group public key)');
  state = { min: group.threshold, max: group.signers, gpkText, gpk: decodeGroupElement(gpkText), shares: new Map() };
  groups.set(group, state);
  return state;
}

/** The validated verifying share of `id`; throws if the group has none or it is not a valid element. */
export function verifyingShare(state: GroupState, group: GroupInfo, id: string): Uint8Array {
  const shares = group.verifying_shares;
  const text = shares && Object.hasOwn(shares, id) ? shares[id] : undefined;
  if (typeof text !== 'string') throw new Error('unknown verifying share for identifier');
  const cached = state.shares.get(id);
  if (cached && cached.text === text) return cached.bytes;
  const bytes = decodeGroupElement(text);
  state.shares.set(id, { text, bytes });
  return bytes;
}

const lambdaCache = new Map<string, Map<string, Uint8Array>>();
const MAX_CACHED_SETS = 1024;

/**
 * RFC 9591 §4.2 derive_interpolating_value for every member of a signer set (sorted, distinct),
 * computed once per set. Public values: BigInt arithmetic is fine here.
 */
export function lagrangeCoefficients(sorted: readonly ParsedId[]): Map<string, Uint8Array> {
  let key = '';
  for (const id of sorted) key += id.hex;
  const cached = lambdaCache.get(key);
  if (cached) return cached;
  const out = new Map<string, Uint8Array>();
  for (const xi of sorted) {
    let num = 1n;
    let den = 1n;
    for (const xj of sorted) {
      if (xj.hex === xi.hex) continue;
      num = (num * xj.value) % L;
      den = (den * (((xj.value - xi.value) % L) + L)) % L;
    }
    out.set(xi.hex, bigintToScalar((num * invertPublic(den)) % L));
  }
  if (lambdaCache.size >= MAX_CACHED_SETS) lambdaCache.delete(lambdaCache.keys().next().value!);
  lambdaCache.set(key, out);
  return out;
}
