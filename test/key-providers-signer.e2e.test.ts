// Real signer processes (`node bin/ztmint.js signer …`, built by `npm run build`) unsealing their
// shares through each key provider: `file`, `pkcs11` aes-gcm and ecdh-p256 on a SoftHSM2 token,
// and `oci-kms` through oci-sdk against the signature-checking stand-in. With a wrong PIN or a
// wrong API key a signer exits non-zero with a clear message and never prints its ready line; with
// all three resealed, the dev stack mints a token from shares unsealed by SoftHSM2 and OCI KMS.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SealTarget } from '../signers/key-providers/index.js';
import { readSealedShare, resealShare } from '../signers/sealed-share.js';
import { READY_TIMEOUT_MS, waitForExit } from './helpers/child-process.js';
import { CLI, ROOT, startDevStack } from './helpers/dev-stack.js';
import { makeOciIdentity, ociEnv, startOciKmsStandin, type OciIdentity, type OciKmsStandin } from './helpers/oci-kms-standin.js';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.js';

let work: string;
let state: string;
let token: SoftHsmToken;
let kms: OciKmsStandin;
let identity: OciIdentity;
let ociKeyId: string;
let ociSecrets: Record<string, string>;
let pkcs11Env: Record<string, string>;

/** The I2 settings are required but not exercised here: these signers only start and stop. */
const checks = ['--token-issuer', 'http://127.0.0.1:9', '--oidc-issuer', 'http://127.0.0.1:9', '--oidc-audience', 'http://127.0.0.1:9'];

interface SignerRun {
  code: number | null;
  ready?: { ready: boolean; url: string; pid: number; identifier: string };
  stdout: string;
  stderr: string;
}

/**
 * Starts `ztmint signer --state … --index i --port 0`; resolves with its ready line (then stops it
 * with SIGTERM) or with its exit when it exits first.
 */
function runSigner(index: number, env: Record<string, string | undefined>): Promise<SignerRun> {
  const child = spawn(process.execPath, [CLI, 'signer', '--state', state, '--index', String(index), '--port', '0', ...checks], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZTMINT_PKCS11_PIN: undefined, ...env },
  });
  const run: SignerRun = { code: null, stdout: '', stderr: '' };
  child.stderr!.on('data', (c: Buffer) => (run.stderr += c.toString()));
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`signer ${index} neither got ready nor exited in ${READY_TIMEOUT_MS / 1000} s:\n${run.stderr}`));
    }, READY_TIMEOUT_MS);
    lines.on('line', (line) => {
      run.stdout += `${line}\n`;
      if (run.ready) return;
      try {
        run.ready = JSON.parse(line) as SignerRun['ready'];
      } catch {
        return;
      }
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      run.code = code;
      lines.close();
      resolve(run);
    });
  });
}

async function reseal(index: number, target: SealTarget, env: Record<string, string>) {
  return resealShare(join(state, 'signers', String(index), 'share.sealed'), target, { from: { env, prompt: async () => undefined }, to: { env, prompt: async () => undefined } });
}

/** Signer 1 → pkcs11 aes-gcm, 2 → pkcs11 ecdh-p256, 3 → oci-kms (each test can run alone). */
async function ensureSealed(index: 1 | 2 | 3): Promise<void> {
  const file = await readSealedShare(join(state, 'signers', String(index), 'share.sealed'));
  const type = file.version === 2 ? file.provider.type : 'file';
  if (type !== 'file') return;
  const env = { ...pkcs11Env, ...ociSecrets };
  if (index === 1) await reseal(1, { type: 'pkcs11', mode: 'aes-gcm', module: token.module, tokenLabel: token.label, keyLabel: 'signer-aes' }, env);
  if (index === 2) await reseal(2, { type: 'pkcs11', mode: 'ecdh-p256', module: token.module, tokenLabel: token.label, keyLabel: 'signer-ec' }, env);
  if (index === 3) await reseal(3, { type: 'oci-kms', keyId: ociKeyId, cryptoEndpoint: kms.url }, env);
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'build', 'cli', 'main.js'))) throw new Error('run `npm run build` first (bin/ztmint.js runs build/cli/main.js)');
  work = await mkdtemp(join(tmpdir(), 'ztmint-kp-signer-'));
  state = join(work, 'state');
  await promisify(execFile)(process.execPath, [CLI, 'keygen', '--state', state, '--signers', '3', '--threshold', '2']);

  token = await createSoftHsmToken('ztmint-signers', '246810');
  token.generateAesKey('signer-aes', '01');
  token.generateEcKey('signer-ec', '02');
  process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF; // for the reseals made in this process
  pkcs11Env = { ...token.env, ZTMINT_PKCS11_PIN: token.pin };

  identity = makeOciIdentity();
  kms = await startOciKmsStandin([identity]);
  ociKeyId = kms.addKey([identity]);
  ociSecrets = await ociEnv(identity, work);
});

