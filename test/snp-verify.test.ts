// SEV-SNP attestation verification (protocol/attestation/) against real AMD reports and
// certificates from test/vectors/sev-snp/ (see test/vectors/SOURCES.md): google/go-sev-guest's
// attestation.bin + vcek.der and virtee/sev's report_milan.hex + vcek_milan.der, both Milan.
import 'reflect-metadata'; // @peculiar/x509 (used to forge a look-alike AMD chain) needs it
import * as x509 from '@peculiar/x509';
import { createHash, generateKeyPairSync, KeyObject, sign as cryptoSign, verify as cryptoVerify, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { snpReportData, SNP_BINDING_LABEL } from '../attestation/sev-snp/binding.js';
import { AMD_ARK_SHA256, parseVcek, VCEK_OID } from '../attestation/sev-snp/certs.js';
import { parseSnpReport, SNP_REPORT_SIZE, SNP_SIGNED_LENGTH } from '../attestation/sev-snp/report.js';
import { checkVcekMatchesReport, checkVerifiedReportClaims, SnpVerifyError, verifySnpAttestation, type SnpFailure, type SnpVerifyOptions } from '../attestation/sev-snp/verify.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DIR = new URL('vectors/sev-snp/', import.meta.url);
const bytes = (name: string) => new Uint8Array(readFileSync(new URL(name, DIR)));
const text = (name: string) => readFileSync(new URL(name, DIR), 'utf8');

const GO = {
  report: bytes('attestation.bin'),
  vcek: bytes('vcek.der'),
  measurement: 'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01',
};
const VIRTEE = {
  report: new Uint8Array(Buffer.from(text('virtee/report_milan.hex').trim(), 'hex')),
  vcek: bytes('virtee/vcek_milan.der'),
  measurement: '7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f',
};
const MILAN_CHAIN = text('ask_ark_milan.pem');
const GENOA_CHAIN = text('ask_ark_genoa.pem');
// Inside both VCEKs' validity (2023-04-03..2029-09-24), so the test does not age out.
const NOW = new Date('2025-06-01T00:00:00Z');

function goOptions(overrides: Partial<SnpVerifyOptions> = {}): SnpVerifyOptions {
  return {
    report: GO.report,
    vcek: GO.vcek,
    amdChain: MILAN_CHAIN,
    allowedMeasurements: [GO.measurement],
    policy: { allowDebug: true }, // go-sev-guest's test guest was launched with DEBUG allowed
    now: NOW,
    ...overrides,
  };
}

function virteeOptions(overrides: Partial<SnpVerifyOptions> = {}): SnpVerifyOptions {
  return {
    report: VIRTEE.report,
    vcek: VIRTEE.vcek,
    amdChain: MILAN_CHAIN,
    allowedMeasurements: [VIRTEE.measurement],
    now: NOW,
    ...overrides,
  };
}

function failure(fn: () => unknown): SnpVerifyError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SnpVerifyError) return e;
    throw e;
  }
  throw new Error('expected an SnpVerifyError, nothing was thrown');
}

function codeOf(fn: () => unknown): SnpFailure {
  return failure(fn).code;
}

