// TileHashReader: proofs computed from a remote tiles copy equal those from the log's own store,
// fetch only a handful of tiles, and any edited tile (full or on the right edge) or a wrong
// checkpoint root is refused before a hash from it is used.
import { describe, expect, it } from 'vitest';
import { TransparencyError } from '../transparency/errors.js';
import { MemoryHashStore, consistencyProof, inclusionProof, treeHash, verifyInclusion } from '../transparency/merkle.js';
import { TileHashReader } from '../transparency/tile-hash-reader.js';
import { exportTiles } from '../transparency/tiles.js';

const hex = (hs: Uint8Array[]) => hs.map((h) => Buffer.from(h).toString('hex'));

async function logOf(n: number) {
  const store = new MemoryHashStore();
  const entries: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const e = new TextEncoder().encode(`r${i}`);
    entries.push(e);
    store.appendEntry(e);
  }
  const files = new Map<string, Uint8Array>();
  await exportTiles({ reader: store, readEntries: async (s, c) => entries.slice(s, s + c), oldSize: 0, newSize: n, put: async (p, d) => void files.set(p, d) });
  return { store, files, root: await treeHash(store, n) };
}

const fetchFrom = (files: Map<string, Uint8Array>) => async (path: string) => {
  const f = files.get(path);
  if (f === undefined) throw new Error(`404 ${path}`);
  return f;
};

describe('TileHashReader', () => {
  it('gives the same tree heads and proofs as the store, from few tiles', async () => {
    for (const n of [1, 2, 255, 256, 257, 513, 66_000]) {
      const { store, files, root } = await logOf(n);
      const reader = new TileHashReader(fetchFrom(files), { size: n, rootHash: root });
      expect(Buffer.from(await treeHash(reader, n)).toString('hex')).toBe(Buffer.from(root).toString('hex'));
      for (const i of new Set([0, n - 1, Math.floor(n / 3), (n * 7) % n])) {
        const proof = await inclusionProof(reader, i, n);
        expect(hex(proof)).toEqual(hex(await inclusionProof(store, i, n)));
        verifyInclusion(i, n, store.readHash({ level: 0, index: i }), proof, root);
        if (i > 0) expect(hex(await consistencyProof(reader, i, n))).toEqual(hex(await consistencyProof(store, i, n)));
      }
      // A handful of proofs touch a handful of tiles, not the whole copy.
      expect(reader.tilesFetched).toBeLessThanOrEqual(12);
    }
  });

  it('refuses an edited full tile, an edited edge tile and a wrong root', async () => {
    const n = 600;
    const { files, root, store } = await logOf(n);
    const edit = (path: string) => {
      const copy = new Map(files);
      const b = new Uint8Array(files.get(path)!);
      b[3] ^= 1;
      copy.set(path, b);
      return copy;
    };
    const fullEdited = new TileHashReader(fetchFrom(edit('tile/0/001')), { size: n, rootHash: root });
    await expect(inclusionProof(fullEdited, 300, n)).rejects.toThrow(TransparencyError);
    // Leaf 5's proof needs only tile 0/000 and the level-1 edge tile (which holds the hash of the
    // whole of tile 0/001, computed by the log): it is still served, and it is correct.
    verifyInclusion(5, n, store.readHash({ level: 0, index: 5 }), await inclusionProof(fullEdited, 5, n), root);
    const edgeEdited = new TileHashReader(fetchFrom(edit('tile/0/002.p/88')), { size: n, rootHash: root });
    await expect(treeHash(edgeEdited, n)).rejects.toThrow(TransparencyError);
    const wrongRoot = new TileHashReader(fetchFrom(files), { size: n, rootHash: await treeHash(store, n - 1) });
    await expect(inclusionProof(wrongRoot, 0, n)).rejects.toThrow(TransparencyError);
  });
});
