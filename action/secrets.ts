// The secrets a step has seen: each is registered with the runner (`::add-mask::`) before it is
// used, and remembered so our own messages can be redacted too.
import { pemSecretLines } from './inputs.js';

export class Secrets {
  private readonly known: string[] = [];

  constructor(private readonly core: { setSecret(secret: string): void }) {}

  /** Register with the runner first, then remember it for our own redaction. */
  mask(secret: string): void {
    this.core.setSecret(secret);
    this.known.push(secret);
  }

  /** A PEM private key: the runner masks line by line, we redact the whole block. */
  maskPem(pem: string): void {
    for (const line of pemSecretLines(pem)) this.core.setSecret(line);
    this.known.push(...pemSecretLines(pem), pem);
  }

  redact(text: string): string {
    return redact(text, this.known);
  }
}

/** Replaces every occurrence of a known secret with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}
