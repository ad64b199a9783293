// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text a log signs for a tree
// head: origin line, decimal tree size, base64 root hash, optional extension lines. Clients must
// check the origin they expect (a checkpoint from another log with the same key is not ours).
import { fromBase64Strict, toBase64 } from './base64.js';
import { TransparencyError } from './errors.js';
import { HASH_SIZE } from './merkle.js';
import { isValidKeyName, openNote, signNote, type NoteSigner, type NoteVerifier } from './signed-note.js';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Opaque extension lines, each non-empty (NOT RECOMMENDED by the spec; kept for parsing). */
  extensions: string[];
}

const SIZE = /^(?:0|[1-9][0-9]*)$/;

/** The note text of a checkpoint. Our own origins must also be valid key names (no spaces, no '+'). */
export function formatCheckpoint(cp: Checkpoint): string {
  if (!isValidKeyName(cp.origin)) throw new TransparencyError('tlog_malformed', 'origin must be non-empty, without spaces or +');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new TransparencyError('tlog_malformed', 'tree size must be a non-negative integer');
  if (cp.rootHash.length !== HASH_SIZE) throw new TransparencyError('tlog_malformed', 'root hash must be 32 bytes');
  for (const ext of cp.extensions) {
    if (ext.length === 0 || ext.includes('\n')) throw new TransparencyError('tlog_malformed', 'extension lines must be single non-empty lines');
  }
  const text = [cp.origin, String(cp.size), toBase64(cp.rootHash), ...cp.extensions].join('\n') + '\n';
  parseCheckpoint(text);
  return text;
}

/** Parses checkpoint note text strictly (the signature lines must already be split off). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new TransparencyError('tlog_malformed', 'checkpoint must end with a newline');
  if (/[\u0000-\u0009\u000B-\u001F]/.test(text)) throw new TransparencyError('tlog_malformed', 'checkpoint contains control characters');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new TransparencyError('tlog_malformed', 'checkpoint needs origin, size and root hash lines');
  if (lines.some((l) => l.length === 0)) throw new TransparencyError('tlog_malformed', 'checkpoint lines must be non-empty');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!SIZE.test(sizeText)) throw new TransparencyError('tlog_malformed', 'tree size must be decimal without leading zeroes');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new TransparencyError('tlog_malformed', 'tree size is too large');
  const rootHash = fromBase64Strict(rootText, 'root hash');
  if (rootHash.length !== HASH_SIZE) throw new TransparencyError('tlog_malformed', 'root hash must be 32 bytes');
  return { origin, size, rootHash, extensions };
}

/** Signs a checkpoint as a signed note (the log key first, by convention named as the origin). */
export async function signCheckpoint(cp: Checkpoint, signers: readonly NoteSigner[]): Promise<string> {
  return signNote(formatCheckpoint(cp), signers);
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  text: string;
  verifiedBy: string[];
}

/** Verifies a signed checkpoint against the log's keys and checks it is for `origin`. */
export function openCheckpoint(note: Uint8Array | string, verifiers: readonly NoteVerifier[], origin: string): OpenedCheckpoint {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) {
    throw new TransparencyError('tlog_malformed', `checkpoint is for origin ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(origin)}`);
  }
  return { checkpoint, text: opened.text, verifiedBy: opened.verifiedBy };
}
