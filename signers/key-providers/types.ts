// Key providers seal a signer's key share at rest. Every provider yields a 256-bit content key
// that encrypts the share with AES-256-GCM locally (signers/sealed-share.ts); what differs is where
// that content key comes from and what the sealed file must remember to get it back:
//
//   file      the content key is a 0600 key file (dev only)
//   pkcs11    aes-gcm:   a random data key, encrypted by a non-extractable AES key inside the token
//             ecdh-p256: HKDF-SHA256 of an ECDH secret between an ephemeral key (public half in the
//                        file) and the token's non-extractable P-256 key (a YubiKey PIV slot via ykcs11)
//   oci-kms   a random data key, encrypted by an OCI Vault key through the KMS crypto API
//
// The parameters a provider stores in the sealed file are never secret (module path, labels, key
// OCID, wrapped data key); the secrets (PIN, OCI API key) come from the environment at unseal.

import { ZtmintError } from '../../errors/ztmint-error.js';

/** What a sealed share is bound to: the same values are authenticated as AAD at every layer. */
export interface SealContext {
  identifier: string;
  groupPublicKey: string;
}

// ---- parameters stored in the sealed file (snake_case: they are on-disk JSON) ----

export interface FileParams {
  type: 'file';
  /** The 32-byte key file; relative paths are relative to the sealed file's folder. */
  key_file: string;
}

export interface Pkcs11Location {
  type: 'pkcs11';
  /** Path of the PKCS#11 module (.so); ZTMINT_PKCS11_MODULE overrides it at unseal. */
  module: string;
  /** Which token: its label (preferred, stable) and/or its slot ID. */
  token_label?: string;
  slot?: number;
  /** Which key: its CKA_LABEL and/or CKA_ID (hex). */
  key_label?: string;
  key_id?: string;
}

export interface Pkcs11AesParams extends Pkcs11Location {
  mode: 'aes-gcm';
  /** The data key, encrypted inside the token with CKM_AES_GCM (ciphertext ‖ 16-byte tag). */
  dek_iv: string;
  encrypted_dek: string;
}

export interface Pkcs11EcdhParams extends Pkcs11Location {
  mode: 'ecdh-p256';
  kdf: 'HKDF-SHA256';
  /** Uncompressed SEC1 points (65 bytes), base64url. */
  ephemeral_public_key: string;
  recipient_public_key: string;
}

export type Pkcs11Params = Pkcs11AesParams | Pkcs11EcdhParams;

export interface OciKmsParams {
  type: 'oci-kms';
  /** OCID of the Vault master encryption key. */
  key_id: string;
  /** The vault's crypto endpoint, e.g. https://<vault>-crypto.kms.<region>.oraclecloud.com */
  crypto_endpoint: string;
  key_version_id?: string;
  /** The data key as OCI KMS's opaque ciphertext. */
  encrypted_dek: string;
}

export type ProviderParams = FileParams | Pkcs11Params | OciKmsParams;

// ---- where to seal to (camelCase: the TypeScript/CLI side) ----

export interface FileTarget {
  type: 'file';
  /** Absolute or relative to the current directory; created (0600) when missing. */
  keyFile: string;
}

export interface Pkcs11Target {
  type: 'pkcs11';
  mode: 'aes-gcm' | 'ecdh-p256';
  module: string;
  tokenLabel?: string;
  slot?: number;
  keyLabel?: string;
  keyId?: string;
}

export interface OciKmsTarget {
  type: 'oci-kms';
  keyId: string;
  cryptoEndpoint: string;
}

export type SealTarget = FileTarget | Pkcs11Target | OciKmsTarget;

// ---- secrets ----

export interface SecretOptions {
  /** Where PINs and credentials are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Ask a person for a secret (default: a no-echo prompt on the terminal when stdin is a TTY,
   * otherwise none). Return undefined when no one can answer.
   */
  prompt?: (question: string) => Promise<string | undefined>;
}

/** What went wrong while sealing or unsealing, in terms an operator can act on. */
export type SealErrorCode =
  | 'format'
  | 'config'
  | 'no_secret'
  | 'wrong_pin'
  | 'pin_locked'
  | 'token_not_found'
  | 'key_not_found'
  | 'wrong_key'
  | 'unseal_failed'
  | 'provider_unavailable'
  | 'not_authenticated'
  | 'not_authorized';

/** A failure the operator can act on; the message never contains secret material. */
export class SealError extends ZtmintError<SealErrorCode> {}

/** A provider turns a seal request into (content key, stored params) and back. */
export interface ContentKey<P extends ProviderParams> {
  /** 32 bytes; the caller zeroes it after use. */
  key: Buffer;
  params: P;
}

/** Short tag bound into the share's AAD so a share cannot be moved between provider kinds. */
export function providerTag(params: ProviderParams): string {
  return params.type === 'pkcs11' ? `pkcs11/${params.mode}` : params.type;
}

export function shareAad(ctx: SealContext, tag: string): Buffer {
  return Buffer.from(`ztmint-share-v2|${ctx.identifier}|${ctx.groupPublicKey}|${tag}`);
}
