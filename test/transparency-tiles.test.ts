// C2SP tlog-tiles as implemented in transparency/tiles.ts: path encoding (the spec's own examples),
// the tile set of a tree (the spec's size-70,000 and size-256 examples), entry bundles, and the
// reader that rebuilds a copy of the log and refuses any deleted, reordered, edited or truncated
// file. Go's own tile functions check the same layout in test/transparency-go.e2e.test.ts.
import { describe, expect, it } from 'vitest';
import { TransparencyError } from '../transparency/errors.js';
import { MemoryHashStore, treeHash } from '../transparency/merkle.js';
import { decodeEntryBundle, encodeEntryBundle, encodeTileIndex, entryBundlePath, exportTiles, newTiles, parseTilePath, readTreeFromTiles, tilePath, tilesForTree } from '../transparency/tiles.js';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof TransparencyError) return err.code;
    throw err;
  }
  return undefined;
}

async function codeAsync(f: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await f();
  } catch (err) {
    if (err instanceof TransparencyError) return err.code;
    throw err;
  }
  return undefined;
}

async function logOf(n: number): Promise<{ store: MemoryHashStore; entries: Uint8Array[]; files: Map<string, Uint8Array>; root: Uint8Array }> {
  const store = new MemoryHashStore();
  const entries = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`record ${i} ${'x'.repeat(i % 7)}`));
  for (const e of entries) store.appendEntry(e);
  const files = new Map<string, Uint8Array>();
  await exportTiles({
    reader: store,
    readEntries: async (start, count) => entries.slice(start, start + count),
    oldSize: 0,
    newSize: n,
    put: async (path, data) => void files.set(path, data),
  });
  return { store, entries, files, root: await treeHash(store, n) };
}

const fetchFrom = (files: Map<string, Uint8Array>) => async (path: string) => {
  const f = files.get(path);
  if (f === undefined) throw new Error(`404 ${path}`);
  return f;
};

describe('tile paths', () => {
  it('encodes N in 3-digit x-prefixed groups as the spec and Go do', () => {
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(999)).toBe('999');
    expect(encodeTileIndex(1000)).toBe('x001/000');
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 2, index: 5, width: 17 })).toBe('tile/2/005.p/17');
    expect(entryBundlePath(1, 3)).toBe('tile/entries/001.p/3');
  });

  it('parses only canonical paths', () => {
    expect(parseTilePath('tile/0/x001/x234/067')).toEqual({ level: 0, index: 1234067, width: 256, entries: false });
    expect(parseTilePath('tile/entries/001.p/3')).toEqual({ level: 0, index: 1, width: 3, entries: true });
    for (const p of [
      'tile/0/1',
      'tile/00/001',
      'tile/0/x000/001',
      'tile/0/001.p/256',
      'tile/0/001.p/0',
      'tile/0/001.p/07',
      'tile/64/001',
      'tile/0/001/',
      'tile/0/x001',
      '/tile/0/001',
      'tile/data/001',
      'tile/8/0/001',
    ]) {
      expect(
        code(() => parseTilePath(p)),
        p,
      ).toBe('tlog_malformed');
    }
  });
});

