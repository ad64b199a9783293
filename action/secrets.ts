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

/** Pieces of a secret that are redacted on their own (see `redact`). */
const SECRET_PIECE_CHARS = 16;

/**
 * Replaces every occurrence of a known secret with `***`, and then every aligned 16-character
 * piece of a secret of 32 or more characters: a server that echoes a token with characters
 * slipped into it (which the log escapes, so the whole token no longer matches) still gets no
 * run of 31 or more of its characters into the log.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  const sorted = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join('***');
  for (const secret of sorted) {
    // Tokens and base64 key lines only: a whole PEM block's pieces would hit its armour lines.
    if (secret.length < 2 * SECRET_PIECE_CHARS || !/^[A-Za-z0-9+/=._-]+$/.test(secret)) continue;
    for (let i = 0; i + SECRET_PIECE_CHARS <= secret.length; i += SECRET_PIECE_CHARS) {
      out = out.split(secret.slice(i, i + SECRET_PIECE_CHARS)).join('***');
    }
  }
  return out;
}
