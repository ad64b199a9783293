// Domain separation for the one FROST key: it signs minted JWTs and, with the transparency log,
// checkpoint notes (and may sign tlog cosignatures). A signer must know which it is asked to sign
// and check that message fully before releasing a share. The three forms cannot overlap:
//   - a JWS signing input is `base64url(header).base64url(payload)`: base64url characters and one
//     '.', never a newline;
//   - a checkpoint note text always ends with '\n' and starts with the origin line, then a decimal
//     size line;
//   - a cosignature/v1 message starts with the line "cosignature/v1" then "time <n>", which a
//     checkpoint cannot (its second line is digits only); an origin "cosignature/v1" is refused.
// Anything else is `unknown`, and signers refuse it.
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { COSIGNATURE_HEADER } from './cosignature.js';
import { TransparencyError } from './errors.js';
import { decodeNoteText } from './signed-note.js';

export type SigningMessage =
  | { kind: 'jws'; header: Record<string, unknown>; payload: Record<string, unknown> }
  | { kind: 'checkpoint'; checkpoint: Checkpoint; text: string }
  | { kind: 'cosignature'; timestamp: number; checkpoint: Checkpoint; text: string }
  | { kind: 'unknown'; reason: string };

const JWS_INPUT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const TIME_LINE = /^time (0|[1-9][0-9]*)\n/;

function jsonObjectFromB64url(segment: string): Record<string, unknown> | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  // Only the canonical base64url spelling (no padding, zero trailing bits) is accepted.
  if (bytes.toString('base64url') !== segment) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function checkpointOf(text: string): Checkpoint | string {
  try {
    const cp = parseCheckpoint(text);
    if (cp.origin === COSIGNATURE_HEADER.slice(0, -1)) return 'origin collides with the cosignature header';
    return cp;
  } catch (err) {
    return err instanceof TransparencyError ? err.message : 'not a checkpoint';
  }
}

/** Tells a JWS signing input, a checkpoint note text and a cosignature message apart. */
export function classifySigningMessage(bytes: Uint8Array): SigningMessage {
  if (bytes.length === 0) return { kind: 'unknown', reason: 'empty message' };
  if (!bytes.includes(0x0a)) {
    const ascii = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    const m = JWS_INPUT.exec(ascii);
    if (m === null) return { kind: 'unknown', reason: 'no newline and not base64url.base64url' };
    const header = jsonObjectFromB64url(m[1]!);
    const payload = jsonObjectFromB64url(m[2]!);
    if (header === undefined || payload === undefined) return { kind: 'unknown', reason: 'JWS header or payload is not a JSON object' };
    return { kind: 'jws', header, payload };
  }
  let text: string;
  try {
    text = decodeNoteText(bytes);
  } catch {
    return { kind: 'unknown', reason: 'not valid note text' };
  }
  if (text.startsWith(COSIGNATURE_HEADER)) {
    const rest = text.slice(COSIGNATURE_HEADER.length);
    const m = TIME_LINE.exec(rest);
    if (m === null) return { kind: 'unknown', reason: 'cosignature message without a time line' };
    const timestamp = Number(m[1]);
    if (!Number.isSafeInteger(timestamp)) return { kind: 'unknown', reason: 'cosignature timestamp too large' };
    const cpText = rest.slice(m[0].length);
    const cp = checkpointOf(cpText);
    if (typeof cp === 'string') return { kind: 'unknown', reason: cp };
    return { kind: 'cosignature', timestamp, checkpoint: cp, text: cpText };
  }
  const cp = checkpointOf(text);
  if (typeof cp === 'string') return { kind: 'unknown', reason: cp };
  return { kind: 'checkpoint', checkpoint: cp, text };
}
