// External witnesses (issue 15 item 5): the C2SP tlog-witness client (transparency/witness-client.ts)
// against a REAL witness, litewitness from filippo.io/torchwood (built by
// scripts/build-tlog-peers.sh, its key in its own ssh-agent), started by the test. It cosigns a
// growing log (verified under its key), tells a client that lost track of it its size (409) and
// is caught up, and refuses a forked log: no cosignature comes back for it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCosignerKey, verifyCosignatures } from '../transparency/cosignature.js';
import { signCheckpoint } from '../transparency/checkpoint.js';
import { MemoryHashStore, consistencyProof, treeHash } from '../transparency/merkle.js';
import { ed25519SeedSigner } from '../transparency/signed-note.js';
import { WitnessClient, parseWitnessOption } from '../transparency/witness-client.js';
import { startWitness, type Witness } from './helpers/witness-peer.js';

const ORIGIN = 'ztmint.test/witnessed-log';
const logKey = ed25519SeedSigner(ORIGIN, randomBytes(32));
let witness: Witness;

beforeAll(async () => {
  witness = await startWitness();
  witness.addLog(ORIGIN, logKey.vkey);
}, 1_800_000); // the first run on a machine builds litewitness
afterAll(async () => {
  await witness?.stop();
});

function log(entries: string[]) {
  const store = new MemoryHashStore();
  for (const e of entries) store.appendEntry(new TextEncoder().encode(e));
  return {
    store,
    note: async () => signCheckpoint({ origin: ORIGIN, size: store.size, rootHash: await treeHash(store, store.size), extensions: [] }, [logKey]),
  };
}

describe('tlog-witness client against litewitness', () => {
  const entries = Array.from({ length: 5 }, (_, i) => `record ${i}`);
  const honest = log(entries);
  const client = () => new WitnessClient([parseWitnessOption(`${witness.vkey}=${witness.url}`)], (o, n) => consistencyProof(honest.store, o, n));
  let shared: WitnessClient;

  it('cosigns a checkpoint; the cosignature verifies under the witness key', async () => {
    shared = client();
    const out = await shared.cosign(await honest.note());
    expect(out.failed).toEqual([]);
    expect(out.cosignedBy).toEqual([witness.name]);
    expect(verifyCosignatures(out.note, [parseCosignerKey(witness.vkey)]).map((c) => c.name)).toEqual([witness.name]);
  });

  it('cosigns the grown log with a consistency proof from the size it cosigned', async () => {
    for (let i = 5; i < 12; i++) honest.store.appendEntry(new TextEncoder().encode(`record ${i}`));
    const out = await shared.cosign(await honest.note());
    expect(out.failed).toEqual([]);
    expect(out.cosignedBy).toEqual([witness.name]);
  });

  it('a client that lost track (sends old size 0) is told the size (409) and catches up', async () => {
    honest.store.appendEntry(new TextEncoder().encode('record 12'));
    const out = await client().cosign(await honest.note());
    expect(out.failed).toEqual([]);
    expect(out.cosignedBy).toEqual([witness.name]);
  });

  it('refuses a forked log: same origin and key, a different record 3', async () => {
    const forked = log(Array.from({ length: 14 }, (_, i) => (i === 3 ? 'record 3, rewritten' : `record ${i}`)));
    const c = new WitnessClient([parseWitnessOption(`${witness.vkey}=${witness.url}`)], (o, n) => consistencyProof(forked.store, o, n));
    const out = await c.cosign(await forked.note());
    expect(out.cosignedBy).toEqual([]);
    expect(out.failed).toHaveLength(1);
    expect(out.failed[0]!.reason).toMatch(/^answered 4\d\d/);
    expect(verifyCosignatures(out.note, [parseCosignerKey(witness.vkey)])).toEqual([]);
  });
});
