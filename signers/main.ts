// Signer process entry point: unseal the key ring's shares, serve mTLS, print one JSON ready line.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { thumbprint } from '../protocol/jwk.js';
import { OidcVerifier, type TrustedIssuer } from '../oidc/verifier.js';
import { loadPolicySource } from '../policy-engine/source.js';
import type { BundleSetOptions } from '../policy-engine/bundle-set.js';
import { serviceLogger } from '../logging/service-logger.js';
import { configfsTsmSource, fileSource, reportDataFor, type SnpEvidence } from './attestation-source.js';
import { MintChecker } from './mint-check.js';
import { CheckpointGuard } from './checkpoint-guard.js';
import { logOrigin } from '../transparency/log-origin.js';
import { checkInsecureChoices, httpIssuerChoices } from '../config/insecure-choices.js';
import { KeyRing, noShareDetail } from './key-ring.js';
import { KeyRingShareStore } from './key-ring-share-store.js';
import { createSignerMetrics } from './metrics.js';
import { NonceStore } from './nonce-store.js';
import { buildSignerServer } from './server.js';
import { ShareLog, shareLogOrigin } from './share-log.js';
import { loadShareLogSeed, SHARE_LOG_SEED_FILE } from './share-log-seed.js';
import { readCredentials, watchCredentials, type CredentialPaths } from '../tls/credential-files.js';
import type { Server as HttpsServer } from 'node:https';
import { certificateNotAfter } from '../observability/common-metrics.js';
import { startMetricsServer, type MetricsListenOptions } from '../observability/metrics-server.js';

export interface SignerProcessOptions {
  state: string;
  index: number;
  /** The key set file read while the signer has no keyring.json (default <state>/group.json). */
  group?: string;
  host: string;
  port: number;
  allowedClients: string[];
  /** What the signer checks on its own before signing (I2). */
  tokenIssuer: string;
  oidcIssuers: TrustedIssuer[];
  oidcAudience: string;
  policyWasm: string;
  policyData: string;
  /** Refuse any policy bundle whose hash is not this one (wasm+data only). */
  policyPin?: string;
  /** Signed OPA bundles and the revisions file, instead of policyWasm/policyData. */
  policyBundles?: Omit<BundleSetOptions, 'log'>;
  /** Where SEV-SNP evidence comes from (none: /v1/info carries no attestation). */
  snp?: { source: 'configfs'; vcek?: string } | { source: 'file'; report: string; vcek: string };
  /** mTLS server credentials (reloaded on change); default <state>/tls/signer-<index>.pem etc. */
  mtls?: CredentialPaths;
  /** How often certificate files are polled for changes (default 1 s). */
  tlsPollMs?: number;
  /** Client certificate CNs that may read GET /metrics on the mTLS port (besides allowedClients). */
  metricsClients?: string[];
  /** A separate plain-HTTP listener for GET /metrics (off unless given). */
  metricsListen?: MetricsListenOptions;
  /** Insecure choices allowed by their flags (config/insecure-choices.ts); each one refuses to start otherwise. */
  allowInsecure?: { httpIssuer?: boolean; fileKeyProvider?: boolean };
  /** Client certificate CNs that may read the share log (GET /v1/log/…) besides allowedClients. */
  logClients?: string[];
}

/** The mTLS files `ztmint keygen` writes into <state>/tls for signer `index`. */
function defaultSignerMtls(state: string, index: number): Required<CredentialPaths> {
  const tlsDir = join(state, 'tls');
  return { cert: join(tlsDir, `signer-${index}.pem`), key: join(tlsDir, `signer-${index}-key.pem`), ca: join(tlsDir, 'ca.pem') };
}

/** The coordinator may retry a mint a few times with one OIDC token (new jti each time). */
const OIDC_USES_PER_TOKEN = 3;

