// The AMD certificate chain of an SEV-SNP report signer: ARK (AMD Root Key, self-signed, pinned
// here) → ASK (AMD SEV Key) → VCEK (Versioned Chip Endorsement Key, one per chip and TCB). All
// three are X.509; AMD signs ARK/ASK/VCEK with RSASSA-PSS (SHA-384), the VCEK key is ECDSA P-384.
// node:crypto's X509Certificate does the signature checks; asn1.ts reads the VCEK's AMD extensions.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { certFacts, readString, readUnsigned, type CertFacts } from './asn1.js';
import { fail } from './errors.js';

export type SnpProduct = 'Milan' | 'Genoa';
const SNP_PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa'];

/**
 * SHA-256 over the DER of AMD's ARK certificates, as served by AMD's KDS
 * (https://kdsintf.amd.com/vcek/v1/<product>/cert_chain) and shipped by google/go-sev-guest
 * (verify/trust/ask_ark_<product>.pem). A chain whose root is not exactly one of these is refused.
 */
export const AMD_ARK_SHA256: Readonly<Record<SnpProduct, string>> = {
  Milan: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd', // CN=ARK-Milan
  Genoa: '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1', // CN=ARK-Genoa
};

/** AMD's VCEK extensions (AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface"). */
export const VCEK_OID = {
  structVersion: '1.3.6.1.4.1.3704.1.1',
  productName: '1.3.6.1.4.1.3704.1.2',
  blSpl: '1.3.6.1.4.1.3704.1.3.1',
  teeSpl: '1.3.6.1.4.1.3704.1.3.2',
  snpSpl: '1.3.6.1.4.1.3704.1.3.3',
  spl4: '1.3.6.1.4.1.3704.1.3.4',
  spl5: '1.3.6.1.4.1.3704.1.3.5',
  spl6: '1.3.6.1.4.1.3704.1.3.6',
  spl7: '1.3.6.1.4.1.3704.1.3.7',
  ucodeSpl: '1.3.6.1.4.1.3704.1.3.8',
  hwId: '1.3.6.1.4.1.3704.1.4',
} as const;

export interface VcekFacts extends CertFacts {
  cert: X509Certificate;
  publicKey: KeyObject;
  /** e.g. "Milan-B0"; absent from some VLEK/older certificates. */
  productName?: string;
  tcb: { bootloader: number; tee: number; snp: number; microcode: number };
  /** The chip's 64-byte hardware ID (the report's CHIP_ID). */
  hwId?: Uint8Array;
}

function extInteger(ext: Map<string, Uint8Array>, oid: string, name: string): number {
  const value = ext.get(oid);
  if (!value) fail('vcek_chain', `VCEK lacks the ${name} extension (${oid})`);
  try {
    return readUnsigned(value);
  } catch (e) {
    fail('vcek_chain', `VCEK ${name} extension is malformed`, e);
  }
}

/** Parses a VCEK certificate given as DER bytes or PEM (string or bytes). */
export function parseVcek(vcek: Uint8Array | string): VcekFacts {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(typeof vcek === 'string' ? vcek : Buffer.from(vcek));
  } catch (e) {
    fail('vcek_chain', 'VCEK is not a parseable X.509 certificate', e);
  }
  let facts: CertFacts;
  try {
    facts = certFacts(new Uint8Array(cert.raw));
  } catch (e) {
    fail('vcek_chain', `VCEK certificate could not be read: ${(e as Error).message}`, e);
  }
  const publicKey = cert.publicKey;
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    fail('vcek_chain', 'VCEK public key is not ECDSA P-384');
  }
  const ext = facts.extensions;
  let productName: string | undefined;
  const pn = ext.get(VCEK_OID.productName);
  if (pn) {
    try {
      productName = readString(pn);
    } catch (e) {
      fail('vcek_chain', 'VCEK productName extension is malformed', e);
    }
  }
  const result: VcekFacts = {
    ...facts,
    cert,
    publicKey,
    tcb: {
      bootloader: extInteger(ext, VCEK_OID.blSpl, 'blSPL'),
      tee: extInteger(ext, VCEK_OID.teeSpl, 'teeSPL'),
      snp: extInteger(ext, VCEK_OID.snpSpl, 'snpSPL'),
      microcode: extInteger(ext, VCEK_OID.ucodeSpl, 'ucodeSPL'),
    },
  };
  if (productName !== undefined) result.productName = productName;
  const hwId = ext.get(VCEK_OID.hwId);
  if (hwId) result.hwId = new Uint8Array(hwId);
  return result;
}

