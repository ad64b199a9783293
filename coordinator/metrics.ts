// Prometheus metrics. Labels are closed sets (outcome codes), never token or claim content.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const mints = new Counter({
    name: 'ztmint_mint_requests_total',
    help: 'Mint requests by outcome (granted or the problem code)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const mintSeconds = new Histogram({
    name: 'ztmint_mint_duration_seconds',
    help: 'Time to answer a mint request',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, mints, mintSeconds };
}

export type Metrics = ReturnType<typeof createMetrics>;
