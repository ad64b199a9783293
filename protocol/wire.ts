// Request and response bodies of the signer API (coordinator ⇄ signer, mTLS only). The types are
// generated from signers/openapi.json, the one schema source the signers also validate with
// (protocol/signer-api.ts, scripts/generate-signer-types.mjs); this file names them and holds the
// constants of the protocol (test/signer-openapi.test.ts checks they match the document).
import type { components } from './signer-api.js';

type Schemas = components['schemas'];

export type MintRequest = Schemas['MintRequest'];
export type MintContext = Schemas['MintContext'];
/** SEV-SNP evidence, when present, binds this signer's TLS key and policy hash (docs/attestation.md). */
export type SignerInfo = Schemas['SignerInfo'];

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
export type Round1Request = Schemas['Round1Request'];
/** `batch` is present exactly when the request had `count`: batch[i] is the commitment of `${session}.${i}`. */
export type Round1Response = Schemas['Round1Response'];

export const ROUND1_MAX_COUNT = 256;
/** How long a signer keeps preprocessed nonces; a coordinator drops them from its pool sooner. */
export const PREPROCESSED_TTL_S = 600;
export const preprocessedSession = (session: string, i: number) => `${session}.${i}`;
/** Round 2's session: a round-1 session, or `${session}.${i}` from a preprocessing batch. */
export const ROUND2_SESSION_PATTERN = '^[A-Za-z0-9_-]{22,64}(?:\\.(?:0|[1-9][0-9]{0,2}))?$';

export type Round2Request = Schemas['Round2Request'];
/** The last checkpoint a signer signed (GET /v1/tlog); round 2 of a checkpoint proves consistency from it. */
export type TlogState = Schemas['TlogState'];
export type Round2Response = Schemas['Round2Response'];

/** The DKG messages (docs/dkg.md); signers/dkg.ts builds and checks them. */
export type DkgRound1Package = Schemas['DkgRound1Package'];
export type DkgEnvelope = Schemas['DkgEnvelope'];
export type DkgConfirmation = Schemas['DkgConfirmation'];
export type DkgFinal = Schemas['DkgFinal'];

/** 128-bit random session ids, base64url. */
export const SESSION_PATTERN = '^[A-Za-z0-9_-]{22,64}$';

/** A signer's key ring (GET /v1/keys/ring) and the coordinator's schedule of a rotated key (docs/keys.md). */
export type KeyRingList = Schemas['KeyRing'];
export type KeyScheduleRequest = Schemas['KeyScheduleRequest'];
