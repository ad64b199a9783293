// The coordinator's SEV-SNP gate with the real Milan report and VCEK from test/vectors/sev-snp
// (see test/vectors/SOURCES.md): the chain and measurement verify, but the report cannot bind a key of
// ours, so the gate refuses with report_data; other failures name their check.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AttestationGate, verifySignerEvidence, type AttestationConfig } from '../coordinator/attestation-gate.js';
import { parseSnpReport } from '../attestation/sev-snp/report.js';
import { b64url } from '../protocol/encoding.js';
import { vcekFromCertTable } from '../signers/attestation-source.js';

const DIR = new URL('vectors/sev-snp/', import.meta.url);
const report = readFileSync(new URL('virtee/report_milan.hex', DIR), 'utf8').replace(/\s+/g, '');
const reportBytes = Buffer.from(report, 'hex');
const vcek = readFileSync(new URL('virtee/vcek_milan.der', DIR));
const measurement = Buffer.from(parseSnpReport(reportBytes).measurement).toString('hex');
const spki = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
const evidence = { type: 'sev-snp', report: b64url(reportBytes), vcek: b64url(vcek) };
const policyHash = 'a'.repeat(64);
const now = new Date('2025-06-01T00:00:00Z'); // inside the test VCEK's validity
const config: AttestationConfig = { required: true, allowedMeasurements: [measurement] };

function reason(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('coordinator attestation gate', () => {
  it('verifies the real chain and measurement, and refuses because REPORT_DATA does not bind this TLS key', () => {
    expect(reason(() => verifySignerEvidence({ info: { attestation: evidence }, spki }, policyHash, config, now))).toMatch(/\(report_data\)/);
  });

  it('refuses an unknown measurement, a tampered report, a wrong VCEK and no evidence, each by name', () => {
    expect(reason(() => verifySignerEvidence({ info: { attestation: evidence }, spki }, policyHash, { ...config, allowedMeasurements: ['0'.repeat(96)] }, now))).toMatch(/\(measurement\)/);
    const tampered = Buffer.from(reportBytes);
    tampered[0x90]! ^= 1; // inside MEASUREMENT
    expect(reason(() => verifySignerEvidence({ info: { attestation: { ...evidence, report: b64url(tampered) } }, spki }, policyHash, config, now))).toMatch(/\(report_signature\)/);
    const otherVcek = readFileSync(new URL('vcek.der', DIR));
    expect(reason(() => verifySignerEvidence({ info: { attestation: { ...evidence, vcek: b64url(otherVcek) } }, spki }, policyHash, config, now))).toMatch(
      /\((report_signature|vcek_tcb_mismatch|vcek_chain)\)/,
    );
    expect(reason(() => verifySignerEvidence({ info: {}, spki }, policyHash, config, now))).toMatch(/no SEV-SNP attestation/);
  });

  it('admits every signer when attestation is not required, and caches refusals', async () => {
    let fetches = 0;
    const fetchPeer = async () => (fetches++, { info: { attestation: evidence }, spki });
    expect(await new AttestationGate({ required: false, allowedMeasurements: [] }, () => policyHash).admit('signer-1', fetchPeer)).toBe(true);
    expect(fetches).toBe(0);
    const gate = new AttestationGate(
      config,
      () => policyHash,
      () => now.getTime(),
    );
    expect(await gate.admit('signer-1', fetchPeer)).toBe(false);
    expect(await gate.admit('signer-1', fetchPeer)).toBe(false);
    expect(fetches).toBe(1);
  });

  it('finds the VCEK in an SNP certificate table by its GUID', () => {
    // 63da758d-e664-4564-adc5-f4b93be8accd, first three fields little-endian as in the table
    const guid = Buffer.from('8d75da63' + '64e6' + '6445' + 'adc5' + 'f4b93be8accd', 'hex');
    const table = Buffer.alloc(48 + vcek.length);
    guid.copy(table, 0);
    table.writeUInt32LE(48, 16);
    table.writeUInt32LE(vcek.length, 20);
    vcek.copy(table, 48);
    expect(Buffer.compare(vcekFromCertTable(table), vcek)).toBe(0);
    expect(() => vcekFromCertTable(Buffer.alloc(48))).toThrow(/no VCEK/);
  });
});