describe('the tiles of a tree', () => {
  it("matches the spec's examples (sizes 70,000 and 256)", () => {
    const t = tilesForTree(70_000);
    const level = (l: number) => t.filter((x) => x.level === l);
    expect(level(0).filter((x) => x.width === 256)).toHaveLength(273);
    expect(
      level(0)
        .filter((x) => x.width < 256)
        .map((x) => x.width),
    ).toEqual([112]);
    expect(level(1).map((x) => x.width)).toEqual([256, 17]);
    expect(level(2).map((x) => x.width)).toEqual([1]);
    expect(tilesForTree(256).map(tilePath)).toEqual(['tile/0/000', 'tile/1/000.p/1']);
    expect(tilesForTree(0)).toEqual([]);
  });

  it('newTiles lists what an append must write', () => {
    expect(newTiles(256, 256)).toEqual([]);
    expect(newTiles(255, 256).map(tilePath)).toEqual(['tile/0/000', 'tile/1/000.p/1']);
    expect(newTiles(256, 300).map(tilePath)).toEqual(['tile/0/001.p/44']);
  });

  it('entry bundles are uint16-length-prefixed and decode strictly', () => {
    const b = encodeEntryBundle([new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])]);
    expect([...b]).toEqual([0, 2, 1, 2, 0, 0, 0, 1, 3]);
    expect(decodeEntryBundle(b, 3).map((e) => [...e])).toEqual([[1, 2], [], [3]]);
    expect(code(() => decodeEntryBundle(b, 2))).toBe('tlog_inconsistent');
    expect(code(() => decodeEntryBundle(b.slice(0, -1), 3))).toBe('tlog_inconsistent');
    expect(code(() => decodeEntryBundle(new Uint8Array([...b, 0]), 3))).toBe('tlog_inconsistent');
    expect(code(() => encodeEntryBundle([new Uint8Array(65536)]))).toBe('tlog_malformed');
  });
});

describe('reading a copy of the log back', () => {
  it('rebuilds the tree and the entries for several sizes', async () => {
    for (const n of [1, 2, 255, 256, 257, 600]) {
      const { files, root, entries } = await logOf(n);
      const copy = await readTreeFromTiles(fetchFrom(files), { size: n, rootHash: root }, { entries: true });
      expect(copy.store.size).toBe(n);
      expect(copy.entries?.map((e) => Buffer.from(e).toString())).toEqual(entries.map((e) => Buffer.from(e).toString()));
    }
  });

  it('refuses a deleted, edited, reordered or truncated copy, and a wrong checkpoint', async () => {
    const n = 600;
    const { files, root, store } = await logOf(n);
    const trusted = { size: n, rootHash: root };
    const read = (f: Map<string, Uint8Array>, t = trusted) => codeAsync(() => readTreeFromTiles(fetchFrom(f), t, { entries: true }));
    expect(await read(files)).toBeUndefined();
    for (const path of files.keys()) {
      const deleted = new Map(files);
      deleted.delete(path);
      expect(await read(deleted), `delete ${path}`).toBe('tlog_inconsistent');
      const edited = new Map(files);
      const bytes = new Uint8Array(files.get(path)!);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
      edited.set(path, bytes);
      expect(await read(edited), `edit ${path}`).toBe('tlog_inconsistent');
    }
    // Reordering two entries within a bundle, with tiles recomputed to match, changes the root.
    const { files: other } = await logOf(n);
    const swapped = new Map(other);
    const bundle = decodeEntryBundle(other.get('tile/entries/000')!, 256);
    [bundle[0], bundle[1]] = [bundle[1]!, bundle[0]!];
    const reordered = new MemoryHashStore();
    const all = [...bundle, ...decodeEntryBundle(other.get('tile/entries/001')!, 256), ...decodeEntryBundle(other.get('tile/entries/002.p/88')!, 88)];
    for (const e of all) reordered.appendEntry(e);
    await exportTiles({ reader: reordered, readEntries: async (s, c) => all.slice(s, s + c), oldSize: 0, newSize: n, put: async (p, d) => void swapped.set(p, d) });
    expect(await read(swapped)).toBe('tlog_inconsistent');
    // A copy truncated to 599 entries does not satisfy a checkpoint of 600.
    const truncated = await logOf(599);
    expect(await read(truncated.files)).toBe('tlog_inconsistent');
    // A checkpoint for another size or root is refused against this copy.
    expect(await read(files, { size: 599, rootHash: await treeHash(store, 599) })).toBe('tlog_inconsistent');
    expect(await read(files, { size: n, rootHash: await treeHash(store, 599) })).toBe('tlog_inconsistent');
  });
});
