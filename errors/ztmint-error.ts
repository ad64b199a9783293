// The one error base class of ztmint (as `jose`'s JOSEError and sigstore's error classes): every
// error a caller may branch on carries a stable, documented `code`; context goes in an options
// object, and the underlying failure in the standard `cause`. Messages must never hold a secret.

export interface ZtmintErrorOptions {
  /** The underlying failure, kept for debugging (standard `Error.cause`). */
  cause?: unknown;
}

export class ZtmintError<Code extends string = string> extends Error {
  /** Stable, machine-readable code: callers and tests branch on this, never on the message. */
  readonly code: Code;

  constructor(code: Code, message: string, options: ZtmintErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** True for any ztmint error, optionally with one of the given codes. */
export function isZtmintError<Code extends string>(err: unknown, ...codes: Code[]): err is ZtmintError<Code> {
  return err instanceof ZtmintError && (codes.length === 0 || codes.includes(err.code as Code));
}
