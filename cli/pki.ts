// Local CA for the dev stack and `ztmint keygen`: ECDSA P-256 certificates for mTLS on loopback.
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs it
import * as x509 from '@peculiar/x509';
import { webcrypto, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export type CertRole = 'server' | 'client' | 'both';

interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  return bytes.toString('hex');
}

async function createCa(days: number): Promise<Issued> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=ztmint local CA',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + days * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issue(ca: Issued, name: string, role: CertRole, days: number): Promise<Issued> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const usages: string[] = [];
  if (role !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (role !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name}`,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + days * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: name },
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { cert, keys };
}

/**
 * Writes `<tlsDir>/ca.pem` and `<name>.pem` / `<name>-key.pem` for each entity (keys mode 0600).
 * The CA private key is not kept: adding an entity later means re-running keygen.
 */
export async function writeLocalPki(tlsDir: string, entities: Array<{ name: string; role: CertRole }>, days = 30): Promise<void> {
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const ca = await createCa(days);
  await writeFile(join(tlsDir, 'ca.pem'), ca.cert.toString('pem') + '\n');
  for (const { name, role } of entities) {
    const leaf = await issue(ca, name, role, days);
    await writeFile(join(tlsDir, `${name}.pem`), leaf.cert.toString('pem') + '\n');
    await writeFile(join(tlsDir, `${name}-key.pem`), await keyPem(leaf.keys.privateKey), { mode: 0o600 });
  }
}
