// The admin API and CLI against a live `ztmint dev` stack with 2 coordinator replicas on one
// PostgreSQL database: `ztmint admin revoke` by jti and by repository makes the token inactive at
// every replica; a call without the admin certificate is refused (401/403 problem+json) and
// audited; `ztmint audit search` returns exactly the records of known traffic; `audit tail`
// streams a new record within a second; `ztmint token decode|verify|introspect`.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

let server: PostgresServer;
let stack: DevStack;

beforeAll(async () => {
  server = await startPostgres();
  stack = await startDevStack(['--store', await server.createDatabase('admin'), '--coordinators', '2']);
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  server?.stop();
});

/** Runs `ztmint …` against the stack (ZTMINT_STATE, as an operator would set it). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ZTMINT_STATE: stack.state }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function mint(claims: Record<string, unknown>, scopes = ['deploy:canary']): Promise<{ status: number; body: Record<string, unknown>; oidcJti: string }> {
  const oidc = await stack.idToken(claims);
  const res = await stack.mint(oidc, { scopes });
  return { ...res, oidcJti: decodeJwt(oidc).jti as string };
}

/** Polls every replica (bounded: 10 s) until introspection says inactive; returns what each said last. */
async function inactiveEverywhere(token: string): Promise<boolean[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answers = await Promise.all(stack.coordinators.map((url) => stack.introspect(token, url)));
    const inactive = answers.map((a) => a.status === 200 && a.body.active === false);
    if (inactive.every(Boolean) || Date.now() > deadline) return inactive;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function auditSearch(args: string[]): Promise<Array<Record<string, unknown>>> {
  const r = await cli(['audit', 'search', ...args, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

describe('ztmint audit search and tail', () => {
  it('returns exactly the deny records of acme/webapp for a run with known traffic', async () => {
    const denied: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = await mint({ sub: `repo:acme/webapp:search-deny-${i}` }, ['deploy:prod']);
      expect(d.status).toBe(403);
      denied.push(d.oidcJti);
      const ok = await mint({ sub: `repo:acme/webapp:search-mint-${i}` });
      expect(ok.status).toBe(200);
      others.push(ok.oidcJti);
    }
    const elsewhere = await mint({ repository: 'acme/other', sub: 'repo:acme/other:ref:refs/heads/main' }, ['deploy:prod']);
    expect(elsewhere.status).toBe(403);
    others.push(elsewhere.oidcJti);

    const found = await auditSearch(['--repository', 'acme/webapp', '--event', 'deny']);
    expect(found.map((r) => (r.oidc as { jti: string }).jti).sort()).toEqual([...denied].sort());
    for (const r of found) expect(r).toMatchObject({ event: 'deny', repository: 'acme/webapp', code: 'policy_denied' });
    // The other filters: by subject, by code, by OIDC jti, by time.
    expect((await auditSearch(['--subject', 'repo:acme/webapp:search-mint-1'])).map((r) => r.event)).toEqual(['mint']);
    expect((await auditSearch(['--jti', denied[0]!])).map((r) => r.index)).toEqual([found[0]!.index]);
    expect(await auditSearch(['--until', '2000-01-01T00:00:00Z', '--event', 'deny'])).toEqual([]);
    const table = await cli(['audit', 'list', '--repository', 'acme/other']);
    expect(table.stdout.split('\n')[0]).toBe('index\ttime\tevent\trepository\tsubject\tjti\tcode');
    expect(table.stdout).toContain('\tdeny\tacme/other\trepo:acme/other:ref:refs/heads/main\t-\tpolicy_denied');
    const shown = await cli(['audit', 'show', String(found[0]!.index)]);
    expect(JSON.parse(shown.stdout)).toEqual(found[0]);
  }, 180_000);

  it('tail streams a new record within a second of its mint', async () => {
    const from = (await cli(['audit', 'list', '--json'])).stdout;
    const next = (JSON.parse(from) as Array<{ index: number }>).at(-1)!.index + 1;
    const tail = spawn(process.execPath, [CLI, 'audit', 'tail', '--json', '--from', String(next), '--event', 'mint'], {
      env: { ...process.env, ZTMINT_STATE: stack.state },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<{ at: number; record: Record<string, unknown> }> = [];
    let buffered = '';
    tail.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        lines.push({ at: Date.now(), record: JSON.parse(buffered.slice(0, i)) as Record<string, unknown> });
        buffered = buffered.slice(i + 1);
      }
    });
    const waitFor = async (jti: unknown) => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const line = lines.find((l) => l.record.jti === jti);
        if (line) return line;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`audit tail did not print the mint of ${String(jti)} within 60 s`);
    };
    try {
      // The first one warms the tail up (process start, first request); the second is timed.
      const warm = await mint({ sub: 'repo:acme/webapp:tail-warm' });
      await waitFor(warm.body.jti);
      const timed = await mint({ sub: 'repo:acme/webapp:tail-timed' });
      const answered = Date.now(); // the record is durable before the mint is answered
      const line = await waitFor(timed.body.jti);
      expect(line.record).toMatchObject({ event: 'mint', repository: 'acme/webapp' });
      expect(line.at - answered).toBeLessThan(1_000);
    } finally {
      tail.kill('SIGTERM');
    }
  }, 180_000);
});

