// A HashReader over a remote copy of the log that fetches only the tiles a proof needs and trusts
// none of them until checked against a verified checkpoint (the approach of Go's
// tlog.TileHashReader): the right-edge partial tiles must hash to the checkpoint root, and every
// full tile must hash to its entry in the (already checked) tile above it. `audit prove` and
// `audit verify-proof` can then work from a static copy without reading the whole log.
import { TransparencyError } from './errors.js';
import { HASH_SIZE, equalHashes, nodeHash, rangeHashes, type HashReader, type NodeId } from './merkle.js';
import { TILE_HEIGHT, TILE_WIDTH, splitTileData, tilePath, tilesForTree, type TileFetch, type TileId } from './tiles.js';

/** The hash of 2^k consecutive hashes (a perfect subtree), k <= 8. */
function perfectHash(hashes: readonly Uint8Array[]): Uint8Array {
  let level = [...hashes];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

export class TileHashReader implements HashReader {
  private readonly verified = new Map<string, Uint8Array[]>();
  private ready: Promise<void> | undefined;

  constructor(
    private readonly fetch: TileFetch,
    private readonly tree: { size: number; rootHash: Uint8Array },
  ) {}

  /** Number of tiles fetched so far (tests check that proofs stay cheap). */
  get tilesFetched(): number {
    return this.fetched;
  }

  private fetched = 0;

  private widthOf(level: number, index: number): number {
    const count = Math.floor(this.tree.size / TILE_WIDTH ** level);
    const full = Math.floor(count / TILE_WIDTH);
    if (index < full) return TILE_WIDTH;
    if (index === full && count % TILE_WIDTH > 0) return count % TILE_WIDTH;
    throw new TransparencyError('tlog_out_of_range', `no tile ${level}/${index} in a tree of size ${this.tree.size}`);
  }

  private async load(t: TileId): Promise<Uint8Array[]> {
    let data: Uint8Array;
    try {
      data = await this.fetch(tilePath(t));
    } catch (err) {
      throw new TransparencyError('tlog_inconsistent', `cannot read ${tilePath(t)} from the copy`, { cause: err });
    }
    this.fetched += 1;
    return splitTileData(data, t.width);
  }

  /** Fetches the right-edge partial tiles and checks that they hash to the checkpoint root. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      const edge = tilesForTree(this.tree.size).filter((t) => t.width < TILE_WIDTH);
      const pending = new Map<string, Uint8Array[]>();
      for (const t of edge) pending.set(tilePath(t), await this.load(t));
      const fromPending: HashReader = { readHashes: async (nodes) => nodes.map((n) => this.hashFrom(pending, n)) };
      const [root] = await rangeHashes(fromPending, [{ start: 0, end: this.tree.size }]);
      if (root === undefined || !equalHashes(root, this.tree.rootHash)) {
        throw new TransparencyError('tlog_inconsistent', 'the edge tiles of the copy do not hash to the checkpoint root');
      }
      for (const [path, hashes] of pending) this.verified.set(path, hashes);
    })();
    return this.ready;
  }

  /** The stored hash (level, index) computed from the tile holding it, which must be in `tiles`. */
  private hashFrom(tiles: Map<string, Uint8Array[]>, node: NodeId): Uint8Array {
    const t = this.tileOf(node);
    const hashes = tiles.get(tilePath(t));
    if (hashes === undefined) throw new TransparencyError('tlog_inconsistent', `tile ${tilePath(t)} is not available`);
    const k = node.level - t.level * TILE_HEIGHT;
    const first = node.index * 2 ** k - t.index * TILE_WIDTH;
    return perfectHash(hashes.slice(first, first + 2 ** k));
  }

  private tileOf(node: NodeId): TileId {
    if (node.level < 0 || (node.index + 1) * 2 ** node.level > this.tree.size) {
      throw new TransparencyError('tlog_out_of_range', `no stored hash at level ${node.level} index ${node.index}`);
    }
    const level = Math.floor(node.level / TILE_HEIGHT);
    const k = node.level - level * TILE_HEIGHT;
    const index = Math.floor((node.index * 2 ** k) / TILE_WIDTH);
    return { level, index, width: this.widthOf(level, index) };
  }

  /** A tile's hashes, fetched and checked against the tile above it (recursively) if not yet. */
  private async verifiedTile(t: TileId): Promise<Uint8Array[]> {
    const path = tilePath(t);
    const known = this.verified.get(path);
    if (known !== undefined) return known;
    // Partial tiles were all checked by init(); an unknown one is not part of this tree.
    if (t.width < TILE_WIDTH) throw new TransparencyError('tlog_inconsistent', `partial tile ${path} is not on the tree's edge`);
    const hashes = await this.load(t);
    const parent = { level: t.level + 1, index: Math.floor(t.index / TILE_WIDTH) };
    const parentHashes = await this.verifiedTile({ ...parent, width: this.widthOf(parent.level, parent.index) });
    const expected = parentHashes[t.index % TILE_WIDTH];
    if (expected === undefined || !equalHashes(perfectHash(hashes), expected)) {
      throw new TransparencyError('tlog_inconsistent', `tile ${path} does not match the tile above it`);
    }
    this.verified.set(path, hashes);
    return hashes;
  }

  async readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    await this.init();
    for (const node of nodes) await this.verifiedTile(this.tileOf(node));
    return nodes.map((n) => {
      const h = this.hashFrom(this.verified, n);
      if (h.length !== HASH_SIZE) throw new TransparencyError('tlog_inconsistent', 'tile hash has the wrong size');
      return h;
    });
  }
}
