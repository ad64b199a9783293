// Strict standard base64 (RFC 4648 §4, with padding) for notes, checkpoints and verifier keys:
// signed notes are compared and re-signed byte for byte, so only the one canonical spelling of
// each value is accepted (Node's decoder alone would skip junk characters and odd trailing bits).
import { TransparencyError } from './errors.js';

const STD_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function fromBase64Strict(text: string, what: string): Uint8Array {
  if (!STD_B64.test(text)) throw new TransparencyError('tlog_malformed', `${what} is not standard base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new TransparencyError('tlog_malformed', `${what} is not canonical base64`);
  return new Uint8Array(bytes);
}
