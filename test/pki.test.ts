// The PKI lifecycle in process (pki/): the CA key sealed (and refused with the file provider
// unless asked for), certificates issued with the operator's validity and SANs, `pki status`
// warning from 14 days out, `pki renew` re-issuing within its window and after a CA rollover,
// expired CAs leaving the bundle, and an external CA whose certificates are checked by name.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, initExternalCa, loadCa, parseBundle, rolloverCa } from '../pki/ca.js';
import { createCa, issueLeaf } from '../pki/certificates.js';
import type { PkiError } from '../pki/errors.js';
import { issueCertificate } from '../pki/issue.js';
import { writeDevPki, writeLocalPki } from '../pki/local-pki.js';
import { renewCertificates } from '../pki/renew.js';
import { pkiStatus, WARN_DAYS } from '../pki/status.js';
import { privateKeyPem } from '../pki/x509.js';
import { SealError } from '../signers/key-providers/index.js';

const DAY = 86_400_000;
let work: string;
let n = 0;
const fresh = async () => mkdtemp(join(work, `s${n++}-`));
const fileTarget = (state: string) => ({ type: 'file' as const, keyFile: join(state, 'pki', 'seal.key') });
const pem = (state: string, name: string) => readFile(join(state, 'tls', `${name}.pem`), 'utf8');

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return (err as PkiError).code;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ztmint-pki-unit-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('CA key', () => {
  it('sealing it with the file provider is refused unless asked for, and then warned about loudly', async () => {
    const state = await fresh();
    expect(await code(initCa(state, { days: 30, target: fileTarget(state) }))).toBe('pki_file_key_provider_refused');
    const warnings: string[] = [];
    await initCa(state, { days: 30, target: fileTarget(state), allowFileProvider: true, warn: (l) => warnings.push(l) });
    expect(warnings.join('\n')).toMatch(/WARNING.*file provider/);
    expect(await code(initCa(state, { days: 30, target: fileTarget(state), allowFileProvider: true }))).toBe('pki_exists');
  });

  it('is never on disk in the clear, and only unseals for the CA certificate beside it', async () => {
    const state = await fresh();
    const ca = await initCa(state, { days: 30, target: fileTarget(state), allowFileProvider: true });
    const sealed = await readFile(join(state, 'pki', 'ca-key.sealed'), 'utf8');
    expect(sealed).not.toContain('PRIVATE KEY');
    expect((await stat(join(state, 'pki', 'ca-key.sealed'))).mode & 0o077).toBe(0);
    const loaded = await loadCa(state);
    expect(loaded.cert.subject).toBe(ca.cert.subject);
    // Another CA's certificate beside the sealed key: refused before any key is used.
    const other = await createCa({ days: 30 });
    await writeFile(join(state, 'pki', 'ca.pem'), other.cert.toString('pem'));
    const err = await loadCa(state).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealError);
    expect((err as SealError).code).toBe('wrong_key');
  });

  it('a state without a kept CA key says how to get one', async () => {
    const state = await fresh();
    await writeLocalPki(join(state, 'tls'), [{ name: 'coordinator', role: 'both' }]);
    const err = (await loadCa(state).catch((e: unknown) => e)) as PkiError;
    expect(err.code).toBe('pki_no_ca');
    expect(err.message).toContain('ztmint pki init');
  });
});

