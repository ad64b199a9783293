// Sealed shares under each key provider, in process: `file`, `pkcs11` (aes-gcm and ecdh-p256, on a
// real SoftHSM2 token with keys generated inside it), and `oci-kms` (the real oci-sdk client,
// requests signed with a test API key, against a loopback stand-in that verifies the signatures).
import { Command } from 'commander';
import { createCipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerSealCommands, verifyAgainstGroup } from '../cli/seal-commands.js';
import { keygen } from '../cli/keygen.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { SealError, type ProviderOptions, type SealTarget } from '../signers/key-providers/index.js';
import { readSealedShare, resealShare, sealShare, unsealShare, type SealedShareFileV2 } from '../signers/sealed-share.js';
import { makeOciIdentity, ociEnv, startOciKmsStandin, type OciIdentity, type OciKmsStandin } from './helpers/oci-kms-standin.js';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.js';

let work: string;
let state: string;
let group: GroupInfo;
/** Signer 1's share as keygen dealt it: the reference every round trip must give back. */
let original: { identifier: string; signingShare: Uint8Array };
let token: SoftHsmToken;
let kms: OciKmsStandin;
let identity: OciIdentity;
let ociKeyId: string;
let ociSecrets: Record<string, string>;

const noPrompt = async () => undefined;
const sharePath = (i: number) => join(state, 'signers', String(i), 'share.sealed');

function pkcs11(extra: Partial<Extract<SealTarget, { type: 'pkcs11' }>> = {}): SealTarget {
  return { type: 'pkcs11', mode: 'aes-gcm', module: token.module, tokenLabel: token.label, keyLabel: 'seal-aes', ...extra };
}
function withPin(pin = token.pin): ProviderOptions {
  return { env: { ZTMINT_PKCS11_PIN: pin }, prompt: noPrompt };
}
function oci(): SealTarget {
  return { type: 'oci-kms', keyId: ociKeyId, cryptoEndpoint: kms.url };
}
async function copyShare(name: string): Promise<string> {
  const to = join(work, name);
  await writeFile(to, await readFile(sharePath(1)), { mode: 0o600 });
  return to;
}
async function sealedTo(target: SealTarget, name: string, opts: ProviderOptions): Promise<string> {
  const out = join(work, name);
  await sealShare(original, group.group_public_key, target, out, opts);
  return out;
}
async function expectSame(path: string, opts: ProviderOptions = {}) {
  const share = await unsealShare(path, opts);
  expect(share.identifier).toBe(original.identifier);
  expect(Buffer.from(share.signingShare).equals(Buffer.from(original.signingShare))).toBe(true);
  verifyAgainstGroup(share, group);
  share.signingShare.fill(0);
}
async function editSealed(path: string, edit: (f: SealedShareFileV2) => void): Promise<void> {
  const file = JSON.parse(await readFile(path, 'utf8')) as SealedShareFileV2;
  edit(file);
  await writeFile(path, JSON.stringify(file));
}
function flip(b64: string): string {
  const bytes = Buffer.from(b64, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  return b64url(bytes);
}
async function sealError(p: Promise<unknown>): Promise<SealError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SealError);
  return err as SealError;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ztmint-kp-'));
  state = join(work, 'state');
  group = await keygen({ state, signers: 3, threshold: 2 });
  const share = await unsealShare(sharePath(1));
  original = { identifier: share.identifier, signingShare: share.signingShare };

  token = await createSoftHsmToken();
  token.generateAesKey('seal-aes', '01');
  token.generateEcKey('seal-ec', '02');
  token.generateEcKey('other-ec', '04');
  // An AES key that can leave the token: sealing under it must be refused.
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'loose-aes', '--id', '03', '--usage-decrypt', '--extractable']);
  // libsofthsm2 reads its configuration from the environment of the process that loads it.
  process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;

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

