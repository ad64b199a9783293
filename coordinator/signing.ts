// One FROST signing run with any `t` reachable signers, aggregated and checked with node:crypto
// before anyone sees it. A signer that fails or cheats is left out and the run is retried with
// the others.
//
// Round 1 comes from each signer's pool of preprocessed commitments when it has one (then a mint
// is one round trip to each of the t chosen signers: round 2 only); for signers without, round 1
// runs as before, at all remaining candidates, and round 2 goes to the first that answered.
import { randomBytes, type KeyObject } from 'node:crypto';
import { aggregate, AggregationError, type GroupInfo, type WireCommitment } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { verifyEd25519 } from '../protocol/jwk.js';
import { ProblemError, SIGNER_CONFIGURATION_REFUSALS, isSignerConfigurationRefusal, type ConfigurationMismatchCode } from '../protocol/problem.js';
import type { MintContext, Round2Request } from '../protocol/wire.js';
import { inSpanSync } from '../tracing/spans.js';
import { SignerRefused, SignerUnavailable, type SignerClient } from './signer-client.js';

export interface SigningResult<T> {
  signature: Uint8Array;
  signers: string[];
  /** Signers left out of this signing run (sorted): unreachable, failing, or culprits. */
  excluded: string[];
  /** The subset of `excluded` that sent a signature share which does not verify (sorted). */
  culprits: string[];
  /** How many round trips the successful attempt took: 1 (preprocessed) or 2. */
  rounds: 1 | 2;
  /** The attempt's message and whatever its builder attached (e.g. the claims). */
  message: string;
  built: T;
}

/** What round 2 carries besides the message: a token's mint context, or a checkpoint's consistency proof. */
export type Round2Extra = Pick<Round2Request, 'context' | 'checkpoint'>;

export interface SigningDeps {
  group: GroupInfo;
  groupKey: KeyObject;
  signers: SignerClient[];
  log?: (event: Record<string, unknown>, msg: string) => void;
  /** A signer was left out for a reason only the coordinator sees (metrics). */
  onFailure?: (signer: string, reason: 'invalid_share' | 'duplicate_identifier') => void;
}

/** One line per signer that could not help, for the problem document's `reasons` (safe text only). */
function refusalReason(err: unknown, signer: string): string {
  if (err instanceof SignerRefused) return `${signer} refused: ${err.code}${err.reason ? `: ${err.reason}` : ''}`;
  if (err instanceof SignerUnavailable) return err.message.startsWith(signer) ? err.message : `${signer}: ${err.message}`;
  return `${signer} failed: internal error`;
}

const MAX_ATTEMPTS = 3;

/** What the operator must change, per configuration mismatch (the problem's detail ends with it). */
const MISMATCH_FIX: Record<ConfigurationMismatchCode, string> = {
  policy_mismatch:
    "do not accept this coordinator's policy revision: roll it out to the signers (their revisions files) before the coordinator switches to it, or deploy the same policy to the coordinator and the signers",
  issuer_mismatch: "expect another token issuer: set the coordinator's --public-url and the signers' --token-issuer to the same URL",
  group_mismatch: "hold another group key: the coordinator's group.json is stale; give it the signers' group.json",
  oidc_issuer_mismatch: 'do not trust the issuer of this OIDC token: give the coordinator and the signers the same --oidc-issuer list',
};

/**
 * The problem for signers that refused because their configuration differs from the
 * coordinator's, when too few others remain to ever make a quorum: the same request would get
 * the same answer, so it is not `quorum_unavailable` (retryable) but the mismatch's own code.
 */
function mismatchProblem(mismatched: Map<string, ConfigurationMismatchCode>, reasons: string[]): ProblemError {
  const counts = new Map<ConfigurationMismatchCode, number>();
  for (const code of mismatched.values()) counts.set(code, (counts.get(code) ?? 0) + 1);
  const code = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const names = [...mismatched.entries()]
    .filter(([, c]) => c === code)
    .map(([name]) => name)
    .sort();
  return new ProblemError(code, `${names.join(', ')} ${MISMATCH_FIX[code]} (GET /readyz names every signer that disagrees); retrying cannot help`, { reasons });
}

