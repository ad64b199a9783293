// Share refresh on a live dev stack (`ztmint dev`): the running signers mount the share ceremony
// routes (signers/main.ts → KeyRingShareStore over the key ring), so a refresh relayed with the coordinator's client
// certificate reaches the signers while they sign. After it the stack still mints (same group
// key), the shares sealed on disk are new, and an old share with a new one signs nothing valid. A
// refresh interrupted by a killed signer leaves every share on disk as it was and the stack minting.
import { signsValid } from './helpers/key-ceremony.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DkgRelayError } from '../coordinator/dkg-relay.js';
import { ShareRelay } from '../coordinator/share-relay.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { unsealShare } from '../signers/sealed-share.js';
import { killPid, signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;
let group: GroupInfo;

beforeAll(async () => {
  stack = await startDevStack();
  group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8')) as GroupInfo;
});
afterAll(async () => {
  await stack?.stop();
});

const sealedShare = (i: number) => unsealShare(join(stack.state, 'signers', String(i), 'share.sealed'));
const members = () => stack.signers.map((s) => ({ name: `signer-${s.id}`, url: s.url }));

async function mintsOk(times: number) {
  for (let i = 0; i < times; i++) {
    const res = await stack.mint(await stack.idToken());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

describe('share refresh on the live signers', () => {
  it('refreshes every share while the stack runs; old and new shares do not mix', async () => {
    const before = await Promise.all([1, 2, 3].map(sealedShare));
    await mintsOk(1);
    const relay = new ShareRelay({
      signers: members(),
      plan: { kind: 'refresh', group, dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: group.threshold },
      tls: await signerTls(stack.state),
      timeoutMs: 60_000,
    });
    let result;
    try {
      result = await relay.run();
    } finally {
      await relay.close();
    }
    expect(result.group.group_public_key).toBe(group.group_public_key);
    const after = await Promise.all([1, 2, 3].map(sealedShare));
    for (let k = 0; k < 3; k++) expect(Buffer.from(after[k]!.signingShare).equals(Buffer.from(before[k]!.signingShare))).toBe(false);
    // Each signer's key ring holds the new key set (verifying shares), which a restart reads.
    for (const i of [1, 2, 3]) {
      const ring = JSON.parse(await readFile(join(stack.state, 'signers', String(i), 'keyring.json'), 'utf8')) as { keys: Array<{ group: GroupInfo }> };
      expect(ring.keys[0]!.group).toEqual(result.group);
    }
    expect(signsValid(result.group, [after[0]!, after[1]!])).toBe(true);
    expect(signsValid(result.group, [before[0]!, after[1]!])).toBe(false);
    expect(signsValid(group, [after[0]!, before[2]!])).toBe(false);
    // The live signers sign with the new shares: tokens still verify under the same group key.
    await mintsOk(3);
    group = result.group;
  });

  it('a refresh interrupted by a killed signer changes nothing and says what to do', async () => {
    const before = await Promise.all([1, 2, 3].map(sealedShare));
    const relay = new ShareRelay({
      signers: members(),
      plan: { kind: 'refresh', group, dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: group.threshold },
      tls: await signerTls(stack.state),
      timeoutMs: 30_000,
      beforeStep: async (step) => {
        if (step === 'finalize') await killPid(stack.signers[2]!.pid);
      },
    });
    let error: unknown;
    try {
      await relay.run();
    } catch (err) {
      error = err;
    } finally {
      await relay.close();
    }
    expect(error).toBeInstanceOf(DkgRelayError);
    expect((error as Error).message).toMatch(/nothing changed: every signer keeps signing with its current share/);
    const after = await Promise.all([1, 2, 3].map(sealedShare));
    for (let k = 0; k < 3; k++) expect(Buffer.from(after[k]!.signingShare).equals(Buffer.from(before[k]!.signingShare))).toBe(true);
    // The two signers left sign with their current shares: the stack still mints.
    await mintsOk(2);
  });
});
