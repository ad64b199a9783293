// Proactive share refresh, DKG style (ZF frost-core keys::refresh: refresh_dkg_part1/part2/shares):
// every participant deals a random polynomial with a ZERO constant term to all participants, and
// each adds what it received to its share. The group key (the sum of the constant terms) does not
// change; every share does, so shares from before a refresh cannot be combined with shares from
// after it. Participants are a subset (≥ t) of the key set: a member left out is removed from it.
import type { GroupInfo, SecretShare } from '../ciphersuite.js';
import { fromB64url } from '../encoding.js';
import {
  checkElement,
  checkScalar,
  commitPolynomial,
  evaluateCommitment,
  evaluatePolynomial,
  groupCommitments,
  groupFromCommitments,
  identifierSet,
  member,
  pointBytes,
  randomScalar,
  shareMatches,
  ShareSchemeError,
  sumPoints,
  type ScalarRng,
} from './vss.js';
import { sodium } from './sodium.js';
import type { ParsedId } from './group.js';

export interface RefreshDealing {
  /** a_k·G for k = 1…t−1: the constant term is zero and its commitment (the identity) is left out, as in frost-core. */
  commitment: Uint8Array[];
  /** f(j) for every participant j, own one included, by identifier. Secret: each goes to j only. */
  shares: Map<string, Uint8Array>;
}

export interface ReceivedRefresh {
  sender: string;
  commitment: Uint8Array[];
  /** f_sender(recipient) */
  share: Uint8Array;
}

function participantSet(group: GroupInfo, participants: readonly string[]): ParsedId[] {
  const set = identifierSet(participants, 'refresh participants');
  for (const p of set) {
    if (!group.identifiers.includes(p.hex)) throw new ShareSchemeError('invalid_parameters', `refresh participant ${p.hex} is not a member of the key set`);
  }
  if (set.length < group.threshold) {
    throw new ShareSchemeError('invalid_parameters', `a refresh needs at least the threshold (${group.threshold}) of participants, got ${set.length}`);
  }
  return set;
}

/** Checks that `own` is the share of its identifier in `group` (its verifying share). */
export function checkOwnShare(group: GroupInfo, own: SecretShare): void {
  checkScalar(own.signingShare, 'own signing share');
  const text = group.verifying_shares[own.identifier];
  if (typeof text !== 'string' || !shareMatches(own.signingShare, sumPoints([checkElement(fromB64url(text), 'verifying share')]))) {
    throw new ShareSchemeError('group_mismatch', `the share of ${own.identifier} does not match its verifying share in the key set`);
  }
}

/** Part 1 and 2: this participant's zero-constant polynomial, its commitment and the share for each participant. */
export function refreshDeal(group: GroupInfo, participants: readonly string[], rng?: ScalarRng): RefreshDealing {
  const set = participantSet(group, participants);
  const coefficients: Uint8Array[] = [new Uint8Array(32)];
  for (let k = 1; k < group.threshold; k++) coefficients.push(randomScalar(rng));
  try {
    return {
      commitment: commitPolynomial(coefficients.slice(1)),
      shares: new Map(set.map((j) => [j.hex, evaluatePolynomial(coefficients, j)])),
    };
  } finally {
    for (const c of coefficients) sodium.sodium_memzero(c);
  }
}

/** The key set after a refresh, from the public commitments alone (what the relay and every participant compute). */
export function refreshedGroup(group: GroupInfo, participants: readonly string[], dealings: readonly Pick<ReceivedRefresh, 'sender' | 'commitment'>[]): GroupInfo {
  const set = participantSet(group, participants);
  const old = groupCommitments(group);
  if (dealings.length !== set.length) throw new ShareSchemeError('invalid_parameters', `expected one dealing from each of ${set.length} participants, got ${dealings.length}`);
  const summed = old.map((c) => [c]);
  const seen = new Set<string>();
  for (const d of dealings) {
    member(set, d.sender, `dealer ${d.sender}`);
    if (seen.has(d.sender)) throw new ShareSchemeError('invalid_parameters', `two dealings from ${d.sender}`);
    seen.add(d.sender);
    if (!Array.isArray(d.commitment) || d.commitment.length !== group.threshold - 1) {
      throw new ShareSchemeError('commitment_invalid', `the refresh commitment of ${d.sender} has ${String(d.commitment?.length)} elements, not ${group.threshold - 1}`, { culprit: d.sender });
    }
    d.commitment.forEach((c, k) => summed[k + 1]!.push(checkElement(c, `refresh commitment ${k + 1} of ${d.sender}`, d.sender)));
  }
  return groupFromCommitments(
    summed.map((terms) => pointBytes(sumPoints(terms))),
    group.threshold,
    set,
  );
}

/**
 * Part 3: checks every received share against its sender's commitment (naming a cheating
 * sender) and returns the refreshed share and key set. Throws before anything changes.
 */
export function refreshShare(group: GroupInfo, participants: readonly string[], own: SecretShare, received: readonly ReceivedRefresh[]): { share: SecretShare; group: GroupInfo } {
  checkOwnShare(group, own);
  const next = refreshedGroup(group, participants, received);
  const self = member(identifierSet(participants, 'refresh participants'), own.identifier, `participant ${own.identifier}`);
  const parts = [own.signingShare];
  for (const r of received) {
    checkScalar(r.share, `the refresh share from ${r.sender}`, r.sender);
    // f_sender(self) = Σ_{k≥1} self^k·C_k: prepend the identity for the zero constant term.
    const expected = evaluateCommitment([sumPoints([]).toBytes(), ...r.commitment], self.value);
    if (!shareMatches(r.share, expected)) throw new ShareSchemeError('share_invalid', `the refresh share from ${r.sender} does not match its commitment`, { culprit: r.sender });
    parts.push(r.share);
  }
  const signingShare = new Uint8Array(32);
  for (const p of parts) sodium.crypto_core_ed25519_scalar_add(signingShare, signingShare, p);
  const share = { identifier: own.identifier, signingShare };
  if (!shareMatches(signingShare, sumPoints([fromB64url(next.verifying_shares[own.identifier]!)]))) {
    signingShare.fill(0);
    throw new ShareSchemeError('group_mismatch', 'the refreshed share does not match the refreshed verifying share');
  }
  return { share, group: next };
}
