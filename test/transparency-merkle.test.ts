// RFC 6962 / RFC 9162 Merkle hashing and proofs of transparency/merkle.ts: published vectors, a
// straight recursive transcription of the RFC definitions as oracle, and properties (every proof
// verifies; any flipped byte, wrong index, size or root is refused).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryHashStore, consistencyProof, emptyRoot, hashesToStore, inclusionProof, leafHash, nodeHash, splitPoint, treeHash, verifyConsistency, verifyInclusion } from '../transparency/merkle.js';
import { TransparencyError } from '../transparency/errors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

// The Certificate Transparency reference tree (transparency-dev/merkle testonly), data only.
const CT_ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

// RFC 9162 §2.1.1-§2.1.4.1 written as the RFC writes them, recursively, over leaf hashes.
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return emptyRoot();
  if (d.length === 1) return d[0]!;
  const k = splitPoint(d.length);
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const k = splitPoint(d.length);
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = splitPoint(d.length);
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

function storeOf(n: number, seed = 0): { store: MemoryHashStore; leaves: Uint8Array[] } {
  const store = new MemoryHashStore();
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const entry = new TextEncoder().encode(`entry ${seed}/${i}`);
    store.appendEntry(entry);
    leaves.push(leafHash(entry));
  }
  return { store, leaves };
}

function flip(hashes: readonly Uint8Array[], which: number, byte: number): Uint8Array[] {
  return hashes.map((h, i) => {
    if (i !== which) return h;
    const c = new Uint8Array(h);
    c[byte] = c[byte]! ^ 0x01;
    return c;
  });
}

function bad(f: () => void): void {
  expect(f).toThrow(TransparencyError);
  try {
    f();
  } catch (err) {
    expect((err as TransparencyError).code).toBe('tlog_bad_proof');
  }
}

describe('RFC 6962 hashing', () => {
  it('matches the Certificate Transparency reference roots for sizes 0..8', async () => {
    const store = new MemoryHashStore();
    expect(hex(await treeHash(store, 0))).toBe(CT_ROOTS[0]);
    for (const [i, e] of CT_ENTRIES.entries()) {
      store.appendEntry(e);
      expect(hex(await treeHash(store, i + 1))).toBe(CT_ROOTS[i + 1]);
    }
  });

  it('gives the reference inclusion proofs, and they verify', async () => {
    const store = new MemoryHashStore();
    for (const e of CT_ENTRIES) store.appendEntry(e);
    for (const v of CT_INCLUSION) {
      const proof = await inclusionProof(store, v.index, v.size);
      expect(proof.map(hex)).toEqual(v.proof);
      verifyInclusion(v.index, v.size, leafHash(CT_ENTRIES[v.index]!), proof, unhex(CT_ROOTS[v.size]!));
    }
  });

  it('leaf and node hashes carry the 0x00 / 0x01 prefixes (no second-preimage across levels)', () => {
    const a = leafHash(new Uint8Array([1]));
    const b = leafHash(new Uint8Array([2]));
    const asLeaf = leafHash(new Uint8Array([...a, ...b]));
    expect(hex(nodeHash(a, b))).not.toBe(hex(asLeaf));
  });
});

describe('proofs over stored hashes agree with the RFC definitions', () => {
  const N = 70;
  const { store, leaves } = storeOf(N);

  it('tree heads, inclusion and consistency proofs for every size up to 70', async () => {
    for (let n = 1; n <= N; n++) {
      const d = leaves.slice(0, n);
      const root = await treeHash(store, n);
      expect(hex(root)).toBe(hex(mth(d)));
      for (let m = 0; m < n; m++) {
        const p = await inclusionProof(store, m, n);
        expect(p.map(hex)).toEqual(path(m, d).map(hex));
        verifyInclusion(m, n, leaves[m]!, p, root);
      }
      for (let m = 1; m <= n; m++) {
        const p = await consistencyProof(store, m, n);
        expect(p.map(hex)).toEqual((m === n ? [] : subproof(m, d, true)).map(hex));
        verifyConsistency(m, n, await treeHash(store, m), root, p);
      }
    }
  });

  it('hashesToStore gives exactly the rows an append adds', async () => {
    const grown = new MemoryHashStore();
    for (let i = 0; i < 40; i++) {
      const rows = await hashesToStore(grown, i, leaves[i]!);
      grown.appendLeafHash(leaves[i]!);
      for (const r of rows) expect(hex(grown.readHash(r))).toBe(hex(r.hash));
      expect(rows.length).toBe(1 + Math.log2((i + 1) & -(i + 1)));
    }
  });
});

