// Certificates of ztmint's own PKI: a CA (one per generation, named by date so that two CAs in a
// trust bundle during a rollover are told apart) and leaf certificates for mTLS with the names,
// subject alternative names and extended key usages the operator chose.
import { isIP } from 'node:net';
import { ALG, DAY_MS, newKeyPair, serial, x509 } from './x509.js';

/** serverAuth, clientAuth, or both (the coordinator: client of the signers, server of the DKG relay). */
export type CertRole = 'server' | 'client' | 'both';

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface San {
  type: 'dns' | 'ip';
  value: string;
}

/** Certificates start a minute in the past: a peer whose clock is slightly behind still accepts them. */
const BACKDATE_MS = 60_000;

function validity(days: number, now: number) {
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

export async function createCa(opts: { days: number; now?: number; name?: string }): Promise<Issued> {
  const now = opts.now ?? Date.now();
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.name ?? `ztmint CA ${new Date(now).toISOString().slice(0, 19)}Z ${serial().slice(0, 6)}`}`,
    ...validity(opts.days, now),
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

/** The SANs ztmint's own processes are reached by on one host: the name, localhost and loopback. */
export function defaultSans(name: string): San[] {
  return [
    { type: 'dns', value: name },
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
  ];
}

/** `dns:signer-1.example.com`, `ip:10.0.0.5`, or a bare name or address. */
export function parseSan(text: string): San {
  const m = /^(dns|ip):(.+)$/i.exec(text.trim());
  const value = (m ? m[2]! : text).trim();
  const type = m ? (m[1]!.toLowerCase() as 'dns' | 'ip') : isIP(value) ? 'ip' : 'dns';
  if (type === 'ip' && !isIP(value)) throw new TypeError(`SAN ${text}: not an IP address`);
  if (type === 'dns' && !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(value)) throw new TypeError(`SAN ${text}: not a DNS name`);
  return { type, value };
}

export interface LeafSpec {
  /** The subject CN: what signers pin (`coordinator`, `admin`) and what the coordinator checks (`signer-<i>`). */
  name: string;
  role: CertRole;
  days: number;
  /** Default: `defaultSans(name)`. */
  sans?: San[];
  now?: number;
}

export async function issueLeaf(ca: Issued, spec: LeafSpec): Promise<Issued> {
  const keys = await newKeyPair();
  const usages: string[] = [];
  if (spec.role !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (spec.role !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${spec.name}`,
    issuer: ca.cert.subject,
    ...validity(spec.days, spec.now ?? Date.now()),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      new x509.SubjectAlternativeNameExtension(spec.sans ?? defaultSans(spec.name)),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { cert, keys };
}
