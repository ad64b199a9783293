// The canonical JSON behind every hash ztmint records or signs (audit record hashes, the DKG
// transcript, signed DKG documents): RFC 8785, the JSON Canonicalization Scheme (JCS), so that
// anyone can recompute those hashes with any JCS implementation. Produced by `canonicalize`, the
// implementation by one of the RFC's authors; this file only pins the contract.
import canonicalize from 'canonicalize';

/**
 * RFC 8785 serialisation of `value`: object members sorted by UTF-16 code units, no whitespace,
 * numbers as ECMAScript prints them, strings escaped minimally. Members whose value is undefined
 * are left out (as JSON.stringify does). Throws on what JCS cannot represent (NaN, ±Infinity,
 * strings with unpaired surrogates, cycles) and on a top-level value that is not JSON.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

// Code-unit regex (no `u` flag): a high surrogate not followed by a low one, or a low one not
// preceded by a high one. Same result as String.prototype.toWellFormed (ES2024).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function toWellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/** Replaces unpaired UTF-16 surrogates by U+FFFD in every string (keys too), so JCS can encode it. */
export function wellFormedJson<T>(value: T): T {
  if (typeof value === 'string') return toWellFormed(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => wellFormedJson(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [toWellFormed(k), wellFormedJson(v)])) as T;
  }
  return value;
}
