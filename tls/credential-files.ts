// TLS credentials read from PEM files and watched, so a renewed certificate (cert-manager
// rewriting a mounted Secret, certbot, an operator's `mv`) is served without a restart.
// Polled with stat (follows symlinks, so Kubernetes' atomic `..data` swaps are seen), debounced,
// and checked as a whole before use: a half-written pair (new certificate, old key) is refused
// and the credentials in force stay until the pair matches again.
import { createSecureContext } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import { ZtmintError } from '../errors/ztmint-error.js';

export interface CredentialPaths {
  cert: string;
  key: string;
  /** CA bundle the peer must chain to (mTLS); absent for a server that asks no client certificate. */
  ca?: string;
}

export interface Credentials {
  cert: string;
  key: string;
  ca?: string;
}

export class TlsCredentialError extends ZtmintError<'tls_credentials_invalid'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('tls_credentials_invalid', message, options);
  }
}

/** Reads the files and checks that the key belongs to the certificate (and that all parse). */
export async function readCredentials(paths: CredentialPaths): Promise<Credentials> {
  let creds: Credentials;
  try {
    const [cert, key, ca] = await Promise.all([readFile(paths.cert, 'utf8'), readFile(paths.key, 'utf8'), paths.ca ? readFile(paths.ca, 'utf8') : Promise.resolve(undefined)]);
    creds = { cert, key, ...(ca !== undefined ? { ca } : {}) };
  } catch (err) {
    throw new TlsCredentialError(`cannot read TLS credentials (${paths.cert}, ${paths.key}${paths.ca ? `, ${paths.ca}` : ''}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  try {
    createSecureContext(creds); // throws on unparsable PEM or a key that does not match the certificate
  } catch (err) {
    // The message names the files, never their content (a private key).
    throw new TlsCredentialError(`TLS credentials ${paths.cert} / ${paths.key} are unusable: ${(err as Error).message}`, { cause: err });
  }
  return creds;
}

export interface WatchOptions {
  /** stat poll interval (default 1 s). */
  intervalMs?: number;
  /** Quiet time after the last change before the files are read (default 300 ms). */
  debounceMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

function same(a: Credentials, b: Credentials): boolean {
  return a.cert === b.cert && a.key === b.key && a.ca === b.ca;
}

/**
 * Calls `apply` with the new credentials whenever the files change to a usable, different set.
 * Returns a stop function.
 */
export function watchCredentials(paths: CredentialPaths, current: Credentials, apply: (next: Credentials) => void, opts: WatchOptions = {}): () => void {
  const log = opts.log ?? (() => {});
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inForce = current;
  const reload = async () => {
    timer = undefined;
    try {
      const next = await readCredentials(paths);
      if (stopped || same(next, inForce)) return;
      apply(next);
      inForce = next;
      log('TLS credentials reloaded', { cert: paths.cert });
    } catch (err) {
      log('TLS credentials not reloaded; the ones in force stay', { cert: paths.cert, error: (err as Error).message });
    }
  };
  const onChange = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), opts.debounceMs ?? 300);
    timer.unref();
  };
  const files = [paths.cert, paths.key, ...(paths.ca ? [paths.ca] : [])];
  for (const file of files) watchFile(file, { interval: opts.intervalMs ?? 1_000, persistent: false }, onChange);
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const file of files) unwatchFile(file, onChange);
  };
}
