// After the mint: revocation and RFC 7662 introspection (surviving a coordinator restart), rate
// limits with Retry-After, a policy reloaded from disk without a restart, and `ztmint policy eval`.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;
let dataFile: string;

beforeAll(async () => {
  dataFile = join(await mkdtemp(join(tmpdir(), 'ztmint-policy-')), 'data.json');
  await copyFile(join(ROOT, 'policies', 'data.json'), dataFile);
  stack = await startDevStack(['--policy-data', dataFile, '--rate-sub', '6/min,4']);
});
afterAll(async () => {
  await stack?.stop();
});

async function introspect(token: string) {
  const res = await stack.introspect(token);
  expect(res.status).toBe(200);
  return res.body;
}

async function revoke(token: string) {
  return fetch(`${stack.coordinator}/v1/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

describe('revocation and introspection', () => {
  it('reports a minted token active, then inactive once revoked; a second revoke is harmless', async () => {
    const { body } = await stack.mint(await stack.idToken({ sub: 'repo:acme/webapp:revoke-test' }));
    const token = body.token as string;
    expect(await introspect(token)).toMatchObject({ active: true, jti: body.jti, scope: 'deploy:canary', token_type: 'Bearer', repository: 'acme/webapp' });
    expect((await revoke(token)).status).toBe(204);
    expect(await introspect(token)).toEqual({ active: false });
    expect((await revoke(token)).status).toBe(204);
    const revokes = (await stack.auditRecords()).filter((r) => r.event === 'revoke' && r.jti === body.jti);
    expect(revokes).toHaveLength(1);
    expect(JSON.stringify(revokes)).not.toContain(token.split('.')[2]!);
  });

  it('answers inactive for garbage and foreign tokens, and 401 to revoke one', async () => {
    expect(await introspect('not-a-token')).toEqual({ active: false });
    const oidc = await stack.idToken();
    expect(await introspect(oidc)).toEqual({ active: false });
    const res = await revoke(oidc);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'invalid_token' });
    const bearer = (await readFile(stack.introspection_token_file, 'utf8')).trim();
    const bad = await fetch(`${stack.coordinator}/v1/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'nothing=here',
    });
    expect(bad.status).toBe(400);
  });

  it('refuses introspection without client authentication: 401 invalid_client with WWW-Authenticate, whatever the token (RFC 7662 §2.1)', async () => {
    const { body } = await stack.mint(await stack.idToken({ sub: 'repo:acme/webapp:introspection-auth' }));
    const token = body.token as string;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const headers of [form, { ...form, authorization: 'Bearer not-the-introspection-token-but-long-enough-0000' }, { ...form, authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }]) {
      const res = await fetch(`${stack.coordinator}/v1/introspect`, { method: 'POST', headers, body: new URLSearchParams({ token }).toString() });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="ztmint-introspection"/);
      const problem = (await res.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({ code: 'invalid_client', status: 401 });
      expect(JSON.stringify(problem)).not.toContain('active');
    }
    // The same request with the token file's bearer token is answered.
    expect(await introspect(token)).toMatchObject({ active: true });
  });
});

describe('rate limits', () => {
  it('answers 429 rate_limited with Retry-After once a subject exhausts its burst, and audits it', async () => {
    const sub = 'repo:acme/webapp:rate-test';
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 6; i++) {
      last = await stack.mint(await stack.idToken({ sub }));
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses.slice(4)).toEqual([429, 429]);
    expect(last!.body).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await stack.auditRecords()).at(-1)).toMatchObject({ event: 'deny', code: 'rate_limited' });
    // Other subjects are not affected.
    expect((await stack.mint(await stack.idToken({ sub: 'repo:acme/webapp:other' }))).status).toBe(200);
  });
});

describe('policy reload', () => {
  // The dev stack rolls an edited data file out in stages (signed bundle → signers accept both →
  // coordinator switches → old revision retired), so the new revision shows within seconds.
  it('picks up changed policy data without a restart and reports the new revision (its hash)', async () => {
    const before = (await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string };
    const data = JSON.parse(await readFile(dataFile, 'utf8'));
    data.grants = data.grants.filter((g: { name: string }) => g.name !== 'webapp-main');
    await writeFile(dataFile, JSON.stringify(data, null, 2));
    let after = before;
    for (let i = 0; i < 300 && after.policy === before.policy; i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = (await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string };
    }
    expect(after.policy).not.toBe(before.policy);
    expect(after.policy).toMatch(/^[0-9a-f]{64}$/);
    const res = await stack.mint(await stack.idToken({ sub: 'repo:acme/webapp:reload-test' }));
    expect(res.status).toBe(403);
    // A broken file is refused and the last good policy stays in force.
    await writeFile(dataFile, '{ not json');
    await new Promise((r) => setTimeout(r, 2_500));
    const still = (await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string };
    expect(still.policy).toBe(after.policy);
  });
});

describe('ztmint policy eval', () => {
  it('prints the decision and exits 3 on a denial', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztmint-eval-'));
    await writeFile(join(dir, 'claims.json'), JSON.stringify({ repository: 'acme/webapp', ref: 'refs/heads/main', sub: 'repo:acme/webapp:ref:refs/heads/main' }));
    await writeFile(join(dir, 'allow.json'), JSON.stringify({ scopes: ['deploy:canary'] }));
    await writeFile(join(dir, 'deny.json'), JSON.stringify({ scopes: ['deploy:prod'] }));
    const run = (req: string) => spawnSync(process.execPath, [CLI, 'policy', 'eval', '--token-claims', join(dir, 'claims.json'), '--request', join(dir, req)], { encoding: 'utf8' });
    const allowed = run('allow.json');
    expect(allowed.status).toBe(0);
    expect(JSON.parse(allowed.stdout).decision).toMatchObject({ allow: true, scopes: ['deploy:canary'], ttl: 900 });
    const denied = run('deny.json');
    expect(denied.status).toBe(3);
    expect(JSON.parse(denied.stdout).decision.reasons.length).toBeGreaterThan(0);
  });
});
