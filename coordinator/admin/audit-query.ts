// Filters over audit records for the admin API's search and tail: by time range, event,
// repository, OIDC subject, token id (minted or OIDC jti) and problem code. Scans the store page by
// page from an index; both stores answer pages in index order.
import type { AuditRecord } from '../audit.js';

export interface AuditFilter {
  /** RFC 3339; records at or after. */
  since?: string;
  /** RFC 3339; records strictly before. */
  until?: string;
  event?: string;
  repository?: string;
  subject?: string;
  jti?: string;
  code?: string;
}

export const AUDIT_FILTER_KEYS = ['since', 'until', 'event', 'repository', 'subject', 'jti', 'code'] as const;

/** Records read from the store per page while scanning. */
const PAGE = 2_000;

export function matchesFilter(record: AuditRecord, filter: AuditFilter): boolean {
  const oidc = (record.oidc ?? {}) as { sub?: unknown; jti?: unknown };
  const time = Date.parse(record.time);
  if (filter.since !== undefined && !(time >= Date.parse(filter.since))) return false;
  if (filter.until !== undefined && !(time < Date.parse(filter.until))) return false;
  if (filter.event !== undefined && record.event !== filter.event) return false;
  if (filter.repository !== undefined && record.repository !== filter.repository) return false;
  if (filter.subject !== undefined && oidc.sub !== filter.subject) return false;
  if (filter.jti !== undefined && record.jti !== filter.jti && oidc.jti !== filter.jti) return false;
  if (filter.code !== undefined && record.code !== filter.code) return false;
  return true;
}

export interface AuditPage {
  records: AuditRecord[];
  /** The index to continue from: every record before it was looked at. */
  next: number;
}

/** Up to `limit` matching records from index `from` on. */
export async function scanAudit(read: (from: number, limit: number) => Promise<AuditRecord[]>, filter: AuditFilter, from: number, limit: number): Promise<AuditPage> {
  const records: AuditRecord[] = [];
  let next = from;
  for (;;) {
    const page = await read(next, PAGE);
    for (const record of page) {
      next = record.index + 1;
      if (matchesFilter(record, filter)) {
        records.push(record);
        if (records.length >= limit) return { records, next };
      }
    }
    if (page.length < PAGE) return { records, next };
  }
}
