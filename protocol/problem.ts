// RFC 9457 problem details with the stable error codes of docs/architecture.md.

import { ZtmintError, type ZtmintErrorOptions } from '../errors/ztmint-error.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const PROBLEM_STATUS = {
  invalid_request: 400,
  invalid_token: 401,
  invalid_client: 401,
  policy_denied: 403,
  forbidden: 403,
  context_mismatch: 403,
  not_found: 404,
  token_replayed: 409,
  session_unknown: 409,
  policy_not_accepted: 409,
  issuer_not_accepted: 409,
  group_key_not_held: 409,
  oidc_issuer_not_trusted: 409,
  dkg_aborted: 409,
  dkg_conflict: 409,
  checkpoint_refused: 409,
  key_conflict: 409,
  payload_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  policy_mismatch: 500,
  issuer_mismatch: 500,
  group_mismatch: 500,
  oidc_issuer_mismatch: 500,
  quorum_unavailable: 503,
  rotation_failed: 503,
  ceremony_failed: 503,
  audit_unavailable: 503,
  store_unavailable: 503,
  issuer_unavailable: 503,
  not_ready: 503,
} as const;

export type ProblemCode = keyof typeof PROBLEM_STATUS;

const TITLES: Record<ProblemCode, string> = {
  invalid_request: 'Invalid request',
  invalid_token: 'Invalid token',
  invalid_client: 'Client authentication failed',
  policy_denied: 'Denied by policy',
  forbidden: 'Forbidden',
  context_mismatch: 'Message does not follow from the mint context',
  not_found: 'Not found',
  token_replayed: 'Token already used',
  session_unknown: 'Unknown or used signing session',
  policy_not_accepted: 'Policy revision not accepted by this signer',
  issuer_not_accepted: 'Token issuer not accepted by this signer',
  group_key_not_held: 'Group key not held by this signer',
  oidc_issuer_not_trusted: 'OIDC issuer not trusted by this signer',
  dkg_aborted: 'DKG ceremony aborted',
  dkg_conflict: 'Request does not fit the DKG ceremony',
  checkpoint_refused: 'Checkpoint does not extend the last one signed',
  key_conflict: 'Request does not fit the key set',
  payload_too_large: 'Request body too large',
  headers_too_large: 'Request headers too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
  policy_mismatch: 'Signers do not accept the policy revision',
  issuer_mismatch: 'Signers expect another token issuer',
  group_mismatch: 'Signers hold another group key',
  oidc_issuer_mismatch: 'Signers do not trust the OIDC issuer',
  quorum_unavailable: 'Signer quorum unavailable',
  rotation_failed: 'Key rotation failed',
  ceremony_failed: 'Key share ceremony failed',
  audit_unavailable: 'Audit log unavailable',
  store_unavailable: 'State store unavailable',
  issuer_unavailable: 'OIDC issuer unavailable',
  not_ready: 'Not ready',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  reasons?: string[];
}

export interface ProblemErrorOptions extends ZtmintErrorOptions {
  /** Policy or validation reasons, sent as the problem document's `reasons`. */
  reasons?: string[];
  /** Seconds for a Retry-After header (rate_limited, and the 503s of a store that recovers by itself). */
  retryAfter?: number;
}

/** An error that carries its problem document; `detail` must never hold a secret. */
export class ProblemError extends ZtmintError<ProblemCode> {
  readonly status: number;
  readonly reasons?: string[];
  readonly retryAfter?: number;

  constructor(code: ProblemCode, detail: string, options: ProblemErrorOptions = {}) {
    super(code, detail, options);
    this.status = PROBLEM_STATUS[code];
    if (options.reasons) this.reasons = options.reasons;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }

  toJSON(): Problem {
    return problem(this.code, this.message, this.reasons);
  }
}

export function problem(code: ProblemCode, detail: string, reasons?: string[]): Problem {
  const doc: Problem = { type: `urn:ztmint:error:${code}`, title: TITLES[code], status: PROBLEM_STATUS[code], detail, code };
  if (reasons) doc.reasons = reasons;
  return doc;
}

/**
 * Refusals that come from configuration, not from the request or from chance: the coordinator and
 * its signers disagree (policy revision, token issuer, group key, trusted OIDC issuers). The same
 * request gets the same answer until an operator fixes the configuration, so clients must not
 * retry them (500, not 503) and the coordinator answers them as soon as too few signers agree.
 */
export type ConfigurationMismatchCode = 'policy_mismatch' | 'issuer_mismatch' | 'group_mismatch' | 'oidc_issuer_mismatch';

/**
 * A signer's own codes for the same four refusals (409: the request conflicts with what this
 * signer is configured to accept), and the coordinator's code for each.
 */
export const SIGNER_CONFIGURATION_REFUSALS = {
  policy_not_accepted: 'policy_mismatch',
  issuer_not_accepted: 'issuer_mismatch',
  group_key_not_held: 'group_mismatch',
  oidc_issuer_not_trusted: 'oidc_issuer_mismatch',
} as const satisfies Partial<Record<ProblemCode, ConfigurationMismatchCode>>;

export type SignerConfigurationRefusal = keyof typeof SIGNER_CONFIGURATION_REFUSALS;

export function isSignerConfigurationRefusal(code: unknown): code is SignerConfigurationRefusal {
  return typeof code === 'string' && Object.hasOwn(SIGNER_CONFIGURATION_REFUSALS, code);
}

export function isProblemCode(code: unknown): code is ProblemCode {
  return typeof code === 'string' && Object.hasOwn(PROBLEM_STATUS, code);
}
