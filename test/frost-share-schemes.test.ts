// Share refresh, repair and reshare (protocol/frost/refresh.ts, repair.ts, reshare.ts):
// - repair against the Zcash Foundation's Ed25519 vectors (repair-share.json, test/vectors/SOURCES.md)
//   and frost-core's RTS tests (check_rts, check_repair_share_part1) replayed on noble's dealer;
// - refresh and reshare against the formulas written out in BigInt from the same seeded
//   randomness (a differential: a second, independent implementation), and as properties: the
//   group key stays, t new shares sign a valid Ed25519 signature, old and new shares mixed or too
//   few shares sign nothing valid, and cheating dealers are named.
import { ed25519 } from '@noble/curves/ed25519.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aggregate, CIPHERSUITE, commit, frost, identifierFromIndex, signShare, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { refreshDeal, refreshShare, refreshedGroup, type ReceivedRefresh } from '../protocol/frost/refresh.js';
import { repairDeltas, repairShare, repairSigma } from '../protocol/frost/repair.js';
import { reshareDeal, reshareShare, resharedGroup, type ReceivedReshare, type ReshareParameters } from '../protocol/frost/reshare.js';
import { ShareSchemeError } from '../protocol/frost/vss.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint) => ((a % L) + L) % L;
const le = (b: Uint8Array) => b.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const id = (i: number) => identifierFromIndex(i);
const inv = (a: bigint): bigint => {
  let [r0, r1, t0, t1] = [L, mod(a), 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, t0, t1] = [r1, r0 - q * r1, t1, t0 - q * t1];
  }
  return mod(t0);
};
/** Lagrange interpolation at 0 of (x, y) pairs, BigInt: the secret t shares determine. */
const interpolate = (points: [bigint, bigint][]) =>
  points.reduce((acc, [xi, yi]) => {
    let num = 1n;
    let den = 1n;
    for (const [xj] of points) if (xj !== xi) [num, den] = [mod(num * xj), mod(den * (xj - xi))];
    return mod(acc + yi * num * inv(den));
  }, 0n);

/** SHA-512 counter-mode stream: reproducible randomness for both implementations. */
function drbg(seed: string) {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; filled += 64)
      out.set(
        createHash('sha512')
          .update(`${seed}/${counter++}`)
          .digest()
          .subarray(0, n - filled),
        filled,
      );
    return out;
  };
}

interface KeySet {
  group: GroupInfo;
  shares: Map<string, SecretShare>;
  secret: bigint;
}

function dealer(t: number, n: number): KeySet {
  const identifiers = Array.from({ length: n }, (_, i) => id(i + 1));
  const deal = frost.trustedDealer({ min: t, max: n }, identifiers);
  const group: GroupInfo = {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(deal.public.commitments[0]!),
    threshold: t,
    signers: n,
    identifiers,
    verifying_shares: Object.fromEntries(Object.entries(deal.public.verifyingShares).map(([k, v]) => [k, b64url(v)])),
    commitments: deal.public.commitments.map((c) => b64url(c)),
  };
  const shares = new Map(identifiers.map((i) => [i, { identifier: i, signingShare: deal.secretShares[i]!.signingShare }]));
  const secret = interpolate(identifiers.slice(0, t).map((i) => [le(hexBytes(i)), le(shares.get(i)!.signingShare)]));
  return { group, shares, secret };
}

const message = new TextEncoder().encode('ztmint share schemes');

/** A FROST signature by `signers` under `group`, checked as plain Ed25519 against the group key. */
function signsValid(group: GroupInfo, signers: SecretShare[]): boolean {
  const rounds = signers.map((s) => commit(s));
  const commitments = rounds.map((r) => r.commitment);
  const shares = Object.fromEntries(signers.map((s, k) => [s.identifier, signShare(s, group, rounds[k]!.nonces, commitments, message)]));
  try {
    const sig = aggregate(group, commitments, message, shares, (sig, msg) => ed25519.verify(sig, msg, fromB64url(group.group_public_key)));
    return ed25519.verify(sig, message, fromB64url(group.group_public_key));
  } catch {
    return false;
  }
}

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((first, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [first, ...rest]));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShareSchemeError) return err.code;
    throw err;
  }
  return undefined;
}

