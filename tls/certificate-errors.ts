// OpenSSL's verification codes in words an operator acts on: which certificate, what is wrong
// with it ("expired"), and what to do. Used on both sides of the coordinator–signer mTLS link.
import type { X509Certificate } from 'node:crypto';

const WORDS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: 'is not valid yet (clock skew, or issued for the future)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'is not issued by a CA in the trust bundle',
  UNABLE_TO_GET_ISSUER_CERT: 'is not issued by a CA in the trust bundle',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'is not issued by a CA in the trust bundle',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed, not issued by a CA in the trust bundle',
  SELF_SIGNED_CERT_IN_CHAIN: 'chains to a CA outside the trust bundle',
  CERT_SIGNATURE_FAILURE: 'has a bad signature',
  ERR_TLS_CERT_ALTNAME_INVALID: 'does not carry the expected name as a SAN',
};

/** The verification code of a TLS failure (on the error or its cause), if it is one. */
export function certificateErrorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && e.code in WORDS) return e.code;
  }
  return undefined;
}

export function certificateProblem(code: string): string {
  return WORDS[code] ?? `failed verification (${code})`;
}

/** "CN=coordinator, notAfter 2026-…" for a log line; never more than the public subject and dates. */
export function describePeer(cert: X509Certificate | undefined): string {
  if (!cert) return 'no certificate';
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject;
  return `CN=${cn}, notAfter ${new Date(cert.validTo).toISOString()}`;
}

export const RENEW_HINT = 'renew it with `ztmint pki renew` (processes reload renewed files without a restart)';
