// The embedded store's Merkle log. Its entries are the lines of <state>/audit/audit.jsonl (no
// second copy); the subtree hashes are rebuilt in memory from them at start (the file is read and
// checked end to end then anyway) and extended after each durable group. The latest signed
// checkpoint is <state>/audit/checkpoint, replaced atomically.
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryHashStore, type NodeId } from '../../transparency/merkle.js';
import type { TlogStore } from './tlog-store.js';

const CHECKPOINT_FILE = 'checkpoint';

export class FileTlog implements TlogStore {
  private readonly hashes = new MemoryHashStore();
  /** Byte offset of each entry's line in the audit file, plus the end of the last one. */
  private readonly offsets: number[] = [0];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly auditPath: string,
  ) {}

  /** Adds the lines (without their newlines) of a durable group, in order. */
  appendLines(lines: readonly Buffer[]): void {
    for (const line of lines) {
      this.hashes.appendEntry(line);
      this.offsets.push(this.offsets.at(-1)! + line.length + 1);
    }
  }

  async size(): Promise<number> {
    return this.hashes.size;
  }

  readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    return this.hashes.readHashes(nodes);
  }

  async readEntries(start: number, count: number): Promise<Uint8Array[]> {
    if (count === 0) return [];
    if (start < 0 || start + count > this.hashes.size) throw new RangeError(`entries ${start}..${start + count - 1} are beyond the log's ${this.hashes.size}`);
    const from = this.offsets[start]!;
    const to = this.offsets[start + count]!;
    const file = await open(this.auditPath, 'r');
    try {
      const buf = Buffer.alloc(to - from);
      for (let done = 0; done < buf.length;) {
        const { bytesRead } = await file.read(buf, done, buf.length - done, from + done);
        if (bytesRead === 0) throw new Error('audit file is shorter than the log');
        done += bytesRead;
      }
      const out: Uint8Array[] = [];
      for (let i = start; i < start + count; i++) out.push(new Uint8Array(buf.subarray(this.offsets[i]! - from, this.offsets[i + 1]! - from - 1)));
      return out;
    } finally {
      await file.close();
    }
  }

  async latestCheckpoint(): Promise<string | undefined> {
    try {
      return await readFile(join(this.dir, CHECKPOINT_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  saveCheckpoint(note: string): Promise<void> {
    return this.serially(() => this.writeCheckpoint(note));
  }

  saveCosignedCheckpoint(note: string, size: number): Promise<void> {
    return this.serially(async () => {
      // Witnesses answer after the fact: a newer checkpoint written meanwhile must stay.
      const kept = await this.latestCheckpoint();
      if (kept !== undefined && checkpointSize(kept) === size) await this.writeCheckpoint(note);
    });
  }

  /** One checkpoint write at a time, so the check-then-replace above cannot interleave. */
  private serially(write: () => Promise<void>): Promise<void> {
    const next = this.writing.then(write);
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async writeCheckpoint(note: string): Promise<void> {
    // Written aside, synced, then renamed: a crash leaves the old or the new note, never half.
    const path = join(this.dir, CHECKPOINT_FILE);
    const tmp = `${path}.tmp`;
    await writeFile(tmp, note, { mode: 0o644 });
    const handle = await open(tmp, 'r');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  }
}

/** The tree size line of a checkpoint note (its second line). */
function checkpointSize(note: string): number {
  return Number(note.split('\n', 2)[1]);
}
