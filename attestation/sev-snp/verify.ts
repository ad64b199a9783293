// SEV-SNP attestation verification: the report is signed by the chip's VCEK, the VCEK by AMD's ASK,
// the ASK by AMD's ARK (pinned), and the report's contents satisfy the caller's requirements.
// Checks run in a fixed order and the first failure throws an SnpVerifyError with a stable code;
// docs/attestation.md lists the checks and the codes.
import { timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { fail } from './errors.js';
import { parseVcek, verifyAmdChain, type SnpProduct, type VcekFacts } from './certs.js';
import { parseSnpReport, reservedFieldProblems, SIG_ALGO_ECDSA_P384_SHA384, SIGNING_KEY_VCEK, SNP_SIGNATURE_OFFSET, SNP_SIGNED_LENGTH, type SnpReport, type SnpTcb } from './report.js';

export { SnpVerifyError, type SnpFailure } from './errors.js';
export type { SnpProduct } from './certs.js';
export type { SnpReport } from './report.js';

export interface SnpMinTcb {
  bootloader?: number;
  tee?: number;
  snp?: number;
  microcode?: number;
}

interface SnpPolicyRequirements {
  /** Accept a guest whose policy lets the host debug (decrypt) it. Default false. Never in production. */
  allowDebug?: boolean;
  /** Accept a guest whose policy allows a migration agent. Default false. */
  allowMigrationAgent?: boolean;
  /** When false, the platform must report SMT disabled (PLATFORM_INFO.SMT_EN = 0). Default true. */
  allowSmt?: boolean;
  /** Require the guest policy's SINGLE_SOCKET bit. Default false. */
  requireSingleSocket?: boolean;
}

export interface SnpVerifyOptions {
  /** The 1184-byte ATTESTATION_REPORT. */
  report: Uint8Array;
  /** The chip's VCEK certificate: DER bytes, or PEM (as a string or bytes). */
  vcek: Uint8Array | string;
  /** PEM of AMD's ASK and ARK for the product (KDS /vcek/v1/<product>/cert_chain). */
  amdChain: string;
  /** Which AMD product the chain must belong to; 'auto' (default) takes the pinned ARK found in amdChain. */
  product?: SnpProduct | 'auto';
  /** Launch measurements accepted, 96 hex digits each (case-insensitive). Empty accepts nothing. */
  allowedMeasurements: readonly string[];
  /** REPORT_DATA must equal these 64 bytes (e.g. `snpReportData(...)` from binding.ts). */
  expectedReportData?: Uint8Array;
  /** Minimum REPORTED_TCB, per component. */
  minTcb?: SnpMinTcb;
  policy?: SnpPolicyRequirements;
  /** The least privileged VMPL whose reports are accepted (0 = most privileged). Default 0. */
  maxVmpl?: number;
  /** Time for certificate validity. Default: now. */
  now?: Date;
}

export interface SnpVerified {
  ok: true;
  report: SnpReport;
  product: SnpProduct;
  vcek: { productName?: string; tcb: VcekFacts['tcb']; notAfter: Date };
}

const TCB_PARTS = ['bootloader', 'tee', 'snp', 'microcode'] as const;

const MEASUREMENT_RE = /^[0-9a-f]{96}$/;

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function checkOptions(o: Omit<SnpVerifyOptions, 'report' | 'vcek' | 'amdChain'>): { measurements: Set<string>; maxVmpl: number } {
  if (!Array.isArray(o.allowedMeasurements)) throw new TypeError('allowedMeasurements must be an array of hex strings');
  const measurements = new Set<string>();
  for (const m of o.allowedMeasurements) {
    const norm = typeof m === 'string' ? m.toLowerCase() : '';
    if (!MEASUREMENT_RE.test(norm)) throw new TypeError(`allowedMeasurements entry is not 96 hex digits: ${String(m)}`);
    measurements.add(norm);
  }
  if (o.expectedReportData !== undefined) {
    if (!(o.expectedReportData instanceof Uint8Array) || o.expectedReportData.length !== 64) {
      throw new TypeError('expectedReportData must be 64 bytes');
    }
  }
  for (const [k, v] of Object.entries(o.minTcb ?? {})) {
    if (!TCB_PARTS.includes(k as (typeof TCB_PARTS)[number])) throw new TypeError(`minTcb has an unknown key ${k}`);
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 255)) throw new TypeError(`minTcb.${k} must be 0..255`);
  }
  const maxVmpl = o.maxVmpl ?? 0;
  if (!Number.isInteger(maxVmpl) || maxVmpl < 0 || maxVmpl > 3) throw new TypeError('maxVmpl must be 0..3');
  if (o.now !== undefined && !(o.now instanceof Date && Number.isFinite(o.now.getTime()))) {
    throw new TypeError('now must be a valid Date');
  }
  return { measurements, maxVmpl };
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Converts the report's little-endian R‖S into the big-endian 48+48 bytes of IEEE P1363. */
function p1363Signature(report: SnpReport): Buffer {
  const { r, s } = report.signature;
  const tail = report.raw.subarray(SNP_SIGNATURE_OFFSET + 144);
  // A P-384 scalar fits in 48 bytes; non-zero high bytes would be an out-of-range (invalid) value.
  // Refusing them, and the non-zero reserved tail, makes every byte of the report matter.
  if (!isZero(r.subarray(48)) || !isZero(s.subarray(48)) || !isZero(tail)) {
    fail('report_signature', 'signature field has non-zero bytes beyond the 48-byte R and S');
  }
  const out = Buffer.alloc(96);
  for (let i = 0; i < 48; i++) {
    out[47 - i] = r[i]!;
    out[95 - i] = s[i]!;
  }
  return out;
}

