// Append-only, hash-chained audit log with group commit. Where the records go is a sink: a JSON
// Lines file with fdatasync (the embedded store), or a PostgreSQL table shared by every replica.
// An append returns only once its record is durable, so an acknowledged record survives a crash.
import type { AuditEntry, AuditRecord } from './audit-chain.js';
import { FileAuditSink } from './store/file-audit-sink.js';

export { recordHash, verifyAuditText, type AuditEntry, type AuditRecord } from './audit-chain.js';
export { AUDIT_FILE } from './store/file-audit-sink.js';

/** Where a group of records becomes durable. */
export interface AuditSink {
  /**
   * Chains `entries` after the current head, stamped with `time`, and makes them durable together
   * (all or none); returns the index of the first. Throws if nothing was made durable.
   */
  commit(entries: AuditEntry[], time: string): Promise<number>;
  close(): Promise<void>;
}

interface Waiting {
  entry: AuditEntry;
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
}

/** Told after each durable group commit: how many records and how long the commit took (metrics). */
export type GroupCommitObserver = (records: number, seconds: number) => void;

/** Records made durable in one commit at most (bounds the size of one write or transaction). */
const MAX_GROUP = 256;

export class AuditLog {
  private queue: Waiting[] = [];
  private flushing = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: AuditSink,
    private readonly now: () => Date = () => new Date(),
    private readonly onGroupCommit?: GroupCommitObserver,
  ) {}

  /** The embedded store's log: `dir`/audit.jsonl, checked end to end (and `visit`ed) on open. */
  static async open(dir: string, opts: { now?: () => Date; visit?: (record: AuditRecord) => void; onGroupCommit?: GroupCommitObserver } = {}): Promise<AuditLog> {
    return new AuditLog(await FileAuditSink.open(dir, opts.visit), opts.now, opts.onGroupCommit);
  }

  /**
   * Appends durably and returns the record's index. Group commit: records that arrive while a
   * commit is in flight are chained in arrival order and committed together in the next one;
   * each caller is answered only after the commit that covers its record.
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
        let first: number;
        const started = this.onGroupCommit ? process.hrtime.bigint() : 0n;
        try {
          first = await this.sink.commit(
            group.map((w) => w.entry),
            this.now().toISOString(),
          );
        } catch (err) {
          for (const w of group) w.reject(err);
          continue;
        }
        this.onGroupCommit?.(group.length, Number(process.hrtime.bigint() - started) / 1e9);
        group.forEach((w, i) => w.resolve(first + i));
      }
    } finally {
      this.flushing = false; // synchronously after the last look at the queue: no append is missed
    }
  }

  async close(): Promise<void> {
    await this.idle;
    await this.sink.close();
  }
}