describe('ztmint admin revoke against 2 replicas on PostgreSQL', () => {
  it('by jti: the token is inactive at every replica; an unknown jti is not an error (RFC 7009)', async () => {
    const minted = await mint({ sub: 'repo:acme/webapp:admin-jti' });
    expect(minted.status).toBe(200);
    const token = minted.body.token as string;
    for (const url of stack.coordinators) expect((await stack.introspect(token, url)).body).toMatchObject({ active: true });
    const r = await cli(['admin', 'revoke', '--jti', minted.body.jti as string, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ revoked: { jti: minted.body.jti }, new: true });
    expect(await inactiveEverywhere(token)).toEqual([true, true]);
    const unknown = await cli(['admin', 'revoke', '--jti', 'never-minted-jti-0000000', '--json']);
    expect(unknown.status, unknown.stderr).toBe(0);
    const audited = await auditSearch(['--event', 'revoke', '--jti', minted.body.jti as string]);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ by: { admin: 'admin' } });
  }, 120_000);

  it('by repository: earlier tokens of the repository are inactive at every replica, later ones are not', async () => {
    const before = await mint({ sub: 'repo:acme/webapp:admin-repo' });
    expect(before.status).toBe(200);
    const r = await cli(['admin', 'revoke', '--repository', 'acme/webapp']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^revoked \{"rule":\{"repository":"acme\/webapp","before":".*"\}\}; audit record #\d+/);
    expect(await inactiveEverywhere(before.body.token as string)).toEqual([true, true]);
    // A token issued after the rule's time (iat is in whole seconds) stays active.
    const ruleBefore = Date.parse((await auditSearch(['--event', 'revoke', '--repository', 'acme/webapp'])).at(-1)!.time as string);
    while (Date.now() < ruleBefore + 1_100) await new Promise((res) => setTimeout(res, 50));
    const after = await mint({ sub: 'repo:acme/webapp:admin-repo-after' });
    for (const url of stack.coordinators) expect((await stack.introspect(after.body.token as string, url)).body).toMatchObject({ active: true });
  }, 120_000);

  it('refuses a call without the admin certificate (401) or with another CN (403), as problem+json, and audits both', async () => {
    const tls = (name: string) => readFile(join(stack.state, 'tls', name), 'utf8');
    const ca = await tls('ca.pem');
    const noCert = new Agent({ connect: { ca } });
    const coordinatorCert = new Agent({ connect: { ca, cert: await tls('coordinator.pem'), key: await tls('coordinator-key.pem') } });
    try {
      const body = JSON.stringify({ jti: 'refused-jti-0000000000' });
      const headers = { 'content-type': 'application/json' };
      for (const [agent, status, code] of [
        [noCert, 401, 'invalid_client'],
        [coordinatorCert, 403, 'forbidden'],
      ] as const) {
        for (const url of stack.admin) {
          const res = await request(`${url}/admin/v1/revoke`, { method: 'POST', dispatcher: agent, headers, body });
          expect(res.statusCode).toBe(status);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(await res.body.json()).toMatchObject({ code, status });
        }
      }
      // The CLI with the coordinator's certificate is refused too, and says so.
      const r = await cli(['admin', 'revoke', '--jti', 'refused-jti-0000000000', '--cert', join(stack.state, 'tls', 'coordinator.pem'), '--key', join(stack.state, 'tls', 'coordinator-key.pem')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/HTTP 403 forbidden: client certificate CN "coordinator" may not call this admin route/);
    } finally {
      await Promise.all([noCert.close(), coordinatorCert.close()]);
    }
    const refused = await auditSearch(['--event', 'admin_refused']);
    expect(refused.filter((r) => r.code === 'invalid_client' && r.client === null && r.route === '/admin/v1/revoke')).toHaveLength(2);
    expect(refused.filter((r) => r.code === 'forbidden' && r.client === 'coordinator')).toHaveLength(3);
    // Nothing was revoked by the refused calls.
    expect(await auditSearch(['--event', 'revoke', '--jti', 'refused-jti-0000000000'])).toEqual([]);
  }, 120_000);
});

describe('ztmint token decode|verify|introspect', () => {
  it('decodes, verifies against the JWKS from discovery, and introspects a token in hand', async () => {
    const minted = await mint({ sub: 'repo:acme/webapp:token-cli' });
    const token = minted.body.token as string;
    const decoded = await cli(['token', 'decode', token]);
    expect(JSON.parse(decoded.stdout)).toMatchObject({ verified: false, header: { alg: 'EdDSA' }, claims: { jti: minted.body.jti } });
    const verified = await cli(['token', 'verify', token]);
    expect(verified.status, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ verified: true, claims: { jti: minted.body.jti, iss: stack.coordinator } });
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = await cli(['token', 'verify', `${h}.${p}.${s.slice(0, -4)}AAAA`]);
    expect(forged.status).toBe(1);
    expect(forged.stderr).toContain('does not verify');
    const active = await cli(['token', 'introspect', token, '--url', stack.coordinators[1]!]);
    expect(JSON.parse(active.stdout)).toMatchObject({ active: true, jti: minted.body.jti });
    for (const out of [decoded, verified, active]) expect(out.stdout + out.stderr).not.toContain(s);
  }, 120_000);
});
