// `pki renew`: re-issue the leaf certificates that expire within a window (or that an older CA
// issued, after a rollover), keeping each one's name, SANs and key usages; every pair is replaced
// atomically, so running processes move to it on their next poll without a failed handshake. The
// CA key is unsealed only when something is due, so a daily cron run needs no PIN on quiet days.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ProviderOptions } from '../signers/key-providers/index.js';
import { replaceFile } from './atomic-files.js';
import { loadCa, parseBundle } from './ca.js';
import { PkiError } from './errors.js';
import { issueCertificate } from './issue.js';
import { issuedBy, readLeaves } from './inspect.js';
import { pkiPaths } from './layout.js';
import { profileOf } from './profiles.js';
import { DAY_MS, x509 } from './x509.js';

export interface RenewOptions {
  /** Renew what expires within this many days (default 21: ahead of `pki status`'s 14-day warning). */
  withinDays?: number;
  /** Only these names (default: every leaf in tls/). */
  names?: string[];
  /** Renew even when not due. */
  force?: boolean;
  /** New validity (default: the old certificate's). */
  days?: number;
  now?: number;
  providerOptions?: ProviderOptions;
  log?: (line: string) => void;
}

interface Renewal {
  name: string;
  why: 'forced' | 'expiring' | 'expired' | 'older CA';
  previous_not_after: string;
  not_after: string;
}

export async function renewCertificates(state: string, opts: RenewOptions = {}) {
  const now = opts.now ?? Date.now();
  const within = (opts.withinDays ?? 21) * DAY_MS;
  const p = pkiPaths(state);
  const current = existsSync(p.caCert) ? new x509.X509Certificate(await readFile(p.caCert, 'utf8')) : undefined;
  const leaves = (await readLeaves(p.tlsDir)).filter((l) => !opts.names || opts.names.includes(l.name));
  const missing = (opts.names ?? []).filter((n) => !leaves.some((l) => l.name === n));
  if (missing.length) throw new PkiError('pki_certificate_unreadable', `no certificate named ${missing.join(', ')} in ${p.tlsDir} (issue it with \`ztmint pki issue --name …\`)`);
  const due: Array<{ leaf: (typeof leaves)[number]; why: Renewal['why'] }> = [];
  for (const leaf of leaves) {
    const left = leaf.cert.notAfter.getTime() - now;
    const why: Renewal['why'] | undefined = opts.force ? 'forced' : left <= 0 ? 'expired' : left < within ? 'expiring' : current && !(await issuedBy(leaf.cert, current)) ? 'older CA' : undefined;
    if (why) due.push({ leaf, why });
  }
  const renewed: Renewal[] = [];
  if (due.length) {
    const ca = await loadCa(state, opts.providerOptions);
    for (const { leaf, why } of due) {
      const validity = Math.max(1, Math.round((leaf.cert.notAfter.getTime() - leaf.cert.notBefore.getTime()) / DAY_MS));
      const role = leaf.role ?? profileOf(leaf.name)?.role;
      const out = await issueCertificate(state, ca, { name: leaf.name, ...(role ? { role } : {}), days: opts.days ?? validity, sans: leaf.sans, onlySans: leaf.sans.length > 0, now });
      renewed.push({ name: leaf.name, why, previous_not_after: leaf.cert.notAfter.toISOString(), not_after: out.not_after });
      opts.log?.(`renewed ${leaf.name} (${why}): valid until ${out.not_after}`);
    }
  }
  const dropped = await dropExpiredCas(p.bundle, now);
  for (const cn of dropped) opts.log?.(`removed the expired CA "${cn}" from the trust bundle`);
  return { renewed, kept: leaves.filter((l) => !due.some((d) => d.leaf === l)).map((l) => ({ name: l.name, not_after: l.cert.notAfter.toISOString() })), dropped_cas: dropped };
}

/** Expired CAs leave the trust bundle (never the last one: a bundle is never emptied). */
async function dropExpiredCas(bundlePath: string, now: number): Promise<string[]> {
  if (!existsSync(bundlePath)) return [];
  const cas = parseBundle(await readFile(bundlePath, 'utf8'));
  const valid = cas.filter((c) => c.notAfter.getTime() > now);
  if (!valid.length || valid.length === cas.length) return [];
  await replaceFile(bundlePath, valid.map((c) => c.toString('pem')).join('\n') + '\n');
  return cas.filter((c) => !valid.includes(c)).map((c) => c.subject);
}
