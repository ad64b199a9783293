// Share refresh, repair and reshare as authenticated ceremonies (signers/share-ceremony.ts), in
// process with the signers' real mTLS identities: an honest relay gets working key sets with the
// same group key (refresh: old and new shares do not mix; reshare 2-of-3 → 3-of-5: any 3 sign;
// repair: the lost share comes back byte for byte), the relay's view holds no secret, and a
// tampered envelope, a forged package, a plan that differs between signers or a dealer that deals
// something other than its share abort the ceremony, naming the signer.
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregate, CIPHERSUITE, commit, frost, identifierFromIndex, signShare, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { DkgAbort, signDoc, type DkgIdentity, type SealedEnvelope } from '../signers/dkg.js';
import { ShareCeremonyParticipant, type ShareCeremonyKind, type ShareConfirmation, type ShareRound1Package } from '../signers/share-ceremony.js';
import { createPrivateKey } from 'node:crypto';
import { findSecrets, identityOf, makePki } from './dkg-helpers.js';

let state: string;
const identities: DkgIdentity[] = [];

beforeAll(async () => {
  state = await makePki(5);
  for (let i = 1; i <= 5; i++) identities.push(await identityOf(state, i));
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

function dealer(t: number, n: number): { group: GroupInfo; shares: SecretShare[] } {
  const identifiers = Array.from({ length: n }, (_, i) => identifierFromIndex(i + 1));
  const deal = frost.trustedDealer({ min: t, max: n }, identifiers);
  return {
    group: {
      ciphersuite: CIPHERSUITE,
      group_public_key: b64url(deal.public.commitments[0]!),
      threshold: t,
      signers: n,
      identifiers,
      verifying_shares: Object.fromEntries(Object.entries(deal.public.verifyingShares).map(([k, v]) => [k, b64url(v)])),
      commitments: deal.public.commitments.map((c) => b64url(c)),
    },
    shares: identifiers.map((id) => ({ identifier: id, signingShare: deal.secretShares[id]!.signingShare })),
  };
}

const message = new TextEncoder().encode('ztmint share ceremony');
function signsValid(group: GroupInfo, signers: SecretShare[]): boolean {
  const rounds = signers.map((s) => commit(s));
  const commitments = rounds.map((r) => r.commitment);
  const shares = Object.fromEntries(signers.map((s, k) => [s.identifier, signShare(s, group, rounds[k]!.nonces, commitments, message)]));
  try {
    return ed25519.verify(aggregate(group, commitments, message, shares), message, fromB64url(group.group_public_key));
  } catch {
    return false;
  }
}

interface Setup {
  kind: ShareCeremonyKind;
  group: GroupInfo;
  shares: SecretShare[];
  dealers: number[];
  recipients: number[];
  threshold: number;
}

function members(s: Setup, ceremony = randomBytes(16).toString('base64url')) {
  const all = [...new Set([...s.dealers, ...s.recipients])].sort((a, b) => a - b);
  const plan = { kind: s.kind, ceremony, group: s.group, dealers: s.dealers, recipients: s.recipients, threshold: s.threshold };
  return all.map(
    (i) =>
      new ShareCeremonyParticipant({
        plan,
        identity: identities[i - 1]!,
        ...(s.dealers.includes(i) ? { share: { identifier: s.shares[i - 1]!.identifier, signingShare: Uint8Array.from(s.shares[i - 1]!.signingShare) } } : {}),
      }),
  );
}

/** An honest relay; returns each member's result and everything the relay saw. */
function relay(ps: ShareCeremonyParticipant[], tamper: { round1?: (set: ShareRound1Package[]) => ShareRound1Package[]; envelopes?: (e: SealedEnvelope[]) => SealedEnvelope[] } = {}) {
  const seen: unknown[] = [];
  const r1 = ps.map((p) => p.round1());
  const set = tamper.round1 ? tamper.round1(r1) : r1;
  seen.push(set);
  const r2 = ps.map((p) => p.round2(set));
  seen.push(r2);
  let envelopes = r2.flatMap((r) => r.packages);
  if (tamper.envelopes) envelopes = tamper.envelopes(envelopes);
  const plan = ps[0]!.plan;
  const confirmations: ShareConfirmation[] = [];
  // Repair: helpers first (their sigmas go to the member being repaired).
  const order = plan.kind === 'repair' ? [...ps.filter((p) => plan.dealers.includes(p.index)), ...ps.filter((p) => !plan.dealers.includes(p.index))] : ps;
  for (const p of order) {
    const out = p.round3(envelopes.filter((e) => e.recipient === p.index));
    seen.push(out);
    envelopes.push(...out.packages);
    confirmations.push(out.confirmation);
  }
  const results = ps.map((p) => p.finalize(confirmations));
  seen.push(results.map((r) => r.group));
  return { results, seen };
}

function expectAbort(fn: () => unknown, reason: string, message: RegExp) {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DkgAbort);
  expect((caught as DkgAbort).code).toBe(reason);
  expect((caught as DkgAbort).message).toMatch(message);
}

describe('share ceremonies (in process, mTLS identities)', () => {
  it('refresh 2-of-3: same group key, new shares that sign, old and new shares that do not mix; the relay sees no secret', () => {
    const { group, shares } = dealer(2, 3);
    const ps = members({ kind: 'refresh', group, shares, dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: 2 });
    const { results, seen } = relay(ps);
    const next = results[0]!.group;
    for (const r of results) expect(r.group).toEqual(next);
    expect(next.group_public_key).toBe(group.group_public_key);
    const fresh = results.map((r) => r.share!);
    expect(signsValid(next, [fresh[0]!, fresh[2]!])).toBe(true);
    expect(signsValid(next, [shares[0]!, fresh[2]!])).toBe(false);
    expect(findSecrets(seen, Object.fromEntries([...shares.map((s, k) => [`old ${k + 1}`, s.signingShare]), ...fresh.map((s, k) => [`new ${k + 1}`, s.signingShare])]))).toEqual([]);
  });

  it('reshare 2-of-3 → 3-of-5 with dealers 1 and 3: any 3 of the new 5 sign for the same key', () => {
    const { group, shares } = dealer(2, 3);
    const ps = members({ kind: 'reshare', group, shares, dealers: [1, 3], recipients: [1, 2, 3, 4, 5], threshold: 3 });
    const { results, seen } = relay(ps);
    const next = results[0]!.group;
    expect(next).toMatchObject({ group_public_key: group.group_public_key, threshold: 3, signers: 5 });
    const fresh = results.map((r) => r.share!);
    expect(signsValid(next, [fresh[0]!, fresh[3]!, fresh[4]!])).toBe(true);
    expect(signsValid(next, [fresh[1]!, fresh[2]!, fresh[3]!])).toBe(true);
    expect(findSecrets(seen, Object.fromEntries([...shares.map((s, k) => [`old ${k + 1}`, s.signingShare]), ...fresh.map((s, k) => [`new ${k + 1}`, s.signingShare])]))).toEqual([]);
  });

  it('repair: helpers 1 and 3 give signer 2 its share back; the relay and the helpers never see it', () => {
    const { group, shares } = dealer(2, 3);
    const ps = members({ kind: 'repair', group, shares, dealers: [1, 3], recipients: [2], threshold: 2 });
    const { results, seen } = relay(ps);
    const repaired = results[1]!.share!;
    expect(Buffer.from(repaired.signingShare).equals(Buffer.from(shares[1]!.signingShare))).toBe(true);
    expect(results[0]!.share).toBeUndefined();
    expect(results[0]!.group).toEqual(group);
    expect(findSecrets(seen, { lost: shares[1]!.signingShare, helper1: shares[0]!.signingShare, helper3: shares[2]!.signingShare })).toEqual([]);
  });

  it('a tampered envelope aborts with decrypt_failed, naming its sender', () => {
    const { group, shares } = dealer(2, 3);
    const ps = members({ kind: 'refresh', group, shares, dealers: [1, 2, 3], recipients: [1, 2, 3], threshold: 2 });
    expectAbort(
      () =>
        relay(ps, {
          envelopes: (es) => es.map((e) => (e.sender === 2 && e.recipient === 1 ? { ...e, ciphertext: b64url(fromB64url(e.ciphertext).map((b, k) => (k === 0 ? b ^ 1 : b))) } : e)),
        }),
      'decrypt_failed',
      /from signer-2 failed authenticated decryption at signer-1/,
    );
  });

  it('signers given different plans (another threshold) refuse each other in round 2', () => {
    const { group, shares } = dealer(3, 5);
    const ceremony = randomBytes(16).toString('base64url');
    const a = members({ kind: 'reshare', group, shares, dealers: [1, 2, 3], recipients: [1, 2, 3, 4, 5], threshold: 3 }, ceremony);
    const b = members({ kind: 'reshare', group, shares, dealers: [1, 2, 3], recipients: [1, 2, 3, 4, 5], threshold: 2 }, ceremony);
    const mixed = [a[0]!.round1(), b[1]!.round1(), ...a.slice(2).map((p) => p.round1())];
    expectAbort(() => a[0]!.round2(mixed), 'round1_invalid', /signer-2 was made for another plan/);
  });

  it('a forged round-1 package (re-signed by another signer) and a dealer whose commitment is not its share are refused', () => {
    const { group, shares } = dealer(2, 3);
    const ps = members({ kind: 'reshare', group, shares, dealers: [1, 2], recipients: [1, 2, 3], threshold: 2 });
    const r1 = ps.map((p) => p.round1());
    const forged = { ...r1[1]!, signature: signDoc('ztmint-keys-v1/round1\n', r1[1]!, createPrivateKey(identities[2]!.privateKey)) };
    expectAbort(() => ps[0]!.round2([r1[0]!, forged, r1[2]!]), 'round1_invalid', /signer-2/);

    // Signer 2 deals around another value but signs its package properly: C_0 ≠ λ·V names it.
    const qs = members({ kind: 'reshare', group, shares, dealers: [1, 2], recipients: [1, 2, 3], threshold: 2 });
    const q1 = qs.map((p) => p.round1());
    const other = ed25519.Point.BASE.multiply(12345n).toBytes();
    const { signature: _drop, ...rest } = q1[1]!;
    const cheat = { ...rest, commitment: [b64url(other), ...rest.commitment.slice(1)] };
    const signedCheat = { ...cheat, signature: signDoc('ztmint-keys-v1/round1\n', cheat, createPrivateKey(identities[1]!.privateKey)) };
    expectAbort(() => qs[2]!.round2([q1[0]!, signedCheat, q1[2]!]), 'round1_invalid', /signer-2: .*does not commit to its own share/);
  });
});
