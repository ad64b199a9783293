// Share repair: the repairable threshold scheme (RTS) of Laing and Stinson
// (https://eprint.iacr.org/2017/1155), as ZF frost-core keys::repairable implements it. A set of
// at least t helpers gives a member that lost its share (the "lost" identifier r) its share back:
//   step 1  helper i splits ζ_i·s_i (ζ_i = its Lagrange coefficient at r over the helpers) into
//           random deltas, one per helper (own included), summing to ζ_i·s_i;
//   step 2  helper j sums the deltas it received into sigma_j;
//   step 3  r sums the sigmas: Σ_j sigma_j = Σ_i ζ_i·s_i = f(r), its share.
// No helper learns another's share or r's: each sees only random-looking deltas and its own sigma.
import type { GroupInfo, SecretShare } from '../ciphersuite.js';
import { fromB64url } from '../encoding.js';
import { checkOwnShare } from './refresh.js';
import { checkElement, checkScalar, identifierSet, lagrangeAt, member, mulScalar, randomScalar, shareMatches, ShareSchemeError, sumPoints, sumScalars, type ScalarRng } from './vss.js';
import { sodium } from './sodium.js';
import { parseIdentifier } from './group.js';

function helperSet(group: GroupInfo, helpers: readonly string[], lost: string) {
  const set = identifierSet(helpers, 'repair helpers');
  if (set.length < group.threshold) throw new ShareSchemeError('invalid_parameters', `a repair needs at least the threshold (${group.threshold}) of helpers, got ${set.length}`);
  for (const h of set) if (!group.identifiers.includes(h.hex)) throw new ShareSchemeError('invalid_parameters', `repair helper ${h.hex} is not a member of the key set`);
  if (!group.identifiers.includes(lost)) throw new ShareSchemeError('invalid_parameters', `the member to repair (${lost}) is not in the key set`);
  if (set.some((h) => h.hex === lost)) throw new ShareSchemeError('invalid_parameters', 'the member to repair cannot be one of its helpers');
  return set;
}

/** Step 1 (repair_share_part1): helper `helper`'s deltas, one for each helper (own included), by identifier. */
export function repairDeltas(group: GroupInfo, helpers: readonly string[], helper: SecretShare, lost: string, rng?: ScalarRng): Map<string, Uint8Array> {
  const set = helperSet(group, helpers, lost);
  const self = member(set, helper.identifier, `helper ${helper.identifier}`);
  checkOwnShare(group, helper);
  const zeta = lagrangeAt(set, self, parseIdentifier(lost).value);
  const target = mulScalar(helper.signingShare, zeta);
  const out = new Map<string, Uint8Array>();
  const last = set[set.length - 1]!;
  const random: Uint8Array[] = [];
  for (const h of set.slice(0, -1)) {
    const delta = randomScalar(rng);
    random.push(delta);
    out.set(h.hex, delta);
  }
  const sum = sumScalars(random);
  const final = new Uint8Array(32);
  sodium.crypto_core_ed25519_scalar_sub(final, target, sum);
  sodium.sodium_memzero(target);
  sodium.sodium_memzero(sum);
  out.set(last.hex, final);
  return out;
}

/** Step 2 (repair_share_part2): the sum of the deltas a helper received, for the member being repaired. */
export function repairSigma(deltas: readonly Uint8Array[]): Uint8Array {
  deltas.forEach((d, k) => checkScalar(d, `delta ${k}`));
  return sumScalars(deltas);
}

/**
 * Step 3 (repair_share_part3): the repaired share, the sum of the sigmas; refused unless it is the
 * share the key set's verifying share for `lost` commits to.
 */
export function repairShare(group: GroupInfo, lost: string, sigmas: readonly Uint8Array[]): SecretShare {
  if (sigmas.length < group.threshold) throw new ShareSchemeError('invalid_parameters', `a repair needs a sigma from each of at least ${group.threshold} helpers, got ${sigmas.length}`);
  sigmas.forEach((s, k) => checkScalar(s, `sigma ${k}`));
  const signingShare = sumScalars(sigmas);
  const text = group.verifying_shares[lost];
  if (typeof text !== 'string') throw new ShareSchemeError('invalid_parameters', `the key set has no verifying share for ${lost}`);
  if (!shareMatches(signingShare, sumPoints([checkElement(fromB64url(text), 'verifying share')]))) {
    signingShare.fill(0);
    throw new ShareSchemeError('group_mismatch', `the repaired share does not match the verifying share of ${lost}: a helper sent a wrong delta or sigma`);
  }
  return { identifier: lost, signingShare };
}
