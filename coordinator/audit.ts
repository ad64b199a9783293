// Append-only, hash-chained audit log (JSON Lines). Each record carries the previous record's hash
// and its own; an append returns only after fdatasync, so an acknowledged record survives a crash.
// A record's hash is SHA-256 of the RFC 8785 (JCS) form of the record without `hash`, so anyone
// can recompute it with any JCS implementation (docs/audit.md).
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, wellFormedJson } from '../protocol/canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_FILE = 'audit.jsonl';

export interface AuditEntry {
  event: 'mint' | 'deny' | 'revoke';
  [field: string]: unknown;
}

export interface AuditRecord extends AuditEntry {
  index: number;
  time: string;
  prev: string;
  hash: string;
}

/** SHA-256 (hex) of the record's RFC 8785 (JCS) serialisation, `hash` itself left out. */
export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/**
 * Checks the whole chain; returns the number of records or throws naming the first bad line.
 * `visit` sees each record once it has been checked (used to rebuild state such as revocations).
 */
export function verifyAuditText(text: string, visit?: (record: AuditRecord) => void): { count: number; head: string } {
  let prev = GENESIS_HASH;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('audit log ends with a torn record');
  lines.pop();
  for (const [i, line] of lines.entries()) {
    const record = JSON.parse(line) as AuditRecord;
    const { hash, ...rest } = record;
    if (rest.index !== i) throw new Error(`record ${i}: index ${rest.index} out of sequence`);
    if (rest.prev !== prev) throw new Error(`record ${i}: chain broken (prev does not match)`);
    let expected: string;
    try {
      expected = recordHash(rest);
    } catch (err) {
      throw new Error(`record ${i}: not representable in RFC 8785 JSON (${(err as Error).message})`);
    }
    if (expected !== hash) throw new Error(`record ${i}: hash does not match its content`);
    visit?.(record);
    prev = hash;
  }
  return { count: lines.length, head: prev };
}

interface Waiting {
  entry: AuditEntry;
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
}

/** Told after each durable group commit: how many records and how long write + fdatasync took (metrics). */
export type GroupCommitObserver = (records: number, seconds: number) => void;

/** Records written with one fdatasync at most (bounds the size of one write). */
const MAX_GROUP = 256;

export class AuditLog {
  private queue: Waiting[] = [];
  private flushing = false;
  private idle: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: FileHandle,
    private next: number,
    private prev: string,
    private size: number,
    private readonly now: () => Date,
    private readonly onGroupCommit?: GroupCommitObserver,
  ) {}

  static async open(
    dir: string,
    opts: { now?: () => Date; visit?: (record: AuditRecord) => void; onGroupCommit?: GroupCommitObserver } = {},
  ): Promise<AuditLog> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, AUDIT_FILE);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // A record without its newline was never acknowledged (the crash came before fdatasync).
    const complete = text.lastIndexOf('\n') + 1;
    if (complete < text.length) {
      await truncate(path, Buffer.byteLength(text.slice(0, complete)));
      text = text.slice(0, complete);
    }
    const { count, head } = verifyAuditText(text, opts.visit);
    const file = await open(path, 'a', 0o600);
    return new AuditLog(file, count, head, Buffer.byteLength(text), opts.now ?? (() => new Date()), opts.onGroupCommit);
  }

  /**
   * Appends durably and returns the record's index. Group commit: records that arrive while a
   * write + fdatasync is in flight are chained in arrival order and go to disk together in the
   * next one; each caller is answered only after the fdatasync that covers its record.
   */
  append(entry: AuditEntry): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.idle = this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length) {
        const group = this.queue.splice(0, MAX_GROUP);
        // The chain only advances once the group is durable.
        let prev = this.prev;
        const time = this.now().toISOString();
        const lines = group.map(({ entry }, i) => {
          // Claims and request fields may hold unpaired surrogates, which JCS cannot encode: the
          // record keeps U+FFFD in their place (what is hashed is exactly what is stored).
          const body = wellFormedJson({ ...entry, index: this.next + i, time, prev });
          const hash = recordHash(body);
          prev = hash;
          return JSON.stringify({ ...body, hash }) + '\n';
        });
        const bytes = Buffer.from(lines.join(''));
        const started = this.onGroupCommit ? process.hrtime.bigint() : 0n;
        try {
          // write() may write part of the group (full disk, file-size limit): loop until all of it
          // is down, or fail and cut the part that was written.
          for (let done = 0; done < bytes.length; ) {
            const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done);
            if (bytesWritten === 0) throw new Error('audit write made no progress');
            done += bytesWritten;
          }
          await this.file.datasync();
        } catch (err) {
          // Cut off whatever part of the group reached the file, so the chain stays intact.
          await this.file.truncate(this.size).catch(() => undefined);
          for (const w of group) w.reject(err);
          continue;
        }
        this.onGroupCommit?.(group.length, Number(process.hrtime.bigint() - started) / 1e9);
        const first = this.next;
        this.size += bytes.length;
        this.prev = prev;
        this.next += group.length;
        group.forEach((w, i) => w.resolve(first + i));
      }
    } finally {
      this.flushing = false; // synchronously after the last look at the queue: no append is missed
    }
  }

  async close(): Promise<void> {
    await this.idle;
    await this.file.close();
  }
}
