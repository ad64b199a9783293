// OPA bundle signatures (https://www.openpolicyagent.org/docs/management-bundles#signing):
// `.signatures.json` = {"signatures": [one compact JWS]}, whose payload lists every other file of
// the bundle as {name, hash, algorithm} (digests from ./opa-file-hash.ts). A bundle is accepted when
// that one JWS verifies under one of the policy-admin public keys and every file matches its digest:
// no file may be missing from the list, none listed may be missing from the bundle. Only asymmetric
// algorithms: an HMAC secret on every signer would let any signer host forge bundles.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { BundleError, type BundleFiles } from './bundle-archive.js';
import { opaFileHash } from './opa-file-hash.js';

export const SIGNATURES_FILE = '.signatures.json';
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

export interface AdminKey {
  /** Where the key came from (a file path), for logs. */
  name: string;
  key: KeyObject;
}

export async function loadAdminKey(path: string): Promise<AdminKey> {
  const pem = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new BundleError('admin_key_unreadable', `policy admin key ${path}: ${(cause as Error).message}`, { cause });
  });
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new BundleError('admin_key_invalid', `policy admin key ${path} is not a PEM public key (-----BEGIN PUBLIC KEY-----); give the public half`);
  return { name: path, key: createPublicKey(pem) };
}

/** The JWS algorithm OPA uses by default for this kind of key (`opa build --signing-alg`). */
function algorithmFor(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return 'ES384';
  if (key.asymmetricKeyType === 'ec' && curve === 'secp521r1') return 'ES512';
  throw new BundleError('admin_key_type', `a policy admin key must be RSA or EC P-256/384/521 (OPA cannot verify ${String(key.asymmetricKeyType)})`);
}

/** `.signatures.json` for these files (which must not include it), as `opa build --signing-key` writes it. */
export async function signBundle(files: BundleFiles, privateKeyPem: string, keyId = 'default'): Promise<string> {
  const key = createPrivateKey(privateKeyPem);
  const alg = algorithmFor(key);
  const list = [...files].map(([name, bytes]) => ({ name, hash: opaFileHash(name, bytes), algorithm: 'SHA-256' }));
  const payload = new TextEncoder().encode(JSON.stringify({ files: list, keyid: keyId }));
  const jws = await new CompactSign(payload).setProtectedHeader({ alg, kid: keyId, typ: 'JWT' }).sign(key);
  return JSON.stringify({ signatures: [jws], plugin: '_default' }, null, 1);
}

interface SignedFile {
  name: string;
  hash: string;
  algorithm: string;
}

function signedFiles(payload: unknown): SignedFile[] {
  const files = (payload as { files?: unknown } | null)?.files;
  const ok = Array.isArray(files) && files.every((f) => f && typeof f === 'object' && ['name', 'hash', 'algorithm'].every((k) => typeof (f as Record<string, unknown>)[k] === 'string'));
  if (!ok) throw new BundleError('bundle_signature_payload', 'bundle signature payload has no valid files list [{name, hash, algorithm}]');
  return files as SignedFile[];
}

/** Verifies the bundle's signature and every file's digest; returns the key that signed it. */
export async function verifyBundle(files: BundleFiles, adminKeys: AdminKey[]): Promise<{ signedBy: string; keyId?: string }> {
  const sigText = files.get(SIGNATURES_FILE);
  if (!sigText) throw new BundleError('bundle_unsigned', `bundle has no ${SIGNATURES_FILE}: sign it (ztmint policy bundle, or opa build --signing-key)`);
  let signatures: unknown;
  try {
    signatures = (JSON.parse(Buffer.from(sigText).toString('utf8')) as { signatures?: unknown }).signatures;
  } catch {
    throw new BundleError('bundle_signature_invalid', `${SIGNATURES_FILE} is not JSON`);
  }
  if (!Array.isArray(signatures) || signatures.length !== 1 || typeof signatures[0] !== 'string') {
    throw new BundleError('bundle_signature_invalid', `${SIGNATURES_FILE} must hold exactly one JWT, as OPA requires`);
  }
  const jws = signatures[0];
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(jws).alg;
  } catch {
    throw new BundleError('bundle_signature_invalid', 'bundle signature is not a compact JWS');
  }
  if (typeof alg !== 'string' || !ALGORITHMS.includes(alg))
    throw new BundleError('bundle_signature_algorithm', `bundle signature algorithm ${JSON.stringify(alg)} is not accepted (${ALGORITHMS.join(', ')})`);
  let verified: { payload: Uint8Array; signedBy: string } | undefined;
  for (const admin of adminKeys) {
    try {
      const { payload } = await compactVerify(jws, admin.key, { algorithms: [alg] });
      verified = { payload, signedBy: admin.name };
      break;
    } catch {
      /* try the next admin key */
    }
  }
  if (!verified) throw new BundleError('bundle_signature_invalid', `bundle signature does not verify under any of the ${adminKeys.length} policy admin key(s)`);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(verified.payload).toString('utf8'));
  } catch {
    throw new BundleError('bundle_signature_payload', 'bundle signature payload is not JSON');
  }
  const listed = new Map<string, SignedFile>();
  for (const f of signedFiles(payload)) listed.set(f.name.replace(/^\/+/, ''), f);
  for (const [name, bytes] of files) {
    if (name === SIGNATURES_FILE) continue;
    const entry = listed.get(name);
    if (!entry) throw new BundleError('bundle_file_unsigned', `bundle file ${name} is not covered by the signature`);
    if (opaFileHash(name, bytes, entry.algorithm) !== entry.hash.toLowerCase())
      throw new BundleError('bundle_digest_mismatch', `bundle file ${name} does not match its signed digest (tampered or re-packed after signing)`);
    listed.delete(name);
  }
  if (listed.size) throw new BundleError('bundle_file_missing', `signed file(s) missing from the bundle: ${[...listed.keys()].join(', ')}`);
  const keyId = (payload as { keyid?: unknown }).keyid;
  return { signedBy: verified.signedBy, ...(typeof keyId === 'string' ? { keyId } : {}) };
}
