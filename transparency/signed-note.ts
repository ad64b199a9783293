// C2SP signed-note (https://c2sp.org/signed-note): the envelope of every checkpoint the log and its
// witnesses sign. Parsing is strict, as the spec and Go's golang.org/x/mod/sumdb/note are: valid
// UTF-8, no control characters but newline, text separated from signature lines by the last blank
// line, `— <name> <base64(keyID || sig)>` lines, names without spaces or '+'. Signing takes an
// injected signer (the FROST quorum signs asynchronously), so no private key lives in this module.
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromBase64Strict, toBase64 } from './base64.js';
import { TransparencyError } from './errors.js';

/** Signature type byte of plain Ed25519 note signatures. */
export const ED25519_TYPE = 0x01;
/** Signature type byte of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature). */
export const COSIGNATURE_TYPE = 0x04;
/** The spec requires accepting at least 16 signatures; Go's note package accepts up to 100. */
const MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 ';
const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A key name: non-empty, no Unicode space (any \s, which covers Go's unicode.IsSpace), no '+'. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085]/u.test(name) && !hasControlChars(name) && isWellFormed(name);
}

function isWellFormed(text: string): boolean {
  // A lone surrogate (a code point of category Cs in a u-mode regex) cannot be encoded as UTF-8.
  return !/\p{Cs}/u.test(text);
}

function hasControlChars(text: string): boolean {
  return /[\u0000-\u0009\u000B-\u001F]/.test(text);
}

/** key ID = SHA-256(name || 0x0A || type || public key)[:4], big-endian uint32. */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  const digest = createHash('sha256')
    .update(encoder.encode(name))
    .update(new Uint8Array([0x0a, type]))
    .update(publicKey)
    .digest();
  return digest.readUInt32BE(0);
}

export interface VerifierKey {
  name: string;
  keyId: number;
  type: number;
  publicKey: Uint8Array;
}

/** `<name>+<hex key ID>+<base64(type || public key)>`, the form discovery publishes. */
export function formatVerifierKey(name: string, publicKey: Uint8Array, type: number = ED25519_TYPE): string {
  if (!isValidKeyName(name)) throw new TransparencyError('tlog_malformed', 'invalid key name');
  if (publicKey.length !== 32) throw new TransparencyError('tlog_malformed', 'Ed25519 public key must be 32 bytes');
  const id = keyId(name, type, publicKey).toString(16).padStart(8, '0');
  return `${name}+${id}+${toBase64(new Uint8Array([type, ...publicKey]))}`;
}

/** Parses a verifier key of type 0x01 or 0x04 and checks that its key ID matches the key. */
export function parseVerifierKey(vkey: string): VerifierKey {
  // Names and key IDs hold no '+', but the base64 key may: split at the first two only.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new TransparencyError('tlog_malformed', 'verifier key must be name+keyid+key');
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  const keyB64 = vkey.slice(second + 1);
  if (!isValidKeyName(name)) throw new TransparencyError('tlog_malformed', 'invalid key name in verifier key');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new TransparencyError('tlog_malformed', 'key ID must be 8 lowercase hex digits');
  const material = fromBase64Strict(keyB64, 'verifier key');
  const type = material[0];
  if (type !== ED25519_TYPE && type !== COSIGNATURE_TYPE) {
    throw new TransparencyError('tlog_malformed', 'unsupported verifier key type');
  }
  const publicKey = material.slice(1);
  if (publicKey.length !== 32) throw new TransparencyError('tlog_malformed', 'Ed25519 public key must be 32 bytes');
  const id = Number.parseInt(idHex, 16);
  if (id !== keyId(name, type, publicKey)) throw new TransparencyError('tlog_malformed', 'key ID does not match the key');
  return { name, keyId: id, type, publicKey };
}

interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  signature: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, final newline included. */
  text: string;
  signatures: NoteSignature[];
}

/** Turns bytes into a string only if they are valid UTF-8 without forbidden control characters. */
export function decodeNoteText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch (err) {
    throw new TransparencyError('tlog_malformed', 'note is not valid UTF-8', { cause: err });
  }
  if (hasControlChars(text)) throw new TransparencyError('tlog_malformed', 'note contains control characters');
  return text;
}

/** Splits a signed note into text and signature lines, rejecting anything malformed. */
export function parseNote(note: Uint8Array | string): ParsedNote {
  const msg = typeof note === 'string' ? note : decodeNoteText(note);
  if (typeof note === 'string' && (hasControlChars(msg) || !isWellFormed(msg))) {
    throw new TransparencyError('tlog_malformed', 'note contains control characters or invalid UTF-16');
  }
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw new TransparencyError('tlog_malformed', 'note has no blank line before its signatures');
  const text = msg.slice(0, split + 1);
  let sigs = msg.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n')) {
    throw new TransparencyError('tlog_malformed', 'note signatures must be newline-terminated lines');
  }
  const signatures: NoteSignature[] = [];
  while (sigs.length > 0) {
    const nl = sigs.indexOf('\n');
    const line = sigs.slice(0, nl);
    sigs = sigs.slice(nl + 1);
    if (!line.startsWith(SIG_PREFIX)) throw new TransparencyError('tlog_malformed', 'signature line must start with an em dash and a space');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space < 0) throw new TransparencyError('tlog_malformed', 'signature line has no signature');
    const name = rest.slice(0, space);
    const b64 = rest.slice(space + 1);
    if (!isValidKeyName(name)) throw new TransparencyError('tlog_malformed', 'invalid key name in signature line');
    const raw = fromBase64Strict(b64, 'signature');
    if (raw.length < 5) throw new TransparencyError('tlog_malformed', 'signature is too short');
    if (signatures.length >= MAX_SIGNATURES) throw new TransparencyError('tlog_malformed', 'note has too many signatures');
    const view = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    signatures.push({ name, keyId: view.readUInt32BE(0), signature: raw.slice(4) });
  }
  return { text, signatures };
}

