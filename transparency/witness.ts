// C2SP tlog-witness (https://c2sp.org/tlog-witness) `add-checkpoint`: the request body a log sends
// to a witness (old size, consistency proof lines, blank line, signed checkpoint) and the witness's
// decision, as a pure function of what it last cosigned. The same decision is what a ztmint signer
// must reach before it contributes to a checkpoint signature: a coordinator that presents a
// checkpoint inconsistent with the signer's last one (a fork, a truncation) gets no signature.
import { fromBase64Strict, toBase64 } from './base64.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { TransparencyError } from './errors.js';
import { HASH_SIZE, emptyRoot, equalHashes, verifyConsistency } from './merkle.js';
import { parseNote, type NoteVerifier } from './signed-note.js';

/** The spec's bound on consistency proof lines. */
const MAX_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Uint8Array[];
  /** The signed checkpoint note, signatures included. */
  note: string;
}

export function formatAddCheckpointRequest(req: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(req.oldSize) || req.oldSize < 0) throw new TransparencyError('tlog_malformed', 'old size must be a non-negative integer');
  if (req.proof.length > MAX_PROOF_LINES) throw new TransparencyError('tlog_malformed', 'too many consistency proof lines');
  parseNote(req.note);
  return `old ${req.oldSize}\n${req.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${req.note}`;
}

const OLD_LINE = /^old (0|[1-9][0-9]*)$/;

/** Parses an add-checkpoint body strictly; throws tlog_malformed (HTTP 400) on any deviation. */
export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw new TransparencyError('tlog_malformed', 'add-checkpoint body has no blank line');
  const head = body.slice(0, blank).split('\n');
  const note = body.slice(blank + 2);
  const old = OLD_LINE.exec(head[0] ?? '');
  if (old === null) throw new TransparencyError('tlog_malformed', 'first line must be "old <size>"');
  const oldSize = Number(old[1]);
  if (!Number.isSafeInteger(oldSize)) throw new TransparencyError('tlog_malformed', 'old size is too large');
  const proofLines = head.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) throw new TransparencyError('tlog_malformed', 'too many consistency proof lines');
  const proof = proofLines.map((line) => {
    const h = fromBase64Strict(line, 'consistency proof line');
    if (h.length !== HASH_SIZE) throw new TransparencyError('tlog_malformed', 'consistency proof line is not a SHA-256 hash');
    return h;
  });
  parseNote(note);
  return { oldSize, proof, note };
}

/** What a witness last cosigned for an origin (none yet: size 0). */
export interface WitnessState {
  size: number;
  rootHash: Uint8Array;
}

export type WitnessDecision =
  { ok: true; checkpoint: Checkpoint; text: string } | { ok: false; status: 400 | 403 | 404 | 409 | 422; reason: string; /** for 409: the size the witness holds */ size?: number };

/**
 * The add-checkpoint checks of c2sp.org/tlog-witness, in its order and with its status codes.
 * `known` maps each trusted origin to its log keys; `last` is the latest cosigned state for that
 * origin (undefined when never cosigned). On ok, the caller cosigns and persists the new state
 * atomically with the check.
 */
export function decideAddCheckpoint(req: AddCheckpointRequest, known: ReadonlyMap<string, readonly NoteVerifier[]>, last: (origin: string) => WitnessState | undefined): WitnessDecision {
  let origin: string;
  try {
    origin = parseNote(req.note).text.split('\n', 1)[0]!;
  } catch (err) {
    return { ok: false, status: 400, reason: (err as Error).message };
  }
  const verifiers = known.get(origin);
  if (verifiers === undefined) return { ok: false, status: 404, reason: 'unknown origin' };
  let opened;
  try {
    opened = openCheckpoint(req.note, verifiers, origin);
  } catch (err) {
    const code = err instanceof TransparencyError ? err.code : 'tlog_malformed';
    return { ok: false, status: code === 'tlog_bad_signature' ? 403 : 400, reason: (err as Error).message };
  }
  const cp = opened.checkpoint;
  if (req.oldSize > cp.size) return { ok: false, status: 400, reason: 'old size is larger than the checkpoint size' };
  const state = last(origin) ?? { size: 0, rootHash: emptyRoot() };
  if (req.oldSize !== state.size) return { ok: false, status: 409, reason: 'old size is not the latest cosigned size', size: state.size };
  if (cp.size === 0 && !equalHashes(cp.rootHash, emptyRoot())) return { ok: false, status: 422, reason: 'empty tree with a non-empty root' };
  try {
    verifyConsistency(state.size, cp.size, state.rootHash, cp.rootHash, req.proof);
  } catch (err) {
    return { ok: false, status: 422, reason: (err as Error).message };
  }
  return { ok: true, checkpoint: cp, text: opened.text };
}
