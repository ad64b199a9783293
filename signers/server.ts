// One FROST signer: HTTPS with mandatory client certificates, holding its key shares (one per key of
// its key ring, signers/key-ring.ts) in memory.
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { certificateProblem, describePeer, RENEW_HINT } from '../tls/certificate-errors.js';
import { CHECKPOINT_PATH } from '../transparency/tiles.js';
import { commit, signShare, type GroupInfo, type SecretShare, type WireCommitment } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { thumbprint } from '../protocol/jwk.js';
import { STRICT_AJV, installProblemHandlers, sendProblem } from '../http/problem-response.js';
import { isSignerConfigurationRefusal } from '../protocol/problem.js';
import type { Round1Request, Round2Request, SignerInfo } from '../protocol/wire.js';
import type { SnpEvidence } from './attestation-source.js';
import { CheckpointRefused, type CheckpointGuard } from './checkpoint-guard.js';
import { classifySigningMessage } from '../transparency/signing-message.js';
import { ContextMismatch, headerKid, type CheckedMessage, type MintChecker } from './mint-check.js';
import { KeyRingError, type KeyRing } from './key-ring.js';
import { keyRingRoutes, type KeyRouteDeps } from './key-routes.js';
import { traceRequests } from '../tracing/fastify.js';
import { installSignerMetrics, type SignerMetrics } from './metrics.js';
import { NonceStore, wipe } from './nonce-store.js';
import { requestSchema, serveOpenApi } from './openapi.js';
import { shareCeremonyRoutes, type ShareRouteDeps } from './share-routes.js';
import { sha256Hex, type ShareLog } from './share-log.js';
import { canonicalJson, wellFormedJson } from '../protocol/canonical-json.js';

interface SignerTls {
  key: string;
  cert: string;
  ca: string;
}

/** What the signing routes need of the key ring (signers/key-ring.ts). */
export type SigningKeys = Pick<KeyRing, 'current' | 'anyShare' | 'signing' | 'logKey' | 'shareStatus' | 'identifier'>;

export interface SignerDeps {
  /** Every key this signer holds a share of, by kid, with its signing window. */
  keys: SigningKeys;
  tls: SignerTls;
  /** Re-derives the token the mint context allows (I2). */
  checker: MintChecker;
  /** Checks a checkpoint extends the last one this signer signed; without it checkpoints are refused. */
  checkpoints?: CheckpointGuard;
  /** SEV-SNP evidence for /v1/info, bound to this signer's TLS key and current policy. */
  attestation?: () => Promise<SnpEvidence>;
  /** Common names of client certificates allowed to call (the coordinator). */
  allowedClients: string[];
  logger?: boolean | object;
  /** Prometheus metrics served at GET /metrics (to allowedClients and metricsClients). */
  metrics?: SignerMetrics;
  /** Client certificate CNs that may read GET /metrics and nothing else (monitoring). */
  metricsClients?: string[];
  nonces?: NonceStore;
  now?: () => number;
  /** This signer's own log of released shares (issue 15): written before a share leaves, served read-only. */
  shareLog?: ShareLog;
  /** Client certificate CNs that may read the share log (GET /v1/log/…) and nothing else (auditors). */
  logClients?: string[];
  /** notAfter (ms) of the TLS certificate served now (it may be renewed while running). */
  certificateNotAfter?: () => number | undefined;
  /** Insecure choices this signer was explicitly allowed to make (reported in /v1/info, warned at start). */
  insecure?: string[];
  /**
   * Share refresh, reshare and repair (signers/share-routes.ts, docs/keys.md): the routes are
   * mounted and the signer signs with the store's current share, which changes at activation.
   */
  shareCeremony?: ShareRouteDeps;
  /** Key rotation (docs/keys.md): the DKG and key-ring routes, for the same allowed clients. */
  rotation?: Omit<KeyRouteDeps, 'now'>;
}

/** A short, stable name for this signer's share: it changes whenever the share does (refresh, repair, reshare). */
function shareVersion(verifyingShare: string): string {
  return createHash('sha256').update(verifyingShare).digest('hex').slice(0, 16);
}

// Request bodies are validated with the schemas of signers/openapi.json.
const round1Schema = requestSchema('Round1Request');
const round2Schema = requestSchema('Round2Request');

/** The client certificate's CN, looked up once per TLS connection. */
const clientNames = new WeakMap<object, string>();
function clientName(socket: TLSSocket): string {
  let cn = clientNames.get(socket);
  if (cn === undefined) {
    const peer = socket.getPeerCertificate?.();
    cn = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : '';
    clientNames.set(socket, cn);
  }
  return cn;
}