describe('repair (RTS) against the ZF Ed25519 vectors repair-share.json', () => {
  const vectors = JSON.parse(readFileSync(new URL('vectors/frost-ed25519/repair-share.json', import.meta.url), 'utf8')) as {
    scalar_generation: Record<string, string>;
    sigma_generation: Record<string, string>;
  };
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

  it('step 2 sums the deltas (check_repair_share_part2)', () => {
    const g = vectors.scalar_generation;
    expect(hex(repairSigma([1, 2, 3].map((k) => hexBytes(g[`random_scalar_${k}`]!))))).toBe(g.random_scalar_sum);
  });

  it('step 3 sums the sigmas (check_repair_share_part3), and keeps the sum only if it matches the verifying share', () => {
    const s = vectors.sigma_generation;
    const sigmas = [1, 2, 3, 4].map((k) => hexBytes(s[`sigma_${k}`]!));
    expect(hex(repairSigma(sigmas))).toBe(s.sigma_sum);
    // The vector's sum is not a share of any key set here: step 3 refuses it.
    const { group } = dealer(3, 5);
    expect(codeOf(() => repairShare(group, id(2), sigmas))).toBe('group_mismatch');
    // A key set whose verifying share for 2 is sigma_sum·G takes it.
    const fake = { ...group, verifying_shares: { ...group.verifying_shares, [id(2)]: b64url(ed25519.Point.BASE.multiply(le(hexBytes(s.sigma_sum!))).toBytes()) } };
    expect(hex(repairShare(fake, id(2), sigmas).signingShare)).toBe(s.sigma_sum);
  });
});

describe('repair (RTS) on a 3-of-5 key set, as frost-core check_rts', () => {
  it('helpers 1, 4, 5 give signer 2 back exactly its share; it signs with two others', () => {
    const { group, shares } = dealer(3, 5);
    const helpers = [id(1), id(4), id(5)];
    const deltas = helpers.map((h) => repairDeltas(group, helpers, shares.get(h)!, id(2)));
    // check_repair_share_part1: helper i's deltas sum to ζ_i·s_i.
    for (const [k, h] of helpers.entries()) {
      const xs = helpers.map((x) => le(hexBytes(x)));
      const xi = xs[k]!;
      const zeta = xs.filter((x) => x !== xi).reduce((acc, xj) => mod(acc * (2n - xj) * inv(xi - xj)), 1n);
      const sum = [...deltas[k]!.values()].reduce((acc, d) => mod(acc + le(d)), 0n);
      expect(sum).toBe(mod(zeta * le(shares.get(h)!.signingShare)));
    }
    const sigmas = helpers.map((h) => repairSigma(deltas.map((d) => d.get(h)!)));
    const repaired = repairShare(group, id(2), sigmas);
    expect(Buffer.from(repaired.signingShare).equals(Buffer.from(shares.get(id(2))!.signingShare))).toBe(true);
    expect(signsValid(group, [repaired, shares.get(id(3))!, shares.get(id(5))!])).toBe(true);
  });

  it('no helper sees the lost share: every delta it receives and its sigma differ from it, run after run', () => {
    const { group, shares } = dealer(2, 3);
    const helpers = [id(1), id(3)];
    const lost = le(shares.get(id(2))!.signingShare);
    for (let run = 0; run < 20; run++) {
      const deltas = helpers.map((h) => repairDeltas(group, helpers, shares.get(h)!, id(2)));
      for (const h of helpers) {
        const received = deltas.map((d) => le(d.get(h)!));
        expect(received).not.toContain(lost);
        expect(le(repairSigma(deltas.map((d) => d.get(h)!)))).not.toBe(lost);
      }
    }
  });

  it('refuses fewer than t helpers, the lost member as a helper, and a tampered delta (group_mismatch)', () => {
    const { group, shares } = dealer(3, 5);
    expect(codeOf(() => repairDeltas(group, [id(1), id(4)], shares.get(id(1))!, id(2)))).toBe('invalid_parameters');
    expect(codeOf(() => repairDeltas(group, [id(1), id(2), id(4)], shares.get(id(1))!, id(2)))).toBe('invalid_parameters');
    const helpers = [id(1), id(4), id(5)];
    const deltas = helpers.map((h) => repairDeltas(group, helpers, shares.get(h)!, id(2)));
    deltas[1]!.get(id(5))![0]! ^= 1;
    const sigmas = helpers.map((h) => repairSigma(deltas.map((d) => d.get(h)!)));
    expect(codeOf(() => repairShare(group, id(2), sigmas))).toBe('group_mismatch');
  });
});

