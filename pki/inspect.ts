// Reading the certificates of a state directory: the leaf pairs in tls/ and the CAs of the trust
// bundle, with what `pki status` and `pki renew` need to know about each.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertRole, San } from './certificates.js';
import { PkiError } from './errors.js';
import { roleOfEku } from './profiles.js';
import { x509 } from './x509.js';

export interface LeafFacts {
  /** The file stem: tls/<name>.pem. */
  name: string;
  file: string;
  cert: x509.X509Certificate;
  cn: string;
  role: CertRole | undefined;
  sans: San[];
}

export function cnOf(cert: x509.X509Certificate): string {
  return cert.subjectName.getField('CN')[0] ?? '';
}

function sansOf(cert: x509.X509Certificate): San[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (ext?.names.toJSON() ?? []).filter((n): n is San => n.type === 'dns' || n.type === 'ip').map((n) => ({ type: n.type, value: n.value }));
}

function roleOf(cert: x509.X509Certificate): CertRole | undefined {
  const ext = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return roleOfEku(ext?.usages.map(String));
}

/** The leaf certificates in `tlsDir`: every `<name>.pem` with a `<name>-key.pem` beside it, except the bundle. */
export async function readLeaves(tlsDir: string): Promise<LeafFacts[]> {
  let files: string[];
  try {
    files = await readdir(tlsDir);
  } catch (err) {
    throw new PkiError('pki_certificate_unreadable', `cannot list ${tlsDir} (${(err as NodeJS.ErrnoException).code ?? 'error'}): is --state the right directory?`, { cause: err });
  }
  const names = files.filter((f) => f.endsWith('.pem') && !f.endsWith('-key.pem') && f !== 'ca.pem' && files.includes(f.replace(/\.pem$/, '-key.pem'))).map((f) => f.slice(0, -4));
  const out: LeafFacts[] = [];
  for (const name of names.sort()) {
    const file = join(tlsDir, `${name}.pem`);
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(await readFile(file, 'utf8'));
    } catch (err) {
      throw new PkiError('pki_certificate_unreadable', `${file} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
    }
    out.push({ name, file, cert, cn: cnOf(cert), role: roleOf(cert), sans: sansOf(cert) });
  }
  return out;
}

/** Whether `leaf` carries a valid signature of `ca` (and names it as issuer). */
export async function issuedBy(leaf: x509.X509Certificate, ca: x509.X509Certificate): Promise<boolean> {
  if (leaf.issuer !== ca.subject) return false;
  return leaf.verify({ publicKey: ca.publicKey, signatureOnly: true }).catch(() => false);
}
