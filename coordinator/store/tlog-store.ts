// The Merkle transparency log's storage, beside the audit chain in the same state store. Leaf i is
// audit record i, exactly as stored (its JSON line, UTF-8): both are appended in one durable step,
// so the log always covers every audit record. The store also keeps the latest checkpoint the
// signer quorum signed.
import type { HashReader } from '../../transparency/merkle.js';

export interface TlogStore extends HashReader {
  /** Leaves in the log now (= audit records). */
  size(): Promise<number>;
  /** Entries [start, start + count), in order. */
  readEntries(start: number, count: number): Promise<Uint8Array[]>;
  /** The newest signed checkpoint note, if any was signed. */
  latestCheckpoint(): Promise<string | undefined>;
  /** Keeps a signed checkpoint note of `size` leaves (older ones stay, for the record). */
  saveCheckpoint(note: string, size: number): Promise<void>;
  /**
   * Replaces the kept note of `size` with the same note plus external witnesses' cosignature lines
   * (transparency/witness-client.ts checked them). Does nothing when no note of that size is kept,
   * or (file store) when a newer checkpoint has replaced it meanwhile.
   */
  saveCosignedCheckpoint(note: string, size: number): Promise<void>;
}