/** Every participant of a refresh deals; returns the refreshed shares and key sets. */
function runRefresh(ks: KeySet, participants: string[], rng?: (n: number) => Uint8Array) {
  const dealings = new Map(participants.map((p) => [p, refreshDeal(ks.group, participants, rng)]));
  const received = (j: string): ReceivedRefresh[] => participants.map((p) => ({ sender: p, commitment: dealings.get(p)!.commitment, share: dealings.get(p)!.shares.get(j)! }));
  const results = new Map(participants.map((j) => [j, refreshShare(ks.group, participants, ks.shares.get(j)!, received(j))]));
  return { dealings, received, results };
}

describe('refresh (zero-constant DKG, frost-core refresh_dkg_*)', () => {
  it('matches the BigInt formulas from the same randomness (differential)', () => {
    const ks = dealer(3, 5);
    const participants = ks.group.identifiers;
    const rng = drbg('refresh-diff');
    const dealings = participants.map(() => refreshDeal(ks.group, participants, rng));
    const reference = drbg('refresh-diff');
    for (const d of dealings) {
      const coeffs = [0n, mod(le(reference(64))), mod(le(reference(64)))];
      expect(d.commitment.map((c) => Buffer.from(c).toString('hex'))).toEqual(coeffs.slice(1).map((c) => ed25519.Point.BASE.multiply(c).toHex()));
      for (const j of participants) {
        const x = le(hexBytes(j));
        expect(le(d.shares.get(j)!)).toBe(mod(coeffs[0]! + coeffs[1]! * x + coeffs[2]! * x * x));
      }
    }
  });

  it('keeps the group key, changes every share; t new shares sign, an old share mixed with new ones does not', () => {
    const ks = dealer(3, 5);
    const participants = ks.group.identifiers;
    const { dealings, results } = runRefresh(ks, participants);
    const next = results.get(id(1))!.group;
    for (const r of results.values()) expect(r.group).toEqual(next);
    expect(next.group_public_key).toBe(ks.group.group_public_key);
    expect(next).toEqual(
      refreshedGroup(
        ks.group,
        participants,
        [...dealings].map(([sender, d]) => ({ sender, commitment: d.commitment })),
      ),
    );
    const fresh = participants.map((p) => results.get(p)!.share);
    for (const [k, p] of participants.entries()) {
      expect(Buffer.from(fresh[k]!.signingShare).equals(Buffer.from(ks.shares.get(p)!.signingShare))).toBe(false);
      expect(next.verifying_shares[p]).not.toBe(ks.group.verifying_shares[p]);
    }
    for (const set of subsets(fresh, 3)) expect(signsValid(next, set)).toBe(true);
    // The secret is unchanged, but an old share with new ones interpolates to something else ...
    const point = (s: SecretShare): [bigint, bigint] => [le(hexBytes(s.identifier)), le(s.signingShare)];
    expect(interpolate(fresh.slice(0, 3).map(point))).toBe(ks.secret);
    expect(interpolate([point(ks.shares.get(id(1))!), point(fresh[1]!), point(fresh[2]!)])).not.toBe(ks.secret);
    // ... and signs nothing valid under either key set.
    expect(signsValid(next, [ks.shares.get(id(1))!, fresh[1]!, fresh[2]!])).toBe(false);
    expect(signsValid(ks.group, [ks.shares.get(id(1))!, fresh[1]!, fresh[2]!])).toBe(false);
  });

  it('removes members left out: 3 of a 3-of-5 refresh into a 3-of-3 key set with the same key', () => {
    const ks = dealer(3, 5);
    const participants = [id(1), id(3), id(5)];
    const { results } = runRefresh(ks, participants);
    const next = results.get(id(3))!.group;
    expect(next.identifiers).toEqual(participants);
    expect(next.signers).toBe(3);
    expect(next.group_public_key).toBe(ks.group.group_public_key);
    expect(
      signsValid(
        next,
        participants.map((p) => results.get(p)!.share),
      ),
    ).toBe(true);
    expect(codeOf(() => refreshDeal(ks.group, [id(1), id(3)]))).toBe('invalid_parameters');
  });

  it('names a sender whose share does not match its commitment, and refuses a short commitment', () => {
    const ks = dealer(2, 3);
    const participants = ks.group.identifiers;
    const dealings = new Map(participants.map((p) => [p, refreshDeal(ks.group, participants)]));
    const received = participants.map((p) => ({ sender: p, commitment: dealings.get(p)!.commitment, share: new Uint8Array(dealings.get(p)!.shares.get(id(1))!) }));
    received[2]!.share[0]! ^= 1;
    try {
      refreshShare(ks.group, participants, ks.shares.get(id(1))!, received);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ShareSchemeError);
      expect((err as ShareSchemeError).code).toBe('share_invalid');
      expect((err as ShareSchemeError).culprit).toBe(id(3));
    }
    received[2]!.share[0]! ^= 1;
    received[1] = { ...received[1]!, commitment: [] };
    expect(codeOf(() => refreshShare(ks.group, participants, ks.shares.get(id(1))!, received))).toBe('commitment_invalid');
    // A participant whose own share is not the key set's refuses before dealing anything.
    const foreign = { identifier: id(1), signingShare: dealer(2, 3).shares.get(id(1))!.signingShare };
    expect(codeOf(() => refreshShare(ks.group, participants, foreign, received))).toBe('group_mismatch');
  });
});

