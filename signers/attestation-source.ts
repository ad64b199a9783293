// Where a signer's SEV-SNP evidence comes from. In a confidential VM: Linux configfs-tsm
// (/sys/kernel/config/tsm/report, provider sev_guest), which returns the report for our REPORT_DATA
// and the host's certificate table (VCEK by GUID). Elsewhere a fixed report from files can be
// served (dev, tests): it cannot bind this signer's key, so a coordinator requiring attestation
// refuses it (report_data), which is the point of the binding.
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { snpReportData } from '../attestation/sev-snp/binding.js';
import { b64url } from '../protocol/encoding.js';

export interface SnpEvidence {
  type: 'sev-snp';
  /** The 1184-byte attestation report, base64url. */
  report: string;
  /** The chip's VCEK certificate (DER), base64url. */
  vcek: string;
}

export interface AttestationSource {
  evidence(reportData: Uint8Array): Promise<SnpEvidence>;
}

/** AMD's GUID for the VCEK entry of the SNP extended-report certificate table. */
const VCEK_GUID = '63da758d-e664-4564-adc5-f4b93be8accd';

function guidAt(table: Buffer, offset: number): string {
  const b = table.subarray(offset, offset + 16);
  const hex = (bytes: Buffer) => bytes.toString('hex');
  const le = (start: number, len: number) => hex(Buffer.from(b.subarray(start, start + len)).reverse());
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10, 16))}`;
}

/** Finds the VCEK in a certificate table: entries of (GUID, u32 offset, u32 length), all-zero terminated. */
export function vcekFromCertTable(table: Buffer): Buffer {
  for (let at = 0; at + 24 <= table.length; at += 24) {
    const guid = guidAt(table, at);
    if (/^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(guid)) break;
    if (guid === VCEK_GUID) {
      const offset = table.readUInt32LE(at + 16);
      const length = table.readUInt32LE(at + 20);
      return table.subarray(offset, offset + length);
    }
  }
  throw new Error("the host's certificate table has no VCEK; provision it (snphost import) or serve it with --snp-vcek");
}

export function configfsTsmSource(root = '/sys/kernel/config/tsm/report', vcekPath?: string): AttestationSource {
  return {
    async evidence(reportData) {
      await mkdir(root, { recursive: false }).catch(() => undefined);
      const entry = await mkdtemp(join(root, 'ztmint-'));
      try {
        await writeFile(join(entry, 'inblob'), reportData);
        const report = await readFile(join(entry, 'outblob'));
        const vcek = vcekPath ? await readFile(vcekPath) : vcekFromCertTable(await readFile(join(entry, 'auxblob')));
        return { type: 'sev-snp', report: b64url(report), vcek: b64url(vcek) };
      } finally {
        await rm(entry, { recursive: true, force: true });
      }
    },
  };
}

export function fileSource(reportPath: string, vcekPath: string): AttestationSource {
  return {
    async evidence() {
      const raw = await readFile(reportPath);
      // Accept the binary report or its hex dump (as virtee's tools write it).
      const report = raw.length === 1184 ? raw : Buffer.from(raw.toString('utf8').replace(/\s+/g, ''), 'hex');
      return { type: 'sev-snp', report: b64url(report), vcek: b64url(await readFile(vcekPath)) };
    },
  };
}

/** REPORT_DATA for this signer: its TLS certificate's public key and the policy it enforces. */
export function reportDataFor(certPem: string, policyHash: string): Uint8Array {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return snpReportData(new Uint8Array(spki), policyHash);
}
