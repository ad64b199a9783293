// A key share at rest. The share is encrypted locally with AES-256-GCM under a 256-bit content key
// that a key provider (signers/key-providers/) produces at seal time and recovers at unseal:
// `file` (dev: a 0600 key file), `pkcs11` (a key that never leaves a PKCS#11 token: AES-GCM or
// ECDH P-256) or `oci-kms` (a data key encrypted by OCI Vault). The plaintext share exists only in
// the signer's memory; the identifier, the group key and the provider kind are bound as AAD so a
// sealed share cannot be swapped between signers, key sets or providers.
//
// On disk (version 2; docs/key-providers.md):
//   { "version": 2, "identifier", "group_public_key", "provider": { "type", …non-secret parameters },
//     "alg": "A256GCM", "iv", "ciphertext", "tag" }                       (bytes as base64url)
// Version 1 files (`file` provider only, key in seal.key beside the file) are still read; any
// seal or reseal writes version 2.
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { SecretShare } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import {
  describeProvider,
  newContentKey,
  providerTag,
  recoverContentKey,
  SealError,
  shareAad,
  ttyPrompt,
  type ProviderOptions,
  type ProviderParams,
  type SealContext,
  type SealTarget,
} from './key-providers/index.js';

export { createSealKey } from './key-providers/index.js';
export type { ProviderOptions, SealTarget } from './key-providers/index.js';

