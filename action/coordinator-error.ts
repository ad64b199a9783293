// The error of a failed call to the coordinator, with a stable `code` the caller branches on
// (`retryable` and `retryAfterMs` guide retry.ts). Its message says what happened and what to
// do; every piece of the coordinator's own text in it went through `untrusted()` first.
import type { ProblemCode } from '../protocol/problem.js';
import { ZtmintError, type ZtmintErrorOptions } from '../errors/ztmint-error.js';

/** RFC 9457 problem details as the coordinator sends them (fields checked, values untrusted). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** The coordinator's code (protocol/problem.ts); a code this Action does not know is kept as is. */
  code?: ProblemCode | (string & {});
  reasons?: string[];
}

export type CoordinatorErrorCode =
  /** No answer: connection, TLS or proxy failure. */
  | 'coordinator_unreachable'
  /** No (complete) answer within the time allowed. */
  | 'coordinator_timeout'
  /** A 3xx: the Action never follows one with a token attached. */
  | 'coordinator_redirect'
  /** A non-2xx answer (problem+json or not). */
  | 'coordinator_refused'
  /** A 2xx answer that is not what the protocol says. */
  | 'malformed_response'
  /** An answer larger than the Action reads. */
  | 'response_too_large';

export interface CoordinatorErrorOptions extends ZtmintErrorOptions {
  /** HTTP status of the answer, if there was one. */
  status?: number;
  problem?: Problem;
  /** Network errors and 429/502/503/504: another attempt may succeed. */
  retryable?: boolean;
  /** The server's Retry-After, in milliseconds. */
  retryAfterMs?: number;
}

export class CoordinatorError extends ZtmintError<CoordinatorErrorCode> {
  readonly status?: number;
  readonly problem?: Problem;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(code: CoordinatorErrorCode, message: string, options: CoordinatorErrorOptions = {}) {
    super(code, message, options);
    if (options.status !== undefined) this.status = options.status;
    if (options.problem !== undefined) this.problem = options.problem;
    this.retryable = options.retryable ?? false;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