describe('issue', () => {
  it('uses the validity and SANs asked for, and the key usages of the name', async () => {
    const state = await fresh();
    const ca = await initCa(state, { days: 365, target: fileTarget(state), allowFileProvider: true });
    await issueCertificate(state, ca, {
      name: 'signer-4',
      days: 7,
      sans: [
        { type: 'dns', value: 'signer-4.example.com' },
        { type: 'ip', value: '10.0.0.4' },
      ],
    });
    const cert = new X509Certificate(await pem(state, 'signer-4'));
    expect(cert.subject).toBe('CN=signer-4');
    expect(cert.subjectAltName).toContain('DNS:signer-4.example.com');
    expect(cert.subjectAltName).toContain('IP Address:10.0.0.4');
    expect(cert.subjectAltName).toContain('DNS:signer-4');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth only
    expect(Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY)).toBe(7);
    expect(cert.checkIssued(new X509Certificate(ca.cert.toString('pem')))).toBe(true);
    // The key written beside it is the certificate's, and only its owner can read it.
    const key = await readFile(join(state, 'tls', 'signer-4-key.pem'), 'utf8');
    expect(
      createPublicKey(createPrivateKey(key))
        .export({ type: 'spki', format: 'der' })
        .equals(cert.publicKey.export({ type: 'spki', format: 'der' }) as Buffer),
    ).toBe(true);
    expect((await stat(join(state, 'tls', 'signer-4-key.pem'))).mode & 0o077).toBe(0);

    await issueCertificate(state, ca, { name: 'admin', role: 'client', days: 30 });
    expect(new X509Certificate(await pem(state, 'admin')).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    await issueCertificate(state, ca, { name: 'edge', role: 'server', days: 30, sans: [{ type: 'dns', value: 'edge.internal' }], onlySans: true });
    expect(new X509Certificate(await pem(state, 'edge')).subjectAltName).toBe('DNS:edge.internal');
  });

  it('refuses what it cannot issue, saying what to give instead', async () => {
    const state = await fresh();
    const ca = await initCa(state, { days: 365, target: fileTarget(state), allowFileProvider: true });
    expect(await code(issueCertificate(state, ca, { name: 'web', days: 30 }))).toBe('pki_invalid_request'); // unknown name, no role
    expect(await code(issueCertificate(state, ca, { name: '../x', role: 'server', days: 30 }))).toBe('pki_invalid_request');
    expect(await code(issueCertificate(state, ca, { name: 'admin', days: 0 }))).toBe('pki_invalid_request');
  });
});

describe('status', () => {
  it(`warns from ${WARN_DAYS} days before notAfter, reports expiry as the metric does, and flags expired certificates`, async () => {
    const state = await fresh();
    const ca = await initCa(state, { days: 365, target: fileTarget(state), allowFileProvider: true });
    await issueCertificate(state, ca, { name: 'signer-1', days: 15 });
    await issueCertificate(state, ca, { name: 'signer-2', days: 13 });
    await issueCertificate(state, ca, { name: 'coordinator', days: 1, now: Date.now() - 3 * DAY });
    const now = Date.now();
    const s = await pkiStatus(state, now);
    const by = (name: string) => s.certificates.find((c) => c.name === name)!;
    expect(by('signer-1').state).toBe('ok');
    expect(by('signer-2').state).toBe('expiring');
    expect(by('coordinator').state).toBe('expired');
    const notAfter = Date.parse(new X509Certificate(await pem(state, 'signer-2')).validTo);
    expect(by('signer-2').expires_in_seconds).toBe(Math.round((notAfter - now) / 1000));
    expect(s.warnings.some((w) => w.startsWith('signer-2: expires in 13.0 days'))).toBe(true);
    expect(s.warnings.some((w) => w.startsWith('coordinator: EXPIRED'))).toBe(true);
    expect(s.warnings.some((w) => w.startsWith('signer-1'))).toBe(false);
    expect(s.ca).toMatchObject({ mode: 'sealed', provider: { type: 'file' } });
  });
});