interface SealedShareFileV1 {
  version: 1;
  provider: 'file';
  alg: 'A256GCM';
  identifier: string;
  group_public_key: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

export interface SealedShareFileV2 {
  version: 2;
  identifier: string;
  group_public_key: string;
  provider: ProviderParams;
  alg: 'A256GCM';
  iv: string;
  ciphertext: string;
  tag: string;
}

export type SealedShareFile = SealedShareFileV1 | SealedShareFileV2;

export type UnsealedShare = SecretShare & { groupPublicKey: string };

function aadV1(identifier: string, groupPublicKey: string): Buffer {
  return Buffer.from(`ztmint-share-v1|${identifier}|${groupPublicKey}`);
}

function isString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** Reads and checks the structure of a sealed share file (no secret is needed for this). */
export async function readSealedShare(sealedPath: string): Promise<SealedShareFile> {
  let text: string;
  try {
    text = await readFile(sealedPath, 'utf8');
  } catch (err) {
    throw new SealError('format', `${sealedPath}: cannot read the sealed share (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let file: Record<string, unknown>;
  try {
    file = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new SealError('format', `${sealedPath}: not a sealed share (invalid JSON)`);
  }
  const common = file && typeof file === 'object' && file.alg === 'A256GCM' && ['identifier', 'group_public_key', 'iv', 'ciphertext', 'tag'].every((k) => isString(file[k]));
  if (common && file.version === 1 && file.provider === 'file') return file as unknown as SealedShareFileV1;
  const provider = file?.provider as Record<string, unknown> | undefined;
  if (common && file.version === 2 && provider && typeof provider === 'object' && isString(provider.type)) {
    return file as unknown as SealedShareFileV2;
  }
  throw new SealError('format', `${sealedPath}: unsupported sealed share format`);
}

/** What a sealed share says about itself, for people: no ciphertext, no wrapped keys. */
export function describeSealedShare(file: SealedShareFile) {
  return {
    version: file.version,
    identifier: file.identifier,
    group_public_key: file.group_public_key,
    provider: file.version === 1 ? { type: 'file', key_file: 'seal.key' } : describeProvider(file.provider),
  };
}

function gcmOpen(key: Buffer, iv: string, aad: Buffer, ciphertext: string, tag: string): Uint8Array {
  const decipher = createDecipheriv('aes-256-gcm', key, fromB64url(iv));
  decipher.setAAD(aad);
  decipher.setAuthTag(fromB64url(tag));
  const head = decipher.update(fromB64url(ciphertext));
  try {
    const tail = decipher.final();
    const plain = new Uint8Array(head.length + tail.length);
    plain.set(head);
    plain.set(tail, head.length);
    tail.fill(0);
    return plain;
  } finally {
    head.fill(0);
  }
}

/** Creates `path` (mode 0600, must not exist) holding `text`, synced to disk. */
async function writeNewSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `text` to `path` atomically (temporary file in the same folder, fsync, rename), mode 0600. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeNewSynced(tmp, text);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function contextOf(identifier: string, groupPublicKey: string): SealContext {
  return { identifier, groupPublicKey };
}

/** Seal a share's bytes under `target` and return the file's contents (written by the caller). */
async function sealToText(share: SecretShare, groupPublicKey: string, target: SealTarget, outPath: string, opts: ProviderOptions): Promise<string> {
  const ctx = contextOf(share.identifier, groupPublicKey);
  const { key, params } = await newContentKey(target, ctx, outPath, opts);
  try {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(shareAad(ctx, providerTag(params)));
    const ciphertext = Buffer.concat([cipher.update(share.signingShare), cipher.final()]);
    const file: SealedShareFileV2 = {
      version: 2,
      identifier: share.identifier,
      group_public_key: groupPublicKey,
      provider: params,
      alg: 'A256GCM',
      iv: b64url(iv),
      ciphertext: b64url(ciphertext),
      tag: b64url(cipher.getAuthTag()),
    };
    return JSON.stringify(file, null, 2) + '\n';
  } finally {
    key.fill(0);
  }
}

/**
 * Seals `share` into `outPath` (version 2). `target` names the key provider; a string is the key
 * file of the `file` provider (the pre-provider signature, still accepted).
 */
export async function sealShare(share: SecretShare, groupPublicKey: string, target: SealTarget | string, outPath: string, opts: ProviderOptions = {}): Promise<void> {
  const t: SealTarget = typeof target === 'string' ? { type: 'file', keyFile: target } : target;
  await writeAtomically(outPath, await sealToText(share, groupPublicKey, t, outPath, opts));
}

/**
 * Unseals a share: the file names its provider; secrets come from `opts` (environment, prompt).
 * `keyPath` (the pre-provider signature) overrides the key file of a `file`-sealed share.
 */
export async function unsealShare(sealedPath: string, keyPath?: string | ProviderOptions, opts: ProviderOptions = {}): Promise<UnsealedShare> {
  const options: ProviderOptions = typeof keyPath === 'string' ? { ...opts, keyFile: keyPath } : { ...(keyPath ?? {}), ...opts };
  const file = await readSealedShare(sealedPath);
  const ctx = contextOf(file.identifier, file.group_public_key);

  let key: Buffer;
  let aad: Buffer;
  try {
    if (file.version === 1) {
      key = await recoverContentKey({ type: 'file', key_file: 'seal.key' }, ctx, sealedPath, options);
      aad = aadV1(file.identifier, file.group_public_key);
    } else {
      key = await recoverContentKey(file.provider, ctx, sealedPath, options);
      aad = shareAad(ctx, providerTag(file.provider));
    }
  } catch (err) {
    if (err instanceof SealError) throw new SealError(err.code, `${sealedPath}: ${err.message}`, { cause: err });
    if (err instanceof TypeError) throw new SealError('format', `${sealedPath}: malformed sealed share (${err.message})`, { cause: err });
    throw err;
  }
  try {
    const signingShare = gcmOpen(key, file.iv, aad, file.ciphertext, file.tag);
    return { identifier: file.identifier, signingShare, groupPublicKey: file.group_public_key };
  } catch {
    const what = file.version === 1 || file.provider.type === 'file' ? 'wrong key file' : 'wrong key';
    throw new SealError('unseal_failed', `${sealedPath}: cannot unseal (${what}, or the sealed share was tampered with)`);
  } finally {
    key.fill(0);
  }
}

export interface ResealOptions {
  /** Where to write (default: replace `inPath` atomically). */
  outPath?: string;
  /** Secrets and overrides for unsealing the current file. */
  from?: ProviderOptions;
  /** Secrets for sealing under the target. */
  to?: ProviderOptions;
}

/**
 * Moves a sealed share to another provider (or re-wraps it under the same one): unseal, seal under
 * `target`, unseal the new file again and compare, and only then replace the output atomically.
 * The plaintext share is zeroed before this returns.
 */
export async function resealShare(inPath: string, target: SealTarget, opts: ResealOptions = {}) {
  const outPath = resolve(opts.outPath ?? inPath);
  // A PIN typed at the prompt is asked once per token, not again for the verifying unseal.
  const answers = new Map<string, Promise<string | undefined>>();
  const once = (o: ProviderOptions = {}): ProviderOptions => {
    const ask = o.prompt ?? ttyPrompt;
    return { ...o, prompt: (q) => answers.get(q) ?? answers.set(q, ask(q)).get(q)! };
  };
  const from = once(opts.from);
  const to = once(opts.to);
  const before = await readSealedShare(inPath);
  const share = await unsealShare(inPath, from);
  let check: UnsealedShare | undefined;
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${randomBytes(6).toString('hex')}.reseal`);
  try {
    const text = await sealToText(share, share.groupPublicKey, target, outPath, to);
    await writeNewSynced(tmp, text);
    check = await unsealShare(tmp, to);
    if (
      check.identifier !== share.identifier ||
      check.groupPublicKey !== share.groupPublicKey ||
      check.signingShare.length !== share.signingShare.length ||
      !timingSafeEqual(check.signingShare, share.signingShare)
    ) {
      throw new SealError('unseal_failed', `${inPath}: the resealed share did not unseal to the same share; nothing was replaced`);
    }
    await rename(tmp, outPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    share.signingShare.fill(0);
    check?.signingShare.fill(0);
  }
  const after = await readSealedShare(outPath);
  return { path: outPath, identifier: share.identifier, from: describeSealedShare(before).provider, to: describeSealedShare(after).provider };
}

/** Unseals and zeroes again: proves the share can be unsealed with the secrets at hand. */
export async function checkUnseal(sealedPath: string, opts: ProviderOptions = {}, verify?: (share: UnsealedShare) => void) {
  const share = await unsealShare(sealedPath, opts);
  try {
    verify?.(share);
    return { identifier: share.identifier, groupPublicKey: share.groupPublicKey };
  } finally {
    share.signingShare.fill(0);
  }
}