/** The product that the report's CPUID fields (report version ≥ 3) name, if any. */
function productOfCpuid(report: SnpReport): SnpProduct | 'other' | undefined {
  const c = report.cpuid;
  if (!c || (c.family === 0 && c.model === 0)) return undefined;
  if (c.family !== 0x19) return 'other';
  const hi = c.model >> 4;
  if (hi === 0x0) return 'Milan';
  if (hi === 0x1 || hi === 0xa) return 'Genoa';
  return 'other';
}

function tcbText(t: Pick<SnpTcb, (typeof TCB_PARTS)[number]>): string {
  return TCB_PARTS.map((k) => `${k}=${t[k]}`).join(' ');
}

/**
 * Verifies an SEV-SNP attestation report and its VCEK chain, then the caller's requirements.
 * Returns the parsed report; throws SnpVerifyError (stable `code`) on the first failed check, or a
 * TypeError when the options themselves are malformed.
 */
export function verifySnpAttestation(options: SnpVerifyOptions): SnpVerified {
  checkOptions(options);
  const now = options.now ?? new Date();

  // 1. Structure: size, version, signature algorithm.
  const report = parseSnpReport(options.report);
  if (report.signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384) {
    fail('signature_algo', `SIGNATURE_ALGO ${report.signatureAlgo} is not 1 (ECDSA P-384 with SHA-384)`);
  }

  // 2. VCEK ← ASK ← pinned ARK.
  const vcek = parseVcek(options.vcek);
  const product = verifyAmdChain(vcek, options.amdChain, options.product ?? 'auto', now);

  // 3. The report signature, by the VCEK, over bytes 0x000..0x29F.
  const signature = p1363Signature(report);
  let signed: boolean;
  try {
    signed = cryptoVerify('sha384', report.raw.subarray(0, SNP_SIGNED_LENGTH), { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    signed = false;
  }
  if (!signed) fail('report_signature', 'report signature does not verify with the VCEK');

  // From here on every field is as the AMD secure processor wrote it.
  checkVerifiedReportClaims(report, vcek, product, options);

  const vcekSummary: SnpVerified['vcek'] = { tcb: vcek.tcb, notAfter: vcek.notAfter };
  if (vcek.productName !== undefined) vcekSummary.productName = vcek.productName;
  return { ok: true, report, product, vcek: vcekSummary };
}

/**
 * Steps 4-10 of `verifySnpAttestation`: the checks on the contents of a report whose signature and
 * VCEK chain have ALREADY been verified (exported so tests can exercise them on edited reports;
 * calling it on an unverified report proves nothing).
 */
export function checkVerifiedReportClaims(report: SnpReport, vcek: VcekFacts, product: SnpProduct, options: Omit<SnpVerifyOptions, 'report' | 'vcek' | 'amdChain'>): void {
  const { measurements, maxVmpl } = checkOptions(options);

  // 4. Reserved fields, signing key, product named by the CPUID fields.
  const problems = reservedFieldProblems(report);
  if (problems.length > 0) fail('report_format', problems.join('; '));
  const cpuProduct = productOfCpuid(report);
  if (cpuProduct !== undefined && cpuProduct !== product) {
    fail('vcek_chain', `report CPUID (family 0x${report.cpuid!.family.toString(16)} model 0x${report.cpuid!.model.toString(16)}) is not a ${product}`);
  }
  if (report.signingKey !== SIGNING_KEY_VCEK) {
    fail('signing_key', `report is signed by SIGNING_KEY ${report.signingKey}, only the VCEK (0) is accepted`);
  }

  // 5. The VCEK was issued for this chip at this TCB.
  checkVcekMatchesReport(vcek, report);

  // 6. Guest policy and platform.
  const req = options.policy ?? {};
  if (report.policy.debug && req.allowDebug !== true) fail('policy', 'guest policy allows debugging');
  if (report.policy.migrateMa && req.allowMigrationAgent !== true) fail('policy', 'guest policy allows a migration agent');
  if (req.allowSmt === false && report.platformInfo.smtEnabled) fail('policy', 'platform has SMT enabled');
  if (req.requireSingleSocket === true && !report.policy.singleSocket) fail('policy', 'guest policy does not require a single socket');

  // 7. Privilege level of the requester.
  if (report.vmpl > maxVmpl) fail('vmpl', `report was requested at VMPL ${report.vmpl}, at most ${maxVmpl} is accepted`);

  // 8. Minimum TCB (of REPORTED_TCB, the TCB the VCEK is derived from).
  if (options.minTcb) {
    for (const k of TCB_PARTS) {
      const min = options.minTcb[k];
      if (min !== undefined && report.reportedTcb[k] < min) {
        fail('tcb', `reported TCB ${tcbText(report.reportedTcb)} is below the minimum ${k}=${min}`);
      }
    }
  }

  // 9. Launch measurement.
  const measurement = hexOf(report.measurement);
  if (!measurements.has(measurement)) fail('measurement', `measurement ${measurement} is not allowed`);

  // 10. REPORT_DATA binding.
  if (options.expectedReportData !== undefined && !timingSafeEqual(report.reportData, options.expectedReportData)) {
    fail('report_data', 'REPORT_DATA does not match the expected binding');
  }
}

/**
 * The VCEK's TCB extensions (blSPL, teeSPL, snpSPL, ucodeSPL) must equal REPORTED_TCB and its hwID
 * must equal CHIP_ID; otherwise `vcek_tcb_mismatch`. (AMD derives the VCEK from the chip secret and
 * the TCB, so a correct signature already implies this; checking makes a mix-up explicit.)
 */
export function checkVcekMatchesReport(vcek: VcekFacts, report: SnpReport): void {
  for (const k of TCB_PARTS) {
    if (vcek.tcb[k] !== report.reportedTcb[k]) {
      fail('vcek_tcb_mismatch', `VCEK TCB (${tcbText(vcek.tcb)}) differs from REPORTED_TCB (${tcbText(report.reportedTcb)})`);
    }
  }
  if (report.maskChipKey) fail('vcek_tcb_mismatch', 'report has MASK_CHIP_KEY set, CHIP_ID cannot be matched to the VCEK');
  if (!vcek.hwId) fail('vcek_tcb_mismatch', 'VCEK has no hwID extension');
  if (vcek.hwId.length !== report.chipId.length || !timingSafeEqual(vcek.hwId, report.chipId)) {
    fail('vcek_tcb_mismatch', 'VCEK hwID differs from CHIP_ID');
  }
}
