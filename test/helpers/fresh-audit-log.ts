// An audit log in a new temporary directory, for the audit tests (unit and e2e).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_FILE, AuditLog } from '../../coordinator/audit.js';

export async function freshLog() {
  const dir = await mkdtemp(join(tmpdir(), 'ztmint-audit-'));
  return { dir, path: join(dir, AUDIT_FILE), log: await AuditLog.open(dir) };
}
