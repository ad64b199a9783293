// A signer's routes for share refresh, reshare and repair (signers/share-ceremony.ts, docs/keys.md),
// driven by the relay (coordinator/share-relay.ts) over mTLS like the DKG's:
//
//   POST /v1/keys/share/{round1,round2,round3}   the ceremony's rounds
//   POST /v1/keys/share/finalize                 all confirmations agree → the result is staged
//                                                (sealed beside the current share, not signing yet)
//   POST /v1/keys/share/activate                 sign with the staged share from now on
//   POST /v1/keys/share/abort                    drop the ceremony and anything it staged
//   GET  /v1/keys/share/status
//
// The signer keeps signing with its current share throughout: nothing it holds changes before
// `activate`, so a ceremony interrupted at any step (relay or member gone) leaves the old key set
// working. A dealer refuses a plan whose key set is not the one it holds. Errors are the DKG's
// problem documents: `dkg_aborted` (409, with `reason`) and `dkg_conflict` (409).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { canonicalJson } from '../protocol/canonical-json.js';
import type { GroupInfo, SecretShare } from '../protocol/ciphersuite.js';
import { PROBLEM_CONTENT_TYPE } from '../protocol/problem.js';
import { DkgAbort, DkgStepError, signerName, type DkgIdentity, type SealedEnvelope } from './dkg.js';
import { requestSchema } from './openapi.js';
import { ShareCeremonyParticipant, type ShareCeremonyPlan, type ShareConfirmation, type ShareRound1Package } from './share-ceremony.js';

/** Where a signer's share lives: what it signs with now, and the one a ceremony staged. */
export interface ShareStore {
  /** The key set and this signer's share of it; `share` absent on a signer that holds none yet. */
  current(): { group: GroupInfo; share?: SecretShare } | undefined;
  /** Seals the ceremony's result beside the current share; it does not sign until `activate`. */
  stage(ceremony: string, result: { share?: SecretShare; group: GroupInfo }): Promise<void>;
  /** Signs with the staged result from now on (idempotent); a signer left out of a reshare holds no share after it. */
  activate(ceremony: string): Promise<void>;
  /** Drops what `stage` wrote for this ceremony, if anything. */
  discard(ceremony: string): Promise<void>;
}

export interface ShareRouteDeps {
  identity: DkgIdentity;
  store: ShareStore;
  now?: () => Date;
}

const schemas = {
  round1: requestSchema('ShareRound1Request'),
  round2: requestSchema('ShareRound2Request'),
  round3: requestSchema('ShareRound3Request'),
  finalize: requestSchema('ShareFinalizeRequest'),
  ceremony: requestSchema('ShareCeremonyRequest'),
};
/** n round-1 packages with certificates and the key set in every confirmation (n ≤ 255). */
const BODY_LIMIT = 4 * 1024 * 1024;

function problem(reply: FastifyReply, code: 'dkg_aborted' | 'dkg_conflict', detail: string, reason?: string) {
  const doc: Record<string, unknown> = {
    type: `urn:ztmint:error:${code}`,
    title: code === 'dkg_aborted' ? 'Key ceremony aborted' : 'Request does not fit the key ceremony',
    status: 409,
    detail,
    code,
  };
  if (reason) doc.reason = reason;
  return reply.code(409).type(PROBLEM_CONTENT_TYPE).send(doc);
}

