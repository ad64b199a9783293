// The `oci-kms` provider: a random 256-bit data key encrypts the share locally; OCI Vault's KMS
// crypto API encrypts that data key at seal and decrypts it at unseal (oci-keymanagement's
// KmsCryptoClient, requests signed with the signer's OCI API key). The master key never leaves
// the vault; the share and the data key never leave the signer's memory in plaintext, except the
// data key inside the TLS connection to the vault.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SealError, type ContentKey, type OciKmsParams, type OciKmsTarget, type SealContext, type SecretOptions } from './types.js';

type OciCommon = typeof import('oci-common');
type OciKeyManagement = typeof import('oci-keymanagement');
type KmsCryptoClient = InstanceType<OciKeyManagement['KmsCryptoClient']>;

const OCI_ENV = {
  tenancy: 'ZTMINT_OCI_TENANCY',
  user: 'ZTMINT_OCI_USER',
  fingerprint: 'ZTMINT_OCI_FINGERPRINT',
  privateKeyPath: 'ZTMINT_OCI_PRIVATE_KEY_PATH',
  passphrase: 'ZTMINT_OCI_PRIVATE_KEY_PASSPHRASE',
  configFile: 'ZTMINT_OCI_CONFIG_FILE',
  profile: 'ZTMINT_OCI_PROFILE',
} as const;

const OCID = /^ocid1\.key\.[a-z0-9._-]+$/i;
const REQUEST_TIMEOUT_MS = 30_000;