function withByte(report: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = new Uint8Array(report);
  copy[offset] = value;
  return copy;
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

describe('SEV-SNP report parsing', () => {
  it('reads the go-sev-guest report (Milan, version 2, debug policy)', () => {
    const r = parseSnpReport(GO.report);
    expect(r.version).toBe(2);
    expect(r.signatureAlgo).toBe(1);
    expect(r.vmpl).toBe(0);
    expect(r.guestSvn).toBe(0);
    expect(r.policy.raw).toBe(0xb0000n);
    expect(r.policy).toMatchObject({ smt: true, reserved1: true, migrateMa: false, debug: true, singleSocket: false, abiMajor: 0, abiMinor: 0 });
    expect(r.platformInfo).toMatchObject({ smtEnabled: true, tsmeEnabled: false });
    expect(r.reportedTcb).toMatchObject({ bootloader: 2, tee: 0, snp: 5, microcode: 0x44, hex: '0200000000000544' });
    expect(r.currentTcb.hex).toBe('0200000000000544');
    expect(r.committedTcb.hex).toBe('0200000000000544');
    expect(r.launchTcb.hex).toBe('0200000000000544');
    expect(r.current).toEqual({ major: 1, minor: 49, build: 3 });
    expect(r.committed).toEqual({ major: 1, minor: 49, build: 3 });
    expect(Buffer.from(r.measurement).toString('hex')).toBe(GO.measurement);
    expect(Buffer.from(r.reportData).toString('hex')).toBe('0102030405' + '00'.repeat(59));
    expect(r.signingKey).toBe(0);
    expect(r.maskChipKey).toBe(false);
    expect(r.authorKeyEn).toBe(false);
    expect(r.idKeyDigest.every((b) => b === 0)).toBe(true); // launched without an ID block
    expect(r.cpuid).toBeUndefined();
    expect(r.signedBytes.length).toBe(SNP_SIGNED_LENGTH);
  });

  it('reads the virtee report (Milan, version 2, no debug)', () => {
    const r = parseSnpReport(VIRTEE.report);
    expect(r.version).toBe(2);
    expect(r.policy.raw).toBe(0x30000n);
    expect(r.policy.debug).toBe(false);
    expect(r.reportedTcb).toMatchObject({ bootloader: 3, tee: 0, snp: 8, microcode: 0x73, hex: '0300000000000873' });
    expect(r.current).toEqual({ major: 1, minor: 52, build: 4 });
    expect(Buffer.from(r.measurement).toString('hex')).toBe(VIRTEE.measurement);
  });

  it('refuses other sizes and unknown versions', () => {
    expect(codeOf(() => parseSnpReport(GO.report.subarray(0, SNP_REPORT_SIZE - 1)))).toBe('report_size');
    expect(codeOf(() => parseSnpReport(new Uint8Array(SNP_REPORT_SIZE + 1)))).toBe('report_size');
    expect(codeOf(() => parseSnpReport(new Uint8Array(0)))).toBe('report_size');
    for (const v of [0, 1, 4, 6, 0x100]) {
      const copy = new Uint8Array(GO.report);
      new DataView(copy.buffer).setUint32(0, v, true);
      expect(codeOf(() => parseSnpReport(copy))).toBe('report_version');
    }
  });

  it('copies its input', () => {
    const input = new Uint8Array(GO.report);
    const r = parseSnpReport(input);
    input[0x90] = input[0x90]! ^ 0xff;
    expect(Buffer.from(r.measurement).toString('hex')).toBe(GO.measurement);
    expect(r.raw[0x90]).toBe(GO.report[0x90]);
  });
});

describe('verifySnpAttestation with the real reports', () => {
  it('accepts the go-sev-guest report with its VCEK and the Milan chain', () => {
    const result = verifySnpAttestation(goOptions());
    expect(result.ok).toBe(true);
    expect(result.product).toBe('Milan');
    expect(result.vcek.productName).toBe('Milan-B0');
    expect(result.vcek.tcb).toEqual({ bootloader: 2, tee: 0, snp: 5, microcode: 0x44 });
    expect(Buffer.from(result.report.measurement).toString('hex')).toBe(GO.measurement);
    expect(verifySnpAttestation(goOptions({ product: 'Milan' })).product).toBe('Milan');
  });

  it('accepts the virtee report with its VCEK and the Milan chain under the default policy', () => {
    const result = verifySnpAttestation(virteeOptions());
    expect(result.product).toBe('Milan');
    expect(result.vcek.tcb).toEqual({ bootloader: 3, tee: 0, snp: 8, microcode: 0x73 });
  });

  it('accepts the VCEK as PEM and the chain in either order, and upper-case measurements', () => {
    const pem = new x509.X509Certificate(GO.vcek).toString('pem');
    const [ask, ark] = splitPem(MILAN_CHAIN);
    const result = verifySnpAttestation(goOptions({ vcek: pem, amdChain: `${ark}${ask}`, allowedMeasurements: [GO.measurement.toUpperCase()] }));
    expect(result.ok).toBe(true);
  });

  it('refuses the go-sev-guest report under the default policy: it allows debugging', () => {
    const e = failure(() => verifySnpAttestation(goOptions({ policy: {} })));
    expect(e.code).toBe('policy');
    expect(e.message).toBe('snp policy: guest policy allows debugging');
  });

  it('enforces the SMT and single-socket requirements', () => {
    expect(codeOf(() => verifySnpAttestation(virteeOptions({ policy: { allowSmt: false } })))).toBe('policy');
    expect(codeOf(() => verifySnpAttestation(virteeOptions({ policy: { requireSingleSocket: true } })))).toBe('policy');
  });

  it('fails on every altered byte of the signed area, and of the signature', () => {
    // Each case costs one ECDSA P-384 verification plus three RSA-4096 chain checks: thousands of
    // cases, so the bound is generous for a busy machine (speed itself is measured nowhere here).
    let cases = 0;
    for (const [name, base] of [
      ['go', goOptions()],
      ['virtee', virteeOptions()],
    ] as const) {
      for (let offset = 0; offset < SNP_REPORT_SIZE; offset++) {
        const inSignature = offset >= SNP_SIGNED_LENGTH;
        // Every signed byte; of the signature, all of R and S and every 5th reserved byte.
        if (inSignature && offset >= SNP_SIGNED_LENGTH + 144 && offset % 5 !== 0) continue;
        const report = base.report;
        // Every byte inverted; for one report also a single bit per signed byte.
        const masks = name === 'go' && !inSignature ? [0xff, 1 << (offset % 8)] : [0xff];
        for (const mask of masks) {
          const tampered = withByte(report, offset, report[offset]! ^ mask);
          const view = new DataView(tampered.buffer);
          const expected: SnpFailure = ![2, 3, 5].includes(view.getUint32(0, true)) ? 'report_version' : view.getUint32(0x34, true) !== 1 ? 'signature_algo' : 'report_signature';
          const code = codeOf(() => verifySnpAttestation({ ...base, report: tampered }));
          if (code !== expected) throw new Error(`${name} offset 0x${offset.toString(16)} mask ${mask}: ${code}`);
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(3 * SNP_SIGNED_LENGTH);
  }, 300_000);

  it('refuses a report with the wrong (but genuine, same-ASK) VCEK', () => {
    expect(codeOf(() => verifySnpAttestation(goOptions({ vcek: VIRTEE.vcek })))).toBe('report_signature');
    expect(codeOf(() => verifySnpAttestation(virteeOptions({ vcek: GO.vcek })))).toBe('report_signature');
  });

  it("refuses the other product's chain", () => {
    const auto = failure(() => verifySnpAttestation(goOptions({ amdChain: GENOA_CHAIN })));
    expect(auto.code).toBe('vcek_chain');
    expect(auto.message).toMatch(/VCEK is not signed by the Genoa ASK/);
    expect(codeOf(() => verifySnpAttestation(goOptions({ amdChain: GENOA_CHAIN, product: 'Genoa' })))).toBe('vcek_chain');
    const wrongProduct = failure(() => verifySnpAttestation(goOptions({ amdChain: MILAN_CHAIN, product: 'Genoa' })));
    expect(wrongProduct.code).toBe('vcek_chain');
    expect(wrongProduct.message).toMatch(/no pinned AMD ARK for Genoa/);
    expect(codeOf(() => verifySnpAttestation(virteeOptions({ amdChain: GENOA_CHAIN, product: 'Milan' })))).toBe('vcek_chain');
  });

  it('refuses a chain with a missing, extra or mismatched certificate', () => {
    const [milanAsk, milanArk] = splitPem(MILAN_CHAIN);
    const [genoaAsk, genoaArk] = splitPem(GENOA_CHAIN);
    for (const chain of [milanArk!, milanAsk!, '', `${genoaAsk}${milanArk}`, `${milanAsk}${genoaArk}`, `${milanAsk}${milanArk}${genoaArk}`, `${milanAsk}${milanAsk}`]) {
      expect(codeOf(() => verifySnpAttestation(goOptions({ amdChain: chain })))).toBe('vcek_chain');
    }
    expect(codeOf(() => verifySnpAttestation(goOptions({ vcek: new Uint8Array([0x30, 0x00]) })))).toBe('vcek_chain');
    expect(codeOf(() => verifySnpAttestation(goOptions({ vcek: milanAsk! })))).toBe('vcek_chain'); // RSA, not P-384
  });

  it('refuses certificates outside their validity', () => {
    expect(codeOf(() => verifySnpAttestation(goOptions({ now: new Date('2029-09-25T00:00:00Z') })))).toBe('vcek_chain');
    expect(codeOf(() => verifySnpAttestation(goOptions({ now: new Date('2022-09-23T00:00:00Z') })))).toBe('vcek_chain');
    expect(verifySnpAttestation(goOptions({ now: new Date('2029-09-23T00:00:00Z') })).ok).toBe(true);
  });

  it('pins the ARKs to the SHA-256 of the certificates in test/vectors/sev-snp', () => {
    for (const [product, pem] of [
      ['Milan', MILAN_CHAIN],
      ['Genoa', GENOA_CHAIN],
    ] as const) {
      const ark = new x509.X509Certificate(splitPem(pem)[1]!);
      expect(ark.subject).toContain(`CN=ARK-${product}`);
      expect(createHash('sha256').update(new Uint8Array(ark.rawData)).digest('hex')).toBe(AMD_ARK_SHA256[product]);
    }
  });

  it('refuses an unknown measurement, and an empty allowlist', () => {
    const e = failure(() => verifySnpAttestation(goOptions({ allowedMeasurements: [VIRTEE.measurement] })));
    expect(e.code).toBe('measurement');
    expect(e.message).toBe(`snp measurement: measurement ${GO.measurement} is not allowed`);
    expect(codeOf(() => verifySnpAttestation(goOptions({ allowedMeasurements: [] })))).toBe('measurement');
    expect(() => verifySnpAttestation(goOptions({ allowedMeasurements: ['abcd'] }))).toThrow(TypeError);
  });

  it('checks REPORT_DATA against the expected binding', () => {
    const actual = parseSnpReport(GO.report).reportData;
    expect(verifySnpAttestation(goOptions({ expectedReportData: actual })).ok).toBe(true);
    const other = new Uint8Array(actual);
    other[63] = other[63]! ^ 1;
    expect(codeOf(() => verifySnpAttestation(goOptions({ expectedReportData: other })))).toBe('report_data');
    const spki = new Uint8Array(parseVcek(GO.vcek).publicKey.export({ type: 'spki', format: 'der' }));
    const bound = snpReportData(spki, 'ab'.repeat(32));
    expect(codeOf(() => verifySnpAttestation(goOptions({ expectedReportData: bound })))).toBe('report_data');
    expect(() => verifySnpAttestation(goOptions({ expectedReportData: actual.subarray(0, 32) }))).toThrow(TypeError);
  });

  it('checks the minimum reported TCB', () => {
    expect(verifySnpAttestation(goOptions({ minTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 0x44 } })).ok).toBe(true);
    expect(codeOf(() => verifySnpAttestation(goOptions({ minTcb: { snp: 6 } })))).toBe('tcb');
    expect(codeOf(() => verifySnpAttestation(goOptions({ minTcb: { microcode: 0x45 } })))).toBe('tcb');
    expect(codeOf(() => verifySnpAttestation(goOptions({ minTcb: { bootloader: 3 } })))).toBe('tcb');
    // The virtee report's newer TCB (3/0/8/0x73) meets the minimum the go-sev-guest one fails.
    expect(verifySnpAttestation(virteeOptions({ minTcb: { bootloader: 3, snp: 8, microcode: 0x73 } })).ok).toBe(true);
  });
});

describe('a self-made chain that imitates AMD', () => {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } as const;
  const amdName = (cn: string) => `OU=Engineering, C=US, L=Santa Clara, ST=CA, O=Advanced Micro Devices, CN=${cn}`;
  let forged: { report: Uint8Array; vcek: Uint8Array; chain: string; vcekKey: KeyObject };

  beforeAll(async () => {
    const gen = async () => (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    const validity = { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2045-01-01T00:00:00Z') };
    const arkKeys = await gen();
    const ark = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: amdName('ARK-Milan'),
      keys: arkKeys,
      signingAlgorithm: algorithm,
      ...validity,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const askKeys = await gen();
    const ask = await x509.X509CertificateGenerator.create({
      serialNumber: '02',
      subject: amdName('SEV-Milan'),
      issuer: ark.subject,
      publicKey: askKeys.publicKey,
      signingKey: arkKeys.privateKey,
      signingAlgorithm: algorithm,
      ...validity,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
    });
    // A VCEK carrying the real VCEK's AMD extensions (TCB, hwID, product name).
    const real = new x509.X509Certificate(GO.vcek);
    const vcekKeys = await gen();
    const vcek = await x509.X509CertificateGenerator.create({
      serialNumber: '03',
      subject: amdName('SEV-VCEK'),
      issuer: ask.subject,
      publicKey: vcekKeys.publicKey,
      signingKey: askKeys.privateKey,
      signingAlgorithm: algorithm,
      ...validity,
      extensions: real.extensions.filter((e) => e.type.startsWith('1.3.6.1.4.1.3704.')).map((e) => new x509.Extension(e.type, false, e.value)),
    });
    const vcekKey = KeyObject.from(vcekKeys.privateKey as unknown as webcrypto.CryptoKey);
    // Re-sign the real report's signed bytes with the forged VCEK (R, S little-endian, 72 bytes each).
    const report = new Uint8Array(GO.report);
    const sig = cryptoSign('sha384', report.subarray(0, SNP_SIGNED_LENGTH), { key: vcekKey, dsaEncoding: 'ieee-p1363' });
    report.fill(0, SNP_SIGNED_LENGTH);
    for (let i = 0; i < 48; i++) {
      report[SNP_SIGNED_LENGTH + i] = sig[47 - i]!;
      report[SNP_SIGNED_LENGTH + 72 + i] = sig[95 - i]!;
    }
    forged = {
      report,
      vcek: new Uint8Array(vcek.rawData),
      chain: `${ask.toString('pem')}\n${ark.toString('pem')}\n`,
      vcekKey,
    };
  });

  it('is internally consistent: its VCEK really signs the forged report', () => {
    const vcek = parseVcek(forged.vcek);
    expect(vcek.productName).toBe('Milan-B0');
    const r = parseSnpReport(forged.report);
    const p1363 = Buffer.concat([Buffer.from(r.signature.r.subarray(0, 48)).reverse(), Buffer.from(r.signature.s.subarray(0, 48)).reverse()]);
    expect(cryptoVerify('sha384', r.signedBytes, { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' }, p1363)).toBe(true);
    expect(() => checkVcekMatchesReport(vcek, r)).not.toThrow();
  });

  it('fails vcek_chain because its ARK is not the pinned AMD root', () => {
    for (const product of ['auto', 'Milan', 'Genoa'] as const) {
      const e = failure(() => verifySnpAttestation(goOptions({ report: forged.report, vcek: forged.vcek, amdChain: forged.chain, product })));
      expect(e.code).toBe('vcek_chain');
      expect(e.message).toMatch(/no pinned AMD ARK/);
    }
  });

  it('fails vcek_chain when the forged VCEK is presented with the real AMD chain', () => {
    const e = failure(() => verifySnpAttestation(goOptions({ report: forged.report, vcek: forged.vcek })));
    expect(e.code).toBe('vcek_chain');
    expect(e.message).toMatch(/VCEK is not signed by the Milan ASK/);
  });

  it('fails vcek_chain when a self-made ASK is put under the real ARK', () => {
    const [, milanArk] = splitPem(MILAN_CHAIN);
    const [forgedAsk] = splitPem(forged.chain);
    const e = failure(() => verifySnpAttestation(goOptions({ report: forged.report, vcek: forged.vcek, amdChain: `${forgedAsk}${milanArk}` })));
    expect(e.code).toBe('vcek_chain');
    expect(e.message).toMatch(/ASK is not signed by ARK-Milan/);
  });
});

describe('checks on the contents of a verified report', () => {
  // These run the post-signature checks on edited copies of a real report, which no longer carry a
  // valid signature (the byte-flip test above shows verifySnpAttestation refuses them first).
  const vcek = parseVcek(VIRTEE.vcek);
  const base = { allowedMeasurements: [VIRTEE.measurement], now: NOW };
  const edited = (edit: (view: DataView, raw: Uint8Array) => void) => {
    const raw = new Uint8Array(VIRTEE.report);
    edit(new DataView(raw.buffer), raw);
    return parseSnpReport(raw);
  };
  const check = (report: ReturnType<typeof parseSnpReport>, options = {}) => codeOf(() => checkVerifiedReportClaims(report, vcek, 'Milan', { ...base, ...options }));

  it('passes the unedited report', () => {
    expect(() => checkVerifiedReportClaims(parseSnpReport(VIRTEE.report), vcek, 'Milan', base)).not.toThrow();
  });

  it('vmpl: refuses reports requested from a less privileged VMPL unless allowed', () => {
    const r = edited((v) => v.setUint32(0x30, 2, true));
    expect(check(r)).toBe('vmpl');
    expect(check(r, { maxVmpl: 1 })).toBe('vmpl');
    expect(() => checkVerifiedReportClaims(r, vcek, 'Milan', { ...base, maxVmpl: 2 })).not.toThrow();
  });

  it('policy: refuses debug and migration agent', () => {
    expect(check(edited((v) => v.setBigUint64(0x08, 0x30000n | (1n << 19n), true)))).toBe('policy');
    const ma = edited((v) => v.setBigUint64(0x08, 0x30000n | (1n << 18n), true));
    expect(check(ma)).toBe('policy');
    expect(() => checkVerifiedReportClaims(ma, vcek, 'Milan', { ...base, policy: { allowMigrationAgent: true } })).not.toThrow();
  });

  it('signing_key: refuses VLEK-signed and unsigned reports', () => {
    expect(check(edited((v) => v.setUint32(0x48, 1 << 2, true)))).toBe('signing_key');
    expect(check(edited((v) => v.setUint32(0x48, 7 << 2, true)))).toBe('signing_key');
  });

  it('report_format: refuses reserved values', () => {
    expect(check(edited((v) => v.setUint32(0x48, 3 << 2, true)))).toBe('report_format');
    expect(check(edited((_, raw) => (raw[0x4c] = 1)))).toBe('report_format');
    expect(check(edited((_, raw) => (raw[0x189] = 1)))).toBe('report_format'); // CPUID bytes are reserved in v2
    expect(check(edited((_, raw) => (raw[0x29f] = 1)))).toBe('report_format');
    expect(check(edited((v) => v.setBigUint64(0x08, 0x10000n, true)))).toBe('report_format'); // bit 17 clear
  });

  it('vcek_chain: a version 3 report whose CPUID names another product', () => {
    const genoaCpu = edited((v, raw) => {
      v.setUint32(0, 3, true);
      raw[0x188] = 0x19;
      raw[0x189] = 0x11;
      raw[0x18a] = 0x01;
    });
    expect(genoaCpu.cpuid).toEqual({ family: 0x19, model: 0x11, stepping: 1 });
    expect(check(genoaCpu)).toBe('vcek_chain');
    const milanCpu = edited((v, raw) => {
      v.setUint32(0, 3, true);
      raw[0x188] = 0x19;
      raw[0x189] = 0x01;
    });
    expect(() => checkVerifiedReportClaims(milanCpu, vcek, 'Milan', base)).not.toThrow();
  });

  it('vcek_tcb_mismatch: the VCEK of another chip and TCB, a masked CHIP_ID, another TCB', () => {
    const goReport = parseSnpReport(GO.report);
    const e = failure(() => checkVcekMatchesReport(vcek, goReport));
    expect(e.code).toBe('vcek_tcb_mismatch');
    expect(e.message).toMatch(/VCEK TCB \(bootloader=3 tee=0 snp=8 microcode=115\) differs from REPORTED_TCB \(bootloader=2 tee=0 snp=5 microcode=68\)/);
    // Same TCB as the VCEK, other chip.
    const otherChip = edited((_, raw) => (raw[0x1a0] = raw[0x1a0]! ^ 1));
    expect(failure(() => checkVcekMatchesReport(vcek, otherChip)).message).toMatch(/hwID differs from CHIP_ID/);
    // Same chip, other TCB.
    expect(check(edited((_, raw) => (raw[0x186] = 9)))).toBe('vcek_tcb_mismatch');
    // MASK_CHIP_KEY.
    const masked = edited((v, raw) => {
      v.setUint32(0x48, 2, true);
      raw.fill(0, 0x1a0, 0x1e0);
    });
    expect(check(masked)).toBe('vcek_tcb_mismatch');
  });

  it('VCEK extensions match the reports they signed', () => {
    for (const [der, report] of [
      [GO.vcek, GO.report],
      [VIRTEE.vcek, VIRTEE.report],
    ] as const) {
      const facts = parseVcek(der);
      expect(facts.productName).toBe('Milan-B0');
      expect(facts.extensions.has(VCEK_OID.hwId)).toBe(true);
      expect(() => checkVcekMatchesReport(facts, parseSnpReport(report))).not.toThrow();
    }
  });
});

describe('snpReportData binding', () => {
  const spki = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
  const pol = createHash('sha256').update('policy').digest('hex');

  it('is SHA-512 over label, length-prefixed SPKI and the policy hash bytes', () => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(spki.length);
    const expected = createHash('sha512')
      .update(Buffer.concat([Buffer.from('ztmint-snp-v1\0', 'latin1'), length, spki, Buffer.from(pol, 'hex')]))
      .digest();
    const data = snpReportData(spki, pol);
    expect(data).toBeInstanceOf(Uint8Array);
    expect(data.length).toBe(64);
    expect(Buffer.from(data).equals(expected)).toBe(true);
    expect(SNP_BINDING_LABEL).toBe('ztmint-snp-v1\0');
    expect(Buffer.from(snpReportData(spki, pol.toUpperCase())).equals(expected)).toBe(true);
  });

  it('has a fixed known answer (the VCEK key of vcek.der, policy hash 00..1f)', () => {
    const vcekSpki = new Uint8Array(parseVcek(GO.vcek).publicKey.export({ type: 'spki', format: 'der' }));
    const policy = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex');
    expect(Buffer.from(snpReportData(vcekSpki, policy)).toString('hex')).toBe(KNOWN_ANSWER);
  });

  it('changes with the key and with the policy', () => {
    const a = Buffer.from(snpReportData(spki, pol));
    const otherKey = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
    expect(a.equals(Buffer.from(snpReportData(otherKey, pol)))).toBe(false);
    const otherPol = createHash('sha256').update('policy2').digest('hex');
    expect(a.equals(Buffer.from(snpReportData(spki, otherPol)))).toBe(false);
  });

  it('rejects malformed input', () => {
    expect(() => snpReportData(new Uint8Array(0), pol)).toThrow(TypeError);
    expect(() => snpReportData(new Uint8Array([1, 2, 3]), pol)).toThrow(TypeError);
    expect(() => snpReportData(new Uint8Array([...spki, 0]), pol)).toThrow(TypeError);
    expect(() => snpReportData(spki, pol.slice(2))).toThrow(TypeError);
    expect(() => snpReportData(spki, `${pol.slice(2)}zz`)).toThrow(TypeError);
  });
});

// Computed independently (Python hashlib over the same encoding).
const KNOWN_ANSWER = '6ac020794dedede0404e6563079345648ecaa6da28ded8f759851233451b14d354630cd4f4afa049f64a382e4cc7e9ea8569f6af37e56566e7e3dfdb371c4c76';
