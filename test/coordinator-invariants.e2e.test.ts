// I1 at the audit boundary: a second coordinator, in this process, wired to the dev stack's real
// signers over mTLS, whose audit log cannot be written. It must issue nothing.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../coordinator/audit.js';
import { SignerClient } from '../coordinator/signer-client.js';
import { signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { inProcessCoordinator } from './helpers/in-process-coordinator.js';

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function coordinatorWith(audit: AuditLog) {
  const tls = await signerTls(stack.state);
  // 15 s per signer request instead of the coordinator's 2 s: these invariants are not about slow
  // signers, and a loaded machine can be slower than 2 s.
  return inProcessCoordinator(
    stack,
    stack.signers.map((s) => new SignerClient({ name: `signer-${s.id}`, url: s.url }, tls, { timeoutMs: 15_000 })),
    audit,
  );
}

describe('I1: no durable audit record, no token', () => {
  it('answers 503 audit_unavailable and returns no token when the audit append fails', async () => {
    const audit = await AuditLog.open(await mkdtemp(join(tmpdir(), 'ztmint-audit-')));
    await audit.close(); // every later append fails (closed file handle)
    const { app, close } = await coordinatorWith(audit);
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/mint',
        headers: { authorization: `Bearer ${await stack.idToken()}`, 'content-type': 'application/json' },
        payload: { scopes: ['deploy:canary'] },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'audit_unavailable' });
      expect(res.body).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
    } finally {
      await close();
    }
  });

  it('with a writable log the same wiring mints (the test above fails for the audit alone)', async () => {
    const audit = await AuditLog.open(await mkdtemp(join(tmpdir(), 'ztmint-audit-')));
    const { app, close } = await coordinatorWith(audit);
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/mint',
        headers: { authorization: `Bearer ${await stack.idToken()}`, 'content-type': 'application/json' },
        payload: { scopes: ['deploy:canary'] },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().audit).toEqual({ index: 0 });
    } finally {
      await close();
      await audit.close();
    }
  });
});