describe('verification refuses anything but the exact proof', () => {
  it('inclusion: any flipped byte, a wrong index, size, leaf or root, a short or long proof', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), fc.nat(31), async (n, mRaw, which, byte) => {
        const { store, leaves } = storeOf(n + 1, n);
        const m = mRaw % n;
        const root = await treeHash(store, n);
        const rootNext = await treeHash(store, n + 1);
        const proof = await inclusionProof(store, m, n);
        verifyInclusion(m, n, leaves[m]!, proof, root);
        bad(() => verifyInclusion(m, n, leaves[m]!, flip(proof, which % proof.length, byte), root));
        bad(() => verifyInclusion(m, n, flip([leaves[m]!], 0, byte)[0]!, proof, root));
        bad(() => verifyInclusion(m, n, leaves[m]!, proof, flip([root], 0, byte)[0]!));
        bad(() => verifyInclusion((m + 1) % n, n, leaves[m]!, proof, root));
        // A proof does not by itself bind the size (sizes 5 and 6 share leaf 0's path shape): the
        // signed checkpoint binds size and root, so the check is against the other size's root.
        bad(() => verifyInclusion(m, n + 1, leaves[m]!, proof, rootNext));
        bad(() => verifyInclusion(m, n, leaves[m]!, proof.slice(0, -1), root));
        bad(() => verifyInclusion(m, n, leaves[m]!, [...proof, root], root));
        bad(() => verifyInclusion(n, n, leaves[m]!, proof, root));
      }),
      { numRuns: 60 },
    );
  });

  it('consistency: any flipped byte, wrong sizes or roots, a short or long proof', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), fc.nat(31), async (n, mRaw, which, byte) => {
        const { store } = storeOf(n + 1, n);
        const m = 1 + (mRaw % (n - 1));
        const oldRoot = await treeHash(store, m);
        const newRoot = await treeHash(store, n);
        const proof = await consistencyProof(store, m, n);
        verifyConsistency(m, n, oldRoot, newRoot, proof);
        bad(() => verifyConsistency(m, n, oldRoot, newRoot, flip(proof, which % proof.length, byte)));
        bad(() => verifyConsistency(m, n, flip([oldRoot], 0, byte)[0]!, newRoot, proof));
        bad(() => verifyConsistency(m, n, oldRoot, flip([newRoot], 0, byte)[0]!, proof));
        bad(() => verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1)));
        bad(() => verifyConsistency(m, n, oldRoot, newRoot, [...proof, newRoot]));
        const nextRoot = await treeHash(store, n + 1);
        bad(() => verifyConsistency(m, n + 1, oldRoot, nextRoot, proof));
        bad(() => verifyConsistency(n, m, newRoot, oldRoot, proof));
        bad(() => verifyConsistency(m, n, oldRoot, newRoot, []));
      }),
      { numRuns: 60 },
    );
  });

  it('a fork (same size, other root) and a truncation (smaller new size) are refused', async () => {
    const a = storeOf(20, 1);
    const b = storeOf(20, 2);
    bad(() => verifyConsistency(20, 20, a.store.readHash({ level: 0, index: 0 }), b.store.readHash({ level: 0, index: 0 }), []));
    const r20 = await treeHash(a.store, 20);
    const r10 = await treeHash(a.store, 10);
    bad(() => verifyConsistency(20, 10, r20, r10, []));
    // The empty tree is a prefix of every tree, with an empty proof only.
    verifyConsistency(0, 20, emptyRoot(), r20, []);
    bad(() => verifyConsistency(0, 20, emptyRoot(), r20, [r10]));
  });

  it('sizes above 2^32 go through the same arithmetic (no 32-bit overflow)', () => {
    // A tree of 2^33 + 5 leaves: the proof of its last leaf has 1 + 33 hashes under RFC 9162.
    const size = 2 ** 33 + 5;
    const leaf = leafHash(new Uint8Array([1]));
    const proof = Array.from({ length: 3 }, (_, i) => leafHash(new Uint8Array([i + 2])));
    // Compute the root the verifier expects for this made-up path: last leaf 2^33+4 is in the
    // right subtree of 5 leaves [2^33, 2^33+5): path = [sibling-in-5-tree..., left 2^33 subtree].
    let r = nodeHash(proof[0]!, leaf); // leaf 4 of the 5-tree has the 4-subtree on its left
    r = nodeHash(proof[1]!, r); // the 2^33 left subtree
    expect(() => verifyInclusion(size - 1, size, leaf, proof.slice(0, 2), r)).not.toThrow();
    bad(() => verifyInclusion(size - 1, size, leaf, proof.slice(0, 2), proof[2]!));
  });
});
