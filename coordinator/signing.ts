// One FROST signing run with any `t` reachable signers: round 1 to all, round 2 to the first `t`
// that answered, aggregate, and check the result with node:crypto before anyone sees it.
// A signer that fails or cheats is left out and the run is retried with the others.
import { randomBytes, type KeyObject } from 'node:crypto';
import { aggregate, AggregationError, type GroupInfo, type WireCommitment } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { verifyEd25519 } from '../protocol/jwk.js';
import { ProblemError } from '../protocol/problem.js';
import type { MintContext } from '../protocol/wire.js';
import { SignerRefused, type SignerClient } from './signer-client.js';

export interface SigningResult<T> {
  signature: Uint8Array;
  signers: string[];
  /** The attempt's message and whatever its builder attached (e.g. the claims). */
  message: string;
  built: T;
}

export interface SigningDeps {
  group: GroupInfo;
  groupKey: KeyObject;
  signers: SignerClient[];
  log?: (event: Record<string, unknown>, msg: string) => void;
}

/** Resolves with the first `needed` fulfilled results (in completion order), or fewer when the rest fail. */
async function firstN<T>(tasks: Promise<T>[], needed: number): Promise<T[]> {
  return new Promise((resolve) => {
    const done: T[] = [];
    let settled = 0;
    const finish = () => resolve(done.slice(0, needed));
    for (const task of tasks) {
      task.then(
        (value) => {
          done.push(value);
          if (done.length === needed) finish();
        },
        () => undefined,
      ).finally(() => {
        if (++settled === tasks.length) finish();
      });
    }
    if (tasks.length === 0) finish();
  });
}

/**
 * Each attempt signs a freshly built message: signers never sign two tokens with the same jti,
 * so a retry after a failed or cheating signer needs a new one.
 */
export async function frostSign<T>(
  deps: SigningDeps,
  build: () => { message: string; built: T },
  context: MintContext,
): Promise<SigningResult<T>> {
  const { group } = deps;
  const excluded = new Set<string>();

  for (let attempt = 0; attempt < 3; attempt++) {
    const candidates = deps.signers.filter((s) => !excluded.has(s.name));
    if (candidates.length < group.threshold) break;
    const session = b64url(randomBytes(16));
    const answered = await firstN(
      candidates.map(async (signer) => ({ signer, commitment: (await signer.round1(session)).commitments })),
      group.threshold,
    );
    if (answered.length < group.threshold) break;
    const { message, built } = build();
    const bytes = new TextEncoder().encode(message);
    const identifiers = new Map(answered.map(({ signer, commitment }) => [commitment.identifier, signer]));
    const commitments: WireCommitment[] = answered.map((a) => a.commitment);

    const results = await Promise.allSettled(
      answered.map(async ({ signer, commitment }) => {
        const { share } = await signer.round2({ session, message, commitments, context });
        return [commitment.identifier, fromB64url(share)] as const;
      }),
    );
    const shares: Record<string, Uint8Array> = {};
    for (const [i, result] of results.entries()) {
      const signer = answered[i]!.signer;
      if (result.status === 'fulfilled') {
        shares[result.value[0]] = result.value[1];
        continue;
      }
      const err = result.reason as Error;
      // A signer that refuses the message itself (context_mismatch) would refuse any retry too.
      if (err instanceof SignerRefused && err.code === 'context_mismatch') {
        throw new ProblemError('quorum_unavailable', 'signers refused to sign this token');
      }
      excluded.add(signer.name);
      deps.log?.({ signer: signer.name, error: err.message }, 'signer failed in round 2');
    }
    if (Object.keys(shares).length < group.threshold) continue;

    try {
      const signature = aggregate(group, commitments, bytes, shares);
      if (!verifyEd25519(deps.groupKey, bytes, signature)) throw new AggregationError([]);
      return { signature, signers: answered.map((a) => a.signer.name).sort(), message, built };
    } catch (err) {
      if (!(err instanceof AggregationError)) throw err;
      for (const id of err.culprits) {
        const culprit = identifiers.get(id);
        if (culprit) excluded.add(culprit.name);
        deps.log?.({ signer: culprit?.name ?? id }, 'signer sent an invalid signature share');
      }
      if (err.culprits.length === 0) break;
    }
  }
  throw new ProblemError('quorum_unavailable', `fewer than ${group.threshold} signers could sign; try again shortly`);
}
