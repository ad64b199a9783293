// RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs, over stored hashes.
// The log stores one hash per complete, aligned subtree (level L, index i covers leaves
// [i*2^L, (i+1)*2^L)), as Go's golang.org/x/mod/sumdb/tlog does; every tree head and proof is
// built from those through an injected batch reader, so the file store, PostgreSQL and the
// in-memory store of the tests share one implementation. Proof *shapes* are computed first as
// leaf ranges (RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF), then all needed hashes are read in
// one batch. Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 literally.
import { createHash } from 'node:crypto';
import { TransparencyError } from './errors.js';

export const HASH_SIZE = 32;
/** More proof hashes than this cannot belong to a tree of at most 2^63 leaves. */
const MAX_PROOF_HASHES = 64;

/** A stored subtree: level L, index i = leaves [i * 2^L, (i + 1) * 2^L). */
export interface NodeId {
  level: number;
  index: number;
}

/** Reads stored subtree hashes in one batch (a file, a PostgreSQL table, memory). */
export interface HashReader {
  readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]>;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, entry);
}

/** RFC 6962 §2.1 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** The root of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Uint8Array {
  return sha256();
}

export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function assertSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TransparencyError('tlog_out_of_range', `${what} must be a non-negative safe integer`);
  }
}

/** Largest power of two strictly smaller than n (n >= 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Sizes go past 2^32, so no 32-bit bitwise operators on them. */
function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

/** A half-open leaf range [start, end) whose RFC 6962 hash MTH(D[start:end]) a proof needs. */
export interface LeafRange {
  start: number;
  end: number;
}

/**
 * The stored subtrees whose hashes make up MTH(D[start:end]) for a range RFC 9162 can ask for
 * (aligned start, any end): maximal aligned power-of-two blocks from left to right.
 */
function rangeNodes(range: LeafRange): NodeId[] {
  const nodes: NodeId[] = [];
  let start = range.start;
  while (start < range.end) {
    let size = 1;
    let level = 0;
    // Grow while the block stays aligned at `start` and inside the range.
    while (start % (size * 2) === 0 && start + size * 2 <= range.end) {
      size *= 2;
      level += 1;
    }
    nodes.push({ level, index: start / size });
    start += size;
  }
  return nodes;
}

/** Folds the block hashes of a range right to left: RFC 6962 splits at the largest power of 2. */
function foldRange(hashes: Uint8Array[]): Uint8Array {
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** Reads the hashes of many ranges in one batch. */
export async function rangeHashes(reader: HashReader, ranges: readonly LeafRange[]): Promise<Uint8Array[]> {
  const perRange = ranges.map(rangeNodes);
  const flat = perRange.flat();
  const hashes = flat.length === 0 ? [] : await reader.readHashes(flat);
  if (hashes.length !== flat.length) {
    throw new TransparencyError('tlog_inconsistent', 'hash store returned the wrong number of hashes');
  }
  let at = 0;
  return perRange.map((nodes) => {
    const part = hashes.slice(at, at + nodes.length);
    at += nodes.length;
    for (const h of part) {
      if (h.length !== HASH_SIZE) throw new TransparencyError('tlog_inconsistent', 'stored hash has the wrong size');
    }
    return foldRange(part);
  });
}

/** MTH(D[0:n]), the tree head for the first n leaves. */
export async function treeHash(reader: HashReader, n: number): Promise<Uint8Array> {
  assertSize(n, 'tree size');
  if (n === 0) return emptyRoot();
  const [root] = await rangeHashes(reader, [{ start: 0, end: n }]);
  return root!;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, leaf-to-root order. */
function inclusionRanges(index: number, size: number): LeafRange[] {
  assertSize(index, 'leaf index');
  assertSize(size, 'tree size');
  if (index >= size) throw new TransparencyError('tlog_out_of_range', `leaf ${index} is not in a tree of size ${size}`);
  const out: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  // Walk root-to-leaf, collecting siblings; reversed at the end to give leaf-to-root order.
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      out.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      out.push({ start: lo, end: lo + k });
      lo = lo + k;
    }
  }
  return out.reverse();
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) as leaf ranges (empty when m == n; undefined for m == 0). */
function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  assertSize(oldSize, 'old size');
  assertSize(newSize, 'new size');
  if (oldSize > newSize) throw new TransparencyError('tlog_out_of_range', 'old size is larger than new size');
  if (oldSize === 0 || oldSize === newSize) return [];
  const out: LeafRange[] = [];
  // SUBPROOF(m, D[lo:hi], b), unrolled: every step appends one sibling, in root-to-leaf order.
  let m = oldSize;
  let lo = 0;
  let hi = newSize;
  let whole = true;
  for (;;) {
    const n = hi - lo;
    if (m === n) {
      if (!whole) out.push({ start: lo, end: hi });
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      out.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      out.push({ start: lo, end: lo + k });
      m -= k;
      lo += k;
      whole = false;
    }
  }
  return out.reverse();
}

/** Inclusion proof of leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(reader: HashReader, index: number, size: number): Promise<Uint8Array[]> {
  return rangeHashes(reader, inclusionRanges(index, size));
}

/** Consistency proof from the tree of `oldSize` leaves to the tree of `newSize` leaves. */
export async function consistencyProof(reader: HashReader, oldSize: number, newSize: number): Promise<Uint8Array[]> {
  return rangeHashes(reader, consistencyRanges(oldSize, newSize));
}

function checkProofHashes(proof: readonly Uint8Array[]): void {
  if (proof.length > MAX_PROOF_HASHES) throw new TransparencyError('tlog_bad_proof', 'proof is too long');
  for (const h of proof) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw new TransparencyError('tlog_bad_proof', 'proof hash has the wrong size');
    }
  }
}

