// Dispatch to the key provider a sealed share (or a seal target) names.
import { fileContentKey, fileRecoverKey } from './file.js';
import { ociKmsContentKey, ociKmsRecoverKey } from './oci-kms.js';
import { pkcs11ContentKey, pkcs11RecoverKey } from './pkcs11.js';
import { SealError, type ContentKey, type ProviderParams, type SealContext, type SealTarget, type SecretOptions } from './types.js';

export * from './types.js';
export { createSealKey } from './file.js';
export { MODULE_ENV } from './pkcs11.js';
export { ttyPrompt } from './secrets.js';

const PROVIDERS = ['file', 'pkcs11', 'oci-kms'] as const;

export interface ProviderOptions extends SecretOptions {
  /** `file` provider only: use this key file instead of the one the sealed file names. */
  keyFile?: string;
}

/** A fresh content key for sealing one share under `target`, and what to store to recover it. */
export async function newContentKey(target: SealTarget, ctx: SealContext, sealedPath: string, opts: ProviderOptions = {}): Promise<ContentKey<ProviderParams>> {
  switch (target.type) {
    case 'file':
      return fileContentKey(target, sealedPath);
    case 'pkcs11':
      return pkcs11ContentKey(target, ctx, opts);
    case 'oci-kms':
      return ociKmsContentKey(target, ctx, opts);
    default:
      throw new SealError('config', `unknown key provider ${(target as { type: string }).type} (known: ${PROVIDERS.join(', ')})`);
  }
}

/** The content key of a sealed share, from the provider its parameters name. */
export async function recoverContentKey(params: ProviderParams, ctx: SealContext, sealedPath: string, opts: ProviderOptions = {}): Promise<Buffer> {
  switch (params.type) {
    case 'file':
      return fileRecoverKey(params, sealedPath, opts.keyFile);
    case 'pkcs11':
      return pkcs11RecoverKey(params, ctx, opts);
    case 'oci-kms':
      return ociKmsRecoverKey(params, ctx, opts);
    default:
      throw new SealError('format', `${sealedPath}: unknown key provider ${(params as { type: string }).type} (known: ${PROVIDERS.join(', ')})`);
  }
}

/** The non-secret parameters of a provider, as a person reads them (no wrapped keys). */
export function describeProvider(params: ProviderParams): Record<string, string | number> {
  switch (params.type) {
    case 'file':
      return { type: 'file', key_file: params.key_file };
    case 'pkcs11': {
      const out: Record<string, string | number> = { type: 'pkcs11', mode: params.mode, module: params.module };
      for (const k of ['token_label', 'slot', 'key_label', 'key_id'] as const) if (params[k] !== undefined) out[k] = params[k];
      return out;
    }
    case 'oci-kms':
      return { type: 'oci-kms', key_id: params.key_id, crypto_endpoint: params.crypto_endpoint, ...(params.key_version_id ? { key_version_id: params.key_version_id } : {}) };
  }
}
