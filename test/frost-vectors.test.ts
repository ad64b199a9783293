// RFC 9591 Appendix E.1 FROST(Ed25519, SHA-512) vectors (cfrg/draft-irtf-cfrg-frost poc file), and
// the Zcash Foundation frost-ed25519 vectors (same keys, other nonces; big identifiers), from
// test/vectors/frost-ed25519/ (see test/vectors/SOURCES.md), run through protocol/ciphersuite.ts.
import { ed25519 } from '@noble/curves/ed25519.js';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aggregate, AggregationError, CIPHERSUITE, commit, identifierFromIndex, signShare, verifyShare, type GroupInfo, type WireCommitment } from '../protocol/ciphersuite.js';
import { b64url, fromB64url, fromHex, hex } from '../protocol/encoding.js';

const DIR = new URL('vectors/frost-ed25519/', import.meta.url);

interface VectorFile {
  config: { MIN_PARTICIPANTS: string; MAX_PARTICIPANTS: string };
  inputs: {
    participant_list: number[];
    group_public_key?: string;
    verifying_key_key?: string;
    message: string;
    participant_shares: Array<{ identifier: number; participant_share: string }>;
  };
  round_one_outputs: {
    outputs: Array<{
      identifier: number;
      hiding_nonce_randomness: string;
      binding_nonce_randomness: string;
      hiding_nonce: string;
      binding_nonce: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
    }>;
  };
  round_two_outputs: { outputs: Array<{ identifier: number; sig_share: string }> };
  final_output: { sig: string };
}

function load(name: string): VectorFile {
  return JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as VectorFile;
}

/** Verifying share = share · G (RFC 9591 §5.4 uses these to check signature shares). */
function verifyingShare(shareHex: string): string {
  const scalar = BigInt(`0x${hex(fromHex(shareHex).reverse())}`);
  return b64url(ed25519.Point.BASE.multiply(scalar).toBytes());
}

function groupOf(v: VectorFile): GroupInfo {
  const groupKey = v.inputs.group_public_key ?? v.inputs.verifying_key_key!;
  const shares = v.inputs.participant_shares;
  return {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(fromHex(groupKey)),
    threshold: Number(v.config.MIN_PARTICIPANTS),
    signers: Number(v.config.MAX_PARTICIPANTS),
    identifiers: shares.map((s) => identifierFromIndex(s.identifier)),
    verifying_shares: Object.fromEntries(shares.map((s) => [identifierFromIndex(s.identifier), verifyingShare(s.participant_share)])),
    commitments: [b64url(fromHex(groupKey))],
  };
}

/** An RNG that hands out the vector's nonce randomness in order (hiding, then binding). */
function scriptedRng(...chunks: string[]) {
  const queue = chunks.map(fromHex);
  return () => {
    const next = queue.shift();
    if (!next) throw new Error('rng exhausted');
    return next;
  };
}

const FILES = ['rfc9591-frost-ed25519-sha512.json', 'vectors.json', 'vectors-big-identifier.json'];

describe.each(FILES)('FROST(Ed25519, SHA-512) vectors: %s', (file) => {
  const v = load(file);
  const group = groupOf(v);
  const message = fromHex(v.inputs.message);
  const shareOf = (id: number) => ({
    identifier: identifierFromIndex(id),
    signingShare: fromHex(v.inputs.participant_shares.find((s) => s.identifier === id)!.participant_share),
  });

  const round1 = v.round_one_outputs.outputs.map((o) => {
    const { nonces, commitment } = commit(shareOf(o.identifier), scriptedRng(o.hiding_nonce_randomness, o.binding_nonce_randomness));
    return { o, nonces: { hiding: nonces.hiding.slice(), binding: nonces.binding.slice() }, commitment };
  });
  const commitments: WireCommitment[] = round1.map((r) => r.commitment);

  it('round 1: nonces and commitments', () => {
    for (const { o, nonces, commitment } of round1) {
      expect(hex(nonces.hiding)).toBe(o.hiding_nonce);
      expect(hex(nonces.binding)).toBe(o.binding_nonce);
      expect(hex(fromB64url(commitment.hiding))).toBe(o.hiding_nonce_commitment);
      expect(hex(fromB64url(commitment.binding))).toBe(o.binding_nonce_commitment);
    }
  });

  it('round 2: signature shares, share verification, aggregate', () => {
    const shares: Record<string, Uint8Array> = {};
    for (const { o, nonces } of round1) {
      const share = signShare(shareOf(o.identifier), group, { hiding: nonces.hiding.slice(), binding: nonces.binding.slice() }, commitments, message);
      const expected = v.round_two_outputs.outputs.find((r) => r.identifier === o.identifier)!.sig_share;
      expect(hex(share)).toBe(expected);
      expect(verifyShare(group, commitments, message, identifierFromIndex(o.identifier), share)).toBe(true);
      shares[identifierFromIndex(o.identifier)] = share;
    }
    const signature = aggregate(group, commitments, message, shares);
    expect(hex(signature)).toBe(v.final_output.sig);

    // Interoperability: a plain Ed25519 verifier (OpenSSL via node:crypto) accepts it.
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: group.group_public_key }, format: 'jwk' });
    expect(verify(null, message, key, signature)).toBe(true);
  });

  it('names the signer whose share is wrong', () => {
    const shares: Record<string, Uint8Array> = {};
    for (const r of v.round_two_outputs.outputs) shares[identifierFromIndex(r.identifier)] = fromHex(r.sig_share);
    const cheater = identifierFromIndex(v.round_two_outputs.outputs[0]!.identifier);
    const bad = shares[cheater]!.slice();
    bad[0]! ^= 1;
    shares[cheater] = bad;
    expect(verifyShare(group, commitments, message, cheater, bad)).toBe(false);
    expect(() => aggregate(group, commitments, message, shares)).toThrow(AggregationError);
    try {
      aggregate(group, commitments, message, shares);
    } catch (err) {
      expect((err as AggregationError).culprits).toEqual([cheater]);
    }
  });

  it('refuses to sign twice with the same nonces (they are consumed)', () => {
    const { o, nonces } = round1[0]!;
    const once = { hiding: nonces.hiding.slice(), binding: nonces.binding.slice() };
    signShare(shareOf(o.identifier), group, once, commitments, message);
    expect(() => signShare(shareOf(o.identifier), group, once, commitments, message)).toThrow();
  });
});