describe('file provider', () => {
  it('keygen seals with it (version 2) and the share unseals and matches group.json', async () => {
    const file = await readSealedShare(sharePath(1));
    expect(file).toMatchObject({ version: 2, provider: { type: 'file', key_file: 'seal.key' }, alg: 'A256GCM' });
    await expectSame(sharePath(1));
  });

  it('round trips under a new key file, which it creates 0600', async () => {
    const keyFile = join(work, 'other.key');
    const path = await sealedTo({ type: 'file', keyFile }, 'file.sealed', {});
    expect(((await import('node:fs')).statSync(keyFile).mode & 0o777).toString(8)).toBe('600');
    await expectSame(path);
  });

  it('still reads the version 1 format', async () => {
    const dir = await mkdtemp(join(work, 'v1-'));
    const key = randomBytes(32);
    await writeFile(join(dir, 'seal.key'), key, { mode: 0o600 });
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`ztmint-share-v1|${original.identifier}|${group.group_public_key}`));
    const ciphertext = Buffer.concat([cipher.update(original.signingShare), cipher.final()]);
    const v1 = {
      version: 1,
      provider: 'file',
      alg: 'A256GCM',
      identifier: original.identifier,
      group_public_key: group.group_public_key,
      iv: b64url(iv),
      ciphertext: b64url(ciphertext),
      tag: b64url(cipher.getAuthTag()),
    };
    await writeFile(join(dir, 'share.sealed'), JSON.stringify(v1));
    await expectSame(join(dir, 'share.sealed'));
    // ...and reseal migrates it to version 2.
    await resealShare(join(dir, 'share.sealed'), { type: 'file', keyFile: join(dir, 'seal.key') });
    expect((await readSealedShare(join(dir, 'share.sealed'))).version).toBe(2);
    await expectSame(join(dir, 'share.sealed'));
  });

  it('tampered ciphertext, wrong key file or a readable key file: clear errors', async () => {
    const tampered = await copyShare('tampered-file.sealed');
    await editSealed(tampered, (f) => (f.ciphertext = flip(f.ciphertext)));
    const err = await sealError(unsealShare(tampered, { keyFile: join(state, 'signers', '1', 'seal.key') }));
    expect(err.message).toMatch(/cannot unseal \(wrong key file, or the sealed share was tampered with\)/);
    expect(err.code).toBe('unseal_failed');

    const wrongKey = await sealError(unsealShare(sharePath(1), join(state, 'signers', '2', 'seal.key')));
    expect(wrongKey.code).toBe('unseal_failed');

    const loose = join(work, 'loose.key');
    await writeFile(loose, randomBytes(32), { mode: 0o644 });
    await chmod(loose, 0o644);
    expect((await sealError(unsealShare(sharePath(1), loose))).message).toMatch(/readable by group or others: run chmod 600/);
  });
});

