// The certificates ztmint's processes expect, by name (docs/pki.md). Signers pin the client CN
// (`--allow-client`, default `coordinator`); the coordinator checks each signer's server name
// `signer-<i>`; operators call admin endpoints with `admin`.
import type { CertRole } from './certificates.js';

export interface Profile {
  role: CertRole;
  /** Why this name exists, for `pki status` and the docs. */
  purpose: string;
}

export function profileOf(name: string): Profile | undefined {
  if (name === 'coordinator') return { role: 'both', purpose: 'client of the signers (CN pinned by --allow-client), server of the DKG relay' };
  if (name === 'admin') return { role: 'client', purpose: 'operator client for admin calls' };
  if (/^signer-[1-9][0-9]{0,2}$/.test(name)) return { role: 'server', purpose: 'signer server (name checked by the coordinator)' };
  return undefined;
}

/** The names a state directory for `n` signers needs. */
export function standardNames(signers: number): string[] {
  return ['coordinator', 'admin', ...Array.from({ length: signers }, (_, i) => `signer-${i + 1}`)];
}

const EKU = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2' } as const;

/** The role a certificate's extended key usages give it (undefined: neither). */
export function roleOfEku(oids: readonly string[] | undefined): CertRole | undefined {
  const server = !!oids?.includes(EKU.server);
  const client = !!oids?.includes(EKU.client);
  return server && client ? 'both' : server ? 'server' : client ? 'client' : undefined;
}

/** What a certificate lacks for its name's role: ["clientAuth"] etc. */
export function missingUsages(expected: CertRole, actual: CertRole | undefined): string[] {
  const missing: string[] = [];
  if (expected !== 'client' && actual !== 'server' && actual !== 'both') missing.push('serverAuth');
  if (expected !== 'server' && actual !== 'client' && actual !== 'both') missing.push('clientAuth');
  return missing;
}