function sameCommitment(a: WireCommitment, b: WireCommitment | undefined): boolean {
  return !!b && a.identifier === b.identifier && a.hiding === b.hiding && a.binding === b.binding;
}

/**
 * Closes every TLS connection whose client certificate did not verify before any byte of HTTP is
 * read, and logs which certificate and why: "client certificate refused: CN=coordinator, notAfter
 * …: has expired".
 */
function refuseUnverifiedClients(app: FastifyInstance): void {
  (app.server as unknown as TlsServer).prependListener('secureConnection', (socket: TLSSocket) => {
    if (socket.authorized) return;
    const code = String(socket.authorizationError ?? 'NO_CERTIFICATE');
    const peer = socket.getPeerX509Certificate();
    app.log.warn(
      { client: describePeer(peer), reason: code },
      `client certificate refused: ${describePeer(peer)}: ${peer ? certificateProblem(code) : 'none presented'}${code === 'CERT_HAS_EXPIRED' ? `; ${RENEW_HINT}` : ''}`,
    );
    socket.destroy();
  });
}

export async function buildSignerServer(deps: SignerDeps): Promise<FastifyInstance> {
  const { keys } = deps;
  // Share refresh, reshare and repair (share-routes.ts) keep a key's group key and replace this
  // signer's share of it in their store: for that kid, the store's share and key set are used.
  const noShare = 'this signer holds no share of the key set any more (it was left out of a reshare)';
  /**
   * Whether this signer holds a share of the key signing now; without one (lost: awaiting a
   * repair; a new member awaiting a reshare; left out by a reshare) it signs nothing, and says so
   * in /v1/info, /readyz and its refusals (`not_ready`: the coordinator asks other signers).
   */
  const heldNow = (nowS: number): { share?: SecretShare; group: GroupInfo; status: ReturnType<SigningKeys['shareStatus']> } => {
    const current = keys.current(nowS);
    const status = keys.shareStatus(nowS);
    const override = ceremonyOverride(current.kid);
    if (override) return { ...override, status: override.share ? { kid: current.kid, state: 'held' } : status.state === 'held' ? { kid: current.kid, state: 'removed', detail: noShare } : status };
    const share = keys.anyShare(nowS);
    return { ...(share ? { share } : {}), group: current.group, status };
  };
  const ceremonyOverride = (kid: string): { share?: SecretShare; group: GroupInfo } | undefined => {
    const held = deps.shareCeremony?.store.current();
    return held && thumbprint(held.group.group_public_key) === kid ? held : undefined;
  };
  const nonces = deps.nonces ?? new NonceStore();
  const now = deps.now ?? (() => Date.now());
  const allowed = new Set(deps.allowedClients);
  const metricsReaders = new Set([...deps.allowedClients, ...(deps.metricsClients ?? [])]);
  const logReaders = new Set([...deps.allowedClients, ...(deps.logClients ?? [])]);

  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 64 * 1024,
    ajv: STRICT_AJV,
    // rejectUnauthorized is false only so that the refusal below can say whose certificate failed
    // and why ("expired"); OpenSSL's own refusal closes the connection without a word.
    https: { key: deps.tls.key, cert: deps.tls.cert, ca: deps.tls.ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
  });
  refuseUnverifiedClients(app);
  installProblemHandlers(app);
  traceRequests(app, 'ztmint.signer');

  // refuseUnverifiedClients already closed connections without a verified certificate (checked
  // again here, should one get through); this pins which certificates may call.
  app.addHook('onRequest', async (request, reply) => {
    if (!(request.raw.socket as TLSSocket).authorized) return sendProblem(reply, 'forbidden', 'client certificate did not verify');
    const cn = clientName(request.raw.socket as TLSSocket);
    const readsMetrics = deps.metrics && request.method === 'GET' && request.url === '/metrics';
    // Auditors read the share log and the info naming its key; nothing else.
    const readsLog = request.method === 'GET' && (request.url.startsWith('/v1/log/') || request.url === '/v1/info');
    if (!(readsMetrics ? metricsReaders : readsLog ? logReaders : allowed).has(cn)) return sendProblem(reply, 'forbidden', 'client certificate is not allowed to call this signer');
  });

  if (deps.metrics) installSignerMetrics(app, deps.metrics);

  const notAfter = () => {
    const ms = deps.certificateNotAfter?.();
    return ms !== undefined && Number.isFinite(ms) ? ms : undefined;
  };
  app.get('/v1/info', async () => {
    // The key signing now; GET /v1/keys/ring lists the whole ring.
    const nowS = Math.floor(now() / 1000);
    const held = heldNow(nowS);
    const { group } = held;
    const identifier = held.share?.identifier ?? keys.identifier;
    // No share: no verifying share to name; `key_share` says why and what to do.
    const verifyingShare = held.share ? group.verifying_shares[identifier] : undefined;
    const attestation = await deps.attestation?.();
    const expiry = notAfter();
    const info: SignerInfo = {
      identifier,
      group_public_key: group.group_public_key,
      ...(verifyingShare ? { verifying_share: verifyingShare, share_version: shareVersion(verifyingShare) } : {}),
      threshold: group.threshold,
      signers: group.signers,
      key_share: { kid: held.status.kid, state: held.status.state, ...(held.status.detail ? { detail: held.status.detail } : {}) },
      ...deps.checker.describe(),
      ...(expiry !== undefined ? { certificate_not_after: new Date(expiry).toISOString() } : {}),
      insecure: deps.insecure ?? [],
      ...(deps.shareLog ? { share_log: { origin: deps.shareLog.origin, key: deps.shareLog.verifierKey } } : {}),
    };
    return attestation ? { ...info, attestation } : info;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/v1/tlog', async (_request, reply) => {
    if (!deps.checkpoints) return sendProblem(reply, 'not_found', 'this signer signs no checkpoints');
    return deps.checkpoints.state();
  });
  app.get('/readyz', async (_request, reply) => {
    const problems: string[] = [];
    const expiry = notAfter();
    if (expiry !== undefined && expiry <= now()) problems.push(`this signer's TLS certificate expired at ${new Date(expiry).toISOString()}; renew it`);
    const policyRevisions = deps.checker.acceptedRevisions();
    if (policyRevisions.length === 0) problems.push('no policy revision is accepted; deploy a policy');
    const held = heldNow(Math.floor(now() / 1000));
    if (!held.share) problems.push(held.status.detail ?? noShare);
    return reply.code(problems.length ? 503 : 200).send({ ready: problems.length === 0, policy_revisions: policyRevisions, problems });
  });
  serveOpenApi(app);

  // The share log in the tlog-tiles layout, read-only: `checkpoint` (signed by this signer's own
  // note key) and the tiles, so an auditor can check the whole log and compare it with the
  // coordinator's (`ztmint audit cross-check`).
  const serveLog = async (path: string, reply: FastifyReply) => {
    const data = deps.shareLog ? await deps.shareLog.read(path) : undefined;
    if (data === undefined) return sendProblem(reply, 'not_found', deps.shareLog ? `the share log has no ${path}` : 'this signer keeps no share log');
    return reply
      .header('content-type', path === CHECKPOINT_PATH ? 'text/plain; charset=utf-8' : 'application/octet-stream')
      .header('cache-control', path === CHECKPOINT_PATH ? 'no-store' : 'public, max-age=31536000, immutable')
      .send(Buffer.from(data));
  };
  app.get('/v1/log/checkpoint', async (_request, reply) => serveLog(CHECKPOINT_PATH, reply));
  app.get<{ Params: { '*': string } }>('/v1/log/tile/*', async (request, reply) => serveLog(`tile/${request.params['*']}`, reply));

  app.post<{ Body: Round1Request }>('/v1/round1', { schema: { body: round1Schema } }, async (request, reply) => {
    const { session, count } = request.body;
    // Nonces do not depend on the key (the share only hedges the randomness): any share will do.
    const held = heldNow(Math.floor(now() / 1000));
    const share = held.share;
    // Without a share this signer could not sign round 2: refused now, so the coordinator picks others.
    if (!share) return sendProblem(reply, 'not_ready', held.status.detail ?? noShare);
    if (count === undefined) {
      const { nonces: secretNonces, commitment } = commit(share);
      if (!nonces.put(session, secretNonces, commitment)) {
        wipe(secretNonces);
        return sendProblem(reply, 'session_unknown', 'session id was already used; start a new session');
      }
      return { session, commitments: commitment };
    }
    // Preprocessing: `count` commitments for the sessions `${session}.${i}`, for this client only.
    const batch = Array.from({ length: count }, () => commit(share));
    if (!nonces.putBatch(session, clientName(request.raw.socket as TLSSocket), batch)) {
      for (const b of batch) wipe(b.nonces);
      return sendProblem(reply, 'session_unknown', 'session id was already used; start a new session');
    }
    return { session, commitments: batch[0]!.commitment, batch: batch.map((b) => b.commitment) };
  });

  app.post<{ Body: Round2Request }>('/v1/round2', { schema: { body: round2Schema } }, async (request, reply) => {
    const body = request.body;
    // Taken out first: from here on this nonce can never be used again, whatever the outcome.
    const entry = nonces.take(body.session, clientName(request.raw.socket as TLSSocket));
    if (!entry) return sendProblem(reply, 'session_unknown', 'unknown, expired or already used session');
    try {
      const mine = body.commitments.find((c) => c.identifier === entry.commitment.identifier);
      if (!sameCommitment(entry.commitment, mine)) {
        return sendProblem(reply, 'context_mismatch', "commitment list does not hold this signer's round-1 commitment");
      }
      const nowS = Math.floor(now() / 1000);
      // A share dropped since round 1 (left out by a reshare): say so before judging the list
      // against a key set that no longer has this signer.
      const heldRound2 = heldNow(nowS);
      if (!heldRound2.share) return sendProblem(reply, 'not_ready', heldRound2.status.detail ?? noShare);
      const ids = new Set(body.commitments.map((c) => c.identifier));
      const known = (g: { verifying_shares: Record<string, string> }) => ids.size === body.commitments.length && body.commitments.every((c) => c.identifier in g.verifying_shares);
      if (!known(keys.current(nowS).group)) return sendProblem(reply, 'invalid_request', 'commitment list has duplicate or unknown identifiers');
      const message = new TextEncoder().encode(body.message);
      // Domain separation: one group key signs tokens and checkpoints, so the message's kind is
      // decided first and each kind is checked in full (transparency/signing-message.ts).
      const kind = classifySigningMessage(message);
      let signing: { share?: SecretShare; group: GroupInfo };
      let checked: CheckedMessage | undefined;
      if (kind.kind === 'jws') {
        if (!body.context || body.checkpoint) return sendProblem(reply, 'invalid_request', 'a token signing input needs `context` and no `checkpoint`');
        // The token names its key (kid); the checker rebuilds the token with that kid, and the ring
        // says whether this signer may sign with that key now, for a token expiring then (I12).
        const kid = headerKid(body.message);
        checked = await deps.checker.check(body.message, body.context, nowS, kid);
        try {
          signing = keys.signing(kid, nowS, checked.exp);
          signing = ceremonyOverride(kid) ?? signing;
        } catch (err) {
          // No share of the key (lost, joining, left out): transient for the coordinator, which asks others.
          if (err instanceof KeyRingError) return sendProblem(reply, err.code === 'no_share' ? 'not_ready' : 'context_mismatch', err.message);
          throw err;
        }
      } else if (kind.kind === 'checkpoint') {
        if (!body.checkpoint || body.context) return sendProblem(reply, 'invalid_request', 'a checkpoint needs `checkpoint` (its consistency proof) and no `context`');
        if (!deps.checkpoints) return sendProblem(reply, 'checkpoint_refused', 'this signer signs no checkpoints');
        await deps.checkpoints.check(kind.checkpoint, body.checkpoint.old_size, body.checkpoint.proof);
        // Checkpoints are signed with the log key, the first key of the ring, whatever signs tokens.
        signing = keys.logKey();
      } else {
        return sendProblem(reply, 'context_mismatch', `message is neither a token signing input nor a checkpoint: ${kind.kind === 'cosignature' ? 'this signer cosigns nothing' : kind.reason}`);
      }
      const { share, group } = signing;
      if (!share) return sendProblem(reply, 'not_ready', kind.kind === 'checkpoint' ? `this signer holds no share of the log key ${keys.logKey().kid}, which signs checkpoints` : noShare);
      if (!known(group)) return sendProblem(reply, 'invalid_request', 'commitment list has duplicate or unknown identifiers');
      let sigShare: Uint8Array;
      try {
        sigShare = signShare(share, group, entry.nonces, body.commitments, message);
      } catch {
        // The ciphersuite refuses identity, small-order or non-canonical commitment points.
        return sendProblem(reply, 'invalid_request', 'commitments are not valid group elements');
      }
      // A token share is written down durably before it leaves: a token needs t shares, so t
      // signer logs name every token that can exist, whatever the coordinator records.
      // (Checkpoint shares are bound by tlog-state.json instead.)
      if (checked && body.context)
        await deps.shareLog?.append({
          v: 1,
          jti: checked.jti,
          message_sha256: sha256Hex(body.message),
          context_sha256: sha256Hex(canonicalJson(wellFormedJson(body.context))),
          exp: checked.exp,
          client: clientName(request.raw.socket as TLSSocket),
          time: new Date(now()).toISOString(),
        });
      return { share: b64url(sigShare) };
    } catch (err) {
      if (err instanceof ContextMismatch) return sendProblem(reply, isSignerConfigurationRefusal(err.code) ? err.code : 'context_mismatch', err.message);
      if (err instanceof CheckpointRefused) return sendProblem(reply, 'checkpoint_refused', err.message);
      throw err; // problem+json internal_error, logged without request data
    } finally {
      wipe(entry.nonces);
    }
  });

  if (deps.shareCeremony) shareCeremonyRoutes(app, deps.shareCeremony);
  if (deps.rotation) keyRingRoutes(app, { ...deps.rotation, now });
  return app;
}
