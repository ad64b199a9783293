// Does a signer agree with this coordinator on what every token is checked against? Compared from
// the signer's GET /v1/info: its group key, the policy revisions it accepts, its --token-issuer and
// the OIDC issuers it trusts. A disagreement means the signer refuses every mint with the matching
// configuration mismatch code; /readyz and `ztmint status` name it before a mint finds out.
import type { ConfigurationMismatchCode } from '../protocol/problem.js';
import type { SignerInfo } from '../protocol/wire.js';

/** What the coordinator expects every signer to agree with. */
export interface ExpectedConfiguration {
  groupPublicKey: string;
  /** The coordinator's policy revision (its policy hash, the `pol` of its tokens). */
  policyRevision: string;
  /** The coordinator's public URL: the `iss` of its tokens. */
  tokenIssuer: string;
  /** The OIDC issuers the coordinator accepts tokens from. */
  oidcIssuers: string[];
}

export interface Disagreement {
  code: ConfigurationMismatchCode;
  /** What differs, with both values; public configuration only. */
  detail: string;
}

/** Every way `info` disagrees with `expected` (empty when it agrees). Members a signer does not report are not judged. */
export function signerDisagreements(info: SignerInfo, expected: ExpectedConfiguration): Disagreement[] {
  const out: Disagreement[] = [];
  if (info.group_public_key !== expected.groupPublicKey) {
    out.push({ code: 'group_mismatch', detail: `group key ${info.group_public_key}, the coordinator's is ${expected.groupPublicKey} (stale group.json)` });
  }
  if (info.policy_revisions && !info.policy_revisions.includes(expected.policyRevision)) {
    out.push({ code: 'policy_mismatch', detail: `accepts policy revisions ${info.policy_revisions.join(', ')}, not the coordinator's ${expected.policyRevision}` });
  }
  if (info.token_issuer !== undefined && info.token_issuer !== expected.tokenIssuer) {
    out.push({ code: 'issuer_mismatch', detail: `--token-issuer ${info.token_issuer}, the coordinator's public URL is ${expected.tokenIssuer}` });
  }
  if (info.oidc_issuers) {
    const missing = expected.oidcIssuers.filter((issuer) => !info.oidc_issuers!.includes(issuer));
    if (missing.length) out.push({ code: 'oidc_issuer_mismatch', detail: `does not trust the OIDC issuer(s) ${missing.join(', ')} that the coordinator accepts` });
  }
  return out;
}
