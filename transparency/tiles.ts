// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the static layout a copy of the log is served or
// exported in. Tile L/N holds up to 256 consecutive stored hashes of tree level 8L (so tiles are
// exactly the stored hashes of merkle.ts, read 256 at a time); entry bundle N holds the entries of
// level-0 tile N, each with a big-endian uint16 length prefix. The reader rebuilds the tree from a
// copy through an injected fetch and checks every byte against a trusted checkpoint, so a static
// host or WORM bucket needs no trust.
import { TransparencyError } from './errors.js';
import { HASH_SIZE, MemoryHashStore, equalHashes, leafHash, treeHash, type HashReader } from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const CHECKPOINT_PATH = 'checkpoint';
const MAX_ENTRY_SIZE = 0xffff;

/** A tile (level >= 0) or, with `entries`, an entry bundle; width 256 is full, 1..255 partial. */
export interface TileId {
  level: number;
  index: number;
  width: number;
}

function checkTile(t: TileId): void {
  if (!Number.isInteger(t.level) || t.level < 0 || t.level > 63) throw new TransparencyError('tlog_malformed', 'tile level must be 0..63');
  if (!Number.isSafeInteger(t.index) || t.index < 0) throw new TransparencyError('tlog_malformed', 'tile index must be a non-negative integer');
  if (!Number.isInteger(t.width) || t.width < 1 || t.width > TILE_WIDTH) throw new TransparencyError('tlog_malformed', 'tile width must be 1..256');
}

/** N as zero-padded 3-digit path elements, all but the last prefixed with 'x': 1234067 → x001/x234/067. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new TransparencyError('tlog_malformed', 'tile index must be a non-negative integer');
  let rest = n;
  let out = String(rest % 1000).padStart(3, '0');
  while (rest >= 1000) {
    rest = Math.floor(rest / 1000);
    out = `x${String(rest % 1000).padStart(3, '0')}/${out}`;
  }
  return out;
}

function suffix(width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]` */
export function tilePath(t: TileId): string {
  checkTile(t);
  return `tile/${t.level}/${encodeTileIndex(t.index)}${suffix(t.width)}`;
}

/** `tile/entries/<N>[.p/<W>]` */
export function entryBundlePath(index: number, width: number): string {
  checkTile({ level: 0, index, width });
  return `tile/entries/${encodeTileIndex(index)}${suffix(width)}`;
}

const PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/** Parses a tile or entry bundle path, accepting only the one canonical spelling. */
export function parseTilePath(path: string): TileId & { entries: boolean } {
  const m = PATH.exec(path);
  if (m === null) throw new TransparencyError('tlog_malformed', 'not a tlog-tiles path');
  const entries = m[1] === 'entries';
  const level = entries ? 0 : Number(m[1]);
  const groups = [
    ...(m[2] ?? '')
      .split('/')
      .filter((g) => g !== '')
      .map((g) => g.slice(1)),
    m[3]!,
  ];
  // A leading group of 000 would be a second spelling of the same index.
  if (groups.length > 1 && groups[0] === '000') throw new TransparencyError('tlog_malformed', 'tile index has a leading zero group');
  let index = 0;
  for (const g of groups) index = index * 1000 + Number(g);
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (m[4] !== undefined && width >= TILE_WIDTH) throw new TransparencyError('tlog_malformed', 'partial tile width must be 1..255');
  const tile = { level, index, width };
  checkTile(tile);
  if ((entries ? entryBundlePath(index, width) : tilePath(tile)) !== path) throw new TransparencyError('tlog_malformed', 'not a canonical tile path');
  return { ...tile, entries };
}

/** Every tile (full and partial) of a tree of `size` entries, level by level, left to right. */
export function tilesForTree(size: number): TileId[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new TransparencyError('tlog_out_of_range', 'tree size must be a non-negative integer');
  const out: TileId[] = [];
  for (let level = 0, unit = 1; Math.floor(size / unit) > 0; level++, unit *= TILE_WIDTH) {
    const count = Math.floor(size / unit);
    const full = Math.floor(count / TILE_WIDTH);
    for (let i = 0; i < full; i++) out.push({ level, index: i, width: TILE_WIDTH });
    const partial = count % TILE_WIDTH;
    if (partial > 0) out.push({ level, index: full, width: partial });
  }
  return out;
}

/** Tiles a tree of `newSize` has that one of `oldSize` does not: what an append must (re)write. */
export function newTiles(oldSize: number, newSize: number): TileId[] {
  if (oldSize > newSize) throw new TransparencyError('tlog_out_of_range', 'the log cannot shrink');
  const old = new Set(tilesForTree(oldSize).map(tilePath));
  return tilesForTree(newSize).filter((t) => !old.has(tilePath(t)));
}

/** The bytes of a tile: its hashes concatenated. */
export async function readTileData(reader: HashReader, t: TileId): Promise<Uint8Array> {
  checkTile(t);
  const level = t.level * TILE_HEIGHT;
  const nodes = Array.from({ length: t.width }, (_, j) => ({ level, index: t.index * TILE_WIDTH + j }));
  const hashes = await reader.readHashes(nodes);
  const out = new Uint8Array(t.width * HASH_SIZE);
  hashes.forEach((h, j) => out.set(h, j * HASH_SIZE));
  return out;
}

