// The action's post step (runs.post, `post-if: always()`): clears the exported environment
// variable and revokes the token with `POST /v1/revoke`, unless `revoke: false`.
//
// It never fails the job: a revocation that does not go through is a warning (the token
// still expires on its own). It reads what the main step saved (core.getState) and, for the
// connection (`ca-cert`, `client-cert`, `client-key`, `retries`, `timeout-seconds`), the
// step's inputs, which the runner passes to the post step as well.
//
// The saved state (STATE_* variables) is treated as untrusted, like the coordinator's answer
// it came from: each value is checked the way the main step checks the response before it is
// printed, sent or used, and a value that fails is named, never quoted.

import { revokeToken } from './coordinator-client.js';
import { createHttpClient, type HttpClient } from './http.js';
import { parseCoordinatorUrl, parseExportEnv, readConnectionInputs } from './inputs.js';
import { safeLog } from './log.js';
import { RetriesExhausted, realClock, withRetries } from './retry.js';
import { ATTEMPT_TIMEOUT_MS, type RunDeps } from './run.js';
import { Secrets } from './secrets.js';
import { STATE } from './state.js';
import { isCompactJws, isJti, parseRfc3339 } from './untrusted-values.js';

/** The main step's state, checked; `problems` names what was refused. */
interface SavedState {
  token: string;
  tokenValid: boolean;
  coordinatorUrl: string | undefined;
  jti: string | undefined;
  expiresAt: string | undefined;
  expiresAtMs: number | undefined;
  revoke: boolean;
  exportEnv: string | undefined;
  problems: string[];
}

function readState(getState: (name: string) => string): SavedState {
  const problems: string[] = [];
  const token = getState(STATE.token);
  const tokenValid = token === '' || isCompactJws(token);
  if (!tokenValid) problems.push('the saved token is not a compact JWS');

  const rawUrl = getState(STATE.coordinatorUrl);
  let coordinatorUrl: string | undefined;
  if (rawUrl !== '') {
    try {
      // The main step saves the normalised URL: anything else was not written by it.
      coordinatorUrl = parseCoordinatorUrl(rawUrl);
      if (coordinatorUrl !== rawUrl) throw new Error('not normalised');
    } catch {
      coordinatorUrl = undefined;
      problems.push('the saved coordinator URL is not a valid `coordinator-url`');
    }
  }
  const rawJti = getState(STATE.jti);
  const jti = isJti(rawJti) ? rawJti : undefined;
  if (rawJti !== '' && jti === undefined) problems.push('the saved jti is not base64url');
  const rawExpiresAt = getState(STATE.expiresAt);
  const expiresAtMs = parseRfc3339(rawExpiresAt);
  const expiresAt = expiresAtMs === undefined ? undefined : rawExpiresAt;
  if (rawExpiresAt !== '' && expiresAt === undefined) problems.push('the saved expiry is not an RFC 3339 timestamp');
  const rawRevoke = getState(STATE.revoke);
  if (rawRevoke !== '' && rawRevoke !== 'true' && rawRevoke !== 'false') problems.push('the saved `revoke` is not true or false');

  const rawExportEnv = getState(STATE.exportEnv);
  let exportEnv: string | undefined;
  try {
    exportEnv = parseExportEnv(rawExportEnv);
    if (exportEnv !== undefined && exportEnv !== rawExportEnv) exportEnv = undefined;
  } catch {
    exportEnv = undefined;
  }
  if (rawExportEnv !== '' && exportEnv === undefined) problems.push('the saved `export-env` is not an allowed variable name');

  return { token, tokenValid, coordinatorUrl, jti, expiresAt, expiresAtMs, revoke: rawRevoke === 'true', exportEnv, problems };
}

export async function runPost(deps: RunDeps): Promise<void> {
  const { core } = deps;
  const clock = deps.clock ?? realClock;
  const secrets = new Secrets(core);
  const log = safeLog(core, secrets);
  let http: HttpClient | undefined;

  // The runner keeps masking the token for the whole job; masking again covers runners that
  // do not. A saved value that is not a token is never sent or printed; of it, each line of a
  // token's shape is masked (such a line may be a real token), and nothing else is, so that
  // hostile state cannot register masks of its own choosing.
  const saved = readState(core.getState);
  for (const line of saved.token.split(/\r\n|\r|\n/)) {
    if (isCompactJws(line)) secrets.mask(line);
  }
  const what = `token jti=${saved.jti ?? '(unknown)'}`;
  const until = saved.expiresAt !== undefined ? `until ${saved.expiresAt}` : 'until it expires';

  try {
    if (saved.exportEnv !== undefined) {
      core.exportVariable(saved.exportEnv, '');
      log.info(`Cleared $${saved.exportEnv} for the rest of the job.`);
    }
    if (saved.problems.length > 0) {
      log.warning(`not revoking: the main step's saved state is not what it writes (${saved.problems.join('; ')}). ` + `If a token was minted, it stays valid ${until}.`);
      return;
    }
    if (saved.coordinatorUrl === undefined) {
      log.info('No token was minted in this job; nothing to revoke.');
      return;
    }
    if (!saved.revoke) {
      log.info(`Not revoking ${what} (revoke: false); it stays valid ${until}.`);
      return;
    }
    if (saved.token === '' || !saved.tokenValid) {
      log.warning(`cannot revoke ${what}: the main step's saved state has no token; it stays valid ${until}.`);
      return;
    }
    if (saved.expiresAtMs !== undefined && saved.expiresAtMs <= clock.now()) {
      log.info(`The ${what} expired at ${saved.expiresAt}; nothing to revoke.`);
      return;
    }

    const connection = readConnectionInputs(core.getInput);
    if (connection.tls.clientKey !== undefined) {
      secrets.maskPem(connection.tls.clientKey);
    }
    http = deps.fetch ? { fetch: deps.fetch, close: async () => undefined } : (deps.createHttpClient ?? createHttpClient)(connection.tls);
    const fetch = http.fetch;
    const deadline = clock.now() + connection.timeoutSeconds * 1000;
    const attemptCap = deps.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;
    const { coordinatorUrl, token } = saved;

    await withRetries(
      (_attempt, remaining) => revokeToken({ fetch, coordinatorUrl, token, clientCert: connection.tls.clientCert !== undefined, timeoutMs: Math.min(remaining, attemptCap), now: clock.now }),
      {
        retries: connection.retries,
        deadline,
        clock,
        onRetry: ({ attempt, error, delayMs }) => {
          const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
          log.info(`Revocation attempt ${attempt} of ${connection.retries + 1} failed: ${reason}\nRetrying in ${(delayMs / 1000).toFixed(1)} s.`);
        },
      },
    );
    log.info(`Revoked ${what}.`);
  } catch (err) {
    const last = err instanceof RetriesExhausted ? err.last : err;
    const message = last instanceof Error ? last.message : String(last);
    // A warning, not a failure: the deploy itself went through, and the token expires on its own.
    log.warning(`could not revoke the ${what}: ${message}\nThe token stays valid until it expires${saved.expiresAt ? ` (${saved.expiresAt})` : ''}.`);
  } finally {
    await http?.close().catch(() => undefined);
  }
}