/** The product named by a VCEK productName such as "Milan-B0" or "Genoa-B1". */
export function productOfName(name: string): SnpProduct | undefined {
  const family = name.split('-')[0];
  return SNP_PRODUCTS.find((p) => p === family);
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM text, parsed. */
function parsePemChain(pem: string): X509Certificate[] {
  if (typeof pem !== 'string') fail('vcek_chain', 'amdChain must be PEM text');
  const blocks = pem.match(PEM_CERT) ?? [];
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (e) {
    fail('vcek_chain', 'amdChain holds an unparseable certificate', e);
  }
}

function fingerprint(cert: X509Certificate): string {
  return cert.fingerprint256.replace(/:/g, '').toLowerCase();
}

function checkValidity(name: string, der: Uint8Array, now: Date): void {
  let facts: CertFacts;
  try {
    facts = certFacts(der);
  } catch (e) {
    fail('vcek_chain', `${name} certificate could not be read: ${(e as Error).message}`, e);
  }
  if (now < facts.notBefore || now > facts.notAfter) {
    fail('vcek_chain', `${name} certificate is not valid at ${now.toISOString()} (valid ${facts.notBefore.toISOString()} to ${facts.notAfter.toISOString()})`);
  }
}

function signs(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Verifies VCEK ← ASK ← ARK with the ARK pinned to `AMD_ARK_SHA256`. `amdChain` is the PEM of the
 * ASK and the ARK (either order; AMD's KDS cert_chain serves ASK then ARK). With `product` 'auto',
 * the product is the one whose pinned ARK is in the chain. Returns the product.
 */
export function verifyAmdChain(vcek: VcekFacts, amdChain: string, product: SnpProduct | 'auto', now: Date): SnpProduct {
  const certs = parsePemChain(amdChain);
  if (certs.length !== 2) fail('vcek_chain', `amdChain must hold exactly 2 certificates (ASK, ARK), found ${certs.length}`);
  const candidates = product === 'auto' ? SNP_PRODUCTS : SNP_PRODUCTS.includes(product) ? [product] : [];
  if (candidates.length === 0) fail('vcek_chain', `unsupported product ${String(product)}`);
  let chosen: SnpProduct | undefined;
  let arkIndex = -1;
  for (const p of candidates) {
    const idx = certs.findIndex((c) => fingerprint(c) === AMD_ARK_SHA256[p]);
    if (idx >= 0) {
      chosen = p;
      arkIndex = idx;
      break;
    }
  }
  if (!chosen) {
    fail('vcek_chain', `amdChain has no pinned AMD ARK for ${product === 'auto' ? SNP_PRODUCTS.join(' or ') : product}`);
  }
  const ark = certs[arkIndex]!;
  const ask = certs[1 - arkIndex]!;
  if (!signs(ark, ark)) fail('vcek_chain', `ARK-${chosen} is not self-signed`);
  if (!ask.ca) fail('vcek_chain', 'ASK is not a CA certificate');
  if (!signs(ark, ask)) fail('vcek_chain', `ASK is not signed by ARK-${chosen}`);
  if (!signs(ask, vcek.cert)) fail('vcek_chain', `VCEK is not signed by the ${chosen} ASK`);
  if (vcek.productName !== undefined && productOfName(vcek.productName) !== chosen) {
    fail('vcek_chain', `VCEK product "${vcek.productName}" is not ${chosen}`);
  }
  checkValidity(`ARK-${chosen}`, new Uint8Array(ark.raw), now);
  checkValidity('ASK', new Uint8Array(ask.raw), now);
  if (now < vcek.notBefore || now > vcek.notAfter) {
    fail('vcek_chain', `VCEK is not valid at ${now.toISOString()} (valid ${vcek.notBefore.toISOString()} to ${vcek.notAfter.toISOString()})`);
  }
  return chosen;
}