/** Splits tile bytes into hashes, checking the length matches the width. */
export function splitTileData(data: Uint8Array, width: number): Uint8Array[] {
  if (data.length !== width * HASH_SIZE) throw new TransparencyError('tlog_inconsistent', `tile has ${data.length} bytes, expected ${width * HASH_SIZE}`);
  return Array.from({ length: width }, (_, j) => data.slice(j * HASH_SIZE, (j + 1) * HASH_SIZE));
}

/** An entry bundle: each entry as a big-endian uint16 length then its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length === 0 || entries.length > TILE_WIDTH) throw new TransparencyError('tlog_malformed', 'an entry bundle holds 1..256 entries');
  const total = entries.reduce((n, e) => n + 2 + e.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new TransparencyError('tlog_malformed', 'a log entry is limited to 65535 bytes');
    view.setUint16(at, e.length, false);
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** Decodes an entry bundle that must hold exactly `width` entries and nothing after them. */
export function decodeEntryBundle(data: Uint8Array, width: number): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length) throw new TransparencyError('tlog_inconsistent', 'entry bundle ends inside a length prefix');
    const len = view.getUint16(at, false);
    if (at + 2 + len > data.length) throw new TransparencyError('tlog_inconsistent', 'entry bundle ends inside an entry');
    out.push(data.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  if (out.length !== width) throw new TransparencyError('tlog_inconsistent', `entry bundle holds ${out.length} entries, expected ${width}`);
  return out;
}

export interface TileExport {
  reader: HashReader;
  /** The entries [start, start + count), in order. */
  readEntries(start: number, count: number): Promise<Uint8Array[]>;
  oldSize: number;
  newSize: number;
  /** Writes one file of the layout (a directory, an S3 bucket, an HTTP cache). */
  put(path: string, data: Uint8Array): Promise<void>;
}

/**
 * Writes the tiles and entry bundles that growing the log from `oldSize` to `newSize` adds. The
 * checkpoint is written by the caller afterwards, so a reader never sees a checkpoint whose tiles
 * are missing.
 */
export async function exportTiles(x: TileExport): Promise<string[]> {
  const written: string[] = [];
  for (const t of newTiles(x.oldSize, x.newSize)) {
    const path = tilePath(t);
    await x.put(path, await readTileData(x.reader, t));
    written.push(path);
    if (t.level === 0) {
      const entries = await x.readEntries(t.index * TILE_WIDTH, t.width);
      const bundlePath = entryBundlePath(t.index, t.width);
      await x.put(bundlePath, encodeEntryBundle(entries));
      written.push(bundlePath);
    }
  }
  return written;
}

export type TileFetch = (path: string) => Promise<Uint8Array>;

export interface VerifiedCopy {
  /** The tree rebuilt from the copy's level-0 tiles, checked against the checkpoint. */
  store: MemoryHashStore;
  /** The entries, when asked for; each checked against its level-0 tile hash. */
  entries?: Uint8Array[];
}

async function fetchChecked(fetch: TileFetch, path: string): Promise<Uint8Array> {
  try {
    return await fetch(path);
  } catch (err) {
    throw new TransparencyError('tlog_inconsistent', `cannot read ${path} from the copy`, { cause: err });
  }
}

/**
 * Reads a copy of the log in the tiles layout and checks it against a trusted tree head (from a
 * verified checkpoint): every tile at every level, the root, and (with `entries`) every entry.
 * Deleting, reordering, editing or truncating anything in the copy makes it throw tlog_inconsistent.
 */
export async function readTreeFromTiles(fetch: TileFetch, trusted: { size: number; rootHash: Uint8Array }, options: { entries?: boolean } = {}): Promise<VerifiedCopy> {
  const store = new MemoryHashStore();
  const entries: Uint8Array[] | undefined = options.entries ? [] : undefined;
  const tiles = tilesForTree(trusted.size);
  for (const t of tiles.filter((x) => x.level === 0)) {
    const hashes = splitTileData(await fetchChecked(fetch, tilePath(t)), t.width);
    if (entries !== undefined) {
      const bundle = decodeEntryBundle(await fetchChecked(fetch, entryBundlePath(t.index, t.width)), t.width);
      bundle.forEach((e, j) => {
        if (!equalHashes(leafHash(e), hashes[j]!)) {
          throw new TransparencyError('tlog_inconsistent', `entry ${t.index * TILE_WIDTH + j} does not match its tile hash`);
        }
      });
      entries.push(...bundle);
    }
    for (const h of hashes) store.appendLeafHash(h);
  }
  if (store.size !== trusted.size) throw new TransparencyError('tlog_inconsistent', 'copy holds the wrong number of entries');
  if (!equalHashes(await treeHash(store, trusted.size), trusted.rootHash)) {
    throw new TransparencyError('tlog_inconsistent', 'copy does not hash to the checkpoint root');
  }
  for (const t of tiles.filter((x) => x.level > 0)) {
    const got = await fetchChecked(fetch, tilePath(t));
    if (!equalHashes(got, await readTileData(store, t))) {
      throw new TransparencyError('tlog_inconsistent', `${tilePath(t)} does not match the entries`);
    }
  }
  return entries === undefined ? { store } : { store, entries };
}
