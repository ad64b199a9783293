// Where the PKI lives in a state directory. `tls/` holds what processes read (and what is copied
// to each host: the trust bundle and that host's pair); `pki/` holds what only the operator's
// machine needs: the issuing CA's certificate and its sealed private key.
import { join } from 'node:path';

export interface PkiPaths {
  tlsDir: string;
  /** The trust bundle every process reads (one CA, or two during a rollover). */
  bundle: string;
  pkiDir: string;
  /** The CA that issues now. */
  caCert: string;
  /** Its private key, sealed by a key provider (pki/sealed-ca-key.ts). */
  caKey: string;
  /** Written by `pki init --external-ca`: certificates come from the operator's own CA. */
  externalMarker: string;
}

export function pkiPaths(state: string): PkiPaths {
  const tlsDir = join(state, 'tls');
  const pkiDir = join(state, 'pki');
  return {
    tlsDir,
    bundle: join(tlsDir, 'ca.pem'),
    pkiDir,
    caCert: join(pkiDir, 'ca.pem'),
    caKey: join(pkiDir, 'ca-key.sealed'),
    externalMarker: join(pkiDir, 'external-ca.json'),
  };
}

export function leafPaths(tlsDir: string, name: string): { cert: string; key: string } {
  return { cert: join(tlsDir, `${name}.pem`), key: join(tlsDir, `${name}-key.pem`) };
}