async function loadSdk(): Promise<{ common: OciCommon; km: OciKeyManagement }> {
  try {
    const [common, km] = await Promise.all([import('oci-common'), import('oci-keymanagement')]);
    return { common, km };
  } catch (err) {
    throw new SealError('provider_unavailable', `the oci-kms provider needs oci-common and oci-keymanagement: ${(err as Error).message}`);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function validateOciParams(p: { key_id: string; crypto_endpoint: string }): void {
  if (!OCID.test(p.key_id)) throw new SealError('config', `oci-kms: key must be a key OCID (ocid1.key.…), got "${p.key_id}"`);
  let url: URL;
  try {
    url = new URL(p.crypto_endpoint);
  } catch {
    throw new SealError('config', `oci-kms: crypto endpoint is not a URL: "${p.crypto_endpoint}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new SealError('config', `oci-kms: the crypto endpoint must use https (got ${url.origin})`);
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new SealError('config', `oci-kms: the crypto endpoint is an origin such as https://<vault>-crypto.kms.<region>.oraclecloud.com (got ${p.crypto_endpoint})`);
  }
}

function readPrivateKey(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new SealError('no_secret', `${OCI_ENV.privateKeyPath} (${path}) cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new SealError('config', `OCI API key ${path} is readable by group or others: run chmod 600 ${path}`);
  }
  return readFileSync(path, 'utf8');
}

/** The API-key identity that signs KMS requests: from ZTMINT_OCI_* variables or an OCI config file. */
function authProvider(common: OciCommon, env: NodeJS.ProcessEnv) {
  const direct = [OCI_ENV.tenancy, OCI_ENV.user, OCI_ENV.fingerprint, OCI_ENV.privateKeyPath];
  const set = direct.filter((name) => env[name]);
  if (set.length > 0) {
    const missing = direct.filter((name) => !env[name]);
    if (missing.length) throw new SealError('no_secret', `oci-kms: ${set.join(', ')} set but ${missing.join(', ')} missing`);
    return new common.SimpleAuthenticationDetailsProvider(
      env[OCI_ENV.tenancy]!,
      env[OCI_ENV.user]!,
      env[OCI_ENV.fingerprint]!,
      readPrivateKey(env[OCI_ENV.privateKeyPath]!),
      env[OCI_ENV.passphrase] || null,
    );
  }
  const configFile = env[OCI_ENV.configFile] || join(homedir(), '.oci', 'config');
  if (env[OCI_ENV.configFile] || existsSync(configFile)) {
    try {
      return new common.ConfigFileAuthenticationDetailsProvider(configFile, env[OCI_ENV.profile] || 'DEFAULT');
    } catch (err) {
      throw new SealError('no_secret', `oci-kms: cannot use OCI config ${configFile}: ${(err as Error).message}`);
    }
  }
  throw new SealError(
    'no_secret',
    `oci-kms: no OCI credentials: set ${direct.join(', ')} (and ${OCI_ENV.passphrase} for an encrypted key), ` + `or ${OCI_ENV.configFile} [${OCI_ENV.profile}], or create ~/.oci/config`,
  );
}

interface DispatcherLike {
  dispatch(opts: { headers?: unknown }, handler: unknown): boolean;
}

const LEGACY_GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
const REPEATED_LENGTH = /^\s*(\d+)(?:\s*,\s*\1)+\s*$/;

function collapseContentLength(headers: unknown): unknown {
  const fix = (name: unknown, value: unknown) => (typeof name === 'string' && name.toLowerCase() === 'content-length' && typeof value === 'string' ? value.replace(REPEATED_LENGTH, '$1') : value);
  if (Array.isArray(headers)) {
    if (headers.every((h) => Array.isArray(h))) return (headers as unknown[][]).map(([k, v]) => [k, fix(k, v)]);
    return headers.map((v, i) => (i % 2 === 1 ? fix(headers[i - 1], v) : v));
  }
  if (headers && typeof headers === 'object') {
    return Object.fromEntries(Object.entries(headers as Record<string, unknown>).map(([k, v]) => [k, fix(k, v)]));
  }
  return headers;
}

/**
 * oci-sdk sends its own (signed) Content-Length through Node's built-in fetch, which appends the
 * computed one too ("126, 126"). Once anything in the process has imported the `undici` package
 * (the coordinator's and OIDC code do), the built-in fetch dispatches through that package's
 * Agent, whose stricter validation rejects the repeated value ("invalid content-length header";
 * nodejs/undici#5500). Until that is fixed upstream, hand the SDK a dispatcher that collapses an
 * identical repeat before delegating to the process's global dispatcher.
 */
function contentLengthSafeDispatcher(): DispatcherLike | undefined {
  const base = (globalThis as Record<symbol, unknown>)[LEGACY_GLOBAL_DISPATCHER] as DispatcherLike | undefined;
  if (!base || typeof base.dispatch !== 'function') return undefined; // built-in fetch, not yet used: no bridge
  return { dispatch: (opts, handler) => base.dispatch({ ...opts, headers: collapseContentLength(opts.headers) }, handler) };
}

async function withClient<T>(params: { crypto_endpoint: string }, opts: SecretOptions, fn: (c: KmsCryptoClient) => Promise<T>): Promise<T> {
  const { common, km } = await loadSdk();
  const dispatcher = contentLengthSafeDispatcher();
  const client = new km.KmsCryptoClient(
    { authenticationDetailsProvider: authProvider(common, opts.env ?? process.env) },
    {
      // One call per seal or start-up: no circuit breaker (with httpOptions set, oci-common would
      // also hand its breaker's wrapped error responses back unwrapped), but a deadline.
      circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }),
      httpOptions: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(dispatcher ? { dispatcher } : {}) },
    },
  );
  client.endpoint = params.crypto_endpoint;
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function associatedData(ctx: SealContext): Record<string, string> {
  return { ztmint: 'share-v2', identifier: ctx.identifier, group_public_key: ctx.groupPublicKey };
}

function mapError(err: unknown, op: 'encrypt' | 'decrypt', p: { key_id: string; crypto_endpoint: string }): SealError {
  if (err instanceof SealError) return err;
  const e = err as { statusCode?: number; serviceCode?: string; message?: string; code?: string };
  const detail = `${e.statusCode ?? ''} ${e.serviceCode ?? ''}`.trim();
  const said = String(e.message ?? '')
    .split('\n', 1)[0]!
    .slice(0, 200);
  switch (e.statusCode) {
    case 401:
      return new SealError('not_authenticated', `OCI KMS at ${p.crypto_endpoint} rejected the request signature (${detail}): check the tenancy, user, fingerprint and API key`);
    case 403:
    case 404:
      return new SealError('not_authorized', `OCI KMS: key ${p.key_id} not found, or this user may not use it to ${op} (${detail})`);
    case 400:
    case 409:
      if (op === 'decrypt') {
        return new SealError(
          'unseal_failed',
          `cannot unseal: OCI KMS did not decrypt the data key with key ${p.key_id} (${detail}: ${said}): ` + 'it is not the key this share was sealed with, or the sealed share was tampered with',
        );
      }
      return new SealError('provider_unavailable', `OCI KMS refused to encrypt with key ${p.key_id} (${detail}: ${said})`);
    case undefined:
      return new SealError('provider_unavailable', `cannot reach OCI KMS at ${p.crypto_endpoint} to ${op} (${e.code ?? (said || 'no answer')})`);
    default:
      return new SealError('provider_unavailable', `OCI KMS at ${p.crypto_endpoint} failed to ${op} (${detail}${said ? `: ${said}` : ''})`);
  }
}

export async function ociKmsContentKey(target: OciKmsTarget, ctx: SealContext, opts: SecretOptions = {}): Promise<ContentKey<OciKmsParams>> {
  const where = { key_id: target.keyId, crypto_endpoint: target.cryptoEndpoint.replace(/\/+$/, '') };
  validateOciParams(where);
  const dek = randomBytes(32);
  try {
    const encrypted = await withClient(where, opts, async (client) => {
      const res = await client.encrypt({
        encryptDataDetails: { keyId: where.key_id, plaintext: dek.toString('base64'), associatedData: associatedData(ctx) },
      });
      return res.encryptedData;
    });
    if (!encrypted?.ciphertext) throw new SealError('provider_unavailable', `OCI KMS at ${where.crypto_endpoint} returned no ciphertext`);
    const params: OciKmsParams = { type: 'oci-kms', ...where, encrypted_dek: encrypted.ciphertext };
    if (encrypted.keyVersionId) params.key_version_id = encrypted.keyVersionId;
    return { key: dek, params };
  } catch (err) {
    dek.fill(0);
    throw mapError(err, 'encrypt', where);
  }
}

export async function ociKmsRecoverKey(params: OciKmsParams, ctx: SealContext, opts: SecretOptions = {}): Promise<Buffer> {
  validateOciParams(params);
  try {
    const decrypted = await withClient(params, opts, async (client) => {
      const res = await client.decrypt({
        decryptDataDetails: {
          keyId: params.key_id,
          ciphertext: params.encrypted_dek,
          associatedData: associatedData(ctx),
          ...(params.key_version_id ? { keyVersionId: params.key_version_id } : {}),
        },
      });
      return res.decryptedData;
    });
    const raw = Buffer.from(decrypted?.plaintext ?? '', 'base64');
    if (raw.length !== 32) {
      raw.fill(0);
      throw new SealError('unseal_failed', `cannot unseal: OCI KMS returned a ${raw.length}-byte data key, expected 32`);
    }
    const dek = Buffer.alloc(32);
    raw.copy(dek);
    raw.fill(0);
    return dek;
  } catch (err) {
    throw mapError(err, 'decrypt', params);
  }
}
