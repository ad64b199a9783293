// The C2SP tlog-witness add-checkpoint body and decision (transparency/witness.ts): an honest log
// growing 0 → 5 → 9 → 9 is cosigned step by step; a fork, a truncation, a stale old size, an
// unknown origin, a bad signature and a non-empty proof from size 0 get the spec's status codes.
// Signers will run this decision before contributing to a checkpoint signature.
import { describe, expect, it } from 'vitest';
import { signCheckpoint } from '../transparency/checkpoint.js';
import { MemoryHashStore, consistencyProof, treeHash } from '../transparency/merkle.js';
import { ed25519NoteVerifier, ed25519SeedSigner } from '../transparency/signed-note.js';
import { decideAddCheckpoint, formatAddCheckpointRequest, parseAddCheckpointRequest, type WitnessState } from '../transparency/witness.js';

const ORIGIN = 'ztmint.test/log';
const log = ed25519SeedSigner(ORIGIN, new Uint8Array(32).fill(1));
const known = new Map([[ORIGIN, [ed25519NoteVerifier(log.vkey)]]]);

async function grow(store: MemoryHashStore, n: number, tag: string): Promise<void> {
  while (store.size < n) store.appendEntry(new TextEncoder().encode(`${tag}${store.size}`));
}

async function checkpointAt(store: MemoryHashStore, size: number): Promise<string> {
  return signCheckpoint({ origin: ORIGIN, size, rootHash: await treeHash(store, size), extensions: [] }, [log]);
}

describe('add-checkpoint', () => {
  it('round-trips the request body exactly as the spec lays it out', async () => {
    const store = new MemoryHashStore();
    await grow(store, 9, 'a');
    const body = formatAddCheckpointRequest({ oldSize: 5, proof: await consistencyProof(store, 5, 9), note: await checkpointAt(store, 9) });
    expect(body.startsWith('old 5\n')).toBe(true);
    const parsed = parseAddCheckpointRequest(body);
    expect(parsed.oldSize).toBe(5);
    expect(formatAddCheckpointRequest(parsed)).toBe(body);
    for (const bad of [body.replace('old 5', 'old 05'), body.replace('old 5', 'old  5'), body.replace('old 5\n', 'old 5\nnot-base64\n'), 'old 5\n']) {
      expect(() => parseAddCheckpointRequest(bad)).toThrow();
    }
  });

  it('cosigns an honest log step by step and refuses forks and truncations', async () => {
    const store = new MemoryHashStore();
    await grow(store, 9, 'a');
    let state: WitnessState | undefined;
    const decide = (oldSize: number, proof: Uint8Array[], note: string) => decideAddCheckpoint(parseAddCheckpointRequest(formatAddCheckpointRequest({ oldSize, proof, note })), known, () => state);

    const first = decide(0, [], await checkpointAt(store, 5));
    expect(first.ok).toBe(true);
    if (first.ok) state = { size: first.checkpoint.size, rootHash: first.checkpoint.rootHash };

    const second = decide(5, await consistencyProof(store, 5, 9), await checkpointAt(store, 9));
    expect(second.ok).toBe(true);
    if (second.ok) state = { size: 9, rootHash: second.checkpoint.rootHash };
    expect(decide(9, [], await checkpointAt(store, 9)).ok).toBe(true);

    // A fork: another log of the same origin and key, same size 9, other entries.
    const fork = new MemoryHashStore();
    await grow(fork, 12, 'b');
    expect(decide(9, [], await checkpointAt(fork, 9))).toMatchObject({ ok: false, status: 422 });
    expect(decide(9, await consistencyProof(fork, 9, 12), await checkpointAt(fork, 12))).toMatchObject({ ok: false, status: 422 });
    // A truncation: a checkpoint smaller than what the witness holds.
    expect(decide(9, [], await checkpointAt(store, 7))).toMatchObject({ ok: false, status: 400 });
    expect(decide(7, [], await checkpointAt(store, 7))).toMatchObject({ ok: false, status: 409, size: 9 });
    // A stale old size names the size the witness holds.
    await grow(store, 12, 'a');
    expect(decide(5, await consistencyProof(store, 5, 12), await checkpointAt(store, 12))).toMatchObject({ ok: false, status: 409, size: 9 });
  });

  it('refuses unknown origins, bad signatures and a proof from size 0', async () => {
    const store = new MemoryHashStore();
    await grow(store, 4, 'a');
    const note = await checkpointAt(store, 4);
    expect(decideAddCheckpoint({ oldSize: 0, proof: [], note }, new Map(), () => undefined)).toMatchObject({ ok: false, status: 404 });
    const forged = ed25519SeedSigner(ORIGIN, new Uint8Array(32).fill(2));
    const otherKeyNote = await signCheckpoint({ origin: ORIGIN, size: 4, rootHash: await treeHash(store, 4), extensions: [] }, [forged]);
    expect(decideAddCheckpoint({ oldSize: 0, proof: [], note: otherKeyNote }, known, () => undefined)).toMatchObject({ ok: false, status: 403 });
    const edited = note.replace('\n4\n', '\n5\n');
    expect(decideAddCheckpoint({ oldSize: 0, proof: [], note: edited }, known, () => undefined)).toMatchObject({ ok: false, status: 403 });
    const withProof = { oldSize: 0, proof: [await treeHash(store, 2)], note };
    expect(decideAddCheckpoint(withProof, known, () => undefined)).toMatchObject({ ok: false, status: 422 });
  });
});
