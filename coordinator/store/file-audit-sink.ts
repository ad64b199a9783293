// The embedded store's audit sink: JSON Lines in <state>/audit/audit.jsonl, each group written
// then fdatasync'ed; a group that fails part-way is cut off again so the chain stays intact.
import { mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { chainRecords, verifyAuditText, type AuditEntry, type AuditRecord } from '../audit-chain.js';
import { FileTlog } from './file-tlog.js';

export const AUDIT_FILE = 'audit.jsonl';
const NEWLINE = Buffer.from('\n');

export class FileAuditSink {
  private constructor(
    private readonly file: FileHandle,
    private next: number,
    private prev: string,
    private size: number,
    /** The Merkle log over the same lines (leaf i = record i). */
    readonly tlog: FileTlog,
  ) {}

  /** Opens (creating) the log, cuts a torn last record, and checks the chain end to end. */
  static async open(dir: string, visit?: (record: AuditRecord) => void): Promise<FileAuditSink> {
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
    const { count, head } = verifyAuditText(text, visit);
    const tlog = new FileTlog(dir, path);
    tlog.appendLines(
      text
        .split('\n')
        .slice(0, count)
        .map((line) => Buffer.from(line)),
    );
    const file = await open(path, 'a', 0o600);
    return new FileAuditSink(file, count, head, Buffer.byteLength(text), tlog);
  }

  async commit(entries: AuditEntry[], time: string): Promise<number> {
    // The chain only advances once the group is durable.
    const { records, head } = chainRecords(entries, this.next, this.prev, time);
    const lines = records.map((r) => Buffer.from(JSON.stringify(r)));
    const bytes = Buffer.concat(lines.flatMap((line) => [line, NEWLINE]));
    try {
      // write() may write part of the group (full disk, file-size limit): loop until all of it
      // is down, or fail and cut the part that was written.
      for (let done = 0; done < bytes.length;) {
        const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done);
        if (bytesWritten === 0) throw new Error('audit write made no progress');
        done += bytesWritten;
      }
      await this.file.datasync();
    } catch (err) {
      await this.file.truncate(this.size).catch(() => undefined);
      throw err;
    }
    const first = this.next;
    this.size += bytes.length;
    this.prev = head;
    this.next += entries.length;
    this.tlog.appendLines(lines);
    return first;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/**
 * Up to `limit` records from index `from` on. Reads the file as it is: a group being written has
 * no final newline yet and is left out (it is not acknowledged either), so readers never see a
 * record that a crash could still cut.
 */
export async function readAuditFile(dir: string, from: number, limit: number): Promise<AuditRecord[]> {
  const text = await readFile(join(dir, AUDIT_FILE), 'utf8');
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n');
  return lines
    .slice(from, from + limit)
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditRecord);
}
