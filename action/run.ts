// The action's main step, with its dependencies passed in so it can be tested with fakes.
//
// Order of events (each one a test): read and check every input → mask key material → ask the
// runner for an OIDC token → mask it → show its claims in a collapsed group → POST /v1/mint
// (retrying network errors and 429/502/503/504 with a fresh OIDC token each time) → mask the
// minted token → outputs, state for the post step, optional env export → log line → summary.

import { decodeClaims, formatClaims, type Claims } from './claims.js';
import { mintToken, type Fetch, type MintResult } from './coordinator-client.js';
import { createHttpClient, type HttpClient } from './http.js';
import { safeLog, type Log } from './log.js';
import { InputError, readInputs, type GetInput, type TlsInputs } from './inputs.js';
import { RetriesExhausted, realClock, withRetries, type Clock } from './retry.js';
import { Secrets } from './secrets.js';
import { STATE } from './state.js';
import { failureSummary, mintSummary } from './summary.js';

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
  saveState(name: string, value: string): void;
  getState(name: string): string;
  exportVariable(name: string, value: string): void;
  startGroup(name: string): void;
  endGroup(): void;
}

export interface RunDeps {
  core: Core;
  /** A fetch to use instead of the proxy- and TLS-aware client built from the inputs (tests). */
  fetch?: Fetch;
  /** Builds the HTTP client from the TLS inputs (default: undici + EnvHttpProxyAgent). */
  createHttpClient?: (tls: TlsInputs) => HttpClient;
  /** Environment to look for the runner's variables in (default: process.env). */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  /** Appends Markdown to the job summary (default: none). */
  appendSummary?: (markdown: string) => Promise<void>;
  /** Upper bound for one HTTP attempt, in milliseconds (default 60 s; the overall limit is `timeout-seconds`). */
  attemptTimeoutMs?: number;
}

export const ATTEMPT_TIMEOUT_MS = 60_000;

export const PERMISSIONS_HINT =
  'this job cannot get an OIDC token from GitHub (ACTIONS_ID_TOKEN_REQUEST_URL and ' +
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set): add `permissions: id-token: write` to the job ' +
  '(fork pull requests never get an OIDC token)';

export const CLAIMS_GROUP = "OIDC token claims (what the coordinator's policy matches on)";

/**
 * Mints a token and sets the outputs. Never throws: any failure ends in `core.setFailed` with
 * a message that contains neither the OIDC token, the minted token nor the client key.
 */
