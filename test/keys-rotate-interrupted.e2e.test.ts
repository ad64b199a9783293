// A rotation interrupted at any step — a signer killed just before each ceremony round and before
// scheduling — leaves the old key set working (the running coordinator keeps minting under the old
// kid, the JWKS is unchanged, no signer signs with the new key) and the error says what to do.
// The rotation runs in this process (coordinator/key-rotation.ts, as the admin route runs it) so
// that the relay's test hook can kill the real signer process at the exact step.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../coordinator/audit.js';
import { KeySet } from '../coordinator/key-set.js';
import { rotateKeys, RotationError, type RotationStep } from '../coordinator/key-rotation.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { signerTls } from './helpers/dev-stack.js';
import { Stack } from './helpers/stack.js';

let stack: Stack;
let tls: { ca: string; cert: string; key: string };
let oldKid: string;

beforeAll(async () => {
  stack = await Stack.start({ signers: 3, threshold: 2 });
  tls = await signerTls(stack.state);
  oldKid = (await stack.jwks()).keys[0]!.kid as string;
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

async function mint(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.coordinatorUrl}/v1/mint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.idToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['deploy:canary'] }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** GET /v1/keys/ring of a signer, as the coordinator. */
async function ring(index: number): Promise<{ current: string; keys: Array<{ kid: string; activates_at: number | null; retires_at: number | null }> }> {
  const s = stack.signers[index - 1]!;
  const agent = new Agent({ connect: { ...tls, rejectUnauthorized: true, servername: s.name } });
  try {
    const res = await request(`${s.url}/v1/keys/ring`, { dispatcher: agent, signal: AbortSignal.timeout(30_000) });
    return (await res.body.json()) as Awaited<ReturnType<typeof ring>>;
  } finally {
    await agent.close();
  }
}

const STEPS: RotationStep[] = ['round1', 'round2', 'round3', 'finalize', 'schedule'];

describe('a rotation interrupted at any step', () => {
  it.each(STEPS)(
    'signer-3 killed before %s: the old key set keeps working and the error says what to do',
    async (step) => {
      const group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8')) as GroupInfo;
      const keys = KeySet.load(stack.state, group);
      const audit: AuditEntry[] = [];
      const victim = stack.signers[2]!;
      let killed = false;
      const kill = () => {
        if (killed) return;
        killed = true;
        process.kill(victim.pid!, 'SIGKILL');
      };
      const err = await rotateKeys({
        keys,
        signers: stack.signers.map((s) => ({ name: s.name, url: s.url })),
        tls,
        appendAudit: async (entry) => audit.push(entry),
        now: () => Date.now(),
        activationDelayS: 5,
        overlapS: 3600,
        maxTokenLifetimeS: 3600,
        timeoutMs: 30_000,
        tamper: (s, signer, body) => {
          if (s === step && signer === victim.name) kill();
          return body;
        },
        beforeSchedule: async (signer) => {
          if (step === 'schedule' && signer === victim.name) {
            kill();
            await victim.kill().catch(() => undefined); // gone before its request is sent
          }
        },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await victim.kill().catch(() => undefined);

      // It failed, at that step, and says the old key set is unchanged and what to run next.
      expect(err).toBeInstanceOf(RotationError);
      const e = err as RotationError;
      expect(e.code).toBe('rotation_failed');
      expect(e.step).toBe(step);
      expect(e.message).toContain('signer-3');
      expect(e.message).toMatch(/the current key set is unchanged and still signs; bring every signer up .* and run `ztmint keys rotate` again/);
      expect(audit.map((a) => [a.event, a.step, a.kid])).toEqual([['key_rotation_failed', step, oldKid]]);

      // Nothing published: the coordinator's key set and JWKS are as before.
      keys.refresh();
      expect(keys.list().map((k) => k.kid)).toEqual([oldKid]);
      expect((await stack.jwks()).keys.map((k) => k.kid)).toEqual([oldKid]);

      // The running coordinator mints with the two signers left, under the old kid.
      const withTwo = await mint();
      expect(withTwo.status).toBe(200);
      expect(decodeProtectedHeader(withTwo.body.token as string).kid).toBe(oldKid);

      // The survivors sign with the old key; a key a signer sealed or scheduled before the failure
      // was cancelled or never scheduled: it would not sign.
      for (const i of [1, 2]) {
        const r = await ring(i);
        expect(r.current).toBe(oldKid);
        for (const k of r.keys.filter((k) => k.kid !== oldKid)) expect(k.activates_at).toBeNull();
        expect(r.keys.find((k) => k.kid === oldKid)!.retires_at).toBeNull();
      }

      // With the killed signer back, all three serve the old key again.
      await victim.start();
      expect((await ring(3)).current).toBe(oldKid);
      const withThree = await mint();
      expect(withThree.status).toBe(200);
      expect(decodeProtectedHeader(withThree.body.token as string).kid).toBe(oldKid);
    },
    240_000,
  );

  it('a later rotation succeeds and drops what the interrupted ones left behind', async () => {
    const group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8')) as GroupInfo;
    const keys = KeySet.load(stack.state, group);
    const audit: AuditEntry[] = [];
    const result = await rotateKeys({
      keys,
      signers: stack.signers.map((s) => ({ name: s.name, url: s.url })),
      tls,
      appendAudit: async (entry) => audit.push(entry),
      now: () => Date.now(),
      activationDelayS: 3600,
      overlapS: 3600,
      maxTokenLifetimeS: 3600,
      timeoutMs: 30_000,
    });
    expect(audit.map((a) => a.event)).toEqual(['key_published']);
    for (const i of [1, 2, 3]) {
      const r = await ring(i);
      expect(r.keys.map((k) => k.kid)).toEqual([oldKid, result.kid]);
      expect(r.current).toBe(oldKid); // activation is an hour away
    }
    // The running coordinator re-reads keys.json: the next key is published, the old one still signs.
    expect((await stack.jwks()).keys.map((k) => k.kid).sort()).toEqual([oldKid, result.kid].sort());
    const minted = await mint();
    expect(decodeProtectedHeader(minted.body.token as string).kid).toBe(oldKid);
  }, 240_000);
});
