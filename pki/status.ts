// `pki status`: every certificate of a state directory (the trust bundle's CAs and the leaf
// pairs in tls/) with its expiry, and what is wrong with it: expired, expiring within 14 days
// (a warning, ahead of the metric's alert), not issued by a CA of the bundle, or lacking the name
// or key usage its role needs (docs/pki.md) — also for certificates from an external CA.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describeProvider } from '../signers/key-providers/index.js';
import { parseBundle } from './ca.js';
import type { CertRole } from './certificates.js';
import { cnOf, issuedBy, readLeaves } from './inspect.js';
import { pkiPaths } from './layout.js';
import { missingUsages, profileOf } from './profiles.js';
import { readSealedCaKey } from './sealed-ca-key.js';
import type { Served } from './served.js';
import { DAY_MS, spkiSha256, x509 } from './x509.js';

export const WARN_DAYS = 14;

type CertificateState = 'ok' | 'expiring' | 'expired' | 'not_yet_valid';

interface CertificateStatus {
  name: string;
  kind: 'ca' | 'leaf';
  file: string;
  subject: string;
  issuer: string;
  role?: CertRole;
  not_before: string;
  not_after: string;
  /** notAfter − now, as ztmint_tls_certificate_expiry_seconds reports it. */
  expires_in_seconds: number;
  state: CertificateState;
  /** Why the certificate will not work where its name says it is used. */
  problems: string[];
  /** With a running dev stack: what the process serves now, and whether it is this file's certificate. */
  served?: Served & { current: boolean };
}

export interface PkiStatus {
  state: string;
  ca: { mode: 'sealed' | 'external' | 'none'; subject?: string; provider?: Record<string, string | number> };
  certificates: CertificateStatus[];
  /** One line per certificate that needs attention (expired, expiring within 14 days, problems). */
  warnings: string[];
}

function stateOf(cert: x509.X509Certificate, now: number): CertificateState {
  if (cert.notBefore.getTime() > now) return 'not_yet_valid';
  const left = cert.notAfter.getTime() - now;
  return left <= 0 ? 'expired' : left < WARN_DAYS * DAY_MS ? 'expiring' : 'ok';
}

function row(name: string, kind: 'ca' | 'leaf', file: string, cert: x509.X509Certificate, now: number): CertificateStatus {
  return {
    name,
    kind,
    file,
    subject: cert.subject,
    issuer: cert.issuer,
    not_before: cert.notBefore.toISOString(),
    not_after: cert.notAfter.toISOString(),
    expires_in_seconds: Math.round((cert.notAfter.getTime() - now) / 1000),
    state: stateOf(cert, now),
    problems: [],
  };
}

