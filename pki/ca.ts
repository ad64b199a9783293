// The issuing CA of a state directory: created by `pki init` (its key sealed by a key provider,
// never written in the clear), loaded by `pki issue`/`renew`, replaced by `pki rollover` (the new
// CA joins the trust bundle before any leaf it issues is used), or absent with `--external-ca`.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { ProviderOptions, SealTarget } from '../signers/key-providers/index.js';
import { replaceFile } from './atomic-files.js';
import { createCa, type Issued } from './certificates.js';
import { PkiError } from './errors.js';
import { pkiPaths } from './layout.js';
import { readSealedCaKey, sealCaKey, targetOf, unsealCaKey } from './sealed-ca-key.js';
import { importCaKeys, privateKeyDer, spkiSha256, x509 } from './x509.js';

export interface SealChoice {
  target: SealTarget;
  /** Secrets (PINs, OCI credentials) and a prompt; default: the environment. */
  providerOptions?: ProviderOptions;
  /** `--insecure-allow-file-key-provider`, or the dev stack. */
  allowFileProvider?: boolean;
  /** Told, loudly, when the file provider is used outside the dev stack. */
  warn?: (line: string) => void;
}

/**
 * The `file` provider keeps the key that unlocks the CA key in a file beside it: anyone who copies
 * the folder can issue certificates every signer trusts. Refused unless asked for by name.
 */
function checkProviderAllowed(choice: SealChoice): void {
  if (choice.target.type !== 'file') return;
  if (!choice.allowFileProvider) {
    throw new PkiError(
      'pki_file_key_provider_refused',
      'refusing to seal the CA key with the file provider: its key file lies beside the sealed CA key, so a copy of the folder can issue certificates every signer trusts. Seal it with --seal-to pkcs11 or --seal-to oci-kms, or pass --insecure-allow-file-key-provider (dev and test only)',
    );
  }
  choice.warn?.(
    'WARNING: the CA key is sealed with the file provider (--insecure-allow-file-key-provider): whoever reads the state directory can issue trusted certificates. Use pkcs11 or oci-kms outside development.',
  );
}

async function writeCa(state: string, ca: Issued, choice: SealChoice): Promise<void> {
  const p = pkiPaths(state);
  await mkdir(p.pkiDir, { recursive: true, mode: 0o700 });
  const pkcs8 = await privateKeyDer(ca.keys.privateKey);
  try {
    await sealCaKey(pkcs8, spkiSha256(ca.cert), choice.target, p.caKey, choice.providerOptions);
  } finally {
    pkcs8.fill(0);
  }
  await replaceFile(p.caCert, ca.cert.toString('pem') + '\n');
}

/** Creates the CA of a state directory and a trust bundle holding only it. */
export async function initCa(state: string, opts: SealChoice & { days: number; force?: boolean }): Promise<Issued> {
  const p = pkiPaths(state);
  if (!opts.force && (existsSync(p.caKey) || existsSync(p.externalMarker))) {
    throw new PkiError('pki_exists', `${p.pkiDir} already holds a CA: use \`ztmint pki rollover\` to replace it without downtime (or --force to start over, which breaks every certificate in use)`);
  }
  checkProviderAllowed(opts);
  const ca = await createCa({ days: opts.days });
  await mkdir(p.tlsDir, { recursive: true, mode: 0o700 });
  await writeCa(state, ca, opts);
  await replaceFile(p.bundle, ca.cert.toString('pem') + '\n');
  return ca;
}

/** `--external-ca`: the operator's CA issues; ztmint only reads the bundle and checks names. */
export async function initExternalCa(state: string, bundlePem: string): Promise<number> {
  const p = pkiPaths(state);
  const cas = parseBundle(bundlePem);
  if (!cas.length) throw new PkiError('pki_invalid_request', 'the CA bundle holds no certificate');
  await mkdir(p.pkiDir, { recursive: true, mode: 0o700 });
  await mkdir(p.tlsDir, { recursive: true, mode: 0o700 });
  await writeFile(p.externalMarker, JSON.stringify({ version: 1, external: true }, null, 2) + '\n');
  await replaceFile(p.bundle, cas.map((c) => c.toString('pem')).join('\n') + '\n');
  return cas.length;
}

/** Every certificate in a PEM bundle. */
export function parseBundle(pem: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new x509.X509Certificate(b));
}

/** The issuing CA with its unsealed key (secrets from `opts`: environment or prompt). */
export async function loadCa(state: string, opts: ProviderOptions = {}): Promise<Issued> {
  const p = pkiPaths(state);
  if (existsSync(p.externalMarker)) {
    throw new PkiError('pki_external_ca', `${state} uses an external CA (pki init --external-ca): issue and renew with that CA; docs/pki.md lists the names each certificate must carry`);
  }
  if (!existsSync(p.caKey) || !existsSync(p.caCert)) {
    throw new PkiError('pki_no_ca', `no CA key is kept in ${p.pkiDir}: run \`ztmint pki init --state ${state}\` (this replaces the trust bundle, so re-issue every certificate after it)`);
  }
  const cert = new x509.X509Certificate(await readFile(p.caCert, 'utf8'));
  const pkcs8 = await unsealCaKey(p.caKey, spkiSha256(cert), opts);
  try {
    return { cert, keys: await importCaKeys(pkcs8, cert) };
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * A new CA, sealed with the current one's provider (or `target`), added to the trust bundle in
 * front of the CAs still valid. Leaves are re-issued by `pki renew` once every process has loaded
 * the new bundle; the old CA leaves the bundle when it expires (`pki renew` drops it).
 */
// Keeping the provider the CA key is already sealed with is no new choice: allowed without the flag.
export async function rolloverCa(
  state: string,
  opts: { days: number; now?: number; target?: SealTarget; providerOptions?: ProviderOptions; allowFileProvider?: boolean; warn?: (line: string) => void },
) {
  const p = pkiPaths(state);
  const current = await loadCa(state, opts.providerOptions); // proves the operator holds the current CA
  const target = opts.target ?? targetOf((await readSealedCaKey(p.caKey)).provider, p.caKey);
  checkProviderAllowed({ target, allowFileProvider: opts.allowFileProvider ?? !opts.target, ...(opts.warn ? { warn: opts.warn } : {}) });
  const next = await createCa({ days: opts.days });
  const now = opts.now ?? Date.now();
  const kept = parseBundle(await readFile(p.bundle, 'utf8')).filter((c) => c.notAfter.getTime() > now);
  await replaceFile(p.bundle, [next.cert, ...kept].map((c) => c.toString('pem')).join('\n') + '\n');
  await writeCa(state, next, { target, ...(opts.providerOptions ? { providerOptions: opts.providerOptions } : {}) });
  return { previous: current.cert, next: next.cert, bundle: kept.length + 1 };
}
