// Retries with exponential backoff and full jitter, within an overall deadline.
//
// Only errors that say so are retried (`retryable`: network errors, HTTP 429/502/503/504).
// A `retryAfterMs` (from a Retry-After header) replaces the jittered delay.

import { ZtmintError, type ZtmintErrorOptions } from '../errors/ztmint-error.js';

/** What an attempt may throw to ask for another try. */
export interface RetryHint {
  retryable?: boolean;
  /** Delay asked for by the server (Retry-After), in milliseconds. */
  retryAfterMs?: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 30_000;

/** Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2^(retry-1))). */
export function backoffDelay(retry: number, random: () => number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Parses a Retry-After header (delta-seconds or HTTP-date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^[0-9]+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Absolute time (clock.now()) after which no attempt starts and no wait is begun. */
  deadline: number;
  clock: Clock;
  /** Called before waiting for the next attempt. */
  onRetry?: (info: { attempt: number; error: unknown; delayMs: number }) => void;
}

/** Why withRetries stopped: retries used up, no time left, or an error not worth retrying. */
export type RetryStop = 'retries' | 'deadline' | 'final';

const STOP_CODES = { retries: 'retries_exhausted', deadline: 'deadline_reached', final: 'not_retryable' } as const;

export interface RetriesExhaustedOptions extends ZtmintErrorOptions {
  /** The last attempt's error (also the `cause`). */
  last: unknown;
  /** Attempts made. */
  attempts: number;
}

/** The last error, after the retries ran out or the deadline would have been passed. */
export class RetriesExhausted extends ZtmintError<(typeof STOP_CODES)[RetryStop]> {
  readonly last: unknown;
  readonly attempts: number;
  readonly reason: RetryStop;

  constructor(reason: RetryStop, options: RetriesExhaustedOptions) {
    const { last } = options;
    super(STOP_CODES[reason], last instanceof Error ? last.message : String(last), { cause: options.cause ?? last });
    this.reason = reason;
    this.last = last;
    this.attempts = options.attempts;
  }
}

/**
 * Runs `attempt(n, remainingMs)` (n = 1, 2, ...) until it succeeds, throws a non-retryable
 * error, the retries run out, or the deadline does not leave room for the next wait.
 * Throws RetriesExhausted wrapping the last error in every failure case.
 */
export async function withRetries<T>(attempt: (n: number, remainingMs: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { clock } = opts;
  for (let n = 1; ; n++) {
    const remaining = opts.deadline - clock.now();
    if (remaining <= 0) {
      throw new RetriesExhausted('deadline', { last: new Error('no time left for an attempt'), attempts: n - 1 });
    }
    try {
      return await attempt(n, remaining);
    } catch (error) {
      const hint = (error ?? {}) as RetryHint;
      if (hint.retryable !== true) throw new RetriesExhausted('final', { last: error, attempts: n });
      if (n > opts.retries) throw new RetriesExhausted('retries', { last: error, attempts: n });
      const delayMs = hint.retryAfterMs ?? backoffDelay(n, clock.random);
      if (clock.now() + delayMs >= opts.deadline) throw new RetriesExhausted('deadline', { last: error, attempts: n });
      opts.onRetry?.({ attempt: n, error, delayMs });
      await clock.sleep(delayMs);
    }
  }
}
