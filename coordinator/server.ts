// The coordinator's HTTP service, assembled from its route groups.
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { STRICT_AJV, clientErrorHandler, installProblemHandlers, sendProblem } from '../http/problem-response.js';
import { ed25519PublicKey, thumbprint } from '../protocol/jwk.js';
import { ProblemError } from '../protocol/problem.js';
import { inSpan } from '../tracing/spans.js';
import { admittedSigners } from './admission.js';
import type { CoordinatorDeps, RouteContext } from './context.js';
import { KeySet } from './key-set.js';
import { SigningGate } from './signing-gate.js';
import { discoveryRoutes } from './routes/discovery.js';
import { mintRoutes } from './routes/mint.js';
import { tokenRoutes } from './routes/tokens.js';
import { tlogRoutes } from './routes/tlog.js';
import { Checkpointer, type CheckpointHook } from './tlog/checkpointer.js';
import { witnessingHook } from './tlog/witnessing.js';
import type { TlogStore } from './store/tlog-store.js';
import { proveRecord } from './tlog/proof.js';
import { logOrigin } from '../transparency/log-origin.js';

export type { CoordinatorDeps } from './context.js';

const CHECKPOINT_INTERVAL_MS = 60_000;

/** Retry-After on audit_unavailable: a store that recovers by itself (a database restart) is back within seconds. */
const AUDIT_RETRY_AFTER_S = 2;

export async function buildCoordinatorServer(deps: CoordinatorDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 16 * 1024,
    ajv: STRICT_AJV,
    clientErrorHandler,
    return503OnClosing: false, // answered below as a problem document instead
    ...(deps.trustProxy?.length ? { trustProxy: deps.trustProxy } : {}),
    // Native TLS: clients authenticate with OIDC tokens, so no client certificate is asked for.
    ...(deps.https ? { https: { ...deps.https, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance; // the HTTPS variant differs only in its server type
  installProblemHandlers(app);
  // While shutting down, requests that still arrive on kept-alive connections get a documented 503.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) return sendProblem(reply.header('connection', 'close'), 'not_ready', 'the coordinator is shutting down; retry');
  });
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  const ctx = routeContext(deps, app.log);
  const { tlog } = deps;
  if (tlog) {
    const logKid = thumbprint(deps.group.group_public_key);
    const checkpointer = new Checkpointer({
      tlog,
      origin: () => logOrigin(ctx.issuer()),
      // The log key is the first group key (group.json): a rotation changes the token key only.
      // Its shares may change (refresh, repair, reshare): the key set has its current group.
      group: () => {
        ctx.keys.refresh();
        return ctx.keys.list().find((k) => k.kid === logKid)?.group ?? deps.group;
      },
      gate: ctx.signingGate,
      groupKey: ed25519PublicKey(deps.group.group_public_key),
      signers: ctx.usableSigners,
      log: (fields, msg) => app.log.warn(fields, msg),
      ...checkpointHook(deps, tlog, app.log),
    });
    ctx.transparency = { checkpointer, prove: (index) => proveRecord(tlog, checkpointer, index) };
    app.addHook('onReady', async () => checkpointer.startPeriodic(deps.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS));
    app.addHook('onClose', async () => checkpointer.stop());
    tlogRoutes(app, tlog, checkpointer);
  }
  discoveryRoutes(app, ctx);
  mintRoutes(app, ctx);
  tokenRoutes(app, ctx);
  return app;
}

/** The configured hook and, with witnesses, the one that has them cosign: both told of each checkpoint. */
function checkpointHook(deps: CoordinatorDeps, tlog: TlogStore, log: FastifyBaseLogger): { onSigned?: CheckpointHook } {
  const hooks: CheckpointHook[] = [];
  if (deps.onCheckpointSigned) hooks.push(deps.onCheckpointSigned);
  if (deps.witnesses?.length) hooks.push(witnessingHook({ witnesses: deps.witnesses, tlog, requests: deps.metrics.witnessRequests, log: (level, fields, msg) => log[level](fields, msg) }));
  if (hooks.length === 0) return {};
  return { onSigned: async (signed) => void (await Promise.all(hooks.map(async (h) => h(signed)))) };
}

/** What every route shares; the admin listener (admin/server.ts) gets its own over the same parts. */
export function routeContext(deps: CoordinatorDeps, log: FastifyBaseLogger): RouteContext {
  return {
    ...deps,
    now: deps.now ?? (() => Date.now()),
    keys: deps.keys ?? KeySet.single(deps.group),
    signingGate: deps.signingGate ?? new SigningGate(),
    usableSigners: () => admittedSigners(deps.signers, deps.attestation, (msg, fields) => log.warn(fields, msg)),
    async appendAudit(entry) {
      const timer = deps.metrics.auditAppendSeconds.startTimer();
      try {
        const index = await inSpan('ztmint.audit.append', { 'ztmint.event': entry.event }, () => deps.audit.append(entry));
        timer();
        return index;
      } catch (err) {
        deps.metrics.auditFailures.inc();
        log.error({ err: { code: (err as NodeJS.ErrnoException).code } }, 'audit append failed');
        throw new ProblemError('audit_unavailable', 'the audit log cannot be written; nothing was issued', { retryAfter: AUDIT_RETRY_AFTER_S, cause: err });
      }
    },
  };
}
