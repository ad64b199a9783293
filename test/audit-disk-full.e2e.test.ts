// The audit log never acknowledges a record that was only partly written. A full disk is played by
// lowering this process's file-size limit with prlimit(1) (util-linux; Node cannot set its own
// rlimits), which starts a process, so this case lives apart from test/audit.test.ts.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AuditLog, verifyAuditText } from '../coordinator/audit.js';
import { freshLog } from './helpers/fresh-audit-log.js';

const prlimit = (limit: string) => execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${limit}`], { timeout: 30_000 });

describe('audit log on a full disk', () => {
  it('never acknowledges a record that was only partly written (full disk, file-size limit)', async () => {
    const { dir, path, log } = await freshLog();
    await log.append({ event: 'mint', jti: 'a' });
    // Like a disk with 100 bytes left: the next write(2) is cut short, the one after fails.
    prlimit(`${statSync(path).size + 100}:unlimited`);
    try {
      await expect(log.append({ event: 'mint', jti: 'b', token_sha256: 'y'.repeat(64) })).rejects.toMatchObject({ code: 'EFBIG' });
    } finally {
      prlimit('unlimited:unlimited');
    }
    expect(await log.append({ event: 'mint', jti: 'c' })).toBe(1);
    await log.close();
    expect(verifyAuditText(await readFile(path, 'utf8')).count).toBe(2);
    await (await AuditLog.open(dir)).close();
  });
});
