// The CA key sealed by a real key provider round-trips through the CLI: `ztmint pki init` seals it
// in a PKCS#11 token (SoftHSM2, AES-GCM and ECDH P-256 modes) or with OCI KMS (the stand-in that
// speaks its wire protocol), `pki issue` unseals it to issue a certificate that chains to the CA,
// `pki rollover` keeps the provider; without the provider's secret nothing is issued.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/stack.js';
import { makeOciIdentity, ociEnv, startOciKmsStandin, type OciKmsStandin } from './helpers/oci-kms-standin.js';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.js';

let work: string;
let token: SoftHsmToken;
let kms: OciKmsStandin;
let ociKeyId: string;
let ociSecrets: Record<string, string>;
let strangerSecrets: Record<string, string>;

/** `ztmint` with exactly this environment for the provider's secrets (no inherited PIN or OCI key). */
async function ztmint(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  return promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...base, ...env }, timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
}

async function roundTrip(state: string, init: string[], env: Record<string, string>, provider: Record<string, unknown>): Promise<void> {
  const made = await ztmint(['pki', 'init', '--state', state, ...init, '--json'], env);
  expect(made.stderr).toBe('');
  expect(made.code).toBe(0);
  const sealed = JSON.parse(await readFile(join(state, 'pki', 'ca-key.sealed'), 'utf8')) as { provider: Record<string, unknown> };
  expect(sealed.provider).toMatchObject(provider);
  expect(JSON.stringify(sealed)).not.toContain('PRIVATE KEY');

  const issued = await ztmint(['pki', 'issue', '--state', state, '--name', 'admin', '--client', '--san', 'dns:ops.example.com', '--json'], env);
  expect(issued.code, issued.stderr).toBe(0);
  const ca = new X509Certificate(await readFile(join(state, 'pki', 'ca.pem'), 'utf8'));
  const admin = new X509Certificate(await readFile(join(state, 'tls', 'admin.pem'), 'utf8'));
  expect(admin.checkIssued(ca) && admin.verify(ca.publicKey)).toBe(true);
  expect(admin.subjectAltName).toContain('DNS:ops.example.com');

  // A rollover unseals the old key and seals the new one under the same provider.
  const rolled = await ztmint(['pki', 'rollover', '--state', state, '--json'], env);
  expect(rolled.code, rolled.stderr).toBe(0);
  expect((JSON.parse(await readFile(join(state, 'pki', 'ca-key.sealed'), 'utf8')) as { provider: Record<string, unknown> }).provider).toMatchObject(provider);
  const renewed = await ztmint(['pki', 'renew', '--state', state, '--json'], env);
  expect(renewed.code, renewed.stderr).toBe(0);
  const next = new X509Certificate(await readFile(join(state, 'pki', 'ca.pem'), 'utf8'));
  expect(new X509Certificate(await readFile(join(state, 'tls', 'admin.pem'), 'utf8')).checkIssued(next)).toBe(true);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ztmint-pki-kp-'));
  token = await createSoftHsmToken('ztmint-pki');
  token.generateAesKey('ca-aes', '11');
  token.generateEcKey('ca-ec', '12');
  const identity = makeOciIdentity('pki-operator');
  const stranger = makeOciIdentity('stranger');
  kms = await startOciKmsStandin([identity, stranger]);
  ociKeyId = kms.addKey([identity]);
  ociSecrets = await ociEnv(identity, work);
  strangerSecrets = await ociEnv(stranger, work);
}, 120_000);

afterAll(async () => {
  await kms?.stop();
  await token?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('CA key sealed by a key provider', () => {
  const pkcs11 = (keyLabel: string, mode: string) => ['--seal-to', 'pkcs11', '--mode', mode, '--module', token.module, '--token-label', token.label, '--key-label', keyLabel];

  it('PKCS#11 (SoftHSM2, AES-GCM): init, issue, rollover, renew; without the PIN nothing is issued', async () => {
    const state = join(work, 'pkcs11-aes');
    const env = { ...token.env, ZTMINT_PKCS11_PIN: token.pin };
    await roundTrip(state, pkcs11('ca-aes', 'aes-gcm'), env, { type: 'pkcs11', mode: 'aes-gcm', token_label: token.label, key_label: 'ca-aes' });
    const noPin = await ztmint(['pki', 'issue', '--state', state, '--name', 'signer-1'], token.env);
    expect(noPin.code).toBe(1);
    expect(noPin.stderr).toContain('no PIN');
    const wrongPin = await ztmint(['pki', 'issue', '--state', state, '--name', 'signer-1'], { ...token.env, ZTMINT_PKCS11_PIN: '000000' });
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toMatch(/PIN/);
  }, 180_000);

  it('PKCS#11 (SoftHSM2, ECDH P-256, as on a YubiKey): init and issue', async () => {
    await roundTrip(join(work, 'pkcs11-ec'), pkcs11('ca-ec', 'ecdh-p256'), { ...token.env, ZTMINT_PKCS11_PIN: token.pin }, { type: 'pkcs11', mode: 'ecdh-p256' });
  }, 180_000);

  it('OCI KMS (stand-in): init, issue, rollover, renew; another identity cannot unseal', async () => {
    const state = join(work, 'oci');
    await roundTrip(state, ['--seal-to', 'oci-kms', '--kms-key', ociKeyId, '--crypto-endpoint', kms.url], ociSecrets, { type: 'oci-kms', key_id: ociKeyId });
    const stranger = await ztmint(['pki', 'issue', '--state', state, '--name', 'signer-1'], strangerSecrets);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/not authorized|not_authorized|authoriz/i);
  }, 180_000);

  it('the file provider outside the dev stack: refused without the flag, loud with it', async () => {
    const state = join(work, 'file');
    const refused = await ztmint(['pki', 'init', '--state', state, '--seal-to', 'file'], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--insecure-allow-file-key-provider');
    const allowed = await ztmint(['pki', 'init', '--state', state, '--seal-to', 'file', '--insecure-allow-file-key-provider'], {});
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/^WARNING: the CA key is sealed with the file provider/m);
  }, 60_000);
});
