// Reading the few ASN.1 values SEV-SNP verification needs, through asn1js and @peculiar/asn1-x509
// (node:crypto's X509Certificate verifies signatures but exposes neither arbitrary extensions nor
// raw validity dates). What is left here is the glue: one element must span all of its bytes, and
// AMD's extension values must be the types AMD specifies.
import { AsnConvert } from '@peculiar/asn1-schema';
import { createHash } from 'node:crypto';
import { Certificate } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { ZtmintError } from '../../errors/ztmint-error.js';

/** Bytes that are not the ASN.1 value expected where they are. */
export class Asn1Error extends ZtmintError<'malformed_asn1'> {}

function malformed(message: string, cause?: unknown): Asn1Error {
  return new Asn1Error('malformed_asn1', message, { cause });
}

/** Exactly one ASN.1 element, with no byte before or after it. */
export function readSingle(bytes: Uint8Array): asn1js.AsnType {
  const { offset, result } = asn1js.fromBER(bytes);
  if (offset === -1 || result.error) throw malformed(`not an ASN.1 element (${result.error || 'unreadable'})`);
  if (offset !== bytes.byteLength) throw malformed('trailing bytes after the ASN.1 element');
  return result;
}

/** A non-negative INTEGER that fits a JS number exactly (AMD's SPL extensions). */
export function readUnsigned(bytes: Uint8Array): number {
  const value = readSingle(bytes);
  if (!(value instanceof asn1js.Integer)) throw malformed('expected an INTEGER');
  const big = value.toBigInt();
  if (big < 0n) throw malformed('negative INTEGER');
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('INTEGER too large');
  return Number(big);
}

/** An IA5String, UTF8String or PrintableString (AMD's productName extension). */
export function readString(bytes: Uint8Array): string {
  const value = readSingle(bytes);
  if (value instanceof asn1js.IA5String || value instanceof asn1js.Utf8String || value instanceof asn1js.PrintableString) {
    return value.getValue();
  }
  throw malformed('expected a string');
}

export interface CertFacts {
  notBefore: Date;
  notAfter: Date;
  /** extnID → extnValue (the content of the OCTET STRING). */
  extensions: Map<string, Uint8Array>;
}

// asn1js builds a full object tree (measured at about 25 times the time of the hand-written DER
// reader it replaced): certificates never change, so the facts of the few in use (AMD's ARK, ASK,
// the chips' VCEKs) are kept, keyed by the SHA-256 of their DER.
const CACHE_SIZE = 64;
const cache = new Map<string, Readonly<CertFacts>>();

/** Validity and extensions of a certificate (RFC 5280 TBSCertificate), from its DER. */
export function certFacts(der: Uint8Array): Readonly<CertFacts> {
  const key = createHash('sha256').update(der).digest('hex');
  const known = cache.get(key);
  if (known) return known;
  const facts = Object.freeze(parseCertFacts(der));
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, facts);
  return facts;
}

function parseCertFacts(der: Uint8Array): CertFacts {
  let cert: Certificate;
  try {
    readSingle(der);
    cert = AsnConvert.parse(der, Certificate);
  } catch (err) {
    throw err instanceof Asn1Error ? err : malformed(`not an X.509 certificate (${(err as Error).message})`, err);
  }
  const extensions = new Map<string, Uint8Array>();
  for (const ext of cert.tbsCertificate.extensions ?? []) {
    if (extensions.has(ext.extnID)) throw malformed(`duplicate extension ${ext.extnID}`);
    extensions.set(ext.extnID, new Uint8Array(ext.extnValue.buffer));
  }
  const { notBefore, notAfter } = cert.tbsCertificate.validity;
  return { notBefore: notBefore.getTime(), notAfter: notAfter.getTime(), extensions };
}
