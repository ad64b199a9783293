// Coordinator process entry point: wire the parts from the state directory and listen.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { serviceLogger } from '../protocol/service-logger.js';
import { AuditLog } from './audit.js';
import { createMetrics } from './metrics.js';
import { OidcVerifier } from './oidc.js';
import { loadPolicyFiles } from './policy.js';
import { buildCoordinatorServer } from './server.js';
import { SignerClient, type SignerEndpoint } from './signer-client.js';

export interface CoordinatorOptions {
  state: string;
  host: string;
  port: number;
  /** Public base URL (the `iss` of minted tokens); defaults to the listening address. */
  publicUrl?: string;
  oidcIssuer: string;
  oidcAudience: string;
  signers: SignerEndpoint[];
  policyWasm: string;
  policyData: string;
}

export async function startCoordinator(opts: CoordinatorOptions) {
  const tlsDir = join(opts.state, 'tls');
  const tls = {
    key: await readFile(join(tlsDir, 'coordinator-key.pem'), 'utf8'),
    cert: await readFile(join(tlsDir, 'coordinator.pem'), 'utf8'),
    ca: await readFile(join(tlsDir, 'ca.pem'), 'utf8'),
  };
  const group = JSON.parse(await readFile(join(opts.state, 'group.json'), 'utf8')) as GroupInfo;
  const policy = await loadPolicyFiles(opts.policyWasm, opts.policyData);
  const audit = await AuditLog.open(join(opts.state, 'audit'));
  const signers = opts.signers.map((endpoint) => new SignerClient(endpoint, tls));
  let issuer = opts.publicUrl ?? '';
  const app = await buildCoordinatorServer({
    issuer: () => issuer,
    group,
    oidc: new OidcVerifier({ issuer: opts.oidcIssuer, audience: opts.oidcAudience }),
    policy,
    signers,
    audit,
    metrics: createMetrics(),
    logger: serviceLogger({ service: 'coordinator' }),
  });
  app.addHook('onClose', async () => {
    await Promise.allSettled(signers.map((s) => s.close()));
    await audit.close();
  });
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  if (!issuer) issuer = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  return { app, url: issuer, policyHash: policy.hash };
}
