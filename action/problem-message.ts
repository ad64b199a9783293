// Turns a non-2xx answer of the coordinator into a CoordinatorError whose message says what to
// do. The problem codes are the coordinator's own (protocol/problem.ts, imported as a type so
// that no server code reaches the bundle). Every piece of the answer that is quoted (detail,
// title, reasons, code, status text, content type) goes through `untrusted()`: one line each,
// control characters escaped (lines are cut to length when written, after redaction).
import type { ProblemCode } from '../protocol/problem.js';
import { CoordinatorError, type Problem } from './coordinator-error.js';
import { untrusted } from './log-text.js';
import { utf8Text } from './response-body.js';
import { parseRetryAfter } from './retry.js';

/** Statuses worth another attempt (with a fresh OIDC token for a mint). */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * Codes never worth another attempt, whatever the status says: the coordinator and its signers
 * disagree on their configuration, so the same request gets the same refusal until an operator
 * fixes it (retrying would only spend rate-limit budget and the job's time).
 */
const CONFIGURATION_MISMATCHES: Readonly<Record<string, string>> = {
  policy_mismatch: 'the signers do not accept the policy revision the coordinator uses',
  issuer_mismatch: "the signers expect another token issuer than the coordinator's public URL",
  group_mismatch: "the signers hold another group key than the coordinator's (a stale group.json)",
  oidc_issuer_mismatch: "the signers do not trust this job's OIDC issuer, which the coordinator accepts",
};

/** Most reasons quoted from a policy_denied problem. */
const MAX_REASONS = 20;

/** What the error message needs of the answer; `body` is undefined when it was too large. */
export interface FailedAnswer {
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer | undefined;
}

export interface HintContext {
  now: number;
  /** Whether a client certificate is configured; only used in hints. */
  clientCert?: boolean;
  /** The audience that was requested for the OIDC token; only used in hints. */
  oidcAudience?: string;
  /** The OIDC token's issuer (`iss`); only used in hints. */
  oidcIssuer?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The problem document's fields that have the right types, or undefined if it is not one. */
function toProblem(value: unknown): Problem | undefined {
  if (!isRecord(value)) return undefined;
  const p: Problem = {};
  if (typeof value.type === 'string') p.type = value.type;
  if (typeof value.title === 'string') p.title = value.title;
  if (typeof value.status === 'number') p.status = value.status;
  if (typeof value.detail === 'string') p.detail = value.detail;
  if (typeof value.code === 'string') p.code = value.code;
  if (Array.isArray(value.reasons)) p.reasons = value.reasons.filter((r): r is string => typeof r === 'string');
  if (p.code === undefined && p.type === undefined && p.title === undefined && p.detail === undefined) {
    return undefined;
  }
  return p;
}

/** The code of a problem: its `code`, else the end of a `urn:ztmint:error:` type; only if it looks like one. */
function problemCode(problem: Problem): ProblemCode | undefined {
  const prefix = 'urn:ztmint:error:';
  const code = problem.code ?? (problem.type?.startsWith(prefix) ? problem.type.slice(prefix.length) : undefined);
  // A code this Action does not know ends in the `default` branches below.
  return code !== undefined && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? (code as ProblemCode) : undefined;
}

function parseProblem(answer: FailedAnswer): Problem | undefined {
  const contentType = (answer.headers.get('content-type') ?? '').toLowerCase();
  if (answer.body === undefined || !contentType.includes('json')) return undefined;
  const text = utf8Text(answer.body);
  if (text === undefined) return undefined;
  try {
    return toProblem(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The CoordinatorError for a non-2xx answer to a mint or a revoke. */
export function problemError(call: 'mint' | 'revoke', answer: FailedAnswer, ctx: HintContext): CoordinatorError {
  const { status } = answer;
  const problem = parseProblem(answer);
  const mismatch = problem?.code !== undefined && Object.hasOwn(CONFIGURATION_MISMATCHES, problem.code);
  const retryable = RETRYABLE_STATUSES.has(status) && !mismatch;
  const retryAfterMs = retryable ? parseRetryAfter(answer.headers.get('retry-after'), ctx.now) : undefined;
  const make = (message: string) =>
    new CoordinatorError('coordinator_refused', message, {
      status,
      ...(problem !== undefined ? { problem } : {}),
      retryable,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });

  if (problem === undefined) {
    // Not our coordinator's error format (a proxy, a wrong URL...): do not quote the body.
    const contentType = untrusted(answer.headers.get('content-type') ?? '');
    const statusText = answer.statusText ? ` ${untrusted(answer.statusText)}` : '';
    const hint =
      status === 404 && call === 'revoke'
        ? 'the coordinator has no revocation endpoint (POST /v1/revoke); upgrade it, or set `revoke: false`'
        : status === 407
          ? 'a proxy asks for authentication: put its credentials in HTTPS_PROXY (http://user:password@host:port)'
          : 'check `coordinator-url` and that the coordinator is up';
    const without = answer.body === undefined ? 'with a body larger than the Action reads' : `without a problem+json body (content-type "${contentType}")`;
    return make(`coordinator answered HTTP ${status}${statusText} ${without}; ${hint}`);
  }

  const code = problemCode(problem);
  const shownCode = code ?? (problem.code !== undefined ? untrusted(problem.code) : undefined);
  const detail = untrusted(problem.detail ?? problem.title ?? '');
  const title = problem.title !== undefined ? untrusted(problem.title) : undefined;
  const said = detail ? `: ${detail}` : '';
  const later =
    `Retry later${retryAfterMs !== undefined ? ` (the coordinator asks for ${Math.ceil(retryAfterMs / 1000)} s)` : ''}: ` + 're-run the job, or raise the `retries` / `timeout-seconds` inputs';

  if (call === 'revoke') {
    if (code === 'invalid_token') {
      return make(`the coordinator does not accept the token for revocation (invalid_token)${said}\n` + 'It has most likely expired already, which makes it unusable anyway.');
    }
    return make(`the coordinator refused to revoke the token with HTTP ${status}${shownCode ? ` (${shownCode})` : ''}${said}` + (retryable ? `\n${later}.` : ''));
  }

  // The raw detail decides which hint fits; only its escaped form is quoted.
  const rawDetail = problem.detail ?? problem.title ?? '';
  switch (code) {
    case 'policy_denied': {
      const reasons = (problem.reasons ?? []).slice(0, MAX_REASONS).map((r) => `  - ${untrusted(r)}`);
      const more = (problem.reasons?.length ?? 0) - reasons.length;
      return make(
        `the coordinator's policy denied the mint (policy_denied)${said}` +
          (reasons.length > 0 ? `\nReasons:\n${reasons.join('\n')}${more > 0 ? `\n  (${more} more)` : ''}` : '') +
          '\nRequest only scopes, ttl and audience that the policy grants to this repository, ref, ' +
          'environment and workflow (the OIDC claims are in the "OIDC token claims" log group above), ' +
          'or ask the policy owners to add a grant.',
      );
    }
    case 'invalid_token':
      if (/"aud"|audience/i.test(rawDetail)) {
        return make(
          `the coordinator does not accept the audience of this job's OIDC token (invalid_token)${said}\n` +
            `The action asked GitHub for an OIDC token with audience ${JSON.stringify(ctx.oidcAudience ?? '')} ` +
            '(input `oidc-audience`, default: `coordinator-url`). Set `oidc-audience` to the audience the ' +
            'coordinator is configured to expect (its --oidc-audience).',
        );
      }
      if (/"iss"|issuer/i.test(rawDetail)) {
        return make(
          `the coordinator does not accept the issuer of this job's OIDC token (invalid_token)${said}\n` +
            `The token's issuer is ${JSON.stringify(ctx.oidcIssuer ?? '')}; the coordinator must be configured ` +
            'with that issuer (on GitHub Enterprise Server it is https://<host>/_services/token).',
        );
      }
      return make(
        `the coordinator rejected this job's OIDC token (invalid_token)${said}\n` +
          `Check that \`oidc-audience\`${ctx.oidcAudience ? ` (now ${JSON.stringify(ctx.oidcAudience)})` : ''} ` +
          "is the audience the coordinator expects, and that the coordinator trusts this workflow's OIDC issuer" +
          `${ctx.oidcIssuer ? ` (${ctx.oidcIssuer})` : ''}.`,
      );
    case 'invalid_request':
      return make(`the coordinator rejected the request (invalid_request)${said}\nCheck the \`scopes\`, \`ttl\` and \`audience\` inputs.`);
    case 'token_replayed':
      return make(`the coordinator has already seen this OIDC token (token_replayed)${said}\n` + 'Each OIDC token can be used once; re-run the job to get a fresh one.');
    case 'rate_limited':
      return make(`the coordinator is rate limiting mints (rate_limited)${said}\n${later}.`);
    case 'quorum_unavailable':
      return make(
        `not enough signers are reachable to sign the token (quorum_unavailable)${said}\n` + `No token was issued. ${later}; if it persists, ask the coordinator's operators to check the signers.`,
      );
    case 'policy_mismatch':
    case 'issuer_mismatch':
    case 'group_mismatch':
    case 'oidc_issuer_mismatch':
      return make(
        `the coordinator's signers refused to sign: ${CONFIGURATION_MISMATCHES[code]} (${code})${said}\n` +
          "No token was issued, and retrying cannot help: ask the coordinator's operators to align the configuration of the coordinator and its signers (the coordinator's GET /readyz names the signers that disagree).",
      );
    case 'audit_unavailable':
      return make(
        `the coordinator could not write its audit log (audit_unavailable)${said}\n` + `No token was issued. ${later}; if it persists, ask the coordinator's operators to check the audit store.`,
      );
    default:
      return make(
        `the coordinator refused the mint with HTTP ${status}` + `${shownCode ? ` (${shownCode})` : ''}${title && title !== detail ? `: ${title}` : ''}${said}` + (retryable ? `\n${later}.` : ''),
      );
  }
}