function runReshare(ks: KeySet, params: ReshareParameters) {
  const dealings = new Map(params.dealers.map((d) => [d, reshareDeal(ks.group, params, ks.shares.get(d)!)]));
  const received = (j: string): ReceivedReshare[] => params.dealers.map((d) => ({ dealer: d, commitment: dealings.get(d)!.commitment, share: dealings.get(d)!.shares.get(j)! }));
  return { dealings, received, results: new Map(params.identifiers.map((j) => [j, reshareShare(ks.group, params, j, received(j))])) };
}

describe('reshare (verifiable redistribution to a new t-of-n, same group key)', () => {
  it('matches the BigInt formulas from the same randomness (differential)', () => {
    const ks = dealer(2, 3);
    const params = { dealers: [id(1), id(3)], threshold: 3, identifiers: [1, 2, 3, 4, 5].map(id) };
    const rng = drbg('reshare-diff');
    const d = reshareDeal(ks.group, params, ks.shares.get(id(3))!, rng);
    const reference = drbg('reshare-diff');
    const lambda = mod(1n * inv(1n - 3n)); // λ_3 over {1, 3} at 0 = x_1/(x_1 − x_3)
    const coeffs = [mod(lambda * le(ks.shares.get(id(3))!.signingShare)), mod(le(reference(64))), mod(le(reference(64)))];
    expect(d.commitment.map((c) => Buffer.from(c).toString('hex'))).toEqual(coeffs.map((c) => ed25519.Point.BASE.multiply(c).toHex()));
    for (const j of params.identifiers) {
      const x = le(hexBytes(j));
      expect(le(d.shares.get(j)!)).toBe(mod(coeffs[0]! + coeffs[1]! * x + coeffs[2]! * x * x));
    }
  });

  it('2-of-3 → 3-of-5: same group key, every 3 of the 5 sign, no 2 do', () => {
    const ks = dealer(2, 3);
    const params = { dealers: [id(2), id(3)], threshold: 3, identifiers: [1, 2, 3, 4, 5].map(id) };
    const { results, dealings } = runReshare(ks, params);
    const next = results.get(id(4))!.group;
    for (const r of results.values()) expect(r.group).toEqual(next);
    expect(next).toMatchObject({ group_public_key: ks.group.group_public_key, threshold: 3, signers: 5, identifiers: params.identifiers });
    expect(next).toEqual(
      resharedGroup(
        ks.group,
        params,
        [...dealings].map(([dealer, d]) => ({ dealer, commitment: d.commitment })),
      ),
    );
    const fresh = params.identifiers.map((j) => results.get(j)!.share);
    for (const set of subsets(fresh, 3)) expect(signsValid(next, set)).toBe(true);
    const point = (s: SecretShare): [bigint, bigint] => [le(hexBytes(s.identifier)), le(s.signingShare)];
    for (const pair of subsets(fresh, 2)) {
      expect(interpolate(pair.map(point))).not.toBe(ks.secret);
      // Two signers under a key set that claims a threshold of 2 still produce no valid signature.
      expect(signsValid({ ...next, threshold: 2, commitments: next.commitments.slice(0, 2) }, pair)).toBe(false);
    }
  });

  it('3-of-5 → 2-of-3 with signers 4 and 5 removed, and new holders with new identifiers', () => {
    const ks = dealer(3, 5);
    const params = { dealers: [id(1), id(4), id(5)], threshold: 2, identifiers: [id(1), id(2), id(6)] };
    const { results } = runReshare(ks, params);
    const next = results.get(id(6))!.group;
    expect(next).toMatchObject({ group_public_key: ks.group.group_public_key, threshold: 2, signers: 3 });
    for (const pair of subsets(
      [...results.values()].map((r) => r.share),
      2,
    ))
      expect(signsValid(next, pair)).toBe(true);
  });

  it('names a dealer that deals something other than its share (C_0 ≠ λ·V) or a share off its commitment', () => {
    const ks = dealer(2, 3);
    const params = { dealers: [id(1), id(2)], threshold: 3, identifiers: [1, 2, 3, 4, 5].map(id) };
    const { received } = runReshare(ks, params);
    // Dealer 2 deals a consistent polynomial around a different secret: its own commitments agree
    // with its shares, only C_0 = λ·V catches it.
    const forged = reshareDeal(ks.group, { ...params, dealers: [id(1), id(3)] }, { identifier: id(3), signingShare: ks.shares.get(id(3))!.signingShare });
    const cheat = received(id(4));
    cheat[1] = { dealer: id(2), commitment: forged.commitment, share: forged.shares.get(id(4))! };
    try {
      reshareShare(ks.group, params, id(4), cheat);
      expect.unreachable();
    } catch (err) {
      expect((err as ShareSchemeError).code).toBe('commitment_invalid');
      expect((err as ShareSchemeError).culprit).toBe(id(2));
    }
    const tampered = received(id(5)).map((r) => ({ ...r, share: new Uint8Array(r.share) }));
    tampered[0]!.share[3]! ^= 4;
    try {
      reshareShare(ks.group, params, id(5), tampered);
      expect.unreachable();
    } catch (err) {
      expect((err as ShareSchemeError).code).toBe('share_invalid');
      expect((err as ShareSchemeError).culprit).toBe(id(1));
    }
    expect(codeOf(() => reshareDeal(ks.group, { ...params, dealers: [id(1)] }, ks.shares.get(id(1))!))).toBe('invalid_parameters');
    expect(codeOf(() => reshareDeal(ks.group, { ...params, threshold: 6 }, ks.shares.get(id(1))!))).toBe('invalid_parameters');
  });
});
