// Expired certificates are refused with errors that name the certificate, say "expired" and what
// to do (issue #13): a signer presented with the coordinator's expired client certificate logs
// whose it was and closes the connection, and the coordinator's quorum_unavailable problem says its
// own certificate expired and to run `ztmint pki renew`; a coordinator facing signers' expired
// server certificates names each one. After `ztmint pki renew` mints succeed again, no restart.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCa } from '../pki/ca.js';
import { issueCertificate } from '../pki/issue.js';
import { CLI, Stack } from './helpers/stack.js';

const DAY = 86_400_000;
let stack: Stack;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

async function mint(): Promise<{ status: number; body: { code?: string; detail?: string; reasons?: string[] } }> {
  const res = await fetch(`${stack.coordinatorUrl}/v1/mint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.idToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['deploy:canary'] }),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; detail?: string; reasons?: string[] } };
}

const log = (name: string) => readFile(join(stack.state, 'logs', `${name}.log`), 'utf8');
const reloads = async (name: string) => (await log(name)).split('TLS credentials reloaded').length - 1;

/** Re-issues `name` from the state's CA as a certificate that expired a day ago. */
async function expire(name: string): Promise<void> {
  const ca = await loadCa(stack.state);
  await issueCertificate(stack.state, ca, { name, days: 2, now: Date.now() - 3 * DAY });
}

async function renew(): Promise<void> {
  await promisify(execFile)(process.execPath, [CLI, 'pki', 'renew', '--state', stack.state], { timeout: 120_000 });
}

beforeAll(async () => {
  stack = await Stack.start({ coordinatorArgs: ['--rate-repository', '100000/min,10000', '--rate-sub', '100000/min,10000'] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('expired certificates', () => {
  it("the coordinator's expired client certificate: signers log it, the problem names it and says to renew; renewing heals it", async () => {
    expect((await mint()).status).toBe(200);
    await stack.coordinator.kill('SIGTERM');
    await expire('coordinator');
    await stack.coordinator.start(60_000);

    const refused = await mint();
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('quorum_unavailable');
    const reasons = (refused.body.reasons ?? []).join('\n');
    expect(reasons).toMatch(/the coordinator's client certificate \(CN=coordinator, notAfter [^)]+\) has expired/);
    expect(reasons).toContain('ztmint pki renew');
    for (const s of stack.signers) {
      await until(`${s.name} logs the refused certificate`, async () => /client certificate refused: CN=coordinator, notAfter \S+: has expired/.test(await log(s.name)));
    }

    const before = await reloads('coordinator');
    await renew();
    await until('the coordinator reloads its renewed certificate', async () => (await reloads('coordinator')) > before);
    await until('mints succeed again', async () => (await mint()).status === 200);
  }, 180_000);

  it("signers' expired server certificates: the coordinator names each and says to renew it; renewing heals it", async () => {
    const before = await Promise.all(stack.signers.map((s) => reloads(s.name)));
    for (const s of stack.signers) await expire(s.name);
    await until('every signer serves its (expired) certificate', async () => (await Promise.all(stack.signers.map((s) => reloads(s.name)))).every((n, i) => n > before[i]!));
    // Connections opened before stay up (as in any renewal); a restarted coordinator opens new ones.
    await stack.coordinator.restart('SIGTERM');

    const refused = await mint();
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('quorum_unavailable');
    const reasons = (refused.body.reasons ?? []).join('\n');
    for (const s of stack.signers) expect(reasons).toContain(`${s.name} unreachable: its server certificate (CN=${s.name}) has expired: on the signer host, renew it with \`ztmint pki renew\``);
    expect(await log('coordinator')).toMatch(/its server certificate \(CN=signer-1\) has expired/);

    const middle = await Promise.all(stack.signers.map((s) => reloads(s.name)));
    await renew();
    await until('every signer reloads its renewed certificate', async () => (await Promise.all(stack.signers.map((s) => reloads(s.name)))).every((n, i) => n > middle[i]!));
    await until('mints succeed again', async () => (await mint()).status === 200);
  }, 180_000);
});
