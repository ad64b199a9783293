// Coordinator process entry point: wire the parts from the state directory and listen.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { serviceLogger } from '../logging/service-logger.js';
import { AttestationGate, attestationConfigFromEnv, type AttestationConfig } from './attestation-gate.js';
import { createMetrics } from './metrics.js';
import { OidcVerifier, type TrustedIssuer } from '../oidc/verifier.js';
import { PolicyHolder } from '../policy-engine/holder.js';
import type { RateLimitConfig } from './rate-limit.js';
import { buildCoordinatorServer } from './server.js';
import { SignerClient, type SignerEndpoint } from './signer-client.js';
import { openStateStore } from './store/open-store.js';

export interface CoordinatorOptions {
  state: string;
  host: string;
  port: number;
  /** Public base URL (the `iss` of minted tokens); defaults to the listening address. */
  publicUrl?: string;
  oidcIssuers: TrustedIssuer[];
  oidcAudience: string;
  signers: SignerEndpoint[];
  policyWasm: string;
  policyData: string;
  rateLimits?: RateLimitConfig;
  /** Where shared state lives: absent or "file" for the embedded store, or a postgres:// URL. */
  store?: string;
  /** SEV-SNP requirements; default from REQUIRE_SNP_ATTESTATION / SNP_MEASUREMENTS / SNP_ALLOW_DEBUG. */
  attestation?: AttestationConfig;
}

export async function startCoordinator(opts: CoordinatorOptions) {
  const tlsDir = join(opts.state, 'tls');
  const tls = {
    key: await readFile(join(tlsDir, 'coordinator-key.pem'), 'utf8'),
    cert: await readFile(join(tlsDir, 'coordinator.pem'), 'utf8'),
    ca: await readFile(join(tlsDir, 'ca.pem'), 'utf8'),
  };
  const group = JSON.parse(await readFile(join(opts.state, 'group.json'), 'utf8')) as GroupInfo;
  const now = () => Date.now();
  let log: (msg: string, fields?: Record<string, unknown>) => void = () => {};
  const store = await openStateStore({ state: opts.state, store: opts.store, rateLimits: opts.rateLimits, now, log: (msg, fields) => log(msg, fields) });
  const attestation = opts.attestation ?? attestationConfigFromEnv();
  const signers = opts.signers.map(
    (endpoint) => new SignerClient(endpoint, tls, { log: (e, m) => log(m, e), requirePinnedKey: attestation.required }),
  );
  let issuer = opts.publicUrl ?? '';
  let policy: PolicyHolder;
  try {
    policy = await PolicyHolder.load(opts.policyWasm, opts.policyData, (msg, fields) => log(msg, fields));
  } catch (err) {
    await store.close();
    throw err;
  }
  const app = await buildCoordinatorServer({
    issuer: () => issuer,
    group,
    oidc: new OidcVerifier({ issuers: opts.oidcIssuers, audience: opts.oidcAudience, replay: (iss, jti, exp) => store.replay.claim(iss, jti, exp) }),
    policy,
    signers,
    audit: store.audit,
    revocations: store.revocations,
    rateLimiter: store.rateLimiter,
    metrics: createMetrics(),
    attestation: new AttestationGate(attestation, () => policy.current.hash),
    logger: serviceLogger({ service: 'coordinator' }),
    now,
  });
  log = (msg, fields) => app.log.warn(fields ?? {}, msg);
  const stopWatching = policy.watch();
  const onHup = () => void policy.reload();
  process.on('SIGHUP', onHup);
  app.addHook('onClose', async () => {
    stopWatching();
    process.off('SIGHUP', onHup);
    await Promise.allSettled(signers.map((s) => s.close()));
    await store.close();
  });
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const listening = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  if (!issuer) issuer = listening;
  // Replicas share one public URL (the issuer); `url` is where this one listens.
  return { app, url: listening, issuer, policyHash: policy.current.hash };
}
