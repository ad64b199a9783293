// The action's post step (runs.post, `post-if: always()`): clears the exported environment
// variable and revokes the token with `POST /v1/revoke`, unless `revoke: false`.
//
// It never fails the job: a revocation that does not go through is a warning (the token
// still expires on its own). It reads what the main step saved (core.getState) and, for the
// connection (`ca-cert`, `client-cert`, `client-key`, `retries`, `timeout-seconds`), the
// step's inputs, which the runner passes to the post step as well.

import { revokeToken } from './coordinator-client.js';
import { createHttpClient, type HttpClient } from './http.js';
import { readConnectionInputs } from './inputs.js';
import { RetriesExhausted, realClock, withRetries } from './retry.js';
import { ATTEMPT_TIMEOUT_MS, type RunDeps } from './run.js';
import { Secrets } from './secrets.js';
import { STATE } from './state.js';

export async function runPost(deps: RunDeps): Promise<void> {
  const { core } = deps;
  const clock = deps.clock ?? realClock;
  const secrets = new Secrets(core);
  const mask = (secret: string): void => secrets.mask(secret);
  let http: HttpClient | undefined;

  const token = core.getState(STATE.token);
  // The runner keeps masking it for the whole job; masking again covers runners that do not.
  if (token !== '') mask(token);
  const coordinatorUrl = core.getState(STATE.coordinatorUrl);
  const jti = core.getState(STATE.jti);
  const expiresAt = core.getState(STATE.expiresAt);
  const revoke = core.getState(STATE.revoke) === 'true';
  const exportEnv = core.getState(STATE.exportEnv);
  const what = `token jti=${jti || '(unknown)'}`;

  try {
    if (exportEnv !== '') {
      core.exportVariable(exportEnv, '');
      core.info(`Cleared $${exportEnv} for the rest of the job.`);
    }
    if (coordinatorUrl === '') {
      core.info('No token was minted in this job; nothing to revoke.');
      return;
    }
    if (!revoke) {
      core.info(`Not revoking ${what} (revoke: false); it stays valid until ${expiresAt}.`);
      return;
    }
    if (token === '') {
      core.warning(`cannot revoke ${what}: the main step's saved state has no token; it stays valid until ${expiresAt}.`);
      return;
    }
    const expiry = Date.parse(expiresAt);
    if (!Number.isNaN(expiry) && expiry <= clock.now()) {
      core.info(`The ${what} expired at ${expiresAt}; nothing to revoke.`);
      return;
    }

    const connection = readConnectionInputs(core.getInput);
    if (connection.tls.clientKey !== undefined) {
      secrets.maskPem(connection.tls.clientKey);
    }
    http = deps.fetch
      ? { fetch: deps.fetch, close: async () => undefined }
      : (deps.createHttpClient ?? createHttpClient)(connection.tls);
    const fetch = http.fetch;
    const deadline = clock.now() + connection.timeoutSeconds * 1000;
    const attemptCap = deps.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;

    await withRetries(
      (_attempt, remaining) =>
        revokeToken({ fetch, coordinatorUrl, token, clientCert: connection.tls.clientCert !== undefined, timeoutMs: Math.min(remaining, attemptCap), now: clock.now }),
      {
        retries: connection.retries,
        deadline,
        clock,
        onRetry: ({ attempt, error, delayMs }) => {
          const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
          core.info(
            `Revocation attempt ${attempt} of ${connection.retries + 1} failed: ${secrets.redact(reason)}\n` +
              `Retrying in ${(delayMs / 1000).toFixed(1)} s.`,
          );
        },
      },
    );
    core.info(`Revoked ${what}.`);
  } catch (err) {
    const last = err instanceof RetriesExhausted ? err.last : err;
    const message = last instanceof Error ? last.message : String(last);
    // A warning, not a failure: the deploy itself went through, and the token expires on its own.
    core.warning(
      secrets.redact(`could not revoke the ${what}: ${message}\nThe token stays valid until it expires${expiresAt ? ` (${expiresAt})` : ''}.`),
    );
  } finally {
    await http?.close().catch(() => undefined);
  }
}