describe('pkcs11 provider (SoftHSM2)', () => {
  it('the token keys were generated sensitive and never extractable', () => {
    const listing = token.tool(['--list-objects']);
    for (const label of ['seal-aes', 'seal-ec']) {
      const block = listing.split(/\n(?=\S)/).filter((b) => b.includes(`label:      ${label}`) && /Secret Key|Private Key/.test(b));
      expect(block.length).toBe(1);
      expect(block[0]).toMatch(/sensitive, always sensitive, never extractable/);
    }
  });

  it('aes-gcm: round trip; the file names module, token and key, and holds only the encrypted data key', async () => {
    const path = await sealedTo(pkcs11(), 'aes.sealed', withPin());
    const file = (await readSealedShare(path)) as SealedShareFileV2;
    expect(file.provider).toMatchObject({ type: 'pkcs11', mode: 'aes-gcm', module: token.module, token_label: token.label, key_label: 'seal-aes' });
    expect(Buffer.from((file.provider as { encrypted_dek: string }).encrypted_dek, 'base64url')).toHaveLength(48);
    await expectSame(path, withPin());
    // Each seal has its own data key.
    const again = await sealedTo(pkcs11(), 'aes2.sealed', withPin());
    expect(((await readSealedShare(again)) as SealedShareFileV2).provider).not.toEqual(file.provider);
  });

  it('ecdh-p256: round trip with an ephemeral public key in the file; selecting the key by CKA_ID alone (as with ykcs11) works', async () => {
    const path = await sealedTo(pkcs11({ mode: 'ecdh-p256', keyLabel: 'seal-ec' }), 'ecdh.sealed', withPin());
    const file = (await readSealedShare(path)) as SealedShareFileV2;
    expect(file.provider).toMatchObject({ type: 'pkcs11', mode: 'ecdh-p256', kdf: 'HKDF-SHA256', key_label: 'seal-ec' });
    const p = file.provider as { ephemeral_public_key: string; recipient_public_key: string };
    expect(Buffer.from(p.ephemeral_public_key, 'base64url')).toHaveLength(65);
    await expectSame(path, withPin());

    const byId = await sealedTo({ type: 'pkcs11', mode: 'ecdh-p256', module: token.module, tokenLabel: token.label, keyId: '02' }, 'ecdh-id.sealed', withPin());
    await expectSame(byId, withPin());
  });

  it('the PIN may come from ZTMINT_PKCS11_PIN_FILE or the prompt', async () => {
    const path = await sealedTo(pkcs11(), 'pin-sources.sealed', withPin());
    const pinFile = join(work, 'pin.txt');
    await writeFile(pinFile, `${token.pin}\n`, { mode: 0o600 });
    await expectSame(path, { env: { ZTMINT_PKCS11_PIN_FILE: pinFile }, prompt: noPrompt });
    const prompt = vi.fn(async () => token.pin);
    await expectSame(path, { env: {}, prompt });
    expect(prompt).toHaveBeenCalledWith(`PIN for PKCS#11 token "${token.label}": `);
  });

  it('wrong PIN: clear error, at seal and at unseal', async () => {
    const seal = await sealError(sealedTo(pkcs11(), 'wrong-pin.sealed', withPin('000000')));
    expect(seal.code).toBe('wrong_pin');
    expect(seal.message).toMatch(/PKCS#11 login to token "ztmint-test" failed: wrong PIN \(CKR_PIN_INCORRECT\)/);
    for (const mode of ['aes-gcm', 'ecdh-p256'] as const) {
      const path = await sealedTo(pkcs11({ mode, keyLabel: mode === 'aes-gcm' ? 'seal-aes' : 'seal-ec' }), `pin-${mode}.sealed`, withPin());
      const err = await sealError(unsealShare(path, withPin('000000')));
      expect(err.code).toBe('wrong_pin');
      expect(err.message).toContain(path);
      expect(err.message).toMatch(/wrong PIN \(CKR_PIN_INCORRECT\)/);
      expect(err.message).not.toContain('000000');
    }
  });

  it('no PIN and no terminal: says how to give one', async () => {
    const path = await sealedTo(pkcs11(), 'no-pin.sealed', withPin());
    const err = await sealError(unsealShare(path, { env: {}, prompt: noPrompt }));
    expect(err.code).toBe('no_secret');
    expect(err.message).toMatch(/no PIN for PKCS#11 token "ztmint-test": set ZTMINT_PKCS11_PIN or ZTMINT_PKCS11_PIN_FILE/);
  });

  it('wrong key label or token label: clear errors naming what is there', async () => {
    const key = await sealError(sealedTo(pkcs11({ keyLabel: 'no-such-key' }), 'nokey.sealed', withPin()));
    expect(key.code).toBe('key_not_found');
    expect(key.message).toMatch(/no secret key with label "no-such-key" on token "ztmint-test" \(secret keys there: .*"seal-aes"/);

    const path = await sealedTo(pkcs11({ mode: 'ecdh-p256', keyLabel: 'seal-ec' }), 'relabel.sealed', withPin());
    await editSealed(path, (f) => ((f.provider as { key_label?: string }).key_label = 'gone-ec'));
    const unseal = await sealError(unsealShare(path, withPin()));
    expect(unseal.code).toBe('key_not_found');
    expect(unseal.message).toMatch(/no private key with label "gone-ec" on token "ztmint-test" \(private keys there: .*"seal-ec"/);

    const tok = await sealError(sealedTo(pkcs11({ tokenLabel: 'no-such-token' }), 'notoken.sealed', withPin()));
    expect(tok.code).toBe('token_not_found');
    expect(tok.message).toMatch(/no token "no-such-token" in PKCS#11 module .*tokens present: "ztmint-test"/);

    const lib = await sealError(sealedTo(pkcs11({ module: join(work, 'missing.so') }), 'nomodule.sealed', withPin()));
    expect(lib.code).toBe('provider_unavailable');
    expect(lib.message).toMatch(/cannot load PKCS#11 module/);
  });

  it('another key of the right type: the share does not unseal', async () => {
    const path = await sealedTo(pkcs11({ mode: 'ecdh-p256', keyLabel: 'seal-ec' }), 'other-ec.sealed', withPin());
    await editSealed(path, (f) => ((f.provider as { key_label?: string }).key_label = 'other-ec'));
    const err = await sealError(unsealShare(path, withPin()));
    expect(err.code).toBe('unseal_failed');
    expect(err.message).toMatch(/is not the key this share was sealed to/);
  });

  it('refuses a key that can be extracted from the token', async () => {
    const err = await sealError(sealedTo(pkcs11({ keyLabel: 'loose-aes' }), 'loose.sealed', withPin()));
    expect(err.message).toMatch(/can be extracted from the token/);
  });

  it('tampered encrypted data key, ephemeral key or share ciphertext: clear errors', async () => {
    const aes = await sealedTo(pkcs11(), 'tamper-aes.sealed', withPin());
    const dek = join(work, 'tamper-dek.sealed');
    await writeFile(dek, await readFile(aes));
    await editSealed(dek, (f) => {
      const p = f.provider as { encrypted_dek: string };
      p.encrypted_dek = flip(p.encrypted_dek);
    });
    const e1 = await sealError(unsealShare(dek, withPin()));
    expect(e1.code).toBe('unseal_failed');
    expect(e1.message).toMatch(/did not decrypt the data key .*not the key this share was sealed with, or the sealed share was tampered with/);

    await editSealed(aes, (f) => (f.ciphertext = flip(f.ciphertext)));
    const e2 = await sealError(unsealShare(aes, withPin()));
    expect(e2.message).toMatch(/cannot unseal \(wrong key, or the sealed share was tampered with\)/);

    const ecdh = await sealedTo(pkcs11({ mode: 'ecdh-p256', keyLabel: 'seal-ec' }), 'tamper-ecdh.sealed', withPin());
    const other = (await readSealedShare(await sealedTo(pkcs11({ mode: 'ecdh-p256', keyLabel: 'seal-ec' }), 'tamper-ecdh2.sealed', withPin()))) as SealedShareFileV2;
    await editSealed(ecdh, (f) => {
      (f.provider as { ephemeral_public_key: string }).ephemeral_public_key = (other.provider as { ephemeral_public_key: string }).ephemeral_public_key;
    });
    expect((await sealError(unsealShare(ecdh, withPin()))).code).toBe('unseal_failed');

    const garbled = await sealedTo(pkcs11(), 'garbled.sealed', withPin());
    await editSealed(garbled, (f) => ((f.provider as { encrypted_dek: string }).encrypted_dek = 'not base64!'));
    const e3 = await sealError(unsealShare(garbled, withPin()));
    expect(e3.code).toBe('format');
    expect(e3.message).toMatch(/malformed sealed share/);

    // The identifier is bound too: a share cannot be passed off as another signer's.
    const moved = await sealedTo(pkcs11(), 'moved.sealed', withPin());
    await editSealed(moved, (f) => (f.identifier = group.identifiers[1]!));
    expect((await sealError(unsealShare(moved, withPin()))).code).toBe('unseal_failed');
  });
});

describe('oci-kms provider (oci-sdk against a signature-checking stand-in)', () => {
  const withOci = (env: Record<string, string> = ociSecrets): ProviderOptions => ({ env, prompt: noPrompt });

  it('round trip: the data key is encrypted and decrypted by the vault with signed requests', async () => {
    const before = kms.requests.length;
    const path = await sealedTo(oci(), 'oci.sealed', withOci());
    const file = (await readSealedShare(path)) as SealedShareFileV2;
    expect(file.provider).toMatchObject({ type: 'oci-kms', key_id: ociKeyId, crypto_endpoint: kms.url });
    expect((file.provider as { key_version_id?: string }).key_version_id).toMatch(/^ocid1\.keyversion\./);
    await expectSame(path, withOci());
    const seen = kms.requests.slice(before);
    expect(seen.map((r) => [r.path, r.status])).toEqual([
      ['/20180608/encrypt', 200],
      ['/20180608/decrypt', 200],
    ]);
    expect(seen.every((r) => r.keyId === `${identity.tenancy}/${identity.user}/${identity.fingerprint}`)).toBe(true);
  });

  it('an API key that does not match the fingerprint: the signature is rejected, clearly', async () => {
    const path = await sealedTo(oci(), 'oci-auth.sealed', withOci());
    const impostor = { ...identity, privateKeyPem: makeOciIdentity().privateKeyPem };
    const err = await sealError(unsealShare(path, withOci(await ociEnv(impostor, work))));
    expect(err.code).toBe('not_authenticated');
    expect(err.message).toMatch(/OCI KMS at http:\/\/127\.0\.0\.1:\d+ rejected the request signature \(401 NotAuthenticated\)/);
    expect(kms.requests.at(-1)).toMatchObject({ status: 401, code: 'NotAuthenticated' });
  });

  it('a key this user may not use, or no credentials at all: clear errors', async () => {
    const stranger = makeOciIdentity('stranger');
    kms.addUser(stranger);
    const err = await sealError(sealedTo(oci(), 'oci-403.sealed', withOci(await ociEnv(stranger, work))));
    expect(err.code).toBe('not_authorized');
    expect(err.message).toMatch(/key ocid1\.key\..* not found, or this user may not use it to encrypt \(404 NotAuthorizedOrNotFound\)/);

    const none = await sealError(sealedTo(oci(), 'oci-none.sealed', withOci({ ZTMINT_OCI_CONFIG_FILE: join(work, 'no-such-oci-config') })));
    expect(none.code).toBe('no_secret');

    const plain = await sealError(sealedTo({ type: 'oci-kms', keyId: ociKeyId, cryptoEndpoint: 'http://kms.example.com' }, 'oci-http.sealed', withOci()));
    expect(plain.message).toMatch(/must use https/);

    const { freePort } = await import('../cli/processes.js');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await sealError(sealedTo({ type: 'oci-kms', keyId: ociKeyId, cryptoEndpoint: closed }, 'oci-down.sealed', withOci()));
    expect(down.code).toBe('provider_unavailable');
    expect(down.message).toContain(`cannot reach OCI KMS at ${closed} to encrypt`);
  });

  it('tampered encrypted data key or share ciphertext: clear errors', async () => {
    const path = await sealedTo(oci(), 'oci-tamper.sealed', withOci());
    const dek = join(work, 'oci-tamper-dek.sealed');
    await writeFile(dek, await readFile(path));
    await editSealed(dek, (f) => {
      const p = f.provider as { encrypted_dek: string };
      const bytes = Buffer.from(p.encrypted_dek, 'base64');
      bytes[bytes.length - 20]! ^= 1;
      p.encrypted_dek = bytes.toString('base64');
    });
    const e1 = await sealError(unsealShare(dek, withOci()));
    expect(e1.code).toBe('unseal_failed');
    expect(e1.message).toMatch(/OCI KMS did not decrypt the data key .*\(400 InvalidParameter.*tampered with/);

    await editSealed(path, (f) => (f.ciphertext = flip(f.ciphertext)));
    expect((await sealError(unsealShare(path, withOci()))).message).toMatch(/cannot unseal \(wrong key, or the sealed share was tampered with\)/);
  });
});

describe('reseal', () => {
  it('file → pkcs11 aes-gcm → pkcs11 ecdh-p256 → oci-kms → file keeps the same share', async () => {
    const path = await copyShare('chain.sealed');
    await writeFile(join(work, 'seal.key'), await readFile(join(state, 'signers', '1', 'seal.key')), { mode: 0o600 });
    const secrets = { env: { ZTMINT_PKCS11_PIN: token.pin, ...ociSecrets }, prompt: noPrompt };
    const steps: SealTarget[] = [pkcs11(), pkcs11({ mode: 'ecdh-p256', keyLabel: 'seal-ec' }), oci(), { type: 'file', keyFile: join(work, 'chain-new.key') }];
    const seen: string[] = [];
    for (const target of steps) {
      const result = await resealShare(path, target, { from: secrets, to: secrets });
      seen.push(`${result.from.type}${'mode' in result.from ? `/${result.from.mode}` : ''}→${result.to.type}`);
      await expectSame(path, secrets);
    }
    expect(seen).toEqual(['file→pkcs11', 'pkcs11/aes-gcm→pkcs11', 'pkcs11/ecdh-p256→oci-kms', 'oci-kms→file']);
    expect(((await readSealedShare(path)) as SealedShareFileV2).provider).toEqual({ type: 'file', key_file: 'chain-new.key' });
  });

  it('a PIN typed at the prompt is asked once per reseal (seal and verifying unseal)', async () => {
    const path = await copyShare('prompt-once.sealed');
    await writeFile(join(work, 'seal.key'), await readFile(join(state, 'signers', '1', 'seal.key')), { mode: 0o600 });
    const prompt = vi.fn(async () => token.pin);
    await resealShare(path, pkcs11(), { to: { env: {}, prompt } });
    expect(prompt).toHaveBeenCalledTimes(1);
    await expectSame(path, withPin());
  });

  it('a reseal that fails leaves the sealed share as it was', async () => {
    const path = await copyShare('keep.sealed');
    await writeFile(join(work, 'seal.key'), await readFile(join(state, 'signers', '1', 'seal.key')), { mode: 0o600 });
    const before = await readFile(path, 'utf8');
    const err = await sealError(resealShare(path, pkcs11(), { to: withPin('000000') }));
    expect(err.code).toBe('wrong_pin');
    expect(await readFile(path, 'utf8')).toBe(before);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(work)).filter((n) => n.includes('.reseal'))).toEqual([]);
  });
});

describe('ztmint signer reseal / inspect (commander wiring)', () => {
  afterEach(() => {
    delete process.env.ZTMINT_PKCS11_PIN;
    vi.restoreAllMocks();
  });

  /** A program shaped like cli/main.ts: `signer` runs a signer, with required options and an action. */
  function program() {
    const ran: Array<Record<string, unknown>> = [];
    const p = new Command('ztmint').exitOverride();
    p.command('signer')
      .requiredOption('--state <dir>', 'state')
      .requiredOption('--index <i>', 'index', Number)
      .option('--port <port>', 'port', Number, 0)
      .action((opts) => void ran.push(opts));
    registerSealCommands(p);
    for (const c of p.commands) c.exitOverride();
    for (const c of p.commands.flatMap((c) => c.commands)) c.exitOverride();
    return { p, ran };
  }
  async function run(args: string[]): Promise<string> {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    const { p } = program();
    await p.parseAsync(['node', 'ztmint', ...args]);
    return lines.join('\n');
  }

  it('`signer --state … --index …` still runs the signer, and still requires its options', async () => {
    const { p, ran } = program();
    await p.parseAsync(['node', 'ztmint', 'signer', '--state', state, '--index', '2', '--port', '7001']);
    expect(ran).toEqual([{ state, index: 2, port: 7001 }]);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(program().p.parseAsync(['node', 'ztmint', 'signer', '--state', state])).rejects.toThrow(/required option '--index <i>' not specified/);
  });

  it('`signer reseal` moves signer 3 to pkcs11 and back; `signer inspect --check` unseals against group.json', async () => {
    process.env.ZTMINT_PKCS11_PIN = token.pin;
    const out = await run([
      'signer',
      'reseal',
      '--state',
      state,
      '--index',
      '3',
      '--to',
      'pkcs11',
      '--mode',
      'ecdh-p256',
      '--module',
      token.module,
      '--token-label',
      token.label,
      '--key-label',
      'seal-ec',
      '--json',
    ]);
    const result = JSON.parse(out) as { to: Record<string, unknown>; from: Record<string, unknown>; removed_key_file: null };
    expect(result.from).toEqual({ type: 'file', key_file: 'seal.key' });
    expect(result.to).toEqual({ type: 'pkcs11', mode: 'ecdh-p256', module: token.module, token_label: token.label, key_label: 'seal-ec' });

    const info = JSON.parse(await run(['signer', 'inspect', '--state', state, '--index', '3', '--check', '--json'])) as Record<string, unknown>;
    expect(info).toMatchObject({ version: 2, identifier: group.identifiers[2], unseal: 'ok', provider: { type: 'pkcs11', mode: 'ecdh-p256' } });

    const text = await run(['signer', 'seal', '--state', state, '--index', '3', '--to', 'file']);
    expect(text).toMatch(/from pkcs11 mode=ecdh-p256 .*\n\s+to\s+file key_file=seal\.key/);
    const back = await unsealShare(sharePath(3));
    verifyAgainstGroup(back, group);
    back.signingShare.fill(0);
  });

  it('options of another provider, or a missing source, are refused', async () => {
    await expect(run(['signer', 'reseal', '--state', state, '--index', '1', '--to', 'file', '--key-label', 'x'])).rejects.toThrow(/--key-label does not apply to --to file/);
    await expect(run(['signer', 'reseal', '--to', 'file'])).rejects.toThrow(/give --state DIR --index I, or --share FILE/);
    await expect(run(['signer', 'reseal', '--share', sharePath(1), '--to', 'oci-kms'])).rejects.toThrow(/needs --kms-key/);
  });
});