/** Resolves with the first `needed` fulfilled results (in completion order), or fewer when the rest fail. */
async function firstN<T>(tasks: Promise<T>[], needed: number): Promise<T[]> {
  return new Promise((resolve) => {
    const done: T[] = [];
    let settled = 0;
    const finish = () => resolve(done.slice(0, needed));
    for (const task of tasks) {
      task
        .then(
          (value) => {
            done.push(value);
            if (done.length === needed) finish();
          },
          () => undefined,
        )
        .finally(() => {
          if (++settled === tasks.length) finish();
        });
    }
    if (tasks.length === 0 || needed <= 0) finish();
  });
}

interface Participant {
  signer: SignerClient;
  session: string;
  commitment: WireCommitment;
  preprocessed: boolean;
}

/** Spreads the load: each run starts its search for t signers at the next one. */
let rotation = 0;

/** Picks t participants: preprocessed commitments first, round 1 for the rest. */
async function roundOne(candidates: SignerClient[], threshold: number, onError: (signer: SignerClient, err: unknown) => void): Promise<Participant[]> {
  const start = rotation++ % candidates.length;
  const ordered = [...candidates.slice(start), ...candidates.slice(0, start)];
  const chosen: Participant[] = [];
  const rest: SignerClient[] = [];
  for (const signer of ordered) {
    const pooled = chosen.length < threshold ? signer.commitments?.take() : undefined;
    if (pooled) chosen.push({ signer, session: pooled.session, commitment: pooled.commitment, preprocessed: true });
    else rest.push(signer);
  }
  if (chosen.length >= threshold) return chosen;
  const session = b64url(randomBytes(16));
  const answered = await firstN(
    rest.map(async (signer) => {
      try {
        const { commitments: commitment } = await signer.round1(session);
        signer.commitments?.wake(); // it is reachable again: no need to wait out a refill back-off
        return { signer, session, commitment, preprocessed: false };
      } catch (err) {
        onError(signer, err);
        throw err;
      }
    }),
    threshold - chosen.length,
  );
  return [...chosen, ...answered];
}

/**
 * Each attempt signs a freshly built message: signers never sign two tokens with the same jti,
 * so a retry after a failed or cheating signer needs a new one.
 */
