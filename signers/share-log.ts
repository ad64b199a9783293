// Each signer's own transparency log of the signature shares it released (issue 15 item 6): one
// entry per share (the token's jti, SHA-256 of the signing input, SHA-256 of the mint context),
// appended durably BEFORE the share leaves the signer, in a Merkle tree (RFC 9162) whose
// checkpoints the signer signs with its own Ed25519 note key. A coordinator that has tokens
// signed and leaves them out of its own log is caught by comparing the two (`ztmint audit
// cross-check`): it cannot get t shares without t signers writing the jti down first.
//
// On disk: `<dir>/share-log.bin`, the entries in the tlog-tiles entry-bundle encoding (a big-endian
// uint16 length, then the bytes), appended with one fdatasync per group of concurrent appends.
// The tree is rebuilt in memory on open (entries are ~200 bytes; a million shares is seconds). A
// torn last entry (a crash inside a write) was never acknowledged, so no share went out for it:
// it is cut off.
import { createHash, hkdfSync } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../protocol/canonical-json.js';
import { formatCheckpoint } from '../transparency/checkpoint.js';
import { HASH_SIZE, MemoryHashStore, leafHash, treeHash } from '../transparency/merkle.js';
import { ed25519SeedSigner, signNote } from '../transparency/signed-note.js';
import { CHECKPOINT_PATH, TILE_HEIGHT, TILE_WIDTH, encodeEntryBundle, entryBundlePath, parseTilePath } from '../transparency/tiles.js';

export const SHARE_LOG_FILE = 'share-log.bin';

/** What a signer writes down for each share it releases. */
export interface ShareLogEntry {
  /** Format version of the entry. */
  v: 1;
  jti: string;
  /** SHA-256 (hex) of the exact bytes the share signs (the JWS signing input). */
  message_sha256: string;
  /** SHA-256 (hex) of the RFC 8785 form of the mint context (OIDC token and request). */
  context_sha256: string;
  /** The token's expiry, so an auditor can tell when a missing token stopped mattering. */
  exp: number;
  /** The client certificate CN that asked for the share. */
  client: string;
  time: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * How signers derived their note key seed from their key share (HKDF-SHA256, a PRF: it reveals
 * nothing about the share) before the seed had a file of its own: used once, to create
 * `share-log.seed` (signers/share-log-seed.ts) for a signer that already has a log, so its key
 * stays the same. From then on the seed no longer follows the share (refresh, repair, reshare).
 */
export function shareLogSeed(signingShare: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', signingShare, 'ztmint', 'ztmint signer share-log note key v1', 32));
}

/** The origin of signer `name`'s share log for the group key whose thumbprint is `kid`. */
export function shareLogOrigin(kid: string, name: string): string {
  return `ztmint/${kid}/${name}/shares`;
}

interface Pending {
  bytes: Uint8Array;
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
}

export class ShareLog {
  private readonly store = new MemoryHashStore();
  private readonly entries: Uint8Array[] = [];
  private readonly signer;
  private queue: Pending[] = [];
  private flushing = false;
  private broken: unknown;
  private idle: Promise<void> = Promise.resolve();
  private signed?: { size: number; note: string };

  private constructor(
    private readonly file: FileHandle,
    private bytesOnDisk: number,
    readonly origin: string,
    seed: Uint8Array,
  ) {
    this.signer = ed25519SeedSigner(origin, seed);
  }

