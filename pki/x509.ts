// @peculiar/x509 over Node's WebCrypto, and the one key type of every ztmint certificate (ECDSA
// P-256: small, fast, accepted by every TLS stack and by PKCS#11 tokens).
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs it
import * as x509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

export const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const DAY_MS = 86_400_000;

export async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PKCS#8 DER of a private key (sealed for a CA, PEM-encoded for a leaf). */
export async function privateKeyDer(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode((await privateKeyDer(key)).slice().buffer, 'PRIVATE KEY');
}

/** The CA's key pair again: the private half from its sealed PKCS#8, the public half from its certificate. */
export async function importCaKeys(pkcs8: Uint8Array, cert: x509.X509Certificate): Promise<CryptoKeyPair> {
  const privateKey = (await webcrypto.subtle.importKey('pkcs8', pkcs8, ALG, false, ['sign'])) as CryptoKey;
  const publicKey = await cert.publicKey.export(ALG, ['verify'], webcrypto as unknown as Crypto);
  return { privateKey, publicKey };
}

/** SHA-256 of a certificate's SubjectPublicKeyInfo, hex: names a CA key independently of its certificate. */
export function spkiSha256(cert: x509.X509Certificate): string {
  return createHash('sha256').update(new Uint8Array(cert.publicKey.rawData)).digest('hex');
}

/** A random positive 128-bit serial number. */
export function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  return bytes.toString('hex');
}