describe('renew', () => {
  it('re-issues what expires within the window, keeping name, SANs and usages; leaves the rest', async () => {
    const state = await fresh();
    await writeDevPki(state, [
      { name: 'coordinator', role: 'both' },
      { name: 'signer-1', role: 'server' },
    ]);
    const ca = await loadCa(state);
    await issueCertificate(state, ca, { name: 'signer-2', days: 10, sans: [{ type: 'dns', value: 's2.example.com' }] });
    const before = new X509Certificate(await pem(state, 'signer-2'));
    const coordinatorBefore = await pem(state, 'coordinator');
    const out = await renewCertificates(state, { withinDays: 21 });
    expect(out.renewed.map((r) => [r.name, r.why])).toEqual([['signer-2', 'expiring']]);
    const after = new X509Certificate(await pem(state, 'signer-2'));
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.subjectAltName).toBe(before.subjectAltName);
    expect(after.keyUsage).toEqual(before.keyUsage);
    expect(Date.parse(after.validTo)).toBeGreaterThanOrEqual(Date.parse(before.validTo)); // the same validity, from now
    expect(await pem(state, 'coordinator')).toBe(coordinatorBefore);
    // Nothing due: the CA key is not even unsealed (a missing seal key does not matter).
    await rm(join(state, 'pki', 'seal.key'));
    expect((await renewCertificates(state, { withinDays: 1 })).renewed).toEqual([]);
  });

  it('after a rollover: the new CA is trusted first, then the leaves move to it, then the old CA leaves the bundle when it expires', async () => {
    const state = await fresh();
    await writeDevPki(state, [
      { name: 'coordinator', role: 'both' },
      { name: 'signer-1', role: 'server' },
    ]);
    const oldCa = new X509Certificate(await readFile(join(state, 'pki', 'ca.pem'), 'utf8'));
    const leafBefore = await pem(state, 'signer-1');
    const r = await rolloverCa(state, { days: 730 });
    // Step 1: only the bundle changed; every leaf still comes from the old CA, which stays trusted.
    expect(await pem(state, 'signer-1')).toBe(leafBefore);
    const bundle = parseBundle(await readFile(join(state, 'tls', 'ca.pem'), 'utf8'));
    expect(bundle.map((c) => c.subject)).toEqual([r.next.subject, oldCa.subject]);
    // Step 2: renew moves every leaf to the new CA.
    const out = await renewCertificates(state);
    expect(out.renewed.map((x) => x.why)).toEqual(['older CA', 'older CA']);
    const next = new X509Certificate(r.next.toString('pem'));
    expect(new X509Certificate(await pem(state, 'signer-1')).checkIssued(next)).toBe(true);
    expect((await pkiStatus(state)).warnings).toEqual([]);
    // Step 3: once the old CA has expired, renew drops it from the bundle.
    const later = Date.parse(oldCa.validTo) + 1_000;
    const done = await renewCertificates(state, { now: later, withinDays: 1, names: ['signer-1'] });
    expect(done.dropped_cas).toEqual([oldCa.subject]);
    expect(parseBundle(await readFile(join(state, 'tls', 'ca.pem'), 'utf8')).map((c) => c.subject)).toEqual([r.next.subject]);
  });
});

describe('external CA', () => {
  it('keeps no CA key, refuses to issue, and checks the names and usages of the certificates it is given', async () => {
    const state = await fresh();
    const theirs = await createCa({ days: 365, name: 'Example Corp mTLS CA' });
    await initExternalCa(state, theirs.cert.toString('pem'));
    expect(await code(loadCa(state))).toBe('pki_external_ca');
    // Their certificates: a good signer-1, a signer-2 without serverAuth, a coordinator under the wrong CN.
    const write = async (file: string, leaf: Awaited<ReturnType<typeof issueLeaf>>) => {
      await writeFile(join(state, 'tls', `${file}.pem`), leaf.cert.toString('pem'));
      await writeFile(join(state, 'tls', `${file}-key.pem`), await privateKeyPem(leaf.keys.privateKey), { mode: 0o600 });
    };
    await write('signer-1', await issueLeaf(theirs, { name: 'signer-1', role: 'server', days: 90 }));
    await write('signer-2', await issueLeaf(theirs, { name: 'signer-2', role: 'client', days: 90 }));
    await write('coordinator', await issueLeaf(theirs, { name: 'coord', role: 'both', days: 90 }));
    const foreign = await createCa({ days: 30 });
    await write('admin', await issueLeaf(foreign, { name: 'admin', role: 'client', days: 90 }));
    const s = await pkiStatus(state);
    expect(s.ca.mode).toBe('external');
    const problems = (name: string) => s.certificates.find((c) => c.name === name)!.problems;
    expect(problems('signer-1')).toEqual([]);
    expect(problems('signer-2')).toEqual(['lacks extended key usage serverAuth']);
    expect(problems('coordinator')).toEqual(['CN is "coord", expected "coordinator"']);
    expect(problems('admin')).toEqual(['not issued by a CA in tls/ca.pem']);
    await copyFile(join(state, 'tls', 'ca.pem'), join(state, 'bundle-copy.pem')); // the bundle is plain PEM
    expect(parseBundle(await readFile(join(state, 'bundle-copy.pem'), 'utf8'))).toHaveLength(1);
  });
});
