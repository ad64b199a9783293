// `ztmint pki` against a live stack while mints run (issue #13): a CA rollover (the new CA joins the
// trust bundle, every process reloads it, then `pki renew` moves the signers' server certificates
// and the coordinator's client certificate to it) without one failed mint; the renewed
// certificates are served, the expiry metric follows the renewed notAfter, and `pki status` warns
// from 14 days out (table and --json).
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, Stack } from './helpers/stack.js';

const run = promisify(execFile);
let stack: Stack;

/** Async on purpose: a blocking spawnSync would also stop the mint loops of this process. */
async function ztmint(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 120_000 });
  return stdout;
}

const tls = (name: string) => join(stack.state, 'tls', name);
const reloads = async (name: string) => (await readFile(join(stack.state, 'logs', `${name}.log`), 'utf8')).split('TLS credentials reloaded').length - 1;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

async function mint(): Promise<number> {
  const res = await fetch(`${stack.coordinatorUrl}/v1/mint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.idToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['deploy:canary'] }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The certificate a fresh connection to `url` is served (as the coordinator connects). */
async function served(url: string, servername: string): Promise<X509Certificate> {
  const [cert, key, ca] = await Promise.all([readFile(tls('coordinator.pem'), 'utf8'), readFile(tls('coordinator-key.pem'), 'utf8'), readFile(tls('ca.pem'), 'utf8')]);
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), servername, cert, key, ca });
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      socket.destroy();
      if (peer) resolve(peer);
      else reject(new Error('no peer certificate'));
    });
  });
}

function expirySeconds(text: string): number {
  // Signers label every series with signer="signer-<i>" too.
  const m = /^ztmint_tls_certificate_expiry_seconds\{certificate="self"(?:,signer="[^"]+")?\} (-?\d+)/m.exec(text);
  if (!m) throw new Error('no ztmint_tls_certificate_expiry_seconds{certificate="self"}');
  return Number(m[1]);
}

/** A signer's GET /metrics over mTLS, with the coordinator's certificate (an allowed client). */
async function signerMetrics(url: string, servername: string): Promise<string> {
  const [cert, key, ca] = await Promise.all([readFile(tls('coordinator.pem'), 'utf8'), readFile(tls('coordinator-key.pem'), 'utf8'), readFile(tls('ca.pem'), 'utf8')]);
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: Number(u.port), path: '/metrics', servername, cert, key, ca, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.once('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  stack = await Stack.start({ coordinatorArgs: ['--rate-repository', '100000/min,10000', '--rate-sub', '100000/min,10000'] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('ztmint pki on a live stack', () => {
  it('a CA rollover and renewal of every certificate while mints run: no failed mint, renewed certificates served, metrics follow', async () => {
    const names = ['coordinator', ...stack.signers.map((s) => s.name)];
    const oldCa = new X509Certificate(await readFile(join(stack.state, 'pki', 'ca.pem'), 'utf8'));
    expect(await mint()).toBe(200);

    const statuses: number[] = [];
    let minting = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (minting) statuses.push(await mint().catch(() => -1));
    });
    try {
      // 1. A new CA joins the trust bundle; every process reloads the bundle.
      const before = await Promise.all(names.map(reloads));
      const rollover = JSON.parse(await ztmint('pki', 'rollover', '--state', stack.state, '--json')) as { next: string; bundle_cas: number };
      expect(rollover.bundle_cas).toBe(2);
      await until('every process reloaded the new trust bundle', async () => (await Promise.all(names.map(reloads))).every((n, i) => n > before[i]!));

      // 2. Every certificate moves to the new CA (and to a 20-day validity, so the metric can tell).
      const middle = await Promise.all(names.map(reloads));
      const renew = JSON.parse(await ztmint('pki', 'renew', '--state', stack.state, '--days', '20', '--json')) as { renewed: Array<{ name: string; why: string }> };
      expect(renew.renewed.map((r) => r.name).sort()).toEqual(['admin', ...names].sort());
      expect(new Set(renew.renewed.map((r) => r.why))).toEqual(new Set(['older CA']));
      await until('every process reloaded its renewed certificate', async () => (await Promise.all(names.map(reloads))).every((n, i) => n > middle[i]!));
      const newCa = new X509Certificate(await readFile(join(stack.state, 'pki', 'ca.pem'), 'utf8'));
      expect(newCa.subject).toBe(rollover.next.replace(/^CN=/, 'CN='));
      for (const s of stack.signers) {
        const wanted = new X509Certificate(await readFile(tls(`${s.name}.pem`), 'utf8')).fingerprint256;
        await until(`${s.name} serves its renewed certificate`, async () => (await served(s.url, s.name)).fingerprint256 === wanted);
        expect((await served(s.url, s.name)).checkIssued(newCa)).toBe(true);
      }
      // 3. Keep minting on the renewed certificates.
      const seen = statuses.length;
      await until('mints continue after the renewal', async () => statuses.length >= seen + 10);
    } finally {
      minting = false;
      await Promise.all(loops);
    }
    expect(statuses.length).toBeGreaterThan(10);
    expect(
      statuses.filter((s) => s !== 200),
      `statuses ${JSON.stringify(statuses)}`,
    ).toEqual([]);
    expect(oldCa.subject).not.toBe(new X509Certificate(await readFile(join(stack.state, 'pki', 'ca.pem'), 'utf8')).subject);

    // The expiry metric is the renewed certificate's notAfter − now (coordinator and a signer).
    const notAfter = async (name: string) => Date.parse(new X509Certificate(await readFile(tls(`${name}.pem`), 'utf8')).validTo);
    const coordinatorExpiry = expirySeconds(await (await fetch(`${stack.coordinatorUrl}/metrics`)).text());
    expect(Math.abs(coordinatorExpiry - ((await notAfter('coordinator')) - Date.now()) / 1000)).toBeLessThan(120);
    expect(coordinatorExpiry).toBeLessThan(21 * 86_400); // not the 30-day certificate it started with
    const s1 = stack.signers[0]!;
    const signerExpiry = expirySeconds(await signerMetrics(s1.url, s1.name));
    expect(Math.abs(signerExpiry - ((await notAfter(s1.name)) - Date.now()) / 1000)).toBeLessThan(120);
  }, 240_000);

  it('pki status warns from 14 days out (table and --json) for an admin certificate issued with pki issue', async () => {
    await ztmint('pki', 'issue', '--state', stack.state, '--name', 'admin', '--client', '--days', '10');
    const admin = new X509Certificate(await readFile(tls('admin.pem'), 'utf8'));
    expect(admin.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const status = JSON.parse(await ztmint('pki', 'status', '--state', stack.state, '--json')) as {
      certificates: Array<{ name: string; state: string; not_after: string }>;
      warnings: string[];
    };
    const row = status.certificates.find((c) => c.name === 'admin')!;
    expect(row.state).toBe('expiring');
    expect(Date.parse(row.not_after)).toBe(Date.parse(admin.validTo));
    expect(status.warnings.filter((w) => w.startsWith('admin:'))).toHaveLength(1);
    expect(status.certificates.filter((c) => c.name.startsWith('signer-')).every((c) => c.state === 'ok')).toBe(true);
    const table = await ztmint('pki', 'status', '--state', stack.state);
    expect(table).toMatch(/^admin\s+client\s+\S+\s+(9\.9|10\.0)\s+expiring/m);
    expect(table).toMatch(/^WARNING admin: expires in/m);
  }, 120_000);
});
