// The action's logic, with its dependencies passed in so it can be tested with fakes.

import { InputError, readInputs, type GetInput } from './inputs.js';
import { mintToken, type Fetch } from './mint-client.js';

/** The part of `@actions/core` that the action uses. */
export interface Core {
  getInput: GetInput;
  getIDToken(audience?: string): Promise<string>;
  setSecret(secret: string): void;
  setOutput(name: string, value: string): void;
  setFailed(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export interface RunDeps {
  core: Core;
  fetch: Fetch;
  /** Environment to look for the runner's ID-token variables in (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Mint request timeout in milliseconds. */
  timeoutMs?: number;
}

export const PERMISSIONS_HINT =
  'this job cannot get an OIDC token from GitHub (ACTIONS_ID_TOKEN_REQUEST_URL and ' +
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set): add `permissions: id-token: write` to the job ' +
  '(fork pull requests never get an OIDC token)';

/**
 * Mints a token and sets the outputs `token`, `expires-at` and `jti`.
 * Never throws: any failure ends in `core.setFailed` with a message that
 * contains neither the OIDC token nor the minted token.
 */
export async function run(deps: RunDeps): Promise<void> {
  const { core } = deps;
  const env = deps.env ?? process.env;
  const secrets: string[] = [];
  const mask = (secret: string): void => {
    // Register with the runner first, then remember it for our own redaction.
    core.setSecret(secret);
    secrets.push(secret);
  };

  try {
    const inputs = readInputs(core.getInput);

    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new InputError(PERMISSIONS_HINT);
    }

    let oidcToken: string;
    try {
      oidcToken = await core.getIDToken(inputs.oidcAudience);
    } catch (err) {
      throw new Error(
        `could not get an OIDC token from the runner (audience ${JSON.stringify(inputs.oidcAudience)}): ` +
          `${err instanceof Error ? err.message : String(err)}`,
      );
    }
    mask(oidcToken);

    const minted = await mintToken({
      fetch: deps.fetch,
      coordinatorUrl: inputs.coordinatorUrl,
      oidcToken,
      oidcAudience: inputs.oidcAudience,
      request: {
        scopes: inputs.scopes,
        ...(inputs.ttl !== undefined ? { ttl: inputs.ttl } : {}),
        ...(inputs.audience !== undefined ? { audience: inputs.audience } : {}),
      },
      maskSecret: mask,
      ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    });

    core.setOutput('token', minted.token);
    core.setOutput('expires-at', minted.expiresAt);
    core.setOutput('jti', minted.jti);

    const missing = inputs.scopes.filter((s) => !minted.scopes.includes(s));
    if (missing.length > 0) {
      core.warning(`the coordinator did not grant every requested scope; missing: ${missing.join(', ')}`);
    }
    core.info(
      `Minted token jti=${minted.jti} scopes=${minted.scopes.join(',')} ` +
        `expires_at=${minted.expiresAt} (in ${minted.expiresIn} s)` +
        `${minted.audience ? ` audience=${minted.audience}` : ''} audit_index=${minted.auditIndex}`,
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    core.setFailed(redact(message, secrets));
  }
}

/** Replaces every occurrence of a known secret with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}
