// Byte encodings shared by every part: the wire carries bytes as base64url without padding.

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Strict decoder: rejects padding, other alphabets and non-canonical trailing bits. */
export function fromB64url(text: string): Uint8Array {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) {
    throw new TypeError('not base64url');
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new TypeError('non-canonical base64url');
  return new Uint8Array(bytes);
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}
