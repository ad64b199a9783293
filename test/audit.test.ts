// The audit log: hash chain, durability boundary (torn tail dropped on open), tamper detection.
// The full-disk case needs prlimit(1), a process: test/audit-disk-full.e2e.test.ts.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AuditLog, verifyAuditText } from '../coordinator/audit.js';
import { Revocations } from '../coordinator/revocations.js';
import { freshLog } from './helpers/fresh-audit-log.js';

describe('audit log', () => {
  it('chains records and continues the chain after a reopen', async () => {
    const { dir, path, log } = await freshLog();
    expect(await Promise.all([log.append({ event: 'mint', n: 1 }), log.append({ event: 'deny', n: 2 })])).toEqual([0, 1]);
    await log.close();
    const reopened = await AuditLog.open(dir);
    expect(await reopened.append({ event: 'mint', n: 3 })).toBe(2);
    await reopened.close();
    expect(verifyAuditText(await readFile(path, 'utf8')).count).toBe(3);
  });

  it('detects an edited, removed or reordered record', async () => {
    const { path, log } = await freshLog();
    for (let i = 0; i < 4; i++) await log.append({ event: 'mint', n: i });
    await log.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const edited = lines.map((l, i) => (i === 1 ? l.replace('"n":1', '"n":9') : l));
    const removed = lines.filter((_, i) => i !== 2);
    const reordered = [lines[0], lines[2], lines[1], lines[3]];
    for (const variant of [edited, removed, reordered]) {
      expect(() => verifyAuditText(variant.join('\n') + '\n')).toThrow(/record [12]/);
    }
  });

  it('drops a torn (unacknowledged) last record on open and keeps the chain', async () => {
    const { dir, path, log } = await freshLog();
    await log.append({ event: 'mint' });
    await log.close();
    await appendFile(path, '{"event":"mint","index":1,"ti');
    const torn = await readFile(path, 'utf8');
    expect(() => verifyAuditText(torn)).toThrow(/torn/);
    const reopened = await AuditLog.open(dir);
    expect(await reopened.append({ event: 'deny' })).toBe(1);
    await reopened.close();
    expect(verifyAuditText(await readFile(path, 'utf8')).count).toBe(2);
  });

  it('refuses to open a tampered log', async () => {
    const { dir, path, log } = await freshLog();
    await log.append({ event: 'mint', repository: 'acme/webapp' });
    await log.close();
    await writeFile(path, (await readFile(path, 'utf8')).replace('acme/webapp', 'acme/evil'));
    await expect(AuditLog.open(dir)).rejects.toThrow(/hash does not match/);
  });

  it('rebuilds revocations from the log at start-up, dropping expired ones', async () => {
    const { dir, log } = await freshLog();
    const now = 1_800_000_000;
    await log.append({ event: 'revoke', jti: 'live', exp: now + 600 });
    await log.append({ event: 'revoke', jti: 'expired', exp: now - 1 });
    await log.append({ event: 'mint', jti: 'minted', exp: now + 600 });
    await log.close();
    const revocations = new Revocations(() => now);
    await (await AuditLog.open(dir, { visit: revocations.replay })).close();
    expect(revocations.has('live')).toBe(true);
    expect(revocations.has('expired')).toBe(false);
    expect(revocations.has('minted')).toBe(false);
  });

  it('group-commits concurrent appends: unique indices in arrival order, one intact chain', async () => {
    const { path, log } = await freshLog();
    const indices = await Promise.all(Array.from({ length: 300 }, (_, n) => log.append({ event: 'mint', n })));
    expect(indices).toEqual(Array.from({ length: 300 }, (_, n) => n));
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(verifyAuditText(text).count).toBe(300);
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).n),
    ).toEqual(indices);
  });
});
