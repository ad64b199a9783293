// The signer's DKG endpoints (mTLS, the coordinator's client certificate): one ceremony at a time,
// driven by the relay (coordinator/dkg-relay.ts). `dkgRoutes` mounts them on any Fastify app;
// `buildDkgSignerServer` is the standalone server of `ztmint signer dkg-serve` (a signer that has
// no share yet). Errors are problem+json: `dkg_aborted` (409, with `reason`) when a check failed
// and the ceremony is over at this signer, `dkg_conflict` (409) for a request that does not fit
// the ceremony's state. Details name signers and steps, never a secret.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { TLSSocket } from 'node:tls';
import type { GroupInfo, SecretShare } from '../protocol/ciphersuite.js';
import { STRICT_AJV, installProblemHandlers, sendProblem } from '../http/problem-response.js';
import { PROBLEM_CONTENT_TYPE } from '../protocol/problem.js';
import { createDkgMetrics, installDkgMetrics } from './dkg-metrics.js';
import { requestSchema, serveOpenApi } from './openapi.js';
import { DkgAbort, DkgParticipant, DkgStepError, signerName, type DkgConfirmation, type DkgEnvelope, type DkgIdentity, type DkgRound1Package, type Rng } from './dkg.js';

export interface SealedResult {
  path: string;
  provider: Record<string, unknown>;
}

export interface DkgFinalResult {
  ceremony: string;
  index: number;
  identifier: string;
  group_public_key: string;
  verifying_share: string;
  sealed: SealedResult;
}

export interface DkgRouteDeps {
  identity: DkgIdentity;
  /** Seals the final share with the signer's key provider (the caller zeroes it afterwards). */
  seal(share: SecretShare, group: GroupInfo): Promise<SealedResult>;
  /** Refuse ceremonies with other parameters (operator's expectation). */
  expect?: { threshold?: number; signers?: number };
  /** Called once the share is sealed. */
  onFinalized?(result: DkgFinalResult): void;
  /**
   * A running signer (key rotation): after a sealed ceremony, a new round 1 starts another one
   * instead of being refused (a `dkg-serve` signer seals once and exits).
   */
  repeatable?: boolean;
  /** Tests only: entropy for noble's DKG round 1. */
  rng?: Rng;
  now?: () => Date;
}

/** n round-1 packages with their certificates (n ≤ 255), also on a signing server's smaller default limit. */
const DKG_BODY_LIMIT = 2 * 1024 * 1024;

// Request bodies are validated with the schemas of signers/openapi.json.
const schemas = {
  round1: requestSchema('DkgRound1Request'),
  round2: requestSchema('DkgRound2Request'),
  round3: requestSchema('DkgRound3Request'),
  finalize: requestSchema('DkgFinalizeRequest'),
  abort: requestSchema('DkgAbortRequest'),
};

function dkgProblem(reply: FastifyReply, code: 'dkg_aborted' | 'dkg_conflict', detail: string, reason?: string) {
  const doc: Record<string, unknown> = {
    type: `urn:ztmint:error:${code}`,
    title: code === 'dkg_aborted' ? 'DKG ceremony aborted' : 'Request does not fit the DKG ceremony',
    status: 409,
    detail,
    code,
  };
  if (reason) doc.reason = reason;
  return reply.code(409).type(PROBLEM_CONTENT_TYPE).send(doc);
}

