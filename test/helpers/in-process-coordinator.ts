// A second coordinator in the test process, wired to a dev stack's real signers over mTLS, so a
// test can control its parts (audit log, signer URLs) and read its logs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_POLICY_DATA, DEFAULT_POLICY_WASM } from '../../cli/paths.js';
import type { AuditLog } from '../../coordinator/audit.js';
import { createMetrics } from '../../coordinator/metrics.js';
import { RateLimiter } from '../../coordinator/rate-limit.js';
import { Revocations } from '../../coordinator/revocations.js';
import { buildCoordinatorServer, type CoordinatorDeps } from '../../coordinator/server.js';
import type { SignerClient } from '../../coordinator/signer-client.js';
import { OidcVerifier } from '../../oidc/verifier.js';
import { PolicyHolder } from '../../policy-engine/holder.js';
import type { DevStack } from './dev-stack.js';

export interface InProcessCoordinator {
  app: FastifyInstance;
  /** Log lines (JSON) at level warn and above. */
  logs: string[];
  /** POST /v1/mint with a fresh OIDC token from the stack's issuer. */
  mint(body?: unknown): Promise<{ oidc: string; res: Awaited<ReturnType<FastifyInstance['inject']>> }>;
  /** Closes the server and the signer clients (not the audit log, which the caller owns). */
  close(): Promise<void>;
}

export async function inProcessCoordinator(stack: DevStack, signers: SignerClient[], audit: AuditLog, extra: Partial<CoordinatorDeps> = {}): Promise<InProcessCoordinator> {
  const logs: string[] = [];
  const app = await buildCoordinatorServer({
    issuer: () => stack.coordinator, // signers check that tokens carry the coordinator's issuer
    group: JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8')),
    oidc: new OidcVerifier({ issuers: [{ issuer: stack.issuer }], audience: stack.coordinator }),
    policy: await PolicyHolder.load(DEFAULT_POLICY_WASM, DEFAULT_POLICY_DATA),
    signers,
    audit,
    revocations: new Revocations(() => Math.floor(Date.now() / 1000)),
    rateLimiter: new RateLimiter(),
    metrics: createMetrics(),
    logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } },
    ...extra,
  });
  return {
    app,
    logs,
    async mint(body = { scopes: ['deploy:canary'] }) {
      const oidc = await stack.idToken();
      const res = await app.inject({
        method: 'POST',
        url: '/v1/mint',
        headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' },
        payload: body as Record<string, unknown>,
      });
      return { oidc, res };
    },
    async close() {
      await app.close();
      await Promise.all(signers.map((s) => s.close()));
    },
  };
}
