// `pki issue`: one leaf certificate from the state's CA, written as tls/<name>.pem and
// tls/<name>-key.pem (replaced atomically; running processes pick it up on their next poll).
import { mkdir } from 'node:fs/promises';
import { defaultSans, issueLeaf, type CertRole, type Issued, type San } from './certificates.js';
import { PkiError } from './errors.js';
import { leafPaths, pkiPaths } from './layout.js';
import { replacePair } from './atomic-files.js';
import { profileOf } from './profiles.js';
import { privateKeyPem } from './x509.js';

export interface IssueRequest {
  name: string;
  /** Default: the role of the name's profile (coordinator: both, admin: client, signer-<i>: server). */
  role?: CertRole;
  days: number;
  /** Extra SANs besides the defaults (name, localhost, 127.0.0.1, ::1). */
  sans?: San[];
  /** Only the SANs given, not the defaults. */
  onlySans?: boolean;
  now?: number;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

function checkIssueRequest(req: IssueRequest): CertRole {
  if (!NAME.test(req.name) || req.name === 'ca') throw new PkiError('pki_invalid_request', `certificate name ${JSON.stringify(req.name)}: use lowercase letters, digits, '.', '_' or '-' (not "ca")`);
  if (!Number.isFinite(req.days) || req.days <= 0 || req.days > 3650) throw new PkiError('pki_invalid_request', `validity ${req.days} days: give 1 to 3650 (--days)`);
  const role = req.role ?? profileOf(req.name)?.role;
  if (!role) throw new PkiError('pki_invalid_request', `${req.name} is not a name ztmint knows (coordinator, admin, signer-<i>): say --server, --client or both`);
  if (req.onlySans && !req.sans?.length) throw new PkiError('pki_invalid_request', '--only-sans needs at least one --san');
  return role;
}

function sansFor(req: IssueRequest): San[] {
  const all = [...(req.onlySans ? [] : defaultSans(req.name)), ...(req.sans ?? [])];
  return all.filter((s, i) => all.findIndex((o) => o.type === s.type && o.value === s.value) === i);
}

export async function issueCertificate(state: string, ca: Issued, req: IssueRequest) {
  const role = checkIssueRequest(req);
  const { tlsDir } = pkiPaths(state);
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const leaf = await issueLeaf(ca, { name: req.name, role, days: req.days, sans: sansFor(req), ...(req.now !== undefined ? { now: req.now } : {}) });
  const paths = leafPaths(tlsDir, req.name);
  await replacePair(paths, leaf.cert.toString('pem') + '\n', await privateKeyPem(leaf.keys.privateKey));
  return { name: req.name, role, cert: paths.cert, key: paths.key, not_after: leaf.cert.notAfter.toISOString() };
}