export function shareCeremonyRoutes(app: FastifyInstance, deps: ShareRouteDeps): void {
  const me = signerName(deps.identity.index);
  let current: ShareCeremonyParticipant | undefined;
  /** staged: the store holds the result; active: the signer signs with it. */
  let outcome: { ceremony: string; state: 'staged' | 'active'; final: Record<string, unknown> } | undefined;
  let finalizing: Promise<Record<string, unknown>> | undefined;

  const fail = (reply: FastifyReply, err: unknown) => {
    if (err instanceof DkgAbort) {
      app.log.warn({ ceremony: current?.plan.ceremony, reason: err.code }, `key ceremony aborted: ${err.message}`);
      return problem(reply, 'dkg_aborted', `${me}: ${err.message}`, err.code);
    }
    if (err instanceof DkgStepError) return problem(reply, 'dkg_conflict', `${me}: ${err.message}`);
    throw err;
  };
  const participant = (reply: FastifyReply, id: string) => {
    if (!current || current.plan.ceremony !== id) {
      void problem(reply, 'dkg_conflict', `${me}: key ceremony ${id} is not in progress here${current ? ` (${current.plan.ceremony} is)` : ''}; start with round 1`);
      return undefined;
    }
    return current;
  };
  const state = () => ({
    ceremony: current?.plan.ceremony ?? null,
    kind: current?.plan.kind ?? null,
    state: outcome && outcome.ceremony === current?.plan.ceremony ? outcome.state : (current?.state ?? 'idle'),
  });

  app.get('/v1/keys/share/status', async () => state());

  app.post<{ Body: { plan: ShareCeremonyPlan } }>('/v1/keys/share/round1', { bodyLimit: BODY_LIMIT, schema: { body: schemas.round1 } }, async (request, reply) => {
    const { plan } = request.body;
    try {
      if (current && current.plan.ceremony === plan.ceremony) {
        if (canonicalJson(current.plan) !== canonicalJson(plan)) throw new DkgStepError('ceremony_conflict', `ceremony ${plan.ceremony} was started with another plan`);
        return { package: current.round1() };
      }
      if (finalizing || outcome?.state === 'staged') throw new DkgStepError('ceremony_conflict', `ceremony ${current?.plan.ceremony} has staged a share: activate or abort it first`);
      const held = deps.store.current();
      if (plan.dealers.includes(deps.identity.index) && (!held?.share || canonicalJson(held.group) !== canonicalJson(plan.group))) {
        throw new DkgStepError('invalid_parameters', `the plan's key set (group key ${plan.group.group_public_key}) is not the one this signer holds a share of`);
      }
      // A member without a share (repaired, or joining through a reshare) knows its key from its
      // own configuration (key ring, group.json): a plan for another key is not for it. The
      // member being repaired knows the whole key set, its own verifying share included.
      if (held && plan.group.group_public_key !== held.group.group_public_key) {
        throw new DkgStepError('invalid_parameters', `the plan is for group key ${plan.group.group_public_key}; this signer is configured for ${held.group.group_public_key}`);
      }
      if (plan.kind === 'repair' && plan.recipients.includes(deps.identity.index) && (!held || canonicalJson(held.group) !== canonicalJson(plan.group))) {
        throw new DkgStepError('invalid_parameters', `the repair plan's key set is not the one this signer's key ring records for group key ${plan.group.group_public_key}`);
      }
      current?.abort('aborted', `superseded by ceremony ${plan.ceremony}`);
      outcome = undefined;
      current = new ShareCeremonyParticipant({ plan, identity: deps.identity, ...(held?.share ? { share: held.share } : {}), ...(deps.now ? { now: deps.now } : {}) });
      app.log.info({ ceremony: plan.ceremony, kind: plan.kind }, 'key ceremony round 1');
      return { package: current.round1() };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Body: { ceremony: string; round1: ShareRound1Package[] } }>('/v1/keys/share/round2', { bodyLimit: BODY_LIMIT, schema: { body: schemas.round2 } }, async (request, reply) => {
    const p = participant(reply, request.body.ceremony);
    if (!p) return reply;
    try {
      return p.round2(request.body.round1);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Body: { ceremony: string; packages: SealedEnvelope[] } }>('/v1/keys/share/round3', { bodyLimit: BODY_LIMIT, schema: { body: schemas.round3 } }, async (request, reply) => {
    const p = participant(reply, request.body.ceremony);
    if (!p) return reply;
    try {
      return p.round3(request.body.packages);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Body: { ceremony: string; confirmations: ShareConfirmation[] } }>('/v1/keys/share/finalize', { bodyLimit: BODY_LIMIT, schema: { body: schemas.finalize } }, async (request, reply) => {
    const id = request.body.ceremony;
    if (outcome?.ceremony === id) return outcome.final;
    const p = participant(reply, id);
    if (!p) return reply;
    if (!finalizing) {
      let result: { share?: SecretShare; group: GroupInfo };
      try {
        result = p.finalize(request.body.confirmations);
      } catch (err) {
        return fail(reply, err);
      }
      finalizing = (async () => {
        try {
          await deps.store.stage(id, result);
        } catch (err) {
          throw p.abort('aborted', `could not seal the new share: ${(err as Error).message}`);
        } finally {
          p.wipe();
        }
        const mine = result.group.identifiers.find((x) => x === result.share?.identifier);
        const final = { ceremony: id, index: p.index, group_public_key: result.group.group_public_key, ...(mine ? { verifying_share: result.group.verifying_shares[mine]! } : {}), staged: true };
        outcome = { ceremony: id, state: 'staged', final };
        app.log.warn({ ceremony: id, kind: p.plan.kind }, 'key ceremony: new share staged (not signing until activated)');
        return final;
      })();
    }
    try {
      return await finalizing;
    } catch (err) {
      return fail(reply, err);
    } finally {
      finalizing = undefined;
    }
  });

  app.post<{ Body: { ceremony: string } }>('/v1/keys/share/activate', { schema: { body: schemas.ceremony } }, async (request, reply) => {
    const id = request.body.ceremony;
    if (outcome?.ceremony !== id) return problem(reply, 'dkg_conflict', `${me}: key ceremony ${id} has staged nothing here; run the ceremony again`);
    if (outcome.state === 'staged') {
      await deps.store.activate(id);
      outcome.state = 'active';
      app.log.warn({ ceremony: id }, 'key ceremony: staged share active');
    }
    return state();
  });

  app.post<{ Body: { ceremony: string; reason?: string } }>('/v1/keys/share/abort', { schema: { body: schemas.ceremony } }, async (request, reply) => {
    const { ceremony: id, reason } = request.body;
    if (outcome?.ceremony === id && outcome.state === 'active') return problem(reply, 'dkg_conflict', `${me}: key ceremony ${id} is active here already; it cannot be aborted`);
    if (current?.plan.ceremony === id) {
      current.abort('aborted', `the relay aborted the ceremony${reason ? `: ${reason}` : ''}`);
      if (outcome?.ceremony === id) await deps.store.discard(id);
      outcome = undefined;
      app.log.warn({ ceremony: id }, 'key ceremony aborted by the relay');
    }
    return { ceremony: id, kind: current?.plan.kind ?? null, state: 'aborted' };
  });
}
