// The audit log's hash chain, independent of where records are kept: how a group of entries is
// chained after a head, and how a sequence of stored lines is checked. Both state stores (files,
// PostgreSQL) use these, so one `ztmint audit verify` rule holds for either.
// A record's hash is SHA-256 of the RFC 8785 (JCS) form of the record without `hash`, so anyone
// can recompute it with any JCS implementation (docs/audit.md).
import { createHash } from 'node:crypto';
import { canonicalJson, wellFormedJson } from '../protocol/canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  /** `admin_refused`: a call to the admin listener without an allowed client certificate; `key_*`: docs/keys.md. */
  event:
    | 'mint'
    | 'deny'
    | 'revoke'
    | 'admin_refused'
    | 'key_published'
    | 'key_activated'
    | 'key_retired'
    | 'key_rotation_failed'
    | 'key_refreshed'
    | 'key_repaired'
    | 'key_reshared'
    | 'key_ceremony_failed';
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

/** Chains `entries` after the record `first - 1` whose hash is `prev`; returns the records and the new head. */
export function chainRecords(entries: AuditEntry[], first: number, prev: string, time: string): { records: AuditRecord[]; head: string } {
  const records = entries.map((entry, i) => {
    // Claims and request fields may hold unpaired surrogates, which JCS cannot encode: the
    // record keeps U+FFFD in their place (what is hashed is exactly what is stored).
    const body = wellFormedJson({ ...entry, index: first + i, time, prev });
    const hash = recordHash(body);
    prev = hash;
    return { ...body, hash };
  });
  return { records, head: prev };
}

/**
 * Checks stored records one at a time, in order (a file's lines, or rows read page by page);
 * throws naming the first bad record. `visit` sees each record once it has been checked.
 */
export class ChainVerifier {
  count = 0;
  head = GENESIS_HASH;

  constructor(private readonly visit?: (record: AuditRecord) => void) {}

  push(line: string): AuditRecord {
    const i = this.count;
    const record = JSON.parse(line) as AuditRecord;
    const { hash, ...rest } = record;
    if (rest.index !== i) throw new Error(`record ${i}: index ${rest.index} out of sequence`);
    if (rest.prev !== this.head) throw new Error(`record ${i}: chain broken (prev does not match)`);
    let expected: string;
    try {
      expected = recordHash(rest);
    } catch (err) {
      throw new Error(`record ${i}: not representable in RFC 8785 JSON (${(err as Error).message})`, { cause: err });
    }
    if (expected !== hash) throw new Error(`record ${i}: hash does not match its content`);
    this.visit?.(record);
    this.head = hash;
    this.count += 1;
    return record;
  }
}

/**
 * Checks a whole JSON Lines log; returns the number of records or throws naming the first bad line.
 * `visit` sees each record once it has been checked (used to rebuild state such as revocations).
 */
export function verifyAuditText(text: string, visit?: (record: AuditRecord) => void): { count: number; head: string } {
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('audit log ends with a torn record');
  lines.pop();
  const verifier = new ChainVerifier(visit);
  for (const line of lines) verifier.push(line);
  return { count: verifier.count, head: verifier.head };
}
