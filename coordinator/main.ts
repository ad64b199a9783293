// Coordinator process entry point: wire the parts from the state directory and listen.
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { serviceLogger } from '../logging/service-logger.js';
import { AttestationGate, attestationConfigFromEnv, type AttestationConfig } from './attestation-gate.js';
import { createMetrics } from './metrics.js';
import { certificateNotAfter } from '../observability/common-metrics.js';
import { startMetricsServer, type MetricsListenOptions } from '../observability/metrics-server.js';
import { thumbprint } from '../protocol/jwk.js';
import { startQuorumMonitor } from './quorum-monitor.js';
import { OidcVerifier, type TrustedIssuer } from '../oidc/verifier.js';
import type { PolicySource } from '../policy-engine/holder.js';
import { loadPolicySource } from '../policy-engine/source.js';
import type { BundleSetOptions } from '../policy-engine/bundle-set.js';
import type { RateLimitConfig } from './rate-limit.js';
import { SignerClient, type SignerEndpoint } from './signer-client.js';
import { readCredentials, watchCredentials, type CredentialPaths } from '../tls/credential-files.js';
import type { Server as HttpsServer } from 'node:https';
import { openStateStore } from './store/open-store.js';
import type { AdminAccess } from './admin/authorize.js';
import { buildAdminServer } from './admin/server.js';
import { readIntrospectionTokens } from './introspection-auth.js';
import { buildCoordinatorServer, routeContext } from './server.js';
import type { CheckpointHook } from './tlog/checkpointer.js';
import type { WitnessEndpoint } from '../transparency/witness-client.js';
import { checkInsecureChoices, httpIssuerChoices } from '../config/insecure-choices.js';
import type { AuditEntry } from './audit.js';
import { adminKeyRoutes } from './admin/key-routes.js';
import { KeySet } from './key-set.js';
import { rotateKeys, signerKeyRings } from './key-rotation.js';
import { startKeyTransitionAudit } from './key-transitions.js';
import { changeShares } from './share-change.js';
import { SigningGate } from './signing-gate.js';

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
  /** Signed OPA bundles and the revisions file, instead of policyWasm/policyData. */
  policyBundles?: Omit<BundleSetOptions, 'log'>;
  rateLimits?: RateLimitConfig;
  /** Where shared state lives: absent or "file" for the embedded store, or a postgres:// URL. */
  store?: string;
  /** SEV-SNP requirements; default from REQUIRE_SNP_ATTESTATION / SNP_MEASUREMENTS / SNP_ALLOW_DEBUG. */
  attestation?: AttestationConfig;
  /** Native TLS (PEM files, reloaded on change); plain HTTP without (behind a TLS-terminating proxy). */
  tls?: { cert: string; key: string };
  /** mTLS client credentials towards the signers (reloaded on change); default <state>/tls. */
  mtls?: CredentialPaths;
  /** Proxies whose X-Forwarded-* headers are believed. */
  trustProxy?: string[];
  /** How often certificate files are polled for changes (default 1 s). */
  tlsPollMs?: number;
  /** A separate plain-HTTP listener for GET /metrics (off unless given). */
  metricsListen?: MetricsListenOptions;
  /** How often signers are probed for reachability and certificate expiry (default 15 s). */
  probeIntervalMs?: number;
  /** The admin listener (off unless given): HTTPS with the mTLS credentials, client certificate required. */
  admin?: { port: number; host: string } & AdminAccess;
  /** Bearer tokens for POST /v1/introspect on the public listener, one per line. */
  introspectionTokenFile?: string;
  /** Told after each transparency-log checkpoint is signed (witnesses, exports). */
  onCheckpointSigned?: CheckpointHook;
  /** External tlog witnesses that cosign each checkpoint (best effort). */
  witnesses?: WitnessEndpoint[];
  /** Insecure choices allowed by their flags (config/insecure-choices.ts); each one refuses to start otherwise. */
  allowInsecure?: { httpIssuer?: boolean; noSigners?: boolean };
  /** Benchmarks only (--insecure-no-transparency-proofs): no checkpoints, no proofs in mint answers. */
  noTransparencyProofs?: boolean;
  /** Key rotation: seconds a new key is published before it signs (default 600). */
  keyActivationDelayS?: number;
  /** Key rotation: seconds the previous key stays published after that (default: the policy's ttl.max). */
  keyOverlapS?: number;
}

/** The longest token lifetime the policy data allows (its ttl.max), the protocol's cap if unreadable. */
async function maxTokenLifetime(policyData: string): Promise<number> {
  try {
    const max = (JSON.parse(await readFile(policyData, 'utf8')) as { ttl?: { max?: unknown } }).ttl?.max;
    return typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : 86_400;
  } catch {
    return 86_400;
  }
}

