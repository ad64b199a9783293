// C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature), Ed25519 flavour (type 0x04): the
// signature a witness (an external one, or a ztmint signer acting as one) adds to a checkpoint
// after checking it is consistent with the last one it saw. It signs "cosignature/v1\ntime T\n"
// followed by the checkpoint text, so it can never be mistaken for the log's own signature.
import { ed25519 } from '@noble/curves/ed25519.js';
import { parseCheckpoint } from './checkpoint.js';
import { TransparencyError } from './errors.js';
import { COSIGNATURE_TYPE, ed25519Verify, formatSignatureLine, formatVerifierKey, keyId, parseNote, parseVerifierKey, type VerifierKey } from './signed-note.js';

export const COSIGNATURE_HEADER = 'cosignature/v1\n';
const MAX_TIMESTAMP = 2n ** 63n - 1n;
const encoder = new TextEncoder();

/** The exact bytes an Ed25519 cosigner signs for a checkpoint text at a POSIX time. */
export function cosignedMessage(checkpointText: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TransparencyError('tlog_malformed', 'timestamp must be a non-negative integer');
  parseCheckpoint(checkpointText);
  return encoder.encode(`${COSIGNATURE_HEADER}time ${timestamp}\n${checkpointText}`);
}

export interface Cosigner {
  name: string;
  keyId: number;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** The cosignature line a witness appends to the checkpoint note. */
export async function cosign(cosigner: Cosigner, checkpointText: string, timestamp: number): Promise<string> {
  const sig = await cosigner.sign(cosignedMessage(checkpointText, timestamp));
  if (sig.length !== 64) throw new TransparencyError('tlog_malformed', 'Ed25519 signature must be 64 bytes');
  const body = new Uint8Array(72);
  new DataView(body.buffer).setBigUint64(0, BigInt(timestamp), false);
  body.set(sig, 8);
  return formatSignatureLine(cosigner.name, cosigner.keyId, body);
}

/** `<name>+<keyid>+<base64(0x04 || key)>`: how a witness's cosigning key is configured. */
function formatCosignerKey(name: string, publicKey: Uint8Array): string {
  return formatVerifierKey(name, publicKey, COSIGNATURE_TYPE);
}

export function parseCosignerKey(vkey: string): VerifierKey {
  const key = parseVerifierKey(vkey);
  if (key.type !== COSIGNATURE_TYPE) throw new TransparencyError('tlog_malformed', 'not a cosignature (0x04) verifier key');
  return key;
}

export interface VerifiedCosignature {
  name: string;
  timestamp: number;
}

export interface CosignatureCheckOptions {
  /** Reject cosignatures dated more than this many seconds after `now` (default: accept). */
  maxFutureSeconds?: number;
  now?: number;
}

/**
 * Checks every cosignature in a signed checkpoint that comes from one of `cosigners`; a matching
 * line that does not verify refuses the note. Returns the verified ones (possibly none): a caller
 * requiring k of n witnesses counts them.
 */
export function verifyCosignatures(note: Uint8Array | string, cosigners: readonly VerifierKey[], options: CosignatureCheckOptions = {}): VerifiedCosignature[] {
  const parsed = parseNote(note);
  parseCheckpoint(parsed.text);
  const out: VerifiedCosignature[] = [];
  for (const sig of parsed.signatures) {
    const key = cosigners.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (key === undefined) continue;
    if (key.type !== COSIGNATURE_TYPE) throw new TransparencyError('tlog_malformed', 'cosigner key must be of type 0x04');
    if (sig.signature.length !== 72) throw new TransparencyError('tlog_bad_signature', `cosignature by ${sig.name} has the wrong length`);
    const view = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8);
    const ts = view.getBigUint64(0, false);
    if (ts > MAX_TIMESTAMP || ts > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new TransparencyError('tlog_bad_signature', `cosignature by ${sig.name} has an impossible timestamp`);
    }
    const timestamp = Number(ts);
    if (options.maxFutureSeconds !== undefined) {
      const now = options.now ?? Math.floor(Date.now() / 1000);
      if (timestamp > now + options.maxFutureSeconds) throw new TransparencyError('tlog_bad_signature', `cosignature by ${sig.name} is dated in the future`);
    }
    if (!ed25519Verify(sig.signature.slice(8), cosignedMessage(parsed.text, timestamp), key.publicKey)) {
      throw new TransparencyError('tlog_bad_signature', `cosignature by ${sig.name} does not verify`);
    }
    if (!out.some((c) => c.name === sig.name)) out.push({ name: sig.name, timestamp });
  }
  return out;
}

/** An Ed25519 cosigner from a raw 32-byte seed (tests; a file-backed witness key). */
export function ed25519SeedCosigner(name: string, seed: Uint8Array): Cosigner & { publicKey: Uint8Array; vkey: string } {
  const publicKey = ed25519.getPublicKey(seed);
  return {
    name,
    keyId: keyId(name, COSIGNATURE_TYPE, publicKey),
    publicKey,
    vkey: formatCosignerKey(name, publicKey),
    sign: async (message) => ed25519.sign(message, seed),
  };
}
