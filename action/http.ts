// The HTTP client used to reach the coordinator: undici's fetch over an EnvHttpProxyAgent,
// so HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and their lower-case forms) are honoured the way the
// runner sets them, with the `ca-cert` / `client-cert` / `client-key` inputs applied to the
// TLS connection to the coordinator (directly, or inside the proxy's CONNECT tunnel).
//
// The PEM inputs stay in memory: nothing is written to disk, so no credential file is left in
// the workspace or anywhere else.

import { createSecureContext, rootCertificates, type SecureContextOptions } from 'node:tls';
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import type { Fetch } from './coordinator-client.js';
import { InputError, type TlsInputs } from './inputs.js';

export interface HttpClient {
  fetch: Fetch;
  close(): Promise<void>;
}

/** The TLS options for connections to the coordinator. Throws InputError if the PEM inputs do not load. */
export function tlsOptions(tls: TlsInputs): SecureContextOptions {
  const options: SecureContextOptions = {};
  if (tls.caCert !== undefined) {
    // Trusted in addition to Node's bundled roots, so a public certificate keeps working.
    options.ca = [...rootCertificates, tls.caCert];
  }
  if (tls.clientCert !== undefined && tls.clientKey !== undefined) {
    options.cert = tls.clientCert;
    options.key = tls.clientKey;
  }
  try {
    createSecureContext(options);
  } catch (err) {
    // OpenSSL's messages name the problem ("key values mismatch", "bad base64 decode"), never the key.
    const reason = err instanceof Error ? err.message : String(err);
    const which = /key values mismatch/i.test(reason)
      ? 'input `client-key` is not the private key of `client-cert`'
      : tls.clientKey !== undefined && /key|decrypt|PEM|asn1|decoder/i.test(reason) && !/certificate/i.test(reason)
        ? 'input `client-key` could not be loaded (an unencrypted PEM private key is needed)'
        : 'inputs `ca-cert` / `client-cert` could not be loaded as PEM certificates';
    throw new InputError(`${which}: ${reason}`);
  }
  return options;
}

/** Creates the fetch used for the coordinator. */
export function createHttpClient(tls: TlsInputs): HttpClient {
  const connect = tlsOptions(tls);
  // `connect` applies to direct connections, `requestTls` to the coordinator's TLS inside a proxy tunnel.
  const dispatcher = new EnvHttpProxyAgent({ connect, requestTls: connect });
  const fetch = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    })) as unknown as Fetch;
  return { fetch, close: () => dispatcher.close() };
}
