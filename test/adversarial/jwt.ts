// Hand-made JWS: headers and payloads as exact JSON text (duplicate keys, odd types), signed with
// whatever key and algorithm the attack calls for, with node:crypto only.
import { constants, createHmac, sign, type KeyObject } from 'node:crypto';

/** base64url of a JSON value, or of a string taken as raw JSON text. */
export function seg(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.from(text, 'utf8').toString('base64url');
}

export type Alg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';

const HASH: Record<string, string> = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/** Signature bytes for `input` under `alg` with `key` (a KeyObject, or HMAC secret bytes/string). */
export function signature(alg: Alg, input: string, key: KeyObject | Buffer | string): Buffer {
  const data = Buffer.from(input, 'latin1');
  const bits = alg.slice(-3);
  if (alg.startsWith('HS'))
    return createHmac(HASH[bits]!, key as Buffer | string)
      .update(data)
      .digest();
  const k = key as KeyObject;
  if (alg.startsWith('RS')) return sign(HASH[bits]!, data, k);
  if (alg.startsWith('PS')) return sign(HASH[bits]!, data, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 });
  if (alg === 'ES256') return sign('sha256', data, { key: k, dsaEncoding: 'ieee-p1363' });
  return sign(null, data, k); // EdDSA
}

/** A compact JWS from raw parts; `header`/`payload` are objects or exact JSON text. */
export function jws(header: unknown, payload: unknown, alg: Alg, key: KeyObject | Buffer | string): string {
  const input = `${seg(header)}.${seg(payload)}`;
  return `${input}.${signature(alg, input, key).toString('base64url')}`;
}

/** Unsigned token (alg none style): header.payload. + optional signature text. */
export function unsigned(header: unknown, payload: unknown, sig = ''): string {
  return `${seg(header)}.${seg(payload)}.${sig}`;
}

/** Serializes an object with one key repeated: `{..., "k": a, ..., "k": b}` (JSON.parse keeps the last). */
export function withDuplicate(obj: Record<string, unknown>, key: string, first: unknown, last: unknown): string {
  const rest = Object.entries(obj).filter(([k]) => k !== key);
  const parts = [`${JSON.stringify(key)}:${JSON.stringify(first)}`, ...rest.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`), `${JSON.stringify(key)}:${JSON.stringify(last)}`];
  return `{${parts.join(',')}}`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Same bytes, different text: flips the unused low bits of the last base64url character. */
export function flipTrailingBits(segment: string): string {
  const unused = { 2: 4, 3: 2 }[(segment.length % 4) as 2 | 3];
  if (!unused) throw new Error('segment has no unused trailing bits');
  const last = ALPHABET.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + ALPHABET[last ^ 1];
}

/** The standard base64 alphabet (+/) for a base64url segment. */
export function toStdAlphabet(segment: string): string {
  return segment.replace(/-/g, '+').replace(/_/g, '/');
}

export function padded(segment: string): string {
  return segment + '='.repeat((4 - (segment.length % 4)) % 4 || 0);
}
