// Resharing to a new quorum with the same group key (Desmedt–Jajodia redistribution with Feldman
// commitments, as in Wong–Wang–Wing's verifiable secret redistribution): each of a set D of at
// least t old holders deals c_i0 = λ_i·s_i (λ_i its Lagrange coefficient at 0 over D) with a
// fresh random polynomial g_i of degree T−1 to the N new holders. New holder j's share is
// s'_j = Σ_i g_i(j); since Σ_i λ_i·s_i = s, the new shares are a T-of-N sharing of the same key.
// Every new holder verifies: C_i0 = λ_i·V_i (the dealer shared its real share; V_i is public),
// g_i(j)·G = Σ_k j^k·C_ik, and Σ_i C_i0 = the group key.
import type { GroupInfo, SecretShare } from '../ciphersuite.js';
import { fromB64url } from '../encoding.js';
import type { ParsedId } from './group.js';
import { checkOwnShare } from './refresh.js';
import {
  checkElement,
  checkScalar,
  commitPolynomial,
  evaluateCommitment,
  evaluatePolynomial,
  groupCommitments,
  groupFromCommitments,
  identifierSet,
  lagrangeAt,
  member,
  mulScalar,
  pointBytes,
  randomScalar,
  shareMatches,
  ShareSchemeError,
  sumPoints,
  sumScalars,
  type ScalarRng,
} from './vss.js';
import { sodium } from './sodium.js';

export interface ReshareParameters {
  /** The old holders that deal (at least the old threshold). */
  dealers: readonly string[];
  /** The new quorum: T of the N identifiers. */
  threshold: number;
  identifiers: readonly string[];
}

export interface ReshareDealing {
  /** C_ik = c_ik·G for k = 0…T−1; C_i0 = λ_i·V_i. */
  commitment: Uint8Array[];
  /** g_i(j) for every new holder j, by identifier. Secret: each goes to j only. */
  shares: Map<string, Uint8Array>;
}

export interface ReceivedReshare {
  dealer: string;
  commitment: Uint8Array[];
  /** g_dealer(recipient) */
  share: Uint8Array;
}

interface Parsed {
  dealers: ParsedId[];
  recipients: ParsedId[];
}

function parse(group: GroupInfo, params: ReshareParameters): Parsed {
  const dealers = identifierSet(params.dealers, 'reshare dealers');
  if (dealers.length < group.threshold) throw new ShareSchemeError('invalid_parameters', `a reshare needs at least the old threshold (${group.threshold}) of dealers, got ${dealers.length}`);
  for (const d of dealers) if (!group.identifiers.includes(d.hex)) throw new ShareSchemeError('invalid_parameters', `reshare dealer ${d.hex} is not a member of the old key set`);
  const recipients = identifierSet(params.identifiers, 'new holders');
  const t = params.threshold;
  if (!Number.isInteger(t) || t < 2 || t > recipients.length || recipients.length > 255) {
    throw new ShareSchemeError('invalid_parameters', `need 2 ≤ threshold ≤ holders ≤ 255 (got threshold ${String(t)}, holders ${recipients.length})`);
  }
  return { dealers, recipients };
}

/** Dealer side: g_i with g_i(0) = λ_i·s_i, its commitment and one share per new holder. */
export function reshareDeal(group: GroupInfo, params: ReshareParameters, own: SecretShare, rng?: ScalarRng): ReshareDealing {
  const { dealers, recipients } = parse(group, params);
  const self = member(dealers, own.identifier, `dealer ${own.identifier}`);
  checkOwnShare(group, own);
  const coefficients: Uint8Array[] = [mulScalar(own.signingShare, lagrangeAt(dealers, self, 0n))];
  for (let k = 1; k < params.threshold; k++) coefficients.push(randomScalar(rng));
  try {
    return {
      commitment: commitPolynomial(coefficients),
      shares: new Map(recipients.map((j) => [j.hex, evaluatePolynomial(coefficients, j)])),
    };
  } finally {
    for (const c of coefficients) sodium.sodium_memzero(c);
  }
}

/**
 * The new key set from the public dealings alone (the relay and every new holder compute it):
 * refuses a dealing whose constant term is not λ_i·V_i (naming the dealer) and a sum that is not
 * the group key.
 */
export function resharedGroup(group: GroupInfo, params: ReshareParameters, dealings: readonly Pick<ReceivedReshare, 'dealer' | 'commitment'>[]): GroupInfo {
  const { dealers, recipients } = parse(group, params);
  const gpk = groupCommitments(group)[0]!;
  if (dealings.length !== dealers.length) throw new ShareSchemeError('invalid_parameters', `expected one dealing from each of ${dealers.length} dealers, got ${dealings.length}`);
  const summed: Uint8Array[][] = Array.from({ length: params.threshold }, () => []);
  const seen = new Set<string>();
  for (const d of dealings) {
    const dealer = member(dealers, d.dealer, `dealer ${d.dealer}`);
    if (seen.has(dealer.hex)) throw new ShareSchemeError('invalid_parameters', `two dealings from ${dealer.hex}`);
    seen.add(dealer.hex);
    if (!Array.isArray(d.commitment) || d.commitment.length !== params.threshold) {
      throw new ShareSchemeError('commitment_invalid', `the reshare commitment of ${dealer.hex} has ${String(d.commitment?.length)} elements, not ${params.threshold}`, { culprit: dealer.hex });
    }
    d.commitment.forEach((c, k) => summed[k]!.push(checkElement(c, `reshare commitment ${k} of ${dealer.hex}`, dealer.hex)));
    const verifying = checkElement(fromB64url(group.verifying_shares[dealer.hex]!), `verifying share of ${dealer.hex}`);
    const expected = sumPoints([verifying]).multiplyUnsafe(lagrangeAt(dealers, dealer, 0n));
    if (!expected.equals(sumPoints([d.commitment[0]!]))) {
      throw new ShareSchemeError('commitment_invalid', `the reshare commitment of ${dealer.hex} does not commit to its own share (C_0 ≠ λ·V)`, { culprit: dealer.hex });
    }
  }
  const commitments = summed.map((terms) => pointBytes(sumPoints(terms)));
  if (!sumPoints([commitments[0]!]).equals(sumPoints([gpk]))) throw new ShareSchemeError('group_mismatch', 'the dealings do not add up to the group key');
  return groupFromCommitments(commitments, params.threshold, recipients);
}

/** New holder side: checks every dealing and the share from each dealer, returns the new share and key set. */
export function reshareShare(group: GroupInfo, params: ReshareParameters, recipient: string, received: readonly ReceivedReshare[]): { share: SecretShare; group: GroupInfo } {
  const next = resharedGroup(group, params, received);
  const self = member(parse(group, params).recipients, recipient, `new holder ${recipient}`);
  for (const r of received) {
    checkScalar(r.share, `the reshare share from ${r.dealer}`, r.dealer);
    if (!shareMatches(r.share, evaluateCommitment(r.commitment, self.value))) {
      throw new ShareSchemeError('share_invalid', `the reshare share from ${r.dealer} does not match its commitment`, { culprit: r.dealer });
    }
  }
  const signingShare = sumScalars(received.map((r) => r.share));
  if (!shareMatches(signingShare, sumPoints([fromB64url(next.verifying_shares[recipient]!)]))) {
    signingShare.fill(0);
    throw new ShareSchemeError('group_mismatch', 'the new share does not match the new verifying share');
  }
  return { share: { identifier: recipient, signingShare }, group: next };
}
