// A key share at rest: AES-256-GCM under a 0600 key file (the dev `file` provider). The plaintext
// share exists only in the signer's memory; the identifier and group key are bound as AAD so a
// sealed share cannot be swapped between signers or key sets.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { b64url, fromB64url } from '../protocol/encoding.js';
import type { SecretShare } from '../protocol/ciphersuite.js';

interface SealedShareFile {
  version: 1;
  provider: 'file';
  alg: 'A256GCM';
  identifier: string;
  group_public_key: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

function aad(identifier: string, groupPublicKey: string): Buffer {
  return Buffer.from(`ztmint-share-v1|${identifier}|${groupPublicKey}`);
}

export async function createSealKey(path: string): Promise<void> {
  await writeFile(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
}

async function readSealKey(path: string): Promise<Buffer> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new Error(`seal key ${path} is readable by group or others: run chmod 600 ${path}`);
  }
  const key = await readFile(path);
  if (key.length !== 32) throw new Error(`seal key ${path} must hold 32 bytes`);
  return key;
}

export async function sealShare(share: SecretShare, groupPublicKey: string, keyPath: string, outPath: string) {
  const key = await readSealKey(keyPath);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(share.identifier, groupPublicKey));
  const ciphertext = Buffer.concat([cipher.update(share.signingShare), cipher.final()]);
  key.fill(0);
  const file: SealedShareFile = {
    version: 1,
    provider: 'file',
    alg: 'A256GCM',
    identifier: share.identifier,
    group_public_key: groupPublicKey,
    iv: b64url(iv),
    ciphertext: b64url(ciphertext),
    tag: b64url(cipher.getAuthTag()),
  };
  await writeFile(outPath, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
}

export async function unsealShare(sealedPath: string, keyPath: string): Promise<SecretShare & { groupPublicKey: string }> {
  const file = JSON.parse(await readFile(sealedPath, 'utf8')) as SealedShareFile;
  if (file.version !== 1 || file.provider !== 'file' || file.alg !== 'A256GCM') {
    throw new Error(`${sealedPath}: unsupported sealed share format`);
  }
  const key = await readSealKey(keyPath);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, fromB64url(file.iv));
    decipher.setAAD(aad(file.identifier, file.group_public_key));
    decipher.setAuthTag(fromB64url(file.tag));
    const plain = Buffer.concat([decipher.update(fromB64url(file.ciphertext)), decipher.final()]);
    return { identifier: file.identifier, signingShare: new Uint8Array(plain), groupPublicKey: file.group_public_key };
  } catch {
    throw new Error(`${sealedPath}: cannot unseal (wrong key file or tampered share)`);
  } finally {
    key.fill(0);
  }
}
