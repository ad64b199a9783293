// @noble/curves' DKG (ed25519_FROST.DKG, the one `ztmint dkg` runs) against the FROST(Ed25519,
// SHA-512) DKG vectors of the Zcash Foundation's frost-rs: frost-ed25519/tests/helpers/vectors_dkg.json
// (ZcashFoundation/frost, MIT OR Apache-2.0; copied to test/vectors/frost-ed25519/, see
// test/vectors/SOURCES.md). The check follows frost-core/src/tests/vectors_dkg.rs (`check_dkg_keygen`):
// for each participant i, rebuild its round-1 secret from the vector's `signing_key` (a_i0) and
// `coefficient` (a_i1), run part2 (= round2) against the others' round-1 packages — which verifies
// their proofs of knowledge — and part3 (= round3) with the round-2 shares the vector lists, and
// compare the key package and the public key package byte for byte.
import { ed25519, ed25519_FROST as frost } from '@noble/curves/ed25519.js';
import type { DKG_Secret } from '@noble/curves/abstract/frost.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Participant {
  identifier: number;
  signing_key: string;
  coefficient: string;
  vss_commitments: string[];
  proof_of_knowledge: string;
  signing_shares: Record<string, string>;
  verifying_share: string;
  signing_share: string;
}

const vectors = JSON.parse(readFileSync(new URL('vectors/frost-ed25519/vectors_dkg.json', import.meta.url), 'utf8')) as {
  config: { MAX_PARTICIPANTS: number; MIN_PARTICIPANTS: number; name: string };
  inputs: Record<string, Participant> & { verifying_key: string };
};
const n = vectors.config.MAX_PARTICIPANTS;
const t = vectors.config.MIN_PARTICIPANTS;
const indices = Array.from({ length: n }, (_, i) => i + 1);
const participant = (i: number) => vectors.inputs[String(i)] as Participant;
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const id = (i: number) => frost.Identifier.fromNumber(i);
const round1Of = (i: number) => ({
  identifier: id(participant(i).identifier),
  commitment: participant(i).vss_commitments.map(bytes),
  proofOfKnowledge: bytes(participant(i).proof_of_knowledge),
});

/** The round-1 secret state noble's DKG.round1 would hold for the vector's polynomial. */
function secretFor(i: number): DKG_Secret {
  const coefficients = [bytesToNumberLE(bytes(participant(i).signing_key)), bytesToNumberLE(bytes(participant(i).coefficient))];
  return {
    identifier: BigInt(participant(i).identifier),
    coefficients,
    // A copy: DKG_Secret wants bytes backed by a plain ArrayBuffer, toBytes() may return a view of any buffer.
    commitment: coefficients.map((c) => new Uint8Array(ed25519.Point.BASE.multiply(c).toBytes())),
    signers: { min: t, max: n },
    step: 1,
  };
}

describe('noble DKG against frost-rs vectors_dkg.json (FROST(Ed25519, SHA-512), 2-of-3)', () => {
  it('is the ciphersuite ztmint uses', () => {
    expect(vectors.config).toMatchObject({ name: 'FROST(Ed25519, SHA-512)', MIN_PARTICIPANTS: 2, MAX_PARTICIPANTS: 3 });
  });

  for (const i of indices) {
    it(`participant ${i}: commitments, round-2 shares, signing share, verifying shares and group key`, () => {
      const secret = secretFor(i);
      expect(secret.commitment.map(hex)).toEqual(participant(i).vss_commitments);
      const others = indices.filter((j) => j !== i);

      // part2: verifies the others' proofs of knowledge and evaluates f_i at each other identifier.
      const sent = frost.DKG.round2(secret, others.map(round1Of));
      for (const j of others) {
        expect(sent[id(j)]!.identifier).toBe(id(i));
        // participant j's `signing_shares[i]` is what j received from i, i.e. f_i(j).
        expect(hex(sent[id(j)]!.signingShare)).toBe(participant(j).signing_shares[String(i)]);
      }

      // part3 with the round-2 packages i received.
      const received = others.map((j) => ({ identifier: id(j), signingShare: bytes(participant(i).signing_shares[String(j)]!) }));
      const key = frost.DKG.round3(secret, others.map(round1Of), received);
      expect(key.secret.identifier).toBe(id(i));
      expect(hex(key.secret.signingShare)).toBe(participant(i).signing_share);
      expect(hex(key.public.commitments[0]!)).toBe(vectors.inputs.verifying_key);
      expect(key.public.signers).toEqual({ min: t, max: n });
      for (const j of indices) expect(hex(key.public.verifyingShares[id(j)]!)).toBe(participant(j).verifying_share);
      // commitments = the sum of every participant's VSS commitment (what group.json records).
      const summed = [0, 1].map((k) => indices.map((j) => ed25519.Point.fromBytes(bytes(participant(j).vss_commitments[k]!))).reduce((a, b) => a.add(b)));
      expect(key.public.commitments.map(hex)).toEqual(summed.map((p) => hex(p.toBytes())));
    });
  }

  it('rejects a round-1 package whose proof of knowledge was altered', () => {
    const bad = round1Of(2);
    bad.proofOfKnowledge[40]! ^= 1;
    expect(() => frost.DKG.round2(secretFor(1), [bad, round1Of(3)])).toThrow(/proof of knowledge/);
  });

  it("rejects a round-2 share that does not match its sender's VSS commitment", () => {
    const secret = secretFor(1);
    frost.DKG.round2(secret, [round1Of(2), round1Of(3)]);
    const shares = [2, 3].map((j) => ({ identifier: id(j), signingShare: bytes(participant(1).signing_shares[String(j)]!) }));
    shares[0]!.signingShare[0]! ^= 1;
    expect(() => frost.DKG.round3(secret, [round1Of(2), round1Of(3)], shares)).toThrow();
  });

  it('a 2-of-3 key from the vectors signs like a plain Ed25519 key', () => {
    const keys = indices.map((i) => {
      const s = secretFor(i);
      const others = indices.filter((j) => j !== i);
      frost.DKG.round2(s, others.map(round1Of));
      return frost.DKG.round3(
        s,
        others.map(round1Of),
        others.map((j) => ({ identifier: id(j), signingShare: bytes(participant(i).signing_shares[String(j)]!) })),
      );
    });
    const msg = new TextEncoder().encode('ztmint dkg vectors');
    const signers = [keys[0]!, keys[2]!];
    const nonces = signers.map((k) => frost.commit(k.secret));
    const commitments = nonces.map((x) => x.commitments);
    const shares = Object.fromEntries(signers.map((k, i) => [k.secret.identifier, frost.signShare(k.secret, k.public, nonces[i]!.nonces, commitments, msg)]));
    const sig = frost.aggregate(keys[0]!.public, commitments, msg, shares);
    expect(ed25519.verify(sig, msg, bytes(vectors.inputs.verifying_key))).toBe(true);
  });
});
