// Metrics of a DKG signer (`ztmint signer dkg-serve`): how far its ceremonies got, counted per
// step from the answers it sends, and GET /metrics on the same mTLS port for the allowed clients.
// A DKG signer lives for one ceremony, so the relay (or an operator) reads these while it runs.
import type { FastifyInstance } from 'fastify';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

const STEPS = new Set(['round1', 'round2', 'round3', 'finalize', 'abort']);

export function createDkgMetrics(signer: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registry.setDefaultLabels({ signer });
  const steps = new Counter({
    name: 'ztmint_signer_dkg_steps_total',
    help: 'DKG ceremony steps this signer answered, by step (round1, round2, round3, finalize, abort) and outcome (ok, or the problem code)',
    labelNames: ['step', 'outcome'] as const,
    registers: [registry],
  });
  return { registry, steps };
}

export type DkgMetrics = ReturnType<typeof createDkgMetrics>;

/** Counts every answer to POST /v1/dkg/<step> and serves GET /metrics. */
export function installDkgMetrics(app: FastifyInstance, metrics: DkgMetrics): void {
  app.addHook('preSerialization', async (request, reply, payload) => {
    const step = /^\/v1\/dkg\/(\w+)$/.exec(request.routeOptions.url ?? '')?.[1];
    if (step && STEPS.has(step) && request.method === 'POST') {
      const code = (payload as { code?: unknown } | null)?.code;
      metrics.steps.inc({ step, outcome: reply.statusCode < 400 ? 'ok' : typeof code === 'string' ? code : 'error' });
    }
    return payload;
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}