/** A key that can check note signatures: the log's Ed25519 key, a witness's cosigning key. */
export interface NoteVerifier {
  name: string;
  keyId: number;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** A key that can sign note text (the FROST quorum, a test key). */
export interface NoteSigner {
  name: string;
  keyId: number;
  sign(text: Uint8Array): Promise<Uint8Array>;
}

/** RFC 8032 Ed25519 verification in its strict (non-ZIP-215) form, as Go's crypto/ed25519. */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A verifier for an Ed25519 (type 0x01) verifier key string. */
export function ed25519NoteVerifier(vkey: string | VerifierKey): NoteVerifier {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (key.type !== ED25519_TYPE) throw new TransparencyError('tlog_malformed', 'not an Ed25519 note verifier key');
  return {
    name: key.name,
    keyId: key.keyId,
    verify: (text, signature) => ed25519Verify(signature, text, key.publicKey),
  };
}

export interface OpenedNote {
  text: string;
  /** Names of the known keys whose signatures verified, in note order, without repeats. */
  verifiedBy: string[];
  /** Signature lines from keys the caller does not know (ignored, as the spec demands). */
  unknown: NoteSignature[];
}

/**
 * Verifies a signed note against known keys. A signature whose (name, key ID) matches a known key
 * must verify or the whole note is refused; unknown signatures are ignored; at least one known key
 * must have signed.
 */
export function openNote(note: Uint8Array | string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const parsed = parseNote(note);
  const textBytes = encoder.encode(parsed.text);
  const verifiedBy: string[] = [];
  const unknown: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const matches = verifiers.filter((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (matches.length === 0) {
      unknown.push(sig);
      continue;
    }
    // Two configured keys with the same name and ID are a configuration error, not a choice.
    if (matches.length > 1) throw new TransparencyError('tlog_malformed', `two verifier keys share name and ID for ${sig.name}`);
    if (!matches[0]!.verify(textBytes, sig.signature)) {
      throw new TransparencyError('tlog_bad_signature', `signature by ${sig.name} does not verify`);
    }
    if (!verifiedBy.includes(sig.name)) verifiedBy.push(sig.name);
  }
  if (verifiedBy.length === 0) throw new TransparencyError('tlog_bad_signature', 'note is not signed by any known key');
  return { text: parsed.text, verifiedBy, unknown };
}

/** One signature line for a key ID and signature bytes. */
export function formatSignatureLine(name: string, id: number, signature: Uint8Array): string {
  if (!isValidKeyName(name)) throw new TransparencyError('tlog_malformed', 'invalid key name');
  const raw = new Uint8Array(4 + signature.length);
  new DataView(raw.buffer).setUint32(0, id >>> 0, false);
  raw.set(signature, 4);
  return `${SIG_PREFIX}${name} ${toBase64(raw)}\n`;
}

/** Signs note text (which must end in a newline) with each signer, in order. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  if (text.length === 0 || !text.endsWith('\n')) throw new TransparencyError('tlog_malformed', 'note text must end with a newline');
  if (hasControlChars(text) || !isWellFormed(text)) throw new TransparencyError('tlog_malformed', 'note text contains control characters');
  if (signers.length === 0) throw new TransparencyError('tlog_malformed', 'a note needs at least one signer');
  const bytes = encoder.encode(text);
  let lines = '';
  for (const signer of signers) lines += formatSignatureLine(signer.name, signer.keyId, await signer.sign(bytes));
  const note = `${text}\n${lines}`;
  // The result must parse back with exactly this text (e.g. no trailing blank line in the text).
  if (parseNote(note).text !== text) throw new TransparencyError('tlog_malformed', 'note text would not round-trip');
  return note;
}

/** Adds signature lines (e.g. witness cosignatures) to a signed note, keeping its text. */
export function addSignatureLines(note: string, lines: readonly string[]): string {
  const parsed = parseNote(note);
  const merged = note + lines.join('');
  const again = parseNote(merged);
  if (again.text !== parsed.text) throw new TransparencyError('tlog_malformed', 'added lines changed the note text');
  return merged;
}

/** An Ed25519 note signer from a raw 32-byte seed: for tests and single-key logs (signer logs). */
export function ed25519SeedSigner(name: string, seed: Uint8Array): NoteSigner & { publicKey: Uint8Array; vkey: string } {
  const publicKey = ed25519.getPublicKey(seed);
  return {
    name,
    keyId: keyId(name, ED25519_TYPE, publicKey),
    publicKey,
    vkey: formatVerifierKey(name, publicKey),
    sign: async (text) => ed25519.sign(text, seed),
  };
}
