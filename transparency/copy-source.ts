// Where a copy of the log in the tiles layout is read from: a base URL (the coordinator's /tlog/,
// a mirror, a static bucket website) or a directory (`audit export`). The one reader for
// `audit verify --from`, `audit prove`, `audit monitor` and the export/cross-check commands.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TileFetch } from './tiles.js';

/** Largest file a copy may serve: a full entry bundle of maximum-size entries. */
const MAX_TILE_BYTES = 256 * (2 + 65_535);

export function isUrl(from: string): boolean {
  return /^https?:\/\//i.test(from);
}

/** A TileFetch over a URL (with a trailing slash added when missing) or a directory. */
export function copySource(from: string, timeoutMs = 30_000): TileFetch {
  if (isUrl(from)) {
    const base = from.endsWith('/') ? from : `${from}/`;
    return async (path) => {
      const res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length > MAX_TILE_BYTES) throw new Error(`GET ${path}: larger than any tile`);
      return body;
    };
  }
  const dir = resolve(from);
  return async (path) => new Uint8Array(await readFile(join(dir, ...path.split('/'))));
}
