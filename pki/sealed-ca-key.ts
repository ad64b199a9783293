// The CA's private key at rest, sealed like a signer's share (signers/sealed-share.ts) by one of
// the key providers of signers/key-providers/: AES-256-GCM under a content key that the provider
// (file, PKCS#11 token, OCI KMS) produces and recovers. The seal context binds the key to its CA:
// identifier "ztmint-ca" and the SHA-256 of the CA's public key, authenticated as AAD here and by
// the provider, so a sealed key cannot be passed off as a share or as another CA's key.
//
// On disk: { "version": 1, "kind": "ztmint-ca-key", "ca_spki_sha256", "provider": {…non-secret},
//            "alg": "A256GCM", "iv", "ciphertext", "tag" }                       (bytes as base64url)
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { keyFilePath } from '../signers/key-providers/file.js';
import { newContentKey, providerTag, recoverContentKey, SealError, type ProviderOptions, type ProviderParams, type SealContext, type SealTarget } from '../signers/key-providers/index.js';
import { replaceFile } from './atomic-files.js';

export interface SealedCaKeyFile {
  version: 1;
  kind: 'ztmint-ca-key';
  ca_spki_sha256: string;
  provider: ProviderParams;
  alg: 'A256GCM';
  iv: string;
  ciphertext: string;
  tag: string;
}

const IDENTIFIER = 'ztmint-ca';

function contextOf(spkiSha256: string): SealContext {
  return { identifier: IDENTIFIER, groupPublicKey: spkiSha256 };
}

function aad(spkiSha256: string, params: ProviderParams): Buffer {
  return Buffer.from(`ztmint-ca-key-v1|${spkiSha256}|${providerTag(params)}`);
}

/** Seals `pkcs8` (the CA's private key) into `path` (0600, replaced atomically). */
export async function sealCaKey(pkcs8: Uint8Array, spkiSha256: string, target: SealTarget, path: string, opts: ProviderOptions = {}): Promise<void> {
  const { key, params } = await newContentKey(target, contextOf(spkiSha256), path, opts);
  try {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(spkiSha256, params));
    const ciphertext = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
    const file: SealedCaKeyFile = {
      version: 1,
      kind: 'ztmint-ca-key',
      ca_spki_sha256: spkiSha256,
      provider: params,
      alg: 'A256GCM',
      iv: b64url(iv),
      ciphertext: b64url(ciphertext),
      tag: b64url(cipher.getAuthTag()),
    };
    await replaceFile(path, JSON.stringify(file, null, 2) + '\n', 0o600);
  } finally {
    key.fill(0);
  }
}

export async function readSealedCaKey(path: string): Promise<SealedCaKeyFile> {
  let file: Partial<SealedCaKeyFile>;
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as Partial<SealedCaKeyFile>;
  } catch (err) {
    throw new SealError('format', `${path}: cannot read the sealed CA key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const ok = file?.version === 1 && file.kind === 'ztmint-ca-key' && file.alg === 'A256GCM' && typeof file.provider?.type === 'string';
  if (!ok || ![file.ca_spki_sha256, file.iv, file.ciphertext, file.tag].every((v) => typeof v === 'string' && v.length > 0)) {
    throw new SealError('format', `${path}: not a sealed ztmint CA key`);
  }
  return file as SealedCaKeyFile;
}

/**
 * The CA's PKCS#8 private key; `spkiSha256` is the CA certificate's public key hash, which the
 * sealed file must be bound to. The caller zeroes the result.
 */
export async function unsealCaKey(path: string, spkiSha256: string, opts: ProviderOptions = {}): Promise<Buffer> {
  const file = await readSealedCaKey(path);
  if (file.ca_spki_sha256 !== spkiSha256) throw new SealError('wrong_key', `${path} holds the key of another CA than the certificate beside it`);
  const key = await recoverContentKey(file.provider, contextOf(spkiSha256), path, opts).catch((err: unknown) => {
    throw err instanceof SealError ? new SealError(err.code, `${path}: ${err.message}`, { cause: err }) : err;
  });
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, fromB64url(file.iv));
    decipher.setAAD(aad(spkiSha256, file.provider));
    decipher.setAuthTag(fromB64url(file.tag));
    return Buffer.concat([decipher.update(fromB64url(file.ciphertext)), decipher.final()]);
  } catch (err) {
    throw new SealError('unseal_failed', `${path}: cannot unseal the CA key (wrong key, or the file was tampered with)`, { cause: err });
  } finally {
    key.fill(0);
  }
}

/** Where a sealed key's provider would seal again (a CA rollover keeps the provider). */
export function targetOf(params: ProviderParams, sealedPath: string): SealTarget {
  switch (params.type) {
    case 'file':
      return { type: 'file', keyFile: keyFilePath(params, sealedPath) };
    case 'pkcs11':
      return {
        type: 'pkcs11',
        mode: params.mode,
        module: params.module,
        ...(params.token_label !== undefined ? { tokenLabel: params.token_label } : {}),
        ...(params.slot !== undefined ? { slot: params.slot } : {}),
        ...(params.key_label !== undefined ? { keyLabel: params.key_label } : {}),
        ...(params.key_id !== undefined ? { keyId: params.key_id } : {}),
      };
    case 'oci-kms':
      return { type: 'oci-kms', keyId: params.key_id, cryptoEndpoint: params.crypto_endpoint };
  }
}