/** Mounts POST /v1/dkg/{round1,round2,round3,finalize,abort} and GET /v1/dkg/status on `app`. */
export function dkgRoutes(app: FastifyInstance, deps: DkgRouteDeps): void {
  const me = signerName(deps.identity.index);
  let current: DkgParticipant | undefined;
  let finalizing: Promise<DkgFinalResult> | undefined;
  let final: DkgFinalResult | undefined;

  function fail(reply: FastifyReply, err: unknown) {
    if (err instanceof DkgAbort) {
      app.log.warn({ ceremony: current?.ceremony, reason: err.code }, `DKG aborted: ${err.message}`);
      return dkgProblem(reply, 'dkg_aborted', `${me}: ${err.message}`, err.code);
    }
    if (err instanceof DkgStepError) return dkgProblem(reply, 'dkg_conflict', `${me}: ${err.message}`);
    throw err;
  }

  function participant(reply: FastifyReply, id: string): DkgParticipant | undefined {
    if (!current || current.ceremony !== id) {
      void dkgProblem(reply, 'dkg_conflict', `${me}: ceremony ${id} is not in progress here${current ? ` (${current.ceremony} is)` : ''}; start with round 1`);
      return undefined;
    }
    return current;
  }

  app.get('/v1/dkg/status', async () => ({
    signer: me,
    ceremony: current?.ceremony ?? null,
    state: final ? 'sealed' : (current?.state ?? 'idle'),
    ...(current?.abortReason ? { reason: current.abortReason.code } : {}),
  }));

  app.post<{ Body: { ceremony: string; threshold: number; signers: number } }>('/v1/dkg/round1', { bodyLimit: DKG_BODY_LIMIT, schema: { body: schemas.round1 } }, async (request, reply) => {
    const { ceremony: id, threshold, signers } = request.body;
    if (final && deps.repeatable && final.ceremony !== id && !finalizing) {
      // The previous ceremony is done (its share sealed): this one starts afresh.
      final = undefined;
      current = undefined;
    }
    if (final) return dkgProblem(reply, 'dkg_conflict', `${me}: already sealed a share from ceremony ${final.ceremony}; restart this signer to run another ceremony`);
    const expect = deps.expect ?? {};
    if ((expect.threshold !== undefined && expect.threshold !== threshold) || (expect.signers !== undefined && expect.signers !== signers)) {
      return dkgProblem(reply, 'dkg_conflict', `${me}: refuses a ${threshold}-of-${signers} ceremony (configured for ${expect.threshold ?? threshold}-of-${expect.signers ?? signers})`);
    }
    try {
      if (current && current.ceremony === id) {
        if (current.threshold !== threshold || current.signers !== signers) {
          throw new DkgStepError('ceremony_conflict', `ceremony ${id} was started as ${current.threshold}-of-${current.signers}`);
        }
        return { package: current.round1() };
      }
      if (finalizing) throw new DkgStepError('ceremony_conflict', `ceremony ${current?.ceremony} is being sealed`);
      // A new ceremony replaces an unfinished one: its secrets are dropped.
      current?.abort('aborted', `superseded by ceremony ${id}`);
      current = new DkgParticipant({ ceremony: id, threshold, signers, identity: deps.identity, rng: deps.rng, now: deps.now });
      app.log.info({ ceremony: id, threshold, signers }, 'DKG round 1');
      return { package: current.round1() };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Body: { ceremony: string; round1: DkgRound1Package[] } }>('/v1/dkg/round2', { bodyLimit: DKG_BODY_LIMIT, schema: { body: schemas.round2 } }, async (request, reply) => {
    const p = participant(reply, request.body.ceremony);
    if (!p) return reply;
    try {
      const out = p.round2(request.body.round1);
      app.log.info({ ceremony: p.ceremony, transcript: out.transcript }, 'DKG round 2');
      return out;
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Body: { ceremony: string; packages: DkgEnvelope[] } }>('/v1/dkg/round3', { bodyLimit: DKG_BODY_LIMIT, schema: { body: schemas.round3 } }, async (request, reply) => {
    const p = participant(reply, request.body.ceremony);
    if (!p) return reply;
    try {
      const confirmation = p.round3(request.body.packages);
      app.log.info({ ceremony: p.ceremony, group_public_key: confirmation.group_public_key }, 'DKG round 3');
      return { confirmation };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Body: { ceremony: string; confirmations: DkgConfirmation[] } }>('/v1/dkg/finalize', { bodyLimit: DKG_BODY_LIMIT, schema: { body: schemas.finalize } }, async (request, reply) => {
    if (final && final.ceremony === request.body.ceremony) return final;
    const p = participant(reply, request.body.ceremony);
    if (!p) return reply;
    if (finalizing) {
      try {
        return await finalizing;
      } catch (err) {
        return fail(reply, err);
      }
    }
    let out: { share: SecretShare; group: GroupInfo };
    try {
      out = p.finalize(request.body.confirmations);
    } catch (err) {
      return fail(reply, err);
    }
    finalizing = (async () => {
      try {
        const sealed = await deps.seal(out.share, out.group);
        final = {
          ceremony: p.ceremony,
          index: p.index,
          identifier: p.identifier,
          group_public_key: out.group.group_public_key,
          verifying_share: out.group.verifying_shares[p.identifier]!,
          sealed,
        };
        app.log.info({ ceremony: p.ceremony, group_public_key: final.group_public_key, path: sealed.path }, 'DKG share sealed');
        return final;
      } catch (err) {
        // Sealing failed (provider unavailable, wrong PIN…): the ceremony cannot complete here.
        const message = (err as Error).message;
        throw p.abort('aborted', `could not seal the share: ${message}`);
      } finally {
        p.wipe();
      }
    })();
    try {
      const result = await finalizing;
      deps.onFinalized?.(result);
      return result;
    } catch (err) {
      finalizing = undefined;
      return fail(reply, err);
    } finally {
      if (deps.repeatable && final) finalizing = undefined;
    }
  });

  app.post<{ Body: { ceremony: string; reason?: string } }>('/v1/dkg/abort', { bodyLimit: DKG_BODY_LIMIT, schema: { body: schemas.abort } }, async (request) => {
    const { ceremony: id, reason } = request.body;
    if (current && current.ceremony === id && !final && !finalizing) {
      current.abort('aborted', `the relay aborted the ceremony${reason ? `: ${reason}` : ''}`);
      app.log.warn({ ceremony: id }, 'DKG aborted by the relay');
    }
    return { ceremony: id, state: final && final.ceremony === id ? 'sealed' : 'aborted' };
  });
}

export interface DkgSignerServerOptions extends DkgRouteDeps {
  tls: { key: string; cert: string; ca: string };
  /** Common names of client certificates allowed to call (the coordinator, i.e. the relay). */
  allowedClients: string[];
  logger?: boolean | object;
}

/** The standalone DKG signer: mTLS with mandatory client certificates, CN pinned, DKG routes only. */
export async function buildDkgSignerServer(opts: DkgSignerServerOptions): Promise<FastifyInstance> {
  const allowed = new Set(opts.allowedClients);
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: DKG_BODY_LIMIT,
    ajv: STRICT_AJV,
    https: { key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
  });
  installProblemHandlers(app);
  app.addHook('onRequest', async (request, reply) => {
    const peer = (request.raw.socket as TLSSocket).getPeerCertificate?.();
    const cn = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : '';
    if (!allowed.has(cn)) return sendProblem(reply, 'forbidden', 'client certificate is not allowed to call this signer');
  });
  app.get('/healthz', async () => ({ status: 'ok', mode: 'dkg' }));
  installDkgMetrics(app, createDkgMetrics(signerName(opts.identity.index)));
  serveOpenApi(app);
  dkgRoutes(app, opts);
  return app;
}