export async function startSigner(opts: SignerProcessOptions) {
  const dir = join(opts.state, 'signers', String(opts.index));
  // Every key this signer holds (docs/keys.md); before any rotation: share.sealed + group.json.
  // The sealed files name their key provider; PINs/credentials come from the environment or a prompt.
  // A key whose share is absent is held without one (lost: awaiting a repair; a new member:
  // awaiting a reshare; left out by a reshare): the signer runs, signs nothing with it, and says so.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ring = await KeyRing.load(dir, opts.group ?? join(opts.state, 'group.json'), {}, { index: opts.index });
  // The key provider this signer seals with (its shares', or its share-log seed's).
  const sealTarget = await ring.sealTarget([join(dir, SHARE_LOG_SEED_FILE)]);
  const insecure = checkInsecureChoices([
    ...httpIssuerChoices(opts.oidcIssuers, opts.allowInsecure?.httpIssuer === true),
    ...(sealTarget.type === 'file'
      ? [
          {
            flag: '--insecure-allow-file-key-provider',
            allowed: opts.allowInsecure?.fileKeyProvider === true,
            warning: `the share in ${dir} is sealed with the file key provider: its key lies beside it on disk; reseal it with pkcs11 or oci-kms (ztmint signer reseal)`,
          },
        ]
      : []),
  ]);
  const group = ring.current(Math.floor(Date.now() / 1000)).group;
  const name = `signer-${opts.index}`;
  const logger = serviceLogger({ signer: name });
  // Until the server's logger exists, messages (e.g. a bundle refused at start-up) wait here.
  type Level = 'info' | 'warn';
  const early: Array<[string, Record<string, unknown> | undefined, Level | undefined]> = [];
  let log: (msg: string, fields?: Record<string, unknown>, level?: Level) => void = (msg, fields, level) => early.push([msg, fields, level]);
  const policy = await loadPolicySource(opts, (msg, fields, level) => log(msg, fields, level));
  const checker = new MintChecker({
    tokenIssuer: opts.tokenIssuer,
    holdsKid: (kid) => ring.entry(kid) !== undefined,
    oidc: new OidcVerifier({ issuers: opts.oidcIssuers, audience: opts.oidcAudience, usesPerJti: OIDC_USES_PER_TOKEN, requireHttpsJwks: opts.allowInsecure?.httpIssuer !== true }),
    policy,
  });
  const checkpoints = new CheckpointGuard(join(dir, 'tlog-state.json'), logOrigin(opts.tokenIssuer));
  await checkpoints.state(); // an unreadable state file stops the start, not a later signing
  const mtlsPaths = { ...defaultSignerMtls(opts.state, opts.index), ...opts.mtls };
  const mtls = await readCredentials(mtlsPaths);
  const tlsCert = mtls.cert;
  let ownCertNotAfter = certificateNotAfter(tlsCert);
  const nonces = new NonceStore();
  // Every released share is written down here first (issue 15). Named by the first key of the
  // ring (group.json's), so a rotation keeps one log; keyed by the signer's own sealed seed, so
  // neither a new share (refresh, repair, reshare) nor the lack of one changes its key.
  const { seed, origin: seedOrigin } = await loadShareLogSeed(ring);
  // The log's note signer keeps the seed (it signs every checkpoint with it): not wiped here.
  const shareLog = await ShareLog.open(dir, shareLogOrigin(thumbprint(ring.logKey().group.group_public_key), name), seed);
  const metrics = createSignerMetrics({
    signer: name,
    policyHash: () => policy.current.revision,
    kid: thumbprint(group.group_public_key),
    threshold: group.threshold,
    signers: group.signers,
    ownCertNotAfter: () => ownCertNotAfter,
    nonces: () => nonces.counts,
  });
  const identity = { index: opts.index, certificate: mtls.cert, privateKey: mtls.key, ca: mtls.ca! };
  const app = await buildSignerServer({
    keys: ring,
    // Rotation: the DKG and key-ring routes, on the same mTLS port, for the same allowed clients.
    rotation: { ring, identity },
    // Share refresh and repair of the key signing now (docs/keys.md), while the signer signs.
    shareCeremony: { identity, store: new KeyRingShareStore(ring) },
    checker,
    checkpoints,
    ...(opts.snp ? { attestation: evidenceFor(opts.snp, tlsCert, () => policy.current.hash) } : {}),
    allowedClients: opts.allowedClients,
    metrics,
    metricsClients: opts.metricsClients ?? [],
    nonces,
    shareLog,
    logClients: opts.logClients ?? [],
    logger,
    tls: { key: mtls.key, cert: mtls.cert, ca: mtls.ca! },
    certificateNotAfter: () => ownCertNotAfter,
    insecure,
  });
  for (const warning of insecure) app.log.warn({ insecure: true }, `INSECURE: ${warning}`);
  if (seedOrigin !== 'sealed') app.log.info({ file: join(dir, SHARE_LOG_SEED_FILE), from: seedOrigin }, 'share log key seed sealed (kept across share changes)');
  for (const e of ring.withoutShare()) app.log.warn({ kid: e.kid, no_share: e.no_share }, `${name} ${noShareDetail(e, opts.index)}`);
  // Reloads (and refused reloads) are logged at warn; the start-up hash is in the ready line too.
  log = (msg, fields, level = 'warn') => app.log[level](fields ?? {}, msg);
  for (const [msg, fields, level] of early.splice(0)) log(msg, fields, level);
  app.log.info({ policy: policy.current.revision, accepted: policy.acceptedRevisions(), pinned: !!opts.policyPin }, 'policy loaded');
  const stopWatching = policy.watch();
  // A renewed certificate is served to new connections. Not with SEV-SNP evidence: the report
  // binds the start-up certificate's key, so a renewed key is attested by a restart.
  const stopTls = opts.snp
    ? () => {}
    : watchCredentials(
        mtlsPaths,
        mtls,
        (next) => {
          (app.server as unknown as HttpsServer).setSecureContext({ key: next.key, cert: next.cert, ca: next.ca, minVersion: 'TLSv1.3' });
          ownCertNotAfter = certificateNotAfter(next.cert);
        },
        {
          intervalMs: opts.tlsPollMs,
          log,
        },
      );
  const metricsServer = opts.metricsListen ? await startMetricsServer(metrics.registry, opts.metricsListen) : undefined;
  app.addHook('onClose', async () => {
    stopWatching();
    stopTls();
    await metricsServer?.close();
    await shareLog.close();
  });
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `https://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  return { app, url, identifier: ring.identifier, policyHash: policy.current.revision, ...(metricsServer ? { metricsUrl: metricsServer.url } : {}) };
}

/** Evidence for the policy in force, fetched again only when the policy hash changes. */
function evidenceFor(snp: NonNullable<SignerProcessOptions['snp']>, certPem: string, policyHash: () => string) {
  const source = snp.source === 'configfs' ? configfsTsmSource(undefined, snp.vcek) : fileSource(snp.report, snp.vcek);
  let cached: { hash: string; evidence: Promise<SnpEvidence> } | undefined;
  return (): Promise<SnpEvidence> => {
    const hash = policyHash();
    if (cached?.hash !== hash) cached = { hash, evidence: source.evidence(reportDataFor(certPem, hash)) };
    return cached.evidence;
  };
}
