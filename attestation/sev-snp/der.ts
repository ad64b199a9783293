// A minimal, strict DER reader: just enough to read the validity and the AMD-specific extensions of
// a VCEK certificate (node:crypto's X509Certificate verifies signatures but does not expose
// arbitrary extensions), and to check that a byte string is one well-formed DER element.
// Single-byte tags only, definite minimal lengths only; anything else is rejected.

import { ZtmintError } from '../../errors/ztmint-error.js';

/** A byte string that is not the DER this reader accepts. */
export class DerError extends ZtmintError<'malformed_der'> {}

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number), e.g. 0x30 for SEQUENCE. */
  readonly tag: number;
  /** Offset of the identifier octet in `buf`. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
  readonly buf: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export function content(tlv: Tlv): Uint8Array {
  return tlv.buf.subarray(tlv.contentStart, tlv.end);
}

/** Reads the element that starts at `offset`, bounded by `limit` (default: end of `buf`). */
export function readTlv(buf: Uint8Array, offset = 0, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('malformed_der', 'truncated DER element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('malformed_der', 'multi-byte DER tags are not supported');
  let pos = offset + 1;
  const first = buf[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError('malformed_der', 'indefinite length is not DER');
    if (count > 4) throw new DerError('malformed_der', 'DER length too large');
    if (pos + count > limit) throw new DerError('malformed_der', 'truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
    if (buf[pos - count] === 0 || length < 0x80) throw new DerError('malformed_der', 'non-minimal DER length');
  }
  const end = pos + length;
  if (end > limit) throw new DerError('malformed_der', 'DER element overruns its container');
  return { tag, start: offset, contentStart: pos, end, buf };
}

/** Reads exactly one element that spans the whole of `bytes`. */
export function readSingle(bytes: Uint8Array): Tlv {
  const tlv = readTlv(bytes, 0, bytes.length);
  if (tlv.end !== bytes.length) throw new DerError('malformed_der', 'trailing bytes after DER element');
  return tlv;
}

/** The elements inside a constructed element. */
export function children(tlv: Tlv): Tlv[] {
  if ((tlv.tag & 0x20) === 0) throw new DerError('malformed_der', 'not a constructed DER element');
  const out: Tlv[] = [];
  let pos = tlv.contentStart;
  while (pos < tlv.end) {
    const child = readTlv(tlv.buf, pos, tlv.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw new DerError('malformed_der', `expected ${what}`);
  return tlv;
}

export function decodeOid(tlv: Tlv): string {
  expectTag(tlv, TAG.OID, 'OBJECT IDENTIFIER');
  const bytes = content(tlv);
  if (bytes.length === 0) throw new DerError('malformed_der', 'empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (value === 0 && b === 0x80) throw new DerError('malformed_der', 'non-minimal OID arc');
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError('malformed_der', 'OID arc too large');
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError('malformed_der', 'truncated OID');
    }
  }
  const head = arcs.shift()!;
  const top = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [top, head - top * 40, ...arcs].join('.');
}

/** A non-negative INTEGER that fits in a JS number. */
export function decodeUnsigned(tlv: Tlv): number {
  expectTag(tlv, TAG.INTEGER, 'INTEGER');
  const bytes = content(tlv);
  if (bytes.length === 0) throw new DerError('malformed_der', 'empty INTEGER');
  if (bytes[0]! & 0x80) throw new DerError('malformed_der', 'negative INTEGER');
  if (bytes.length > 1 && bytes[0] === 0 && (bytes[1]! & 0x80) === 0) {
    throw new DerError('malformed_der', 'non-minimal INTEGER');
  }
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  if (value > Number.MAX_SAFE_INTEGER) throw new DerError('malformed_der', 'INTEGER too large');
  return value;
}

const TIME_RE = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** UTCTime (RFC 5280: YY ≥ 50 → 19YY) or GeneralizedTime, both in the Zulu form DER requires. */
export function decodeTime(tlv: Tlv): Date {
  if (tlv.tag !== TAG.UTC_TIME && tlv.tag !== TAG.GENERALIZED_TIME) throw new DerError('malformed_der', 'expected a time');
  const text = new TextDecoder('ascii').decode(content(tlv));
  const m = TIME_RE.exec(text);
  const expectLen = tlv.tag === TAG.UTC_TIME ? 2 : 4;
  if (!m || m[1]!.length !== expectLen) throw new DerError('malformed_der', 'malformed time');
  let year = Number(m[1]);
  if (expectLen === 2) year += year >= 50 ? 1900 : 2000;
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (!Number.isFinite(ms)) throw new DerError('malformed_der', 'malformed time');
  return new Date(ms);
}
