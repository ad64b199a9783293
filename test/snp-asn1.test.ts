// The ASN.1 glue of SEV-SNP verification (attestation/sev-snp/asn1.ts) over asn1js and
// @peculiar/asn1-x509: one element must span all of its bytes, AMD's values must have AMD's types,
// and a certificate's validity and extensions come out as written.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { Asn1Error, certFacts, readSingle, readString, readUnsigned } from '../attestation/sev-snp/asn1.js';
import { VCEK_OID } from '../attestation/sev-snp/certs.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const der = (...bytes: number[]) => new Uint8Array(bytes);

describe('readUnsigned / readString', () => {
  it("reads a DER INTEGER and AMD's string types", () => {
    expect(readUnsigned(der(0x02, 0x01, 0x08))).toBe(8);
    expect(readUnsigned(der(0x02, 0x02, 0x00, 0xff))).toBe(255);
    expect(readString(der(0x16, 0x08, ...Buffer.from('Milan-B0')))).toBe('Milan-B0'); // IA5String
    expect(readString(der(0x0c, 0x08, ...Buffer.from('Genoa-B1')))).toBe('Genoa-B1'); // UTF8String
  });

  it.each([
    ['trailing bytes', der(0x02, 0x01, 0x08, 0x00)],
    ['a negative INTEGER', der(0x02, 0x01, 0xff)],
    ['an INTEGER beyond 2^53', der(0x02, 0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    ['an OCTET STRING', der(0x04, 0x01, 0x08)],
    ['a truncated element', der(0x02, 0x05, 0x08)],
    ['nothing', der()],
  ])('refuses %s where an INTEGER belongs', (_what, bytes) => {
    expect(() => readUnsigned(bytes)).toThrow(Asn1Error);
  });

  it('refuses a non-string where productName belongs', () => {
    expect(() => readString(der(0x02, 0x01, 0x08))).toThrow(Asn1Error);
  });

  it('refuses bytes after one element', () => {
    expect(() => readSingle(der(0x30, 0x00, 0x30, 0x00))).toThrow(/trailing bytes/);
  });
});

describe('certFacts', () => {
  it('gives the validity and the AMD extensions of a certificate', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2033-01-01T00:00:00Z');
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=SEV-VCEK',
      keys,
      notBefore,
      notAfter,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
      extensions: [new x509.Extension(VCEK_OID.blSpl, false, der(0x02, 0x01, 0x03)), new x509.Extension(VCEK_OID.productName, false, der(0x16, 0x08, ...Buffer.from('Milan-B0')))],
    });
    const facts = certFacts(new Uint8Array(cert.rawData));
    expect([facts.notBefore, facts.notAfter]).toEqual([notBefore, notAfter]);
    expect(readUnsigned(facts.extensions.get(VCEK_OID.blSpl)!)).toBe(3);
    expect(readString(facts.extensions.get(VCEK_OID.productName)!)).toBe('Milan-B0');
    // Same bytes, same (cached) answer.
    expect(certFacts(new Uint8Array(cert.rawData))).toBe(facts);
  });

  it('refuses what is not one certificate', () => {
    expect(() => certFacts(der(0x30, 0x00))).toThrow(Asn1Error);
    expect(() => certFacts(der(0x02, 0x01, 0x08))).toThrow(Asn1Error);
  });
});
