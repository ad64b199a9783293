// A signer's Prometheus metrics and its GET /metrics route. Counted from Fastify hooks, so the
// signing handlers stay as they are: a share is released when /v1/round2 answers 200; a refusal
// is any problem document the signer sends, by code and by a fixed reason name derived from its
// detail. Labels are closed sets; nothing from a request (tokens, sessions, messages) is one.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { certificateExpiryGauge, groupKeyInfoGauge, policyInfoGauge } from '../observability/common-metrics.js';

export interface SignerMetricsState {
  signer: string;
  policyHash(): string;
  kid: string;
  threshold: number;
  signers: number;
  /** notAfter (ms) of this signer's own TLS certificate (the one in force: renewals are reloaded). */
  ownCertNotAfter(): number;
  nonces(): { interactive: number; preprocessed: number };
}

/**
 * Why a signer refused, as a bounded label: its problem detail matched against the texts the
 * signer itself writes (signers/mint-check.ts, signers/server.ts). Anything else is "other".
 */
const REFUSAL_REASONS: Array<[RegExp, string]> = [
  [/is not this signer's group key|is not a group key this signer holds/, 'group_mismatch'],
  [/is not this signer's --token-issuer/, 'issuer_mismatch'],
  [/is not a policy revision this signer accepts/, 'policy_mismatch'],
  [/which this signer does not trust/, 'oidc_issuer_mismatch'],
  [/OIDC token does not verify here/, 'oidc_not_verified'],
  [/policy denies the request/, 'policy_denied'],
  [/iat is not a fresh timestamp/, 'stale_iat'],
  [/jti must be base64url/, 'bad_jti'],
  [/already signed a token with that jti/, 'jti_reused'],
  [/claims differ from what the context allows/, 'claims_differ'],
  [/header or encoding differs/, 'claims_differ'],
  [/not a JWS signing input/, 'malformed_message'],
  [/does not hold this signer's round-1 commitment/, 'commitment_mismatch'],
  [/duplicate or unknown identifiers/, 'bad_commitments'],
  [/not valid group elements/, 'bad_commitments'],
  [/unknown, expired or already used session/, 'session_unknown'],
  [/session id was already used/, 'session_reused'],
  [/client certificate is not allowed/, 'client_not_allowed'],
  [/client certificate did not verify/, 'client_not_verified'],
  [/names no policy revision \(pol\) this signer accepts/, 'policy_mismatch'],
  [/signs no checkpoints/, 'no_checkpoints'],
  [/share log has no|keeps no share log/, 'not_found'],
  [/needs `context` and no `checkpoint`|needs `checkpoint` \(its consistency proof\)/, 'invalid_body'],
  [/neither a token signing input nor a checkpoint/, 'malformed_message'],
  [/^request body/, 'invalid_body'],
  [/no such endpoint/, 'not_found'],
];

export function refusalReason(detail: unknown): string {
  if (typeof detail !== 'string') return 'other';
  for (const [pattern, reason] of REFUSAL_REASONS) if (pattern.test(detail)) return reason;
  return 'other';
}

export function createSignerMetrics(state: SignerMetricsState) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registry.setDefaultLabels({ signer: state.signer });
  const sharesReleased = new Counter({
    name: 'ztmint_signer_shares_released_total',
    help: 'Signature shares of tokens this signer released (round 2 answered with a share)',
    registers: [registry],
  });
  const checkpointShares = new Counter({
    name: 'ztmint_signer_checkpoint_shares_released_total',
    help: 'Signature shares of transparency-log checkpoints this signer released (each after its consistency check)',
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'ztmint_signer_refusals_total',
    help: 'Problem documents this signer answered with, by problem code and reason',
    labelNames: ['code', 'reason'] as const,
    registers: [registry],
  });
  const commitmentsIssued = new Counter({
    name: 'ztmint_signer_commitments_issued_total',
    help: 'Round-1 commitments handed out, by lane (interactive or preprocessed)',
    labelNames: ['lane'] as const,
    registers: [registry],
  });
  const handlerSeconds = new Histogram({
    name: 'ztmint_signer_handler_duration_seconds',
    help: 'Time this signer took to answer a request, by route (round1, round2, info, metrics, ...)',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'ztmint_signer_nonces_outstanding',
    help: 'Secret round-1 nonces held in memory, waiting for round 2 or expiry, by lane',
    labelNames: ['lane'] as const,
    registers: [registry],
    collect() {
      const counts = state.nonces();
      this.set({ lane: 'interactive' }, counts.interactive);
      this.set({ lane: 'preprocessed' }, counts.preprocessed);
    },
  });
  policyInfoGauge(registry, state.policyHash);
  groupKeyInfoGauge(registry, state.kid, state.threshold, state.signers);
  certificateExpiryGauge(registry, () => [['self', state.ownCertNotAfter()]]);
  return { registry, sharesReleased, checkpointShares, refusals, commitmentsIssued, handlerSeconds };
}

export type SignerMetrics = ReturnType<typeof createSignerMetrics>;

/** Route label: the registered route's URL without its leading /v1/, or "unmatched". */
function routeLabel(url: string | undefined): string {
  return url ? url.replace(/^\/(v1\/)?/, '') || 'root' : 'unmatched';
}

/** Adds GET /metrics and the counting hooks to a signer's Fastify server. */
export function installSignerMetrics(app: FastifyInstance, metrics: SignerMetrics): void {
  app.addHook('preSerialization', async (request, reply, payload) => {
    const doc = payload as { code?: unknown; detail?: unknown; share?: unknown; batch?: unknown[] } | null;
    if (reply.statusCode >= 400) {
      if (doc && typeof doc.code === 'string') metrics.refusals.inc({ code: doc.code, reason: refusalReason(doc.detail) });
    } else if (request.routeOptions.url === '/v1/round2' && typeof doc?.share === 'string') {
      if ((request.body as { checkpoint?: unknown } | undefined)?.checkpoint) metrics.checkpointShares.inc();
      else metrics.sharesReleased.inc();
    } else if (request.routeOptions.url === '/v1/round1' && doc) {
      if (Array.isArray(doc.batch)) metrics.commitmentsIssued.inc({ lane: 'preprocessed' }, doc.batch.length);
      else metrics.commitmentsIssued.inc({ lane: 'interactive' });
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.handlerSeconds.observe({ route: routeLabel(request.routeOptions.url) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}
