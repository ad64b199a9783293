// Request and response bodies of the signer API (coordinator ⇄ signer, mTLS only).
import type { Identifier, WireCommitment } from './ciphersuite.js';

export interface MintRequest {
  scopes: string[];
  ttl?: number;
  audience?: string;
}

export interface MintContext {
  oidc_token: string;
  request: MintRequest;
}

export interface SignerInfo {
  identifier: Identifier;
  group_public_key: string;
  verifying_share: string;
  threshold: number;
  signers: number;
  /** SEV-SNP evidence whose REPORT_DATA binds this signer's TLS key and policy hash (docs/attestation.md). */
  attestation?: { type: 'sev-snp'; report: string; vcek: string };
}

/**
 * Round 1. Without `count`: fresh nonces for the session `session`; the answer's `commitments`
 * is their commitment. With `count` = N (1…ROUND1_MAX_COUNT), preprocessing: N single-use
 * commitments handed out ahead of time, for the N sessions `preprocessedSession(session, i)` =
 * `${session}.${i}`, i = 0…N−1. The answer's `batch[i]` belongs to session `${session}.${i}`
 * (and `commitments` = `batch[0]`). Such nonces live PREPROCESSED_TTL_S at the signer, at most a
 * bounded number per client certificate (the oldest go first); only the client that asked may
 * use them. Either way `session` is accepted once, ever: a batch id can never be reused, nor
 * used as an ordinary session, and round 2 for any of its sessions works at most once.
 */
export interface Round1Request {
  session: string;
  count?: number;
}

export interface Round1Response {
  session: string;
  commitments: WireCommitment;
  /** Present exactly when the request had `count`: batch[i] is the commitment of `${session}.${i}`. */
  batch?: WireCommitment[];
}

export const ROUND1_MAX_COUNT = 256;
/** How long a signer keeps preprocessed nonces; a coordinator drops them from its pool sooner. */
export const PREPROCESSED_TTL_S = 600;
export const preprocessedSession = (session: string, i: number) => `${session}.${i}`;
/** Round 2's session: a round-1 session, or `${session}.${i}` from a preprocessing batch. */
export const ROUND2_SESSION_PATTERN = '^[A-Za-z0-9_-]{22,64}(?:\\.(?:0|[1-9][0-9]{0,2}))?$';

export interface Round2Request {
  session: string;
  message: string;
  commitments: WireCommitment[];
  context: MintContext;
}

export interface Round2Response {
  share: string;
}

/** 128-bit random session ids, base64url. */
export const SESSION_PATTERN = '^[A-Za-z0-9_-]{22,64}$';
