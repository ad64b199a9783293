// `ztmint audit export`: copy a verified log into a destination in the tlog-tiles layout,
// incrementally. What is exported is a copy already checked against its signed checkpoint
// (verifyLogCopy), never what a server merely said. If the destination already holds a
// checkpoint, the log must extend it (same root at that size), and only the tiles the destination
// lacks are written; the checkpoint is written last, so a reader never sees one whose tiles are
// missing.
import { parseCheckpoint } from './checkpoint.js';
import { TransparencyError } from './errors.js';
import type { ExportTarget } from './export-targets.js';
import { equalHashes, treeHash } from './merkle.js';
import { parseNote } from './signed-note.js';
import { CHECKPOINT_PATH, exportTiles } from './tiles.js';
import type { VerifiedLogCopy } from './verify-copy.js';

export interface ExportResult {
  /** Entries the destination held before (its checkpoint's size; 0 when empty). */
  from: number;
  to: number;
  /** Tile and entry-bundle paths written (already present and equal ones included). */
  files: number;
}

export async function exportLog(copy: Required<Pick<VerifiedLogCopy, 'entries'>> & VerifiedLogCopy, target: ExportTarget, progress: (line: string) => void = () => {}): Promise<ExportResult> {
  const size = copy.checkpoint.size;
  let from = 0;
  const existing = await target.get(CHECKPOINT_PATH);
  if (existing !== undefined) {
    const held = parseCheckpoint(parseNote(existing).text);
    if (held.origin !== copy.checkpoint.origin)
      throw new TransparencyError('tlog_inconsistent', `${target.description} holds the log ${JSON.stringify(held.origin)}, not ${JSON.stringify(copy.checkpoint.origin)}`);
    if (held.size > size) throw new TransparencyError('tlog_inconsistent', `${target.description} holds ${held.size} entries, the log only ${size}: the log was truncated`);
    if (!equalHashes(await treeHash(copy.store, held.size), held.rootHash)) {
      throw new TransparencyError('tlog_inconsistent', `the log does not extend the checkpoint in ${target.description} (entries deleted, reordered or edited)`);
    }
    from = held.size;
  }
  let files = 0;
  await exportTiles({
    reader: copy.store,
    readEntries: async (start, count) => copy.entries.slice(start, start + count),
    oldSize: from,
    newSize: size,
    put: async (path, data) => {
      await target.putImmutable(path, data);
      if (++files % 100 === 0) progress(`${files} tiles written to ${target.description}`);
    },
  });
  await target.putCheckpoint(CHECKPOINT_PATH, new TextEncoder().encode(copy.note));
  return { from, to: size, files };
}