/** The mTLS files `ztmint keygen` writes into <state>/tls. */
function defaultCoordinatorMtls(state: string): Required<CredentialPaths> {
  const tlsDir = join(state, 'tls');
  return { cert: join(tlsDir, 'coordinator.pem'), key: join(tlsDir, 'coordinator-key.pem'), ca: join(tlsDir, 'ca.pem') };
}

export async function startCoordinator(opts: CoordinatorOptions) {
  const insecure = checkInsecureChoices([
    ...httpIssuerChoices(opts.oidcIssuers, opts.allowInsecure?.httpIssuer === true),
    ...(opts.signers.length === 0
      ? [{ flag: '--insecure-allow-no-signers', allowed: opts.allowInsecure?.noSigners === true, warning: 'no signer is configured (--signer): this coordinator can mint nothing' }]
      : []),
    // The flag is the choice itself (there is nothing to refuse): it is only reported, loudly.
    ...(opts.noTransparencyProofs
      ? [{ flag: '--insecure-no-transparency-proofs', allowed: true, warning: 'no transparency-log checkpoints are signed and mints carry no inclusion proof (benchmarks only)' }]
      : []),
  ]);
  const mtlsPaths = { ...defaultCoordinatorMtls(opts.state), ...opts.mtls };
  const mtls = await readCredentials(mtlsPaths);
  const tls = { key: mtls.key, cert: mtls.cert, ca: mtls.ca! };
  const https = opts.tls ? await readCredentials(opts.tls) : undefined;
  const group = JSON.parse(await readFile(join(opts.state, 'group.json'), 'utf8')) as GroupInfo;
  const now = () => Date.now();
  const metrics = createMetrics();
  // Until the server's logger exists, messages (e.g. a bundle refused at start-up) wait here.
  type Level = 'info' | 'warn';
  const early: Array<[string, Record<string, unknown> | undefined, Level | undefined]> = [];
  let log: (msg: string, fields?: Record<string, unknown>, level?: Level) => void = (msg, fields, level) => early.push([msg, fields, level]);
  const store = await openStateStore({
    state: opts.state,
    store: opts.store,
    rateLimits: opts.rateLimits,
    now,
    log: (msg, fields) => log(msg, fields),
    onGroupCommit: (records, seconds) => {
      metrics.auditBatchRecords.observe(records);
      metrics.auditCommitSeconds.observe(seconds);
    },
  });
  const attestation = opts.attestation ?? attestationConfigFromEnv();
  const signers = opts.signers.map(
    (endpoint) =>
      new SignerClient(endpoint, tls, {
        log: (e, m) => log(m, e),
        requirePinnedKey: attestation.required,
        onCall: metrics.signerCall,
      }),
  );
  let issuer = opts.publicUrl ?? '';
  let policy: PolicySource;
  let introspectionTokens: Buffer[] = [];
  try {
    policy = await loadPolicySource(opts, (msg, fields, level) => log(msg, fields, level));
    if (opts.introspectionTokenFile) introspectionTokens = await readIntrospectionTokens(opts.introspectionTokenFile);
  } catch (err) {
    await store.close();
    throw err;
  }
  // Every key with its schedule (docs/keys.md): group.json alone until a rotation writes keys.json.
  const keys = KeySet.load(opts.state, group);
  // One per process: the mint route, the checkpointer and the share ceremonies meet here.
  const signingGate = new SigningGate();
  const deps = {
    issuer: () => issuer,
    group,
    keys,
    signingGate,
    oidc: new OidcVerifier({
      issuers: opts.oidcIssuers,
      audience: opts.oidcAudience,
      replay: (iss, jti, exp) => store.replay.claim(iss, jti, exp),
      requireHttpsJwks: opts.allowInsecure?.httpIssuer !== true,
    }),
    policy,
    signers,
    audit: store.audit,
    ...(opts.noTransparencyProofs ? {} : { tlog: store.tlog }),
    ...(opts.onCheckpointSigned ? { onCheckpointSigned: opts.onCheckpointSigned } : {}),
    ...(opts.witnesses?.length ? { witnesses: opts.witnesses } : {}),
    revocations: store.revocations,
    rateLimiter: store.rateLimiter,
    metrics,
    attestation: new AttestationGate(attestation, () => policy.current.hash),
    logger: serviceLogger({ service: 'coordinator' }),
    now,
    storeHealth: () => store.health(),
    insecure,
    ...(https ? { https: { cert: https.cert, key: https.key } } : {}),
    ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}),
    introspectionTokens,
  };
  const app = await buildCoordinatorServer(deps);
  log = (msg, fields, level = 'warn') => app.log[level](fields ?? {}, msg);
  for (const [msg, fields, level] of early.splice(0)) log(msg, fields, level);
  const admin = opts.admin
    ? await buildAdminServer({
        ctx: routeContext(deps, app.log),
        readAudit: (from, limit) => store.readAudit(from, limit),
        access: { admins: opts.admin.admins, introspectors: opts.admin.introspectors },
        tls,
        logger: serviceLogger({ service: 'coordinator-admin' }),
      })
    : undefined;
  for (const warning of insecure) app.log.warn({ insecure: true }, `INSECURE: ${warning}`);
  metrics.describe({
    policyHash: () => policy.current.revision,
    kid: thumbprint(group.group_public_key),
    threshold: group.threshold,
    signers: signers.map((s) => ({ name: s.name, poolDepth: () => s.commitments?.size })),
    ownCertNotAfter: certificateNotAfter(tls.cert),
  });
  const transitions = startKeyTransitionAudit(
    keys,
    (entry) => store.audit.append(entry),
    now,
    (msg, fields) => log(msg, fields),
  );
  if (admin) mountKeyRoutes(admin, opts, { keys, now, mtlsPaths, gate: signingGate, append: (entry) => store.audit.append(entry) });
  const monitor = startQuorumMonitor(signers, metrics, { intervalMs: opts.probeIntervalMs });
  const metricsServer = opts.metricsListen ? await startMetricsServer(metrics.registry, opts.metricsListen) : undefined;
  const stopWatching = policy.watch();
  const watch = { intervalMs: opts.tlsPollMs, log };
  const stopTls = [
    watchCredentials(
      mtlsPaths,
      mtls,
      (next) => {
        for (const s of signers) s.setCredentials({ key: next.key, cert: next.cert, ca: next.ca! });
        (admin?.server as unknown as HttpsServer | undefined)?.setSecureContext({ cert: next.cert, key: next.key, ca: next.ca!, minVersion: 'TLSv1.2' });
        metrics.ownCertificateRenewed(certificateNotAfter(next.cert));
      },
      watch,
    ),
    ...(opts.tls && https
      ? [watchCredentials(opts.tls, https, (next) => (app.server as unknown as HttpsServer).setSecureContext({ cert: next.cert, key: next.key, minVersion: 'TLSv1.2' }), watch)]
      : []),
  ];
  const onHup = () => void policy.reload();
  process.on('SIGHUP', onHup);
  app.addHook('onClose', async () => {
    transitions.stop();
    monitor.stop();
    await admin?.close();
    await metricsServer?.close();
    stopWatching();
    for (const stop of stopTls) stop();
    process.off('SIGHUP', onHup);
    await Promise.allSettled(signers.map((s) => s.close()));
    await store.close();
  });
  await app.listen({ host: opts.host, port: opts.port });
  let adminUrl: string | undefined;
  if (admin && opts.admin) {
    await admin.listen({ host: opts.admin.host, port: opts.admin.port });
    const a = admin.server.address();
    adminUrl = `https://${opts.admin.host.includes(':') ? `[${opts.admin.host}]` : opts.admin.host}:${typeof a === 'object' && a ? a.port : opts.admin.port}`;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const listening = `${https ? 'https' : 'http'}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  if (!issuer) issuer = listening;
  // Replicas share one public URL (the issuer); `url` is where this one listens.
  return { app, url: listening, issuer, policyHash: policy.current.revision, ...(metricsServer ? { metricsUrl: metricsServer.url } : {}), ...(adminUrl ? { adminUrl } : {}) };
}

/** The key rotation routes on the admin listener; the relay uses the coordinator's current mTLS files. */
function mountKeyRoutes(
  admin: FastifyInstance,
  opts: CoordinatorOptions,
  deps: { keys: KeySet; now: () => number; mtlsPaths: Required<CredentialPaths>; gate: SigningGate; append: (entry: AuditEntry) => Promise<number> },
): void {
  const relayTls = async () => {
    const c = await readCredentials(deps.mtlsPaths);
    return { key: c.key, cert: c.cert, ca: c.ca! };
  };
  adminKeyRoutes(admin, {
    keys: deps.keys,
    now: deps.now,
    signerRings: async () => signerKeyRings(opts.signers, await relayTls()),
    changeShares: async (req) =>
      changeShares(req, { keys: deps.keys, signers: opts.signers, tls: await relayTls(), appendAudit: deps.append, now: deps.now, gate: deps.gate, log: (line) => admin.log.warn(line) }),
    rotate: async (params) => {
      const maxTtl = await maxTokenLifetime(opts.policyData);
      return rotateKeys({
        keys: deps.keys,
        signers: opts.signers,
        tls: await relayTls(),
        appendAudit: deps.append,
        now: deps.now,
        activationDelayS: params.activationDelayS ?? opts.keyActivationDelayS ?? 600,
        overlapS: params.overlapS ?? opts.keyOverlapS ?? maxTtl,
        maxTokenLifetimeS: maxTtl,
        log: (line) => admin.log.warn(line),
      });
    },
  });
}