afterAll(async () => {
  await kms?.stop();
  await token?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a signer process unseals its share through its provider', () => {
  it('file (as keygen sealed it)', async () => {
    const run = await runSigner(1, {});
    expect(run.ready, run.stderr).toMatchObject({ ready: true, url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/) });
  });

  it('pkcs11 aes-gcm', async () => {
    await ensureSealed(1);
    expect((await readSealedShare(join(state, 'signers', '1', 'share.sealed'))).provider).toMatchObject({ type: 'pkcs11', mode: 'aes-gcm' });
    const run = await runSigner(1, pkcs11Env);
    expect(run.ready, run.stderr).toMatchObject({ ready: true });
  });

  it('pkcs11 ecdh-p256', async () => {
    await ensureSealed(2);
    const run = await runSigner(2, pkcs11Env);
    expect(run.ready, run.stderr).toMatchObject({ ready: true });
  });

  it('pkcs11 with the PIN typed at a terminal prompt (no echo), when stdin is a TTY', async () => {
    await ensureSealed(1);
    for (const [pin, ok] of [
      ['111111', false],
      [token.pin, true],
    ] as const) {
      // util-linux `script` gives the signer a pseudo-terminal and forwards our writes to it.
      const command = `${process.execPath} ${CLI} signer --state ${state} --index 1 --port 0 ${checks.join(' ')}`;
      const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...token.env, ZTMINT_PKCS11_PIN: undefined } });
      let screen = '';
      let typed = false;
      const outcome = await new Promise<{ ready?: { pid: number }; code: number | null }>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`no prompt or outcome in ${READY_TIMEOUT_MS / 1000} s:\n${screen}`));
        }, READY_TIMEOUT_MS);
        child.stdout!.on('data', (c: Buffer) => {
          screen += c.toString();
          if (!typed && screen.includes(`PIN for PKCS#11 token "${token.label}": `)) {
            typed = true;
            child.stdin!.write(`${pin}\r`);
          }
          const ready = /\{"ready":true[^\n]*\}/.exec(screen);
          if (ready) {
            clearTimeout(timer);
            resolve({ ready: JSON.parse(ready[0]) as { pid: number }, code: null });
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code });
        });
      });
      if (outcome.ready) {
        process.kill(outcome.ready.pid, 'SIGTERM');
        if (!(await waitForExit(child, 30_000))) throw new Error(`script(1) around the signer did not exit within 30 s of SIGTERM:\n${screen}`);
      }
      expect(typed, screen).toBe(true);
      expect(screen).not.toContain(pin); // never echoed
      if (ok) expect(outcome.ready, screen).toBeDefined();
      else {
        expect(outcome.ready, screen).toBeUndefined();
        expect(outcome.code).not.toBe(0);
        expect(screen).toMatch(/wrong PIN \(CKR_PIN_INCORRECT\)/);
      }
    }
  });

  it('oci-kms: the signer decrypts its data key with a signed request', async () => {
    await ensureSealed(3);
    const before = kms.requests.length;
    const run = await runSigner(3, ociSecrets);
    expect(run.ready, run.stderr).toMatchObject({ ready: true });
    // Its share's data key, then (first start) its share-log seed sealed with the same vault key
    // and unsealed again to check it (signers/share-log-seed.ts): every request signed.
    const keyId = `${identity.tenancy}/${identity.user}/${identity.fingerprint}`;
    expect(kms.requests.slice(before)).toEqual(['decrypt', 'encrypt', 'decrypt'].map((op) => ({ path: `/20180608/${op}`, status: 200, keyId })));
  });
});

describe('a signer that cannot unseal exits non-zero, says why, and never gets ready', () => {
  it('wrong PIN (aes-gcm and ecdh-p256)', async () => {
    await ensureSealed(1);
    await ensureSealed(2);
    for (const index of [1, 2]) {
      const run = await runSigner(index, { ...token.env, ZTMINT_PKCS11_PIN: '999999' });
      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull();
      expect(run.ready).toBeUndefined();
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/ztmint: .*share\.sealed: PKCS#11 login to token "ztmint-signers" failed: wrong PIN \(CKR_PIN_INCORRECT\)/);
      expect(run.stderr).not.toContain('999999');
      expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
  });

  it('no PIN and no terminal', async () => {
    await ensureSealed(1);
    const run = await runSigner(1, token.env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/no PIN for PKCS#11 token "ztmint-signers": set ZTMINT_PKCS11_PIN or ZTMINT_PKCS11_PIN_FILE, or run on a terminal/);
  });

  it('OCI API key that does not match the fingerprint', async () => {
    await ensureSealed(3);
    const impostor = await ociEnv({ ...identity, privateKeyPem: makeOciIdentity().privateKeyPem }, work);
    const run = await runSigner(3, impostor);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/rejected the request signature \(401 NotAuthenticated\)/);
  });
});

describe('the dev stack on resealed shares', () => {
  it('mints with signers unsealed from SoftHSM2 (aes-gcm, ecdh-p256) and OCI KMS', async () => {
    // `dev --state` reuses an existing state directory; the helper's own --state comes first and
    // commander keeps the last one given.
    for (const i of [1, 2, 3] as const) await ensureSealed(i);
    const decrypts = kms.requests.filter((r) => r.path === '/20180608/decrypt' && r.status === 200).length;
    const stack = await startDevStack(['--state', state], { ...pkcs11Env, ...ociSecrets });
    try {
      expect(stack.signers).toHaveLength(3);
      // It runs on this state directory: its group key, and signer 3 asked the vault for its data key.
      const group = JSON.parse(await readFile(join(state, 'group.json'), 'utf8')) as { group_public_key: string };
      const jwks = (await (await fetch(stack.jwks)).json()) as { keys: Array<{ x: string }> };
      expect(jwks.keys.map((k) => k.x)).toContain(group.group_public_key);
      // Two data keys: its share's and its share-log seed's.
      expect(kms.requests.filter((r) => r.path === '/20180608/decrypt' && r.status === 200).length).toBe(decrypts + 2);
      const res = await stack.mint(await stack.idToken());
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.token).toBeTypeOf('string');
      expect(stack.output()).not.toContain(token.pin);
    } finally {
      await stack.stop();
    }
  });
});
