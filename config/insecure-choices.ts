// Insecure choices are loud: a service refuses to start with one unless a flag that says so allows
// it, and then warns at start-up and reports it (signer `/v1/info` `insecure`, coordinator
// `/readyz` `warnings`, `ztmint status`). The dev stack and the test harness pass the flags; a
// production configuration that drifts into one of them stops instead of running quietly weaker.
import { ZtmintError } from '../errors/ztmint-error.js';

/** One insecure choice found in a configuration, and whether its flag allows it. */
export interface InsecureChoice {
  /** The flag that allows it, e.g. `--insecure-allow-http-issuer`. */
  flag: string;
  allowed: boolean;
  /** What is insecure and why, one line without secrets (also the warning text). */
  warning: string;
}

/** A service was asked to start with an insecure choice its flag does not allow. */
export class InsecureChoiceRefused extends ZtmintError<'insecure_choice_refused'> {}

/** Throws for the first choice not allowed; otherwise returns the warnings of the allowed ones. */
export function checkInsecureChoices(choices: InsecureChoice[]): string[] {
  const refused = choices.find((c) => !c.allowed);
  if (refused) throw new InsecureChoiceRefused('insecure_choice_refused', `refusing to start: ${refused.warning}; fix the configuration, or pass ${refused.flag} if this is a test setup`);
  return choices.map((c) => c.warning);
}

/** Plain-HTTP OIDC issuers (their discovery and keys can be replaced on the way). */
export function httpIssuerChoices(issuers: Array<{ issuer: string; jwksUri?: string }>, allowed: boolean): InsecureChoice[] {
  const out: InsecureChoice[] = [];
  for (const { issuer, jwksUri } of issuers) {
    if (!issuer.startsWith('https://')) out.push({ flag: '--insecure-allow-http-issuer', allowed, warning: `OIDC issuer ${issuer} is not https://: its keys can be replaced in transit` });
    if (jwksUri !== undefined && !jwksUri.startsWith('https://')) {
      out.push({ flag: '--insecure-allow-http-issuer', allowed, warning: `the JWKS URL ${jwksUri} of ${issuer} is not https://: its keys can be replaced in transit` });
    }
  }
  return out;
}
