// `ztmint keys refresh` against a running `ztmint dev --state DIR` (docs/keys.md): two workers mint
// throughout two refreshes in a row and none fails (a retryable answer is retried and counted);
// every token verifies against the JWKS, which does not change; the coordinator's keys.json gets
// the new verifying shares (so the second refresh, planned from it, is accepted by the signers);
// an old share with a new one signs nothing valid; key_refreshed is audited. A refresh with a
// signer down fails in round 1 naming it and saying what to do, changes nothing, and is audited.
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifierFromIndex, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { unsealShare } from '../signers/sealed-share.js';
import { killPid, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { iatOf, keySetGroup, mintLoad, signsValid, sleep, verifyingShareOf, ztmint } from './helpers/key-ceremony.js';

let stack: DevStack;

beforeAll(async () => {
  const unlimited = '100000/min,10000'; // the load is about keys, not rate limits
  stack = await startDevStack(['--rate-repository', unlimited, '--rate-sub', unlimited]);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

async function jwks(): Promise<JSONWebKeySet> {
  const res = await fetch(stack.jwks, { signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as JSONWebKeySet;
}

const sealedShare = (i: number) => unsealShare(join(stack.state, 'signers', String(i), 'share.sealed'));
const coordinatorGroup = () => keySetGroup(stack.state);

describe('ztmint keys refresh (live dev stack)', () => {
  it('refuses a reshare that cannot fit, with key_conflict and the reason', async () => {
    const tooHigh = await ztmint(['keys', 'reshare', '--state', stack.state, '--threshold', '4', '--signers', '3']);
    expect(tooHigh.code).toBe(1);
    expect(tooHigh.stderr).toMatch(/threshold of 4 is more than the 3 signers.*\[key_conflict\]/);
    const unknown = await ztmint(['keys', 'reshare', '--state', stack.state, '--threshold', '3', '--signers', '5']);
    expect(unknown.stderr).toMatch(/5 signers asked for, but the coordinator knows only 3 .*\[key_conflict\]/);
    const single = await ztmint(['keys', 'reshare', '--state', stack.state, '--threshold', '1', '--signers', '3']);
    expect(single.stderr).toMatch(/threshold of 1 is refused.*\[key_conflict\]/);
    const self = await ztmint(['keys', 'repair', '--state', stack.state, '--index', '2', '--helpers', '1,2']);
    expect(self.stderr).toMatch(/signer-2 cannot help repair its own share.*\[key_conflict\]/);
  }, 120_000);

  it('refreshes twice in a row while two workers mint; no mint fails, old and new shares do not mix', async () => {
    const before = await jwks();
    expect(before.keys).toHaveLength(1);
    const kid = before.keys[0]!.kid!;
    const original = await coordinatorGroup();
    const load = mintLoad(stack, 2);
    const groups: GroupInfo[] = [original];
    const shares: SecretShare[][] = [await Promise.all([1, 2, 3].map(sealedShare))];
    try {
      for (let round = 0; round < 2; round++) {
        await sleep(1500); // minting is under way before each refresh
        const r = await ztmint(['keys', 'refresh', '--state', stack.state, '--json']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const doc = JSON.parse(r.stdout) as { kind: string; kid: string; threshold: number; signers: number; dealers: string[]; recipients: string[]; verifying_shares: Record<string, string> };
        expect(doc).toMatchObject({ kind: 'refresh', kid, threshold: 2, signers: 3, dealers: ['signer-1', 'signer-2', 'signer-3'], recipients: ['signer-1', 'signer-2', 'signer-3'] });
        // keys.json has the new key set: same group key, new verifying shares — the signers' shares on disk.
        const group = await coordinatorGroup();
        expect(group.group_public_key).toBe(original.group_public_key);
        const now = await Promise.all([1, 2, 3].map(sealedShare));
        for (const [k, share] of now.entries()) {
          const point = verifyingShareOf(share);
          expect(group.verifying_shares[identifierFromIndex(k + 1)]).toBe(point);
          expect(doc.verifying_shares[`signer-${k + 1}`]).toBe(point);
          expect(point).not.toBe(groups.at(-1)!.verifying_shares[identifierFromIndex(k + 1)]);
        }
        groups.push(group);
        shares.push(now);
      }
      await sleep(1500);
    } finally {
      await load.stop();
    }
    console.log(`keys refresh ×2 under load: ${load.tokens.length} mints, ${load.retried.length} retried${load.retried.length ? `: ${load.retried.join(' | ')}` : ''}`);
    expect(load.failures).toEqual([]);
    expect(load.tokens.length).toBeGreaterThan(0);

    // The JWKS did not change; every token verifies against it.
    const after = await jwks();
    expect(after).toEqual(before);
    const keySet = createLocalJWKSet(after);
    for (const token of load.tokens) {
      expect(decodeProtectedHeader(token).kid).toBe(kid);
      await jwtVerify(token, keySet, { algorithms: ['EdDSA'], currentDate: new Date(iatOf(token) * 1000) });
    }

    // New shares sign; an old share with a new one signs nothing valid under either key set.
    const [s0, s1, s2] = shares;
    expect(signsValid(groups[2]!, [s2![0]!, s2![2]!])).toBe(true);
    expect(signsValid(groups[2]!, [s1![0]!, s2![1]!])).toBe(false);
    expect(signsValid(groups[1]!, [s1![0]!, s2![1]!])).toBe(false);
    expect(signsValid(groups[2]!, [s0![0]!, s2![2]!])).toBe(false);
    expect(signsValid(groups[0]!, [s0![1]!, s2![2]!])).toBe(false);

    // The gate held mints while the signers switched: no signing run met old and new shares (a
    // straddling run would leave the signers of one side out as culprits and retry).
    const records = await stack.auditRecords();
    expect(records.filter((r) => r.event === 'mint' && Array.isArray(r.culprits) && r.culprits.length > 0).map((r) => r.culprits)).toEqual([]);

    // Audited, in order, with what changed.
    const events = records.filter((r) => r.event === 'key_refreshed');
    expect(events).toHaveLength(2);
    for (const e of events) {
      expect(e).toMatchObject({ kid, threshold: 2, signers: 3, dealers: ['signer-1', 'signer-2', 'signer-3'], recipients: ['signer-1', 'signer-2', 'signer-3'] });
      expect(e.transcript_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(typeof e.ceremony).toBe('string');
    }

    // keys status shows the quorum and the new verifying shares.
    const status = await ztmint(['keys', 'status', '--state', stack.state]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/2-of-3/);
    expect(status.stdout).toMatch(/verifying shares: signer-1 [0-9a-f]{16}, signer-2 [0-9a-f]{16}, signer-3 [0-9a-f]{16}/);
    expect(status.stdout).toMatch(/shares changed by a refresh/);
  }, 600_000);

  it('a refresh with a signer down fails in round 1, names it, says what to do and changes nothing', async () => {
    const group = await coordinatorGroup();
    const before = await Promise.all([1, 2].map(sealedShare));
    await killPid(stack.signers[2]!.pid);
    const r = await ztmint(['keys', 'refresh', '--state', stack.state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/key refresh failed in round1: .*signer-3.*unreachable/);
    expect(r.stderr).toMatch(/nothing changed: every signer keeps signing with its current share; bring signer-3 up and run `ztmint keys refresh` again \[ceremony_failed\]/);
    expect(await coordinatorGroup()).toEqual(group);
    const after = await Promise.all([1, 2].map(sealedShare));
    for (let k = 0; k < 2; k++) expect(Buffer.from(after[k]!.signingShare).equals(Buffer.from(before[k]!.signingShare))).toBe(true);
    const failed = (await stack.auditRecords()).filter((e) => e.event === 'key_ceremony_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ kind: 'refresh', step: 'round1' });
    expect(String((failed[0]!.reasons as string[])[0])).toMatch(/signer-3/);
    // The old key set still signs, with the two signers left.
    for (let i = 0; i < 2; i++) {
      const res = await stack.mint(await stack.idToken());
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  }, 300_000);
});