export async function frostSign<T>(
  deps: SigningDeps,
  build: () => { message: string; built: T },
  /** The mint context (the same for every signer), or per signer (a checkpoint's proof from that signer's last size). */
  extra: MintContext | ((signer: SignerClient) => Promise<Round2Extra>),
): Promise<SigningResult<T>> {
  const extraFor = typeof extra === 'function' ? extra : async (): Promise<Round2Extra> => ({ context: extra });
  const { group } = deps;
  const excluded = new Set<string>();
  const culprits = new Set<string>();
  /** Why each signer could not help (the latest reason per signer), for the problem document. */
  const reasons = new Map<string, string>();
  /** Signers that refused because their configuration differs from the coordinator's. */
  const mismatched = new Map<string, ConfigurationMismatchCode>();
  const refuse = (detail: string): ProblemError => {
    if (mismatched.size > 0 && deps.signers.length - mismatched.size < group.threshold) return mismatchProblem(mismatched, [...reasons.values()]);
    // Enough others exist to sign once they are reachable again; still name the misconfigured ones.
    const named = mismatched.size ? ` (${[...mismatched.keys()].sort().join(', ')} refuse this coordinator's tokens: ${[...new Set(mismatched.values())].join(', ')})` : '';
    return new ProblemError('quorum_unavailable', `${detail}${named}`, reasons.size ? { reasons: [...reasons.values()] } : {});
  };

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const candidates = deps.signers.filter((s) => !excluded.has(s.name));
    if (candidates.length < group.threshold) break;
    const participants = await roundOne(candidates, group.threshold, (signer, err) => {
      reasons.set(signer.name, refusalReason(err, signer.name));
      if (err instanceof SignerRefused) deps.log?.({ signer: signer.name, code: err.code, reason: err.reason }, 'signer refused round 1');
      else deps.log?.({ signer: signer.name, error: (err as Error).message }, 'signer failed in round 1');
    });
    if (participants.length < group.threshold) break;
    const identifiers = new Map(participants.map((p) => [p.commitment.identifier, p.signer]));
    if (identifiers.size !== participants.length) {
      // Two signers claim one identifier: at least one lies, and which one cannot be told here.
      const claims = new Map<string, number>();
      for (const p of participants) claims.set(p.commitment.identifier, (claims.get(p.commitment.identifier) ?? 0) + 1);
      const claimants = participants.filter((p) => claims.get(p.commitment.identifier)! > 1).map((p) => p.signer.name);
      for (const name of claimants) {
        excluded.add(name);
        reasons.set(name, `${name} sent a commitment under another signer's identifier`);
        deps.onFailure?.(name, 'duplicate_identifier');
      }
      deps.log?.({ signers: claimants }, 'signers sent commitments under the same identifier');
      continue;
    }
    const { message, built } = build();
    const bytes = new TextEncoder().encode(message);
    const commitments: WireCommitment[] = participants.map((p) => p.commitment);

    const results = await Promise.allSettled(
      participants.map(async ({ signer, session, commitment }) => {
        const { share } = await signer.round2({ session, message, commitments, ...(await extraFor(signer)) });
        return [commitment.identifier, fromB64url(share)] as const;
      }),
    );
    const shares: Record<string, Uint8Array> = {};
    for (const [i, result] of results.entries()) {
      const { signer, preprocessed } = participants[i]!;
      if (result.status === 'fulfilled') {
        shares[result.value[0]] = result.value[1];
        continue;
      }
      const err = result.reason as Error;
      reasons.set(signer.name, refusalReason(err, signer.name));
      if (err instanceof SignerRefused) {
        // Safe text only: the signer's problem detail never carries a secret.
        deps.log?.(
          { signer: signer.name, code: err.code, reason: err.reason },
          isSignerConfigurationRefusal(err.code) ? "signer refused round 2: its configuration differs from the coordinator's" : 'signer refused round 2',
        );
      }
      if (err instanceof SignerRefused && isSignerConfigurationRefusal(err.code)) {
        // It would refuse every token of this coordinator: leave it out and try the others.
        mismatched.set(signer.name, SIGNER_CONFIGURATION_REFUSALS[err.code]);
        excluded.add(signer.name);
        continue;
      }
      // A signer that refuses the message itself (context_mismatch) would refuse any retry too.
      if (err instanceof SignerRefused && err.code === 'context_mismatch') {
        throw refuse(`${signer.name} refused to sign this token: ${err.reason || err.code}`);
      }
      if (err instanceof SignerRefused && err.code === 'session_unknown' && preprocessed) {
        // The signer no longer has our preprocessed nonces (restarted, or they expired or were
        // evicted there): forget the rest of them; the next attempt runs round 1 with it.
        signer.commitments?.clear();
        deps.log?.({ signer: signer.name }, 'signer no longer knows its preprocessed commitments; pool cleared');
        continue;
      }
      if (err instanceof SignerUnavailable) signer.commitments?.clear(); // it may have restarted
      excluded.add(signer.name);
      if (!(err instanceof SignerRefused)) deps.log?.({ signer: signer.name, error: err.message }, 'signer failed in round 2');
    }
    if (Object.keys(shares).length < group.threshold) continue;

    try {
      // One check of the aggregate, by node:crypto (OpenSSL), independent of the FROST code;
      // only when it fails are the shares checked one by one to name the culprits.
      const signature = inSpanSync('ztmint.frost.aggregate', {}, () => aggregate(group, commitments, bytes, shares, (sig, msg) => verifyEd25519(deps.groupKey, msg, sig)));
      return {
        signature,
        signers: participants.map((p) => p.signer.name).sort(),
        excluded: [...excluded].sort(),
        culprits: [...culprits].sort(),
        rounds: participants.every((p) => p.preprocessed) ? 1 : 2,
        message,
        built,
      };
    } catch (err) {
      if (!(err instanceof AggregationError)) throw err;
      for (const id of err.culprits) {
        const culprit = identifiers.get(id);
        if (culprit) {
          excluded.add(culprit.name);
          culprits.add(culprit.name);
          reasons.set(culprit.name, `${culprit.name} sent a signature share that does not verify`);
          deps.onFailure?.(culprit.name, 'invalid_share');
        }
        deps.log?.({ signer: culprit?.name ?? id }, 'signer sent an invalid signature share');
      }
      if (err.culprits.length === 0) break;
    }
  }
  throw refuse(`fewer than ${group.threshold} signers could sign; try again shortly`);
}
