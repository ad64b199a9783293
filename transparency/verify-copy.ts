// The check behind `ztmint audit verify --from URL|DIR [--expect-checkpoint FILE]` and the monitor:
// open the copy's signed checkpoint with the log's keys, rebuild and check the whole copy from its
// tiles, and, given an earlier checkpoint the auditor kept, prove the current tree extends it.
// Deleting, reordering or editing a record, or truncating the log, fails one of these steps.
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { TransparencyError } from './errors.js';
import { consistencyProof, verifyConsistency } from './merkle.js';
import type { NoteVerifier } from './signed-note.js';
import { CHECKPOINT_PATH, readTreeFromTiles, type TileFetch, type VerifiedCopy } from './tiles.js';

export interface CopyCheck {
  fetch: TileFetch;
  origin: string;
  verifiers: readonly NoteVerifier[];
  /** An earlier checkpoint (already verified when it was kept) the copy must extend. */
  expected?: Checkpoint;
  /** Also fetch and check every entry bundle (the default: an audit reads the records). */
  entries?: boolean;
}

export interface VerifiedLogCopy extends VerifiedCopy {
  checkpoint: Checkpoint;
  /** The signed checkpoint note as served, to be kept for the next run. */
  note: string;
}

/** Checks one copy of the log; throws TransparencyError naming the first failure. */
export async function verifyLogCopy(check: CopyCheck): Promise<VerifiedLogCopy> {
  let raw: Uint8Array;
  try {
    raw = await check.fetch(CHECKPOINT_PATH);
  } catch (err) {
    throw new TransparencyError('tlog_inconsistent', 'cannot read the checkpoint of the copy', { cause: err });
  }
  const opened = openCheckpoint(raw, check.verifiers, check.origin);
  const checkpoint = opened.checkpoint;
  const copy = await readTreeFromTiles(check.fetch, checkpoint, { entries: check.entries ?? true });
  if (check.expected !== undefined) {
    const before = check.expected;
    if (before.origin !== check.origin) throw new TransparencyError('tlog_malformed', 'expected checkpoint is for another origin');
    if (before.size > checkpoint.size) {
      throw new TransparencyError('tlog_inconsistent', `log truncated: ${checkpoint.size} entries, an earlier checkpoint had ${before.size}`);
    }
    try {
      verifyConsistency(before.size, checkpoint.size, before.rootHash, checkpoint.rootHash, await consistencyProof(copy.store, before.size, checkpoint.size));
    } catch (err) {
      throw new TransparencyError('tlog_inconsistent', 'the log does not extend the earlier checkpoint (records deleted, reordered or edited)', { cause: err });
    }
  }
  return { ...copy, checkpoint, note: new TextDecoder().decode(raw) };
}
