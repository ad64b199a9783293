// The Merkle log, read-only, in the C2SP tlog-tiles layout under /tlog/: `checkpoint` (the latest
// checkpoint the quorum signed), `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`. Anyone can
// mirror and check it (`ztmint audit verify --from URL`, Go's tlog.TileHashReader).
import type { FastifyInstance } from 'fastify';
import { sendProblem } from '../../http/problem-response.js';
import { encodeEntryBundle, parseTilePath, readTileData, TILE_HEIGHT, TILE_WIDTH } from '../../transparency/tiles.js';
import type { TlogStore } from '../store/tlog-store.js';
import type { Checkpointer } from '../tlog/checkpointer.js';

/** The log's base URL below the issuer. */
export const TLOG_PREFIX = '/tlog';

export function tlogRoutes(app: FastifyInstance, tlog: TlogStore, checkpointer: Checkpointer): void {
  app.get(`${TLOG_PREFIX}/checkpoint`, async (_request, reply) => {
    const latest = await checkpointer.current();
    if (!latest) return sendProblem(reply, 'not_found', 'no checkpoint signed yet: it comes with the first mint');
    return reply.header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(latest.note);
  });
  app.get<{ Params: { '*': string } }>(`${TLOG_PREFIX}/tile/*`, async (request, reply) => {
    let tile;
    try {
      tile = parseTilePath(`tile/${request.params['*']}`);
    } catch {
      return sendProblem(reply, 'not_found', 'not a tile path (c2sp.org/tlog-tiles)');
    }
    const size = await tlog.size();
    // Hashes at tile level L are subtrees of 2^(8L) leaves: the tile needs that many per hash.
    const leavesNeeded = (tile.index * TILE_WIDTH + tile.width) * 2 ** (TILE_HEIGHT * (tile.entries ? 0 : tile.level));
    if (leavesNeeded > size) return sendProblem(reply, 'not_found', 'the log does not hold this tile yet');
    const data = tile.entries ? encodeEntryBundle(await tlog.readEntries(tile.index * TILE_WIDTH, tile.width)) : await readTileData(tlog, tile);
    // A full tile never changes; a partial one is replaced by a wider one as the log grows.
    reply.header('cache-control', tile.width === TILE_WIDTH ? 'public, max-age=31536000, immutable' : 'no-cache');
    return reply.type('application/octet-stream').send(Buffer.from(data));
  });
}