  /** Opens (or creates) `<dir>/share-log.bin` and rebuilds the tree. */
  static async open(dir: string, origin: string, seed: Uint8Array): Promise<ShareLog> {
    const file = await open(join(dir, SHARE_LOG_FILE), 'a+', 0o600);
    try {
      const data = new Uint8Array(await file.readFile());
      const { entries, complete } = splitEntries(data);
      if (complete < data.length) await file.truncate(complete);
      const log = new ShareLog(file, complete, origin, seed);
      for (const e of entries) log.add(e);
      return log;
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** The note verifier key auditors check this log's checkpoints with. */
  get verifierKey(): string {
    return this.signer.vkey;
  }

  get size(): number {
    return this.entries.length;
  }

  private add(entry: Uint8Array): void {
    this.entries.push(entry);
    this.store.appendLeafHash(leafHash(entry));
  }

  /**
   * Appends durably; resolves with the entry's index only once it is on disk. Concurrent appends
   * share one write and one fdatasync, in arrival order.
   */
  append(entry: ShareLogEntry): Promise<number> {
    const bytes = new TextEncoder().encode(canonicalJson(entry));
    if (this.broken !== undefined) return Promise.reject(new Error('the share log failed to write: restart the signer', { cause: this.broken }));
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.idle = this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length) {
        const group = this.queue.splice(0, TILE_WIDTH);
        const data = encodeEntryBundle(group.map((p) => p.bytes));
        try {
          await this.file.write(data, 0, data.length, this.bytesOnDisk);
          await this.file.datasync();
        } catch (err) {
          // A write that may have landed in part: no further entry may follow it, so this log
          // takes no more appends and the signer releases no more shares until it is restarted
          // (opening cuts a torn tail off).
          this.broken = err;
          for (const p of [...group, ...this.queue.splice(0)]) p.reject(err);
          return;
        }
        this.bytesOnDisk += data.length;
        for (const p of group) {
          this.add(p.bytes);
          p.resolve(this.entries.length - 1);
        }
      }
    } finally {
      // Synchronously after the last look at the queue (no await in between): no append is missed.
      this.flushing = false;
    }
  }

  /** The signed checkpoint of the log as it is now (signed once per size). */
  async checkpoint(): Promise<string> {
    const size = this.entries.length;
    if (this.signed?.size !== size) {
      const text = formatCheckpoint({ origin: this.origin, size, rootHash: await treeHash(this.store, size), extensions: [] });
      this.signed = { size, note: await signNote(text, [this.signer]) };
    }
    return this.signed.note;
  }

  /**
   * A file of the log in the tlog-tiles layout (`checkpoint`, `tile/<L>/<N>[.p/<W>]`,
   * `tile/entries/<N>[.p/<W>]`), or undefined when the log has no such tile (yet).
   */
  async read(path: string): Promise<Uint8Array | undefined> {
    if (path === CHECKPOINT_PATH) return new TextEncoder().encode(await this.checkpoint());
    let tile;
    try {
      tile = parseTilePath(path);
    } catch {
      return undefined;
    }
    const size = this.entries.length;
    const unit = TILE_WIDTH ** tile.level;
    // Stored hashes at level 8L: floor(size / 256^L) of them; the tile needs all of its width.
    if ((tile.index * TILE_WIDTH + tile.width) * unit > size) return undefined;
    if (tile.entries) {
      if (entryBundlePath(tile.index, tile.width) !== path) return undefined;
      return encodeEntryBundle(this.entries.slice(tile.index * TILE_WIDTH, tile.index * TILE_WIDTH + tile.width));
    }
    const level = tile.level * TILE_HEIGHT;
    const hashes = await this.store.readHashes(Array.from({ length: tile.width }, (_, j) => ({ level, index: tile.index * TILE_WIDTH + j })));
    const out = new Uint8Array(tile.width * HASH_SIZE);
    hashes.forEach((h, j) => out.set(h, j * HASH_SIZE));
    return out;
  }

  async close(): Promise<void> {
    await this.idle;
    await this.file.close();
  }
}

/** Splits the file into entries, stopping before a torn last one; returns where the complete part ends. */
function splitEntries(data: Uint8Array): { entries: Uint8Array[]; complete: number } {
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const len = (data[at]! << 8) | data[at + 1]!;
    if (at + 2 + len > data.length) break;
    entries.push(data.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return { entries, complete: at };
}
