// Revocation rules of the admin API (by repository, or everything, issued before T): what they
// cover, when they are forgotten, and that the embedded store rebuilds them from audit records
// (so they survive a restart); the audit filters of `ztmint audit search`.
import { describe, expect, it } from 'vitest';
import { matchesFilter, scanAudit } from '../coordinator/admin/audit-query.js';
import { AuditLog, type AuditRecord } from '../coordinator/audit.js';
import { MAX_TOKEN_TTL_S, RuleSet, ruleCovers } from '../coordinator/revocation-rules.js';
import { Revocations } from '../coordinator/revocations.js';
import { readAuditFile } from '../coordinator/store/file-audit-sink.js';
import { freshLog } from './helpers/fresh-audit-log.js';

const T = 1_800_000_000;

describe('revocation rules', () => {
  it('cover tokens issued strictly before T, of the repository or of all', () => {
    const repo = { repository: 'acme/webapp', before: T };
    expect(ruleCovers(repo, { jti: 'a', iat: T - 1, repository: 'acme/webapp' })).toBe(true);
    expect(ruleCovers(repo, { jti: 'a', iat: T, repository: 'acme/webapp' })).toBe(false);
    expect(ruleCovers(repo, { jti: 'a', iat: T - 1, repository: 'acme/other' })).toBe(false);
    expect(ruleCovers(repo, { jti: 'a', repository: 'acme/webapp' })).toBe(false);
    expect(ruleCovers({ before: T }, { jti: 'a', iat: T - 1, repository: 'acme/other' })).toBe(true);
    expect(ruleCovers({ before: T }, { jti: 'a', iat: T - 1 })).toBe(true);
  });

  it('are set once and forgotten once no covered token can be valid', () => {
    let now = T;
    const rules = new RuleSet();
    expect(rules.add({ repository: 'acme/webapp', before: T }, now)).toBe(true);
    expect(rules.add({ repository: 'acme/webapp', before: T }, now)).toBe(false);
    expect(rules.covers({ jti: 'a', iat: T - 10, repository: 'acme/webapp' }, now)).toBe(true);
    now = T + MAX_TOKEN_TTL_S + 1;
    expect(rules.covers({ jti: 'a', iat: T - 10, repository: 'acme/webapp' }, now)).toBe(false);
    expect(rules.add({ before: T }, now)).toBe(false); // already moot
  });

  it('are rebuilt by the embedded store from revoke records at start-up', async () => {
    const { dir, log } = await freshLog();
    await log.append({ event: 'revoke', rule: { repository: 'acme/webapp', before: T }, repository: 'acme/webapp', by: { admin: 'admin' } });
    await log.append({ event: 'revoke', jti: 'by-admin', exp: T + 600, by: { admin: 'admin' } });
    await log.close();
    const revocations = new Revocations(() => T + 5);
    await (await AuditLog.open(dir, { visit: revocations.replay })).close();
    expect(revocations.covers({ jti: 'x', iat: T - 1, repository: 'acme/webapp' })).toBe(true);
    expect(revocations.covers({ jti: 'x', iat: T + 1, repository: 'acme/webapp' })).toBe(false);
    expect(revocations.covers({ jti: 'by-admin', iat: T + 1 })).toBe(true);
  });
});

describe('audit filters', () => {
  const rec = (index: number, fields: Record<string, unknown>): AuditRecord => ({ index, time: `2026-01-01T00:00:0${index}.000Z`, prev: '', hash: '', event: 'mint', ...fields }) as AuditRecord;
  const records = [
    rec(0, { event: 'deny', repository: 'acme/webapp', code: 'policy_denied', oidc: { sub: 's1', jti: 'o1' } }),
    rec(1, { event: 'mint', repository: 'acme/webapp', jti: 'm1', oidc: { sub: 's2', jti: 'o2' } }),
    rec(2, { event: 'deny', repository: 'acme/other', code: 'policy_denied', oidc: { sub: 's3', jti: 'o3' } }),
    rec(3, { event: 'admin_refused', code: 'forbidden', client: 'coordinator' }),
  ];

  it('match on every given field, all together', () => {
    const idx = (f: Parameters<typeof matchesFilter>[1]) => records.filter((r) => matchesFilter(r, f)).map((r) => r.index);
    expect(idx({ repository: 'acme/webapp', event: 'deny' })).toEqual([0]);
    expect(idx({ subject: 's2' })).toEqual([1]);
    expect(idx({ jti: 'm1' })).toEqual([1]);
    expect(idx({ jti: 'o3' })).toEqual([2]);
    expect(idx({ code: 'policy_denied' })).toEqual([0, 2]);
    expect(idx({ since: '2026-01-01T00:00:01Z', until: '2026-01-01T00:00:03Z' })).toEqual([1, 2]);
    expect(idx({})).toEqual([0, 1, 2, 3]);
  });

  it('scan page by page and say where to continue', async () => {
    const read = async (from: number, limit: number) => records.slice(from, from + limit);
    expect(await scanAudit(read, { event: 'deny' }, 0, 1)).toEqual({ records: [records[0]], next: 1 });
    expect(await scanAudit(read, { event: 'deny' }, 1, 10)).toEqual({ records: [records[2]], next: 4 });
    expect((await scanAudit(read, { event: 'none' }, 0, 10)).next).toBe(4);
  });

  it('read the file store as written, never a group without its final newline', async () => {
    const { dir, path, log } = await freshLog();
    await log.append({ event: 'mint', n: 0 });
    await log.append({ event: 'deny', n: 1 });
    await log.close();
    const { appendFile } = await import('node:fs/promises');
    await appendFile(path, '{"event":"mint","n":2'); // a group being written
    expect((await readAuditFile(dir, 0, 10)).map((r) => r.n)).toEqual([0, 1]);
    expect((await readAuditFile(dir, 1, 1)).map((r) => r.index)).toEqual([1]);
  });
});
