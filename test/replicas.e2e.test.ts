// Two coordinator replicas on one PostgreSQL database agree: an OIDC token used at one is refused
// at the other (409 token_replayed), also after both restart; a revocation at one makes the token
// inactive at the other within a second; their records form one chain `ztmint audit verify` accepts.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startDevStack } from './helpers/dev-stack.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';
import { Stack } from './helpers/stack.js';

let server: PostgresServer;
let stack: Stack;

beforeAll(async () => {
  server = await startPostgres();
  stack = await Stack.start({ coordinators: 2, store: await server.createDatabase('replicas') });
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  server?.stop();
});

async function post(url: string, init: RequestInit): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const mintAt = (replica: string, oidc: string) =>
  post(`${replica}/v1/mint`, { headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' }, body: JSON.stringify({ scopes: ['deploy:canary'] }) });
const introspectAt = (replica: string, token: string) =>
  post(`${replica}/v1/introspect`, {
    headers: { authorization: `Bearer ${stack.introspectionToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });

describe('replicas on one database', () => {
  it('refuse an OIDC token at replica 2 once replica 1 used it, also after both restart', async () => {
    const [one, two] = stack.replicas.map((r) => r.url) as [string, string];
    const oidc = await stack.idToken();
    const first = await mintAt(one, oidc);
    expect(first.status).toBe(200);
    const again = await mintAt(two, oidc);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'token_replayed' });

    await Promise.all(stack.replicas.map((r) => r.restart('SIGTERM')));
    for (const replica of [two, one]) expect((await mintAt(replica, oidc)).body).toMatchObject({ code: 'token_replayed' });
    // A fresh token still mints at either replica after the restart.
    expect((await mintAt(two, await stack.idToken())).status).toBe(200);
  }, 180_000);

  it('make a token revoked at replica 2 inactive at replica 1 within a second', async () => {
    const [one, two] = stack.replicas.map((r) => r.url) as [string, string];
    const minted = await mintAt(one, await stack.idToken({ sub: 'repo:acme/webapp:revoke-across' }));
    expect(minted.status).toBe(200);
    const token = minted.body.token as string;
    expect((await introspectAt(one, token)).body).toMatchObject({ active: true, jti: minted.body.jti });
    const revoked = await post(`${two}/v1/revoke`, { headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(204);
    const revokedAt = Date.now();
    let inactiveAfter = Infinity;
    while (Date.now() - revokedAt < 1_000) {
      if ((await introspectAt(one, token)).body.active === false) {
        inactiveAfter = Date.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(inactiveAfter).toBeLessThan(1_000);
  });

  it('leave one intact chain that ztmint audit verify --store accepts', () => {
    const verified = stack.auditVerify();
    expect(verified.output).toMatch(/^postgres:\/\/ztmint@127\.0\.0\.1:\d+\/replicas: \d+ records, chain intact, head [0-9a-f]{64}$/);
    expect(verified.status).toBe(0);
  });
});

describe('ztmint dev --store postgres://… --coordinators N', () => {
  it('starts N replicas on the database and names them all in the ready line', async () => {
    const dev = await startDevStack(['--store', await server.createDatabase('devstack'), '--coordinators', '2']);
    try {
      expect(dev.coordinators).toHaveLength(2);
      expect(dev.coordinators[0]).toBe(dev.coordinator);
      const oidc = await dev.idToken();
      expect((await mintAt(dev.coordinators[1]!, oidc)).status).toBe(200);
      expect((await mintAt(dev.coordinators[0]!, oidc)).body).toMatchObject({ code: 'token_replayed' });
    } finally {
      await dev.stop();
    }
  }, 180_000);

  it('refuses more than one coordinator on the file store', () => {
    const r = spawnSync(process.execPath, [CLI, 'dev', '--json', '--coordinators', '2'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--coordinators > 1 needs --store postgres://');
  });
});