/**
 * RFC 9162 §2.1.3.2: checks that `leaf` (a leaf hash) is at `index` in the tree of `size` leaves
 * whose root is `root`. Throws tlog_bad_proof on any mismatch.
 */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  assertSize(index, 'leaf index');
  assertSize(size, 'tree size');
  checkProofHashes(proof);
  if (leaf.length !== HASH_SIZE || root.length !== HASH_SIZE) {
    throw new TransparencyError('tlog_bad_proof', 'hash has the wrong size');
  }
  if (index >= size) throw new TransparencyError('tlog_bad_proof', 'leaf index is not below the tree size');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new TransparencyError('tlog_bad_proof', 'inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // Skip the levels where this node has no right sibling in the tree.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new TransparencyError('tlog_bad_proof', 'inclusion proof is too short');
  if (!equalHashes(r, root)) throw new TransparencyError('tlog_bad_proof', 'inclusion proof does not lead to the root');
}

/**
 * RFC 9162 §2.1.4.2: checks that the tree of `oldSize` leaves with root `oldRoot` is a prefix of
 * the tree of `newSize` leaves with root `newRoot`. The empty tree is a prefix of every tree (the
 * C2SP tlog-witness rule: old size 0 takes an empty proof). Throws tlog_bad_proof on any mismatch.
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): void {
  assertSize(oldSize, 'old size');
  assertSize(newSize, 'new size');
  checkProofHashes(proof);
  if (oldRoot.length !== HASH_SIZE || newRoot.length !== HASH_SIZE) {
    throw new TransparencyError('tlog_bad_proof', 'hash has the wrong size');
  }
  if (oldSize > newSize) throw new TransparencyError('tlog_bad_proof', 'the log shrank: old size is larger than new size');
  if (oldSize === 0) {
    if (proof.length !== 0) throw new TransparencyError('tlog_bad_proof', 'a proof from the empty tree must be empty');
    if (!equalHashes(oldRoot, emptyRoot())) throw new TransparencyError('tlog_bad_proof', 'empty tree has the wrong root');
    return;
  }
  if (oldSize === newSize) {
    if (proof.length !== 0) throw new TransparencyError('tlog_bad_proof', 'a proof between equal sizes must be empty');
    if (!equalHashes(oldRoot, newRoot)) throw new TransparencyError('tlog_bad_proof', 'two roots for the same size: a fork');
    return;
  }
  if (proof.length === 0) throw new TransparencyError('tlog_bad_proof', 'consistency proof is empty');
  const path = [...proof];
  // Step 2: a power-of-two old tree is itself a node of the new tree; its root starts the path.
  if (isPowerOfTwo(oldSize)) path.unshift(oldRoot);
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new TransparencyError('tlog_bad_proof', 'consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new TransparencyError('tlog_bad_proof', 'consistency proof is too short');
  if (!equalHashes(fr, oldRoot)) throw new TransparencyError('tlog_bad_proof', 'consistency proof does not lead to the old root');
  if (!equalHashes(sr, newRoot)) throw new TransparencyError('tlog_bad_proof', 'consistency proof does not lead to the new root');
}

/**
 * The stored hashes that appending leaf `index` (hash `leaf`) adds: the leaf itself, then every
 * subtree it completes. `readHash` gives the already-stored left siblings. A file or PostgreSQL
 * store writes exactly these rows, in one transaction with the entry.
 */
export async function hashesToStore(reader: HashReader, index: number, leaf: Uint8Array): Promise<Array<NodeId & { hash: Uint8Array }>> {
  assertSize(index, 'leaf index');
  const out: Array<NodeId & { hash: Uint8Array }> = [{ level: 0, index, hash: leaf }];
  const siblings: NodeId[] = [];
  for (let level = 0, i = index; i % 2 === 1; level++, i = Math.floor(i / 2)) siblings.push({ level, index: i - 1 });
  const left = siblings.length === 0 ? [] : await reader.readHashes(siblings);
  let h = leaf;
  let i = index;
  for (let level = 0; level < siblings.length; level++) {
    h = nodeHash(left[level]!, h);
    i = Math.floor(i / 2);
    out.push({ level: level + 1, index: i, hash: h });
  }
  return out;
}

/** An in-memory log of stored hashes: the tests' store and the model for persistent ones. */
export class MemoryHashStore implements HashReader {
  private readonly levels: Uint8Array[][] = [];

  get size(): number {
    return this.levels[0]?.length ?? 0;
  }

  /** Appends one entry (hashed as an RFC 6962 leaf) and returns its index. */
  appendEntry(entry: Uint8Array): number {
    return this.appendLeafHash(leafHash(entry));
  }

  /** Appends a precomputed leaf hash and returns its index. */
  appendLeafHash(leaf: Uint8Array): number {
    if (leaf.length !== HASH_SIZE) throw new TransparencyError('tlog_malformed', 'leaf hash has the wrong size');
    const index = this.size;
    let h = leaf;
    let i = index;
    for (let level = 0; ; level++) {
      (this.levels[level] ??= []).push(h);
      if (i % 2 === 0) break;
      h = nodeHash(this.levels[level]![i - 1]!, h);
      i = Math.floor(i / 2);
    }
    return index;
  }

  readHash(node: NodeId): Uint8Array {
    const h = this.levels[node.level]?.[node.index];
    if (h === undefined) throw new TransparencyError('tlog_out_of_range', `no stored hash at level ${node.level} index ${node.index}`);
    return h;
  }

  async readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    return nodes.map((n) => this.readHash(n));
  }
}
