// Signers keep their own logs (issue 15 item 6): each share a signer releases is first written to
// the signer's own Merkle log, served read-only over its mTLS API with checkpoints signed by its
// own note key. Acceptance: a token signed through the signers with the coordinator's certificate
// but never recorded by the coordinator is named by `ztmint audit cross-check`. The signers are
// driven directly (as test/cheater.e2e.test.ts does), so nothing reaches the coordinator's audit log.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignerClient } from '../coordinator/signer-client.js';
import { frostSign } from '../coordinator/signing.js';
import { ed25519PublicKey, thumbprint, verifyEd25519 } from '../protocol/jwk.js';
import { ed25519NoteVerifier } from '../transparency/signed-note.js';
import { verifyLogCopy } from '../transparency/verify-copy.js';
import { CLI, signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { honestToken } from './helpers/honest-token.js';

let stack: DevStack;
let exportDir: string;

beforeAll(async () => {
  stack = await startDevStack();
  exportDir = await mkdtemp(join(tmpdir(), 'ztmint-share-log-export-'));
});
afterAll(async () => {
  await stack?.stop();
  if (exportDir) await rm(exportDir, { recursive: true, force: true });
});

function ztmint(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ZTMINT_STATE: stack.state } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** GET over mTLS as the operator (the admin certificate, a --log-client of the dev stack's signers). */
async function signerGet(index: number, path: string): Promise<Uint8Array> {
  const s = stack.signers[index - 1]!;
  const agent = new Agent({ connect: { ...(await signerTls(stack.state, 'admin')), servername: `signer-${s.id}` } });
  try {
    const res = await request(`${s.url}${path}`, { dispatcher: agent });
    const body = new Uint8Array(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
    return body;
  } finally {
    await agent.close();
  }
}

async function shareLogKey(index: number): Promise<{ origin: string; key: string }> {
  return (JSON.parse(new TextDecoder().decode(await signerGet(index, '/v1/info'))) as { share_log: { origin: string; key: string } }).share_log;
}

/** A token signed by the signers directly with the coordinator's certificate: the coordinator never sees it. */
async function mintBehindTheCoordinatorsBack(): Promise<{ jti: string; message: string }> {
  const tls = await signerTls(stack.state);
  const signers = stack.signers.map((s) => new SignerClient({ name: `signer-${s.id}`, url: s.url }, tls, { timeoutMs: 15_000 }));
  try {
    const group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8'));
    const policyHash = ((await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string }).policy;
    const deps = { group, groupKey: ed25519PublicKey(group.group_public_key), signers };
    const oidc = await stack.idToken();
    const build = () => {
      const { claims, message } = honestToken({ issuer: stack.coordinator, kid: thumbprint(group.group_public_key), oidc, policyHash });
      return { message, built: claims };
    };
    const result = await frostSign(deps, build, { oidc_token: oidc, request: { scopes: ['deploy:canary'] } });
    expect(verifyEd25519(deps.groupKey, new TextEncoder().encode(result.message), result.signature)).toBe(true);
    return { jti: result.built.jti, message: result.message };
  } finally {
    await Promise.all(signers.map((s) => s.close()));
  }
}

describe('signer share logs and audit cross-check', () => {
  let honestJti: string;

  it('an honest mint is in every log it touched, and cross-check finds nothing missing (control)', async () => {
    const res = await stack.mint(await stack.idToken());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    honestJti = res.body.jti as string;
    const r = ztmint('audit', 'cross-check', '--json');
    expect(r.status, r.out).toBe(0);
    const report = JSON.parse(r.out.trim().split('\n').at(-1)!) as { missing: unknown[]; recorded: number; signers: Array<{ shares: number }> };
    expect(report.missing).toEqual([]);
    expect(report.recorded).toBe(1);
    // t = 2 of 3: two signers released a share for the mint.
    expect(report.signers.reduce((n, s) => n + s.shares, 0)).toBe(2);
  });

  it('names a token signed with the coordinator certificate but never recorded by the coordinator', async () => {
    const hidden = await mintBehindTheCoordinatorsBack();
    expect((await stack.auditRecords()).map((r) => r.jti)).not.toContain(hidden.jti);
    const r = ztmint('audit', 'cross-check');
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain(`NOT IN THE COORDINATOR'S LOG: token jti=${hidden.jti}`);
    expect(r.out).not.toContain(honestJti);
  });

  it("each signer's log verifies under the key in its /v1/info and records the signing input's hash", async () => {
    const hidden = await mintBehindTheCoordinatorsBack();
    const digest = createHash('sha256').update(hidden.message).digest('hex');
    let holding = 0;
    for (const s of stack.signers) {
      const { origin, key } = await shareLogKey(s.id);
      const copy = await verifyLogCopy({ fetch: (p) => signerGet(s.id, `/v1/log/${p}`), origin, verifiers: [ed25519NoteVerifier(key)] });
      const records = copy.entries!.map((e) => JSON.parse(new TextDecoder().decode(e)) as Record<string, unknown>);
      for (const record of records) {
        expect(Object.keys(record).sort()).toEqual(['client', 'context_sha256', 'exp', 'jti', 'message_sha256', 'time', 'v']);
        expect(record.client).toBe('coordinator');
        expect(record.context_sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      const mine = records.find((r) => r.jti === hidden.jti);
      if (mine) {
        holding++;
        expect(mine.message_sha256).toBe(digest);
      }
    }
    expect(holding).toBe(2); // t = 2: exactly the two signers whose shares made the token
    const r = JSON.parse(ztmint('audit', 'cross-check', '--json').out.trim().split('\n').at(-1)!) as { missing: Array<{ jti: string; signers: string[]; complete: boolean }> };
    expect(r.missing.find((m) => m.jti === hidden.jti)).toMatchObject({ complete: true });
  });

  it('the operator certificate (a --log-client) reads the log but cannot ask for a share', async () => {
    const agent = new Agent({ connect: { ...(await signerTls(stack.state, 'admin')), servername: 'signer-1' } });
    try {
      const res = await request(`${stack.signers[0]!.url}/v1/round1`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session: 'A'.repeat(22) }),
      });
      expect(res.statusCode).toBe(403);
      expect(((await res.body.json()) as { code: string }).code).toBe('forbidden');
    } finally {
      await agent.close();
    }
    expect(new TextDecoder().decode(await signerGet(1, '/v1/log/checkpoint'))).toContain('/signer-1/shares\n');
  });

  it('`audit export --signer` writes a checked copy to a directory, incrementally', async () => {
    const first = ztmint('audit', 'export', '--signer', '1', '--to', exportDir);
    expect(first.status, first.out).toBe(0);
    expect(first.out).toMatch(/exported signer-1's share log to .*: entries 0\.\.\d+/);
    expect((await stack.mint(await stack.idToken())).status).toBe(200);
    await mintBehindTheCoordinatorsBack();
    const second = ztmint('audit', 'export', '--signer', '1', '--to', exportDir);
    expect(second.status, second.out).toBe(0);
    const m = /entries (\d+)\.\.(\d+)/.exec(second.out)!;
    expect(Number(m[1])).toBeGreaterThan(0);
    const { origin, key } = await shareLogKey(1);
    const copy = await verifyLogCopy({ fetch: async (p) => new Uint8Array(await readFile(join(exportDir, p))), origin, verifiers: [ed25519NoteVerifier(key)] });
    expect(copy.checkpoint.size).toBe(Number(m[2]));
    // Exporting the log of another signer into the same directory is refused: it is not the same log.
    const other = ztmint('audit', 'export', '--signer', '2', '--to', exportDir);
    expect(other.status).toBe(1);
    expect(other.out).toContain('holds the log');
    // Without --signer: the coordinator's transparency log, found through its discovery document.
    const coordinatorDir = join(exportDir, 'coordinator');
    const c = ztmint('audit', 'export', '--to', coordinatorDir);
    expect(c.status, c.out).toBe(0);
    const discovery = (await (await fetch(`${stack.coordinator}/.well-known/openid-configuration`)).json()) as { transparency_log: { origin: string; verifier_key: string } };
    const records = await verifyLogCopy({
      fetch: async (p) => new Uint8Array(await readFile(join(coordinatorDir, p))),
      origin: discovery.transparency_log.origin,
      verifiers: [ed25519NoteVerifier(discovery.transparency_log.verifier_key)],
    });
    expect(records.checkpoint.size).toBeGreaterThanOrEqual(2); // the two mints the coordinator saw
  });
});