export async function pkiStatus(state: string, now = Date.now()): Promise<PkiStatus> {
  const p = pkiPaths(state);
  const bundle = existsSync(p.bundle) ? parseBundle(await readFile(p.bundle, 'utf8')) : [];
  const certificates: CertificateStatus[] = bundle.map((ca) => row(`ca: ${cnOf(ca)}`, 'ca', p.bundle, ca, now));
  let ca: PkiStatus['ca'] = { mode: 'none' };
  if (existsSync(p.externalMarker)) ca = { mode: 'external' };
  else if (existsSync(p.caKey) && existsSync(p.caCert)) {
    const issuing = new x509.X509Certificate(await readFile(p.caCert, 'utf8'));
    const sealed = await readSealedCaKey(p.caKey);
    ca = { mode: 'sealed', subject: issuing.subject, provider: describeProvider(sealed.provider) };
    if (sealed.ca_spki_sha256 !== spkiSha256(issuing)) certificates.push({ ...row('issuing CA', 'ca', p.caCert, issuing, now), problems: ['its sealed key belongs to another CA'] });
    if (!bundle.some((b) => b.subject === issuing.subject && spkiSha256(b) === spkiSha256(issuing))) {
      certificates.push({ ...row('issuing CA', 'ca', p.caCert, issuing, now), problems: ['not in the trust bundle tls/ca.pem: certificates it issues are refused'] });
    }
  }
  for (const leaf of existsSync(p.tlsDir) ? await readLeaves(p.tlsDir) : []) {
    const r = { ...row(leaf.name, 'leaf', leaf.file, leaf.cert, now), ...(leaf.role ? { role: leaf.role } : {}) };
    let trusted = false;
    for (const c of bundle) if (await issuedBy(leaf.cert, c)) trusted = true;
    if (!trusted) r.problems.push('not issued by a CA in tls/ca.pem');
    const profile = profileOf(leaf.name);
    if (profile) {
      if (leaf.cn !== leaf.name) r.problems.push(`CN is "${leaf.cn}", expected "${leaf.name}"`);
      const missing = missingUsages(profile.role, leaf.role);
      if (missing.length) r.problems.push(`lacks extended key usage ${missing.join(' and ')}`);
      if (profile.role === 'server' && !leaf.sans.some((s) => s.type === 'dns' && s.value === leaf.name)) r.problems.push(`no DNS SAN "${leaf.name}" (the name the coordinator checks)`);
    }
    certificates.push(r);
  }
  const warnings: string[] = [];
  for (const c of certificates) {
    if (c.state === 'expired') warnings.push(`${c.name}: EXPIRED at ${c.not_after} — run \`ztmint pki renew\``);
    else if (c.state === 'expiring') warnings.push(`${c.name}: expires in ${(c.expires_in_seconds / 86_400).toFixed(1)} days (${c.not_after}) — run \`ztmint pki renew\``);
    else if (c.state === 'not_yet_valid') warnings.push(`${c.name}: not valid before ${c.not_before} (clock skew?)`);
    for (const problem of c.problems) warnings.push(`${c.name}: ${problem}`);
  }
  return { state, ca, certificates, warnings };
}

/**
 * Adds what the running processes serve (`served`: name → what a fresh connection sees) and a
 * warning for each one still on an older certificate than its file.
 */
export function withServed(s: PkiStatus, served: Map<string, Served>): PkiStatus {
  for (const c of s.certificates) {
    const seen = served.get(c.name);
    if (!seen) continue;
    const sha256 = createHash('sha256')
      .update(new Uint8Array(new x509.X509Certificate(readFileSync(c.file, 'utf8')).rawData))
      .digest('hex');
    c.served = { ...seen, current: seen.sha256 === sha256 };
    if (seen.error) s.warnings.push(`${c.name}: the running process cannot be reached (${seen.error})`);
    else if (!c.served.current) s.warnings.push(`${c.name}: the running process still serves an older certificate (notAfter ${seen.not_after}); it reloads within seconds, else check its log`);
  }
  return s;
}

/** The table `pki status` prints. */
export function formatStatus(s: PkiStatus): string {
  const live = s.certificates.some((c) => c.served);
  const head = ['NAME', 'ROLE', 'NOT AFTER', 'DAYS LEFT', 'STATE', ...(live ? ['SERVED'] : [])];
  const rows = s.certificates.map((c) => [
    c.name,
    c.kind === 'ca' ? 'ca' : (c.role ?? '-'),
    c.not_after,
    (c.expires_in_seconds / 86_400).toFixed(1),
    c.problems.length ? `${c.state}, ${c.problems.length} problem(s)` : c.state,
    ...(live ? [c.served ? (c.served.error ? 'unreachable' : c.served.current ? 'this' : 'older') : '-'] : []),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join('  ')
      .trimEnd();
  const ca =
    s.ca.mode === 'sealed'
      ? `CA: ${s.ca.subject} (key sealed: ${Object.values(s.ca.provider ?? {})[0]})`
      : s.ca.mode === 'external'
        ? 'CA: external (pki init --external-ca)'
        : 'CA: no key kept here (run `ztmint pki init`)';
  return [ca, line(head), ...rows.map(line), ...s.warnings.map((w) => `WARNING ${w}`)].join('\n');
}
