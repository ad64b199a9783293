// verifyLogCopy, the check behind `audit verify --from … --expect-checkpoint …`: an honest copy
// that grew since the kept checkpoint passes; a copy whose files were edited without the log key
// fails on its tiles; and even a copy re-signed with the log key (the worst case: a compromised
// log) is caught by the earlier checkpoint when a record was deleted, reordered or edited, or the
// log was truncated.
import { describe, expect, it } from 'vitest';
import { parseCheckpoint, signCheckpoint, type Checkpoint } from '../transparency/checkpoint.js';
import { TransparencyError } from '../transparency/errors.js';
import { MemoryHashStore, treeHash } from '../transparency/merkle.js';
import { ed25519NoteVerifier, ed25519SeedSigner, parseNote } from '../transparency/signed-note.js';
import { CHECKPOINT_PATH, exportTiles } from '../transparency/tiles.js';
import { verifyLogCopy } from '../transparency/verify-copy.js';

const ORIGIN = 'ztmint.test/log';
const log = ed25519SeedSigner(ORIGIN, new Uint8Array(32).fill(5));
const verifiers = [ed25519NoteVerifier(log.vkey)];
const records = (n: number) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`{"seq":${i},"kind":"mint"}`));

async function copyOf(entries: Uint8Array[]): Promise<{ files: Map<string, Uint8Array>; checkpoint: Checkpoint }> {
  const store = new MemoryHashStore();
  for (const e of entries) store.appendEntry(e);
  const files = new Map<string, Uint8Array>();
  await exportTiles({ reader: store, readEntries: async (s, c) => entries.slice(s, s + c), oldSize: 0, newSize: entries.length, put: async (p, d) => void files.set(p, d) });
  const checkpoint: Checkpoint = { origin: ORIGIN, size: entries.length, rootHash: await treeHash(store, entries.length), extensions: [] };
  files.set(CHECKPOINT_PATH, new TextEncoder().encode(await signCheckpoint(checkpoint, [log])));
  return { files, checkpoint };
}

const fetchFrom = (files: Map<string, Uint8Array>) => async (path: string) => {
  const f = files.get(path);
  if (f === undefined) throw new Error(`404 ${path}`);
  return f;
};

async function failure(files: Map<string, Uint8Array>, expected?: Checkpoint): Promise<string | undefined> {
  try {
    await verifyLogCopy({ fetch: fetchFrom(files), origin: ORIGIN, verifiers, ...(expected ? { expected } : {}) });
  } catch (err) {
    if (err instanceof TransparencyError) return err.code;
    throw err;
  }
  return undefined;
}

describe('verifyLogCopy', () => {
  it('accepts an honest copy that extends the kept checkpoint, and returns the note to keep', async () => {
    const kept = (await copyOf(records(200))).checkpoint;
    const { files } = await copyOf(records(300));
    const ok = await verifyLogCopy({ fetch: fetchFrom(files), origin: ORIGIN, verifiers, expected: kept });
    expect(ok.checkpoint.size).toBe(300);
    expect(ok.entries).toHaveLength(300);
    expect(parseCheckpoint(parseNote(ok.note).text).size).toBe(300);
    expect(await failure(files, (await copyOf(records(300))).checkpoint)).toBeUndefined();
  });

  it('refuses edited files, another origin and an unsigned checkpoint', async () => {
    const { files } = await copyOf(records(300));
    const edited = new Map(files);
    const bundle = new Uint8Array(files.get('tile/entries/000')!);
    bundle[5] ^= 1;
    edited.set('tile/entries/000', bundle);
    expect(await failure(edited)).toBe('tlog_inconsistent');
    await expect(verifyLogCopy({ fetch: fetchFrom(files), origin: 'ztmint.test/other', verifiers })).rejects.toThrow(TransparencyError);
    const unsigned = new Map(files);
    const other = ed25519SeedSigner(ORIGIN, new Uint8Array(32).fill(6));
    unsigned.set(CHECKPOINT_PATH, new TextEncoder().encode(await signCheckpoint((await copyOf(records(300))).checkpoint, [other])));
    expect(await failure(unsigned)).toBe('tlog_bad_signature');
  });

  it('catches a re-signed log with a record deleted, reordered or edited, or truncated, given an earlier checkpoint', async () => {
    const honest = records(300);
    const kept = (await copyOf(honest.slice(0, 250))).checkpoint;
    const deleted = [...honest.slice(0, 100), ...honest.slice(101)];
    const reordered = [...honest];
    [reordered[10], reordered[11]] = [reordered[11]!, reordered[10]!];
    const editedRecord = [...honest];
    editedRecord[42] = new TextEncoder().encode('{"seq":42,"kind":"deny"}');
    for (const [what, entries] of Object.entries({ deleted, reordered, edited: editedRecord, truncated: honest.slice(0, 249) })) {
      const { files } = await copyOf(entries);
      expect(await failure(files), `${what} alone is self-consistent`).toBeUndefined();
      expect(await failure(files, kept), what).toBe('tlog_inconsistent');
    }
  });
});