export async function run(deps: RunDeps): Promise<void> {
  const { core } = deps;
  const env = deps.env ?? process.env;
  const clock = deps.clock ?? realClock;
  const secrets = new Secrets(core);
  const mask = (secret: string): void => secrets.mask(secret);
  const log = safeLog(core, secrets);
  let http: HttpClient | undefined;
  let coordinatorUrl: string | undefined;
  let claims: Claims | undefined;
  const repositoryOf = () => (typeof claims?.repository === 'string' ? claims.repository : env.GITHUB_REPOSITORY || undefined);
  const summarize = async (markdown: () => string) => {
    if (!deps.appendSummary) return;
    try {
      await deps.appendSummary(markdown());
    } catch (err) {
      log.warning(`could not write the job summary: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  try {
    const inputs = readInputs(core.getInput);
    coordinatorUrl = inputs.coordinatorUrl;
    if (inputs.tls.clientKey !== undefined) {
      secrets.maskPem(inputs.tls.clientKey);
    }

    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new InputError(PERMISSIONS_HINT);
    }

    http = deps.fetch ? { fetch: deps.fetch, close: async () => undefined } : (deps.createHttpClient ?? createHttpClient)(inputs.tls);
    const fetch = http.fetch;
    const deadline = clock.now() + inputs.timeoutSeconds * 1000;
    const attemptCap = deps.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;

    let minted: MintResult;
    try {
      minted = await withRetries(
        async (attempt) => {
          // A fresh OIDC token for every attempt: the coordinator accepts each token's jti once.
          const oidcToken = await getOidcToken(core, inputs.oidcAudience, deadline - clock.now());
          mask(oidcToken);
          if (attempt === 1) {
            claims = decodeClaims(oidcToken);
            showClaims(log, claims);
          }
          const remaining = deadline - clock.now();
          if (remaining <= 0) throw new Error(timeoutMessage(inputs.timeoutSeconds));
          return mintToken({
            fetch,
            coordinatorUrl: inputs.coordinatorUrl,
            oidcToken,
            oidcAudience: inputs.oidcAudience,
            ...(typeof claims?.iss === 'string' ? { oidcIssuer: claims.iss } : {}),
            request: {
              scopes: inputs.scopes,
              ...(inputs.ttl !== undefined ? { ttl: inputs.ttl } : {}),
              ...(inputs.audience !== undefined ? { audience: inputs.audience } : {}),
            },
            maskSecret: mask,
            clientCert: inputs.tls.clientCert !== undefined,
            timeoutMs: Math.min(remaining, attemptCap),
            now: clock.now,
          });
        },
        {
          retries: inputs.retries,
          deadline,
          clock,
          onRetry: ({ attempt, error, delayMs }) => {
            const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
            log.info(`Attempt ${attempt} of ${inputs.retries + 1} failed: ${reason ?? ''}\n` + `Retrying in ${(delayMs / 1000).toFixed(1)} s with a fresh OIDC token.`);
          },
        },
      );
    } catch (err) {
      throw giveUp(err, inputs.timeoutSeconds);
    }

    // The token is masked already (mintToken called `mask` before parsing the rest of the body).
    core.setOutput('token', minted.token);
    core.setOutput('expires-at', minted.expiresAt);
    core.setOutput('jti', minted.jti);
    core.setOutput('scopes', minted.scopes.join(','));
    core.setOutput('audit-index', String(minted.auditIndex));
    // Empty when the coordinator's answer carried no transparency proof.
    core.setOutput('log-index', minted.transparency ? String(minted.transparency.log_index) : '');
    core.setOutput('transparency-proof', minted.transparency ? JSON.stringify(minted.transparency) : '');

    // What the post step needs. The token only when it is to be revoked.
    core.saveState(STATE.coordinatorUrl, inputs.coordinatorUrl);
    core.saveState(STATE.jti, minted.jti);
    core.saveState(STATE.expiresAt, minted.expiresAt);
    core.saveState(STATE.revoke, String(inputs.revoke));
    if (inputs.revoke) core.saveState(STATE.token, minted.token);
    if (inputs.exportEnv !== undefined) {
      core.saveState(STATE.exportEnv, inputs.exportEnv);
      core.exportVariable(inputs.exportEnv, minted.token);
    }

    const missing = inputs.scopes.filter((s) => !minted.scopes.includes(s));
    if (missing.length > 0) {
      log.warning(`the coordinator did not grant every requested scope; missing: ${missing.join(', ')}`);
    }
    log.info(
      `Minted token jti=${minted.jti} scopes=${minted.scopes.join(',')} ` +
        `expires_at=${minted.expiresAt} (in ${minted.expiresIn} s)` +
        `${minted.audience ? ` audience=${minted.audience}` : ''} audit_index=${minted.auditIndex}` +
        `${inputs.exportEnv ? `; exported to $${inputs.exportEnv}` : ''}` +
        `${inputs.revoke ? '; revoked at the end of the job' : '; not revoked at the end of the job (revoke: false)'}`,
    );

    const repository = repositoryOf();
    const { token: _token, tokenType: _type, ...facts } = minted;
    await summarize(() =>
      mintSummary({
        coordinatorUrl: inputs.coordinatorUrl,
        minted: facts,
        revoke: inputs.revoke,
        ...(repository ? { repository } : {}),
        ...(env.GITHUB_SERVER_URL ? { serverUrl: env.GITHUB_SERVER_URL } : {}),
        ...(inputs.exportEnv ? { exportEnv: inputs.exportEnv } : {}),
      }),
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.fail(message);
    // The summary page explains the failure too; the message is redacted as the log line was.
    const repository = repositoryOf();
    await summarize(() =>
      failureSummary({
        message: secrets.redact(message),
        error: err,
        ...(coordinatorUrl ? { coordinatorUrl } : {}),
        ...(repository ? { repository } : {}),
        ...(env.GITHUB_SERVER_URL ? { serverUrl: env.GITHUB_SERVER_URL } : {}),
      }),
    );
  } finally {
    await http?.close().catch(() => undefined);
  }
}

/** Asks the runner for an OIDC token, within the time left. Its failures are not retried. */
async function getOidcToken(core: Core, audience: string, remainingMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the runner did not hand out an OIDC token in time (`timeout-seconds`)')), Math.max(0, remainingMs));
  });
  try {
    return await Promise.race([core.getIDToken(audience), timeout]);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`could not get an OIDC token from the runner (audience ${JSON.stringify(audience)}): ${reason.replace(/\s*\n\s*/g, ' ').trim()}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Prints the decoded claims in a collapsed log group. Claims only: no header, no signature. */
function showClaims(log: Log, claims: Claims | undefined): void {
  if (claims === undefined) {
    log.debug('the OIDC token is not a JWT with a JSON payload; not showing its claims');
    return;
  }
  log.group(CLAIMS_GROUP, formatClaims(claims));
}

function timeoutMessage(timeoutSeconds: number): string {
  return `gave up: \`timeout-seconds\` (${timeoutSeconds} s) is used up; retry later or raise \`timeout-seconds\``;
}

/** The final error of a mint after retries, with how many attempts were made. */
function giveUp(err: unknown, timeoutSeconds: number): Error {
  if (!(err instanceof RetriesExhausted)) return err instanceof Error ? err : new Error(String(err));
  const last = err.last instanceof Error ? err.last.message : String(err.last);
  const cause = { cause: err.last }; // the summary reads the problem code from it
  if (err.reason === 'final') return new Error(last, cause);
  if (err.reason === 'deadline') {
    return new Error(`${last}\n(gave up after ${err.attempts} attempt${err.attempts === 1 ? '' : 's'}: ` + `the \`timeout-seconds\` limit of ${timeoutSeconds} s leaves no time for another)`, cause);
  }
  if (err.attempts <= 1) return new Error(last, cause);
  return new Error(`${last}\n(gave up after ${err.attempts} attempts; \`retries\` sets how many)`, cause);
}

export { redact } from './secrets.js';
