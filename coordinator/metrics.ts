// The coordinator's Prometheus metrics. Every label is a closed set (outcomes and problem codes,
// configured signer names, fixed reason names), never token, claim or key content. The request
// path only increments counters and observes histograms; gauges that summarise state (quorum,
// pool depth, policy, certificate expiry) are computed when Prometheus scrapes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { certificateExpiryGauge, groupKeyInfoGauge, policyInfoGauge } from '../observability/common-metrics.js';
import { SignerRefused, SignerUnavailable } from './signer-client.js';

/** Which signer call a latency is for: interactive round 1, a preprocessing batch, round 2. */
export type SignerCall = 'round1' | 'preprocess' | 'round2' | 'checkpoint';

/** Why a signer was left out of a signing run, when it did not answer with a problem document. */
export type SignerFailure = 'unreachable' | 'malformed' | 'invalid_share' | 'duplicate_identifier';

/** What scrape-time gauges read; wired once the coordinator's parts exist. */
export interface CoordinatorState {
  policyHash(): string;
  kid: string;
  threshold: number;
  signers: Array<{ name: string; poolDepth(): number | undefined }>;
  /** notAfter (ms) of this process's own TLS certificate. */
  ownCertNotAfter?: number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const mints = new Counter({
    name: 'ztmint_mint_requests_total',
    help: 'Mint requests past input validation, by outcome: "granted" or the problem code of the refusal (each one is one audit record)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const mintSeconds = new Histogram({
    name: 'ztmint_mint_duration_seconds',
    help: 'Time to answer a mint request (audited outcomes only)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const signerRefusals = new Counter({
    name: 'ztmint_quorum_signer_refusals_total',
    help: 'Problem documents signers answered the coordinator with, by signer and problem code',
    labelNames: ['signer', 'code'] as const,
    registers: [registry],
  });
  const signerFailures = new Counter({
    name: 'ztmint_quorum_signer_failures_total',
    help: 'Signer calls that failed without a problem document (unreachable, malformed answer) or shares that did not verify (invalid_share), by signer',
    labelNames: ['signer', 'reason'] as const,
    registers: [registry],
  });
  const witnessRequests = new Counter({
    name: 'ztmint_witness_requests_total',
    help: 'Checkpoints sent to external tlog witnesses (--witness), by witness name and outcome: "cosigned" (a cosignature verified under its key was stored) or "failed" (refused, unreachable or no valid cosignature; logged)',
    labelNames: ['witness', 'outcome'] as const,
    registers: [registry],
  });
  const signerCallSeconds = new Histogram({
    name: 'ztmint_quorum_signer_request_duration_seconds',
    help: 'Round trip of one coordinator → signer call over mTLS, by signer and call (round1, preprocess, round2 of a token, checkpoint: round 2 of a log checkpoint)',
    labelNames: ['signer', 'call'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const rateLimitHits = new Counter({
    name: 'ztmint_rate_limit_hits_total',
    help: 'Mint requests refused by a rate limit, by the limit that was exhausted (repository or sub)',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  const oidcFailures = new Counter({
    name: 'ztmint_oidc_verification_failures_total',
    help: 'OIDC tokens the coordinator refused, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const auditAppendSeconds = new Histogram({
    name: 'ztmint_audit_append_duration_seconds',
    help: 'Time from asking for an audit append to its durable acknowledgement (includes waiting for the group commit)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const auditCommitSeconds = new Histogram({
    name: 'ztmint_audit_group_commit_duration_seconds',
    help: 'Time of one audit group commit (write + fdatasync)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const auditBatchRecords = new Histogram({
    name: 'ztmint_audit_group_commit_records',
    help: 'Audit records written by one group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const auditFailures = new Counter({
    name: 'ztmint_audit_append_failures_total',
    help: 'Audit appends that failed (the request got 503 audit_unavailable and nothing was issued)',
    registers: [registry],
  });

  /** Last known reachability per signer: from the background probe and from every call. */
  const reachable = new Map<string, boolean>();
  /** notAfter (ms) of certificates: "self" and each signer's, as last seen on a TLS connection. */
  const certificates = new Map<string, number>();
  let state: CoordinatorState | undefined;

  const signerUp = new Gauge({
    name: 'ztmint_quorum_signer_up',
    help: 'Whether the signer answered its last call or probe (1) or not (0)',
    labelNames: ['signer'] as const,
    registers: [registry],
    collect() {
      for (const [signer, up] of reachable) this.set({ signer }, up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ztmint_quorum_reachable_signers',
    help: 'Signers that answered their last call or probe',
    registers: [registry],
    collect() {
      let n = 0;
      for (const up of reachable.values()) if (up) n++;
      this.set(n);
    },
  });
  new Gauge({
    name: 'ztmint_quorum_threshold',
    help: 'Signers needed for a signature (t)',
    registers: [registry],
    collect() {
      if (state) this.set(state.threshold);
    },
  });
  new Gauge({
    name: 'ztmint_quorum_signers',
    help: 'Signers this coordinator is configured with (n)',
    registers: [registry],
    collect() {
      if (state) this.set(state.signers.length);
    },
  });
  new Gauge({
    name: 'ztmint_commitment_pool_depth',
    help: 'Preprocessed round-1 commitments on hand per signer (0 means the next mint with it takes two rounds)',
    labelNames: ['signer'] as const,
    registers: [registry],
    collect() {
      for (const s of state?.signers ?? []) {
        const depth = s.poolDepth();
        if (depth !== undefined) this.set({ signer: s.name }, depth);
      }
    },
  });
  certificateExpiryGauge(registry, () => certificates);

  return {
    registry,
    mints,
    mintSeconds,
    signerRefusals,
    signerFailures,
    witnessRequests,
    signerCallSeconds,
    signerUp,
    rateLimitHits,
    oidcFailures,
    auditAppendSeconds,
    auditCommitSeconds,
    auditBatchRecords,
    auditFailures,

    /** Called once the coordinator's parts exist: registers the info and state gauges. */
    describe(s: CoordinatorState): void {
      state = s;
      policyInfoGauge(registry, s.policyHash);
      groupKeyInfoGauge(registry, s.kid, s.threshold, s.signers.length);
      if (s.ownCertNotAfter !== undefined) certificates.set('self', s.ownCertNotAfter);
    },

    /** Our own certificate was renewed (reloaded from disk): the expiry gauge follows it. */
    ownCertificateRenewed(notAfter: number): void {
      certificates.set('self', notAfter);
    },

    /** A signer answered (or not); `notAfter` when its certificate was seen. */
    signerSeen(signer: string, up: boolean, notAfter?: number): void {
      reachable.set(signer, up);
      if (notAfter !== undefined) certificates.set(signer, notAfter);
    },

    /** One coordinator → signer call ended: latency, reachability, refusal or failure. */
    signerCall(signer: string, call: SignerCall, seconds: number, err?: unknown): void {
      signerCallSeconds.observe({ signer, call }, seconds);
      if (err === undefined || err instanceof SignerRefused) reachable.set(signer, true);
      if (err instanceof SignerRefused) signerRefusals.inc({ signer, code: err.code });
      else if (err instanceof SignerUnavailable) {
        const malformed = / (sent|answered) /.test(err.message);
        if (!malformed) reachable.set(signer, false);
        signerFailures.inc({ signer, reason: malformed ? 'malformed' : 'unreachable' });
      }
    },

    signerFailure(signer: string, reason: SignerFailure): void {
      signerFailures.inc({ signer, reason });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A bounded reason name for an OIDC refusal (the verifier's problem code and message): the label
 * of ztmint_oidc_verification_failures_total. Never the token or a claim value.
 */
export function oidcFailureReason(code: string, message: string): string {
  if (code === 'token_replayed') return 'replayed';
  if (code === 'issuer_unavailable') return 'issuer_unavailable';
  const rules: Array<[RegExp, string]> = [
    [/send the GitHub OIDC token/, 'missing'],
    [/too large/, 'too_large'],
    [/does not trust/, 'untrusted_issuer'],
    [/has expired|too old/, 'expired'],
    [/not yet valid|in the future/, 'not_yet_valid'],
    [/audience/, 'audience'],
    [/signature is invalid|key the issuer does not publish/, 'signature'],
    [/RS256|unsupported algorithm/, 'algorithm'],
    [/malformed|canonical compact JWS/, 'malformed'],
    [/claim "/, 'claims'],
  ];
  for (const [pattern, reason] of rules) if (pattern.test(message)) return reason;
  return 'other';
}
