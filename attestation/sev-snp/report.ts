// AMD SEV-SNP ATTESTATION_REPORT parser (SEV Secure Nested Paging Firmware ABI Specification,
// publication 56860, table "ATTESTATION_REPORT Structure"). All integers are little-endian.
//
//   0x000 u32 VERSION            0x004 u32 GUEST_SVN          0x008 u64 POLICY
//   0x010 [16] FAMILY_ID         0x020 [16] IMAGE_ID          0x030 u32 VMPL
//   0x034 u32 SIGNATURE_ALGO     0x038 u64 CURRENT_TCB        0x040 u64 PLATFORM_INFO
//   0x048 u32 AUTHOR_KEY_EN(b0) MASK_CHIP_KEY(b1) SIGNING_KEY(b4:2), rest MBZ
//   0x04C u32 reserved           0x050 [64] REPORT_DATA       0x090 [48] MEASUREMENT
//   0x0C0 [32] HOST_DATA         0x0E0 [48] ID_KEY_DIGEST     0x110 [48] AUTHOR_KEY_DIGEST
//   0x140 [32] REPORT_ID         0x160 [32] REPORT_ID_MA      0x180 u64 REPORTED_TCB
//   0x188 u8 CPUID_FAM_ID, 0x189 u8 CPUID_MOD_ID, 0x18A u8 CPUID_STEP (version >= 3; else reserved)
//   0x18B..0x1A0 reserved        0x1A0 [64] CHIP_ID           0x1E0 u64 COMMITTED_TCB
//   0x1E8 u8 CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR, reserved
//   0x1EC u8 COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR, reserved
//   0x1F0 u64 LAUNCH_TCB
//   0x1F8 u64 LAUNCH_MIT_VECTOR, 0x200 u64 CURRENT_MIT_VECTOR (version 5; else reserved)
//   ..0x2A0 reserved             0x2A0 [512] SIGNATURE over bytes 0x000..0x29F
//
// SIGNATURE for SIGNATURE_ALGO 1 (ECDSA P-384 with SHA-384): R at +0x00 and S at +0x48, each a
// 72-byte little-endian integer (only the low 48 bytes can be non-zero), the rest reserved.
//
// TCB_VERSION (Milan, Genoa): byte 0 BOOT_LOADER, byte 1 TEE, bytes 2-5 reserved, byte 6 SNP,
// byte 7 MICROCODE. (Turin uses another layout; this module does not support Turin.)
import { fail } from './errors.js';

export const SNP_REPORT_SIZE = 0x4a0;
/** Bytes 0x000..0x29F are covered by the report signature. */
export const SNP_SIGNED_LENGTH = 0x2a0;
export const SNP_SIGNATURE_OFFSET = 0x2a0;
/** Versions whose layout this parser knows (4 is refused: its layout is not settled in public sources). */
const SNP_SUPPORTED_VERSIONS: readonly number[] = [2, 3, 5];

export const SIG_ALGO_ECDSA_P384_SHA384 = 1;
export const SIGNING_KEY_VCEK = 0;
const SIGNING_KEY_VLEK = 1;
const SIGNING_KEY_NONE = 7;

export interface SnpTcb {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  /** The 8 raw bytes (including the reserved ones), as 16 hex digits in memory order. */
  hex: string;
}

interface SnpGuestPolicy {
  abiMinor: number;
  abiMajor: number;
  /** Bit 16: SMT may be enabled on the host. */
  smt: boolean;
  /** Bit 17: reserved, must be 1. */
  reserved1: boolean;
  /** Bit 18: a migration agent may be associated with the guest. */
  migrateMa: boolean;
  /** Bit 19: the host may debug (decrypt) the guest. */
  debug: boolean;
  /** Bit 20: the guest may run on one socket only. */
  singleSocket: boolean;
  cxlAllowed: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHiding: boolean;
  pageSwapDisable: boolean;
  raw: bigint;
}

interface SnpPlatformInfo {
  smtEnabled: boolean;
  tsmeEnabled: boolean;
  eccEnabled: boolean;
  raplDisabled: boolean;
  ciphertextHidingEnabled: boolean;
  aliasCheckComplete: boolean;
  raw: bigint;
}

interface SnpFirmwareVersion {
  major: number;
  minor: number;
  build: number;
}

export interface SnpReport {
  version: number;
  guestSvn: number;
  policy: SnpGuestPolicy;
  familyId: Uint8Array;
  imageId: Uint8Array;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: SnpTcb;
  platformInfo: SnpPlatformInfo;
  /** AUTHOR_KEY_EN: the ID block carried an author key. */
  authorKeyEn: boolean;
  /** MASK_CHIP_KEY: the host zeroed CHIP_ID. */
  maskChipKey: boolean;
  /** SIGNING_KEY: 0 VCEK, 1 VLEK, 7 none. */
  signingKey: number;
  reportData: Uint8Array;
  measurement: Uint8Array;
  hostData: Uint8Array;
  idKeyDigest: Uint8Array;
  authorKeyDigest: Uint8Array;
  reportId: Uint8Array;
  reportIdMa: Uint8Array;
  reportedTcb: SnpTcb;
  /** CPUID family/model/stepping of the chip (report version >= 3). */
  cpuid?: { family: number; model: number; stepping: number };
  chipId: Uint8Array;
  committedTcb: SnpTcb;
  current: SnpFirmwareVersion;
  committed: SnpFirmwareVersion;
  launchTcb: SnpTcb;
  /** Report version 5 only. */
  launchMitVector?: bigint;
  currentMitVector?: bigint;
  /** Little-endian R and S (72 bytes each) for SIGNATURE_ALGO 1. */
  signature: { r: Uint8Array; s: Uint8Array };
  /** A private copy of the whole report; `signedBytes` is its first 0x2A0 bytes. */
  raw: Uint8Array;
  signedBytes: Uint8Array;
}

function tcb(raw: Uint8Array, offset: number): SnpTcb {
  const b = raw.subarray(offset, offset + 8);
  return {
    bootloader: b[0]!,
    tee: b[1]!,
    snp: b[6]!,
    microcode: b[7]!,
    hex: Buffer.from(b).toString('hex'),
  };
}

function bit(value: bigint, n: number): boolean {
  return ((value >> BigInt(n)) & 1n) === 1n;
}

function parsePolicy(raw: bigint): SnpGuestPolicy {
  return {
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bit(raw, 16),
    reserved1: bit(raw, 17),
    migrateMa: bit(raw, 18),
    debug: bit(raw, 19),
    singleSocket: bit(raw, 20),
    cxlAllowed: bit(raw, 21),
    memAes256Xts: bit(raw, 22),
    raplDis: bit(raw, 23),
    ciphertextHiding: bit(raw, 24),
    pageSwapDisable: bit(raw, 25),
    raw,
  };
}

function parsePlatformInfo(raw: bigint): SnpPlatformInfo {
  return {
    smtEnabled: bit(raw, 0),
    tsmeEnabled: bit(raw, 1),
    eccEnabled: bit(raw, 2),
    raplDisabled: bit(raw, 3),
    ciphertextHidingEnabled: bit(raw, 4),
    aliasCheckComplete: bit(raw, 5),
    raw,
  };
}

/**
 * Parses a 1184-byte report. Fails with `report_size` or `report_version` only; it does not check
 * the signature nor reserved fields (see `reservedFieldProblems`). The result holds copies, so a
 * caller mutating its buffer afterwards cannot change what was parsed.
 */
export function parseSnpReport(input: Uint8Array): SnpReport {
  if (!(input instanceof Uint8Array)) fail('report_size', 'report must be a Uint8Array');
  if (input.length !== SNP_REPORT_SIZE) {
    fail('report_size', `report is ${input.length} bytes, expected ${SNP_REPORT_SIZE}`);
  }
  const raw = new Uint8Array(input); // private copy
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => view.getBigUint64(o, true);
  const bytes = (o: number, n: number) => raw.slice(o, o + n);

  const version = u32(0x00);
  if (!SNP_SUPPORTED_VERSIONS.includes(version)) {
    fail('report_version', `report version ${version} is not supported (supported: ${SNP_SUPPORTED_VERSIONS.join(', ')})`);
  }
  const keyInfo = u32(0x48);
  const report: SnpReport = {
    version,
    guestSvn: u32(0x04),
    policy: parsePolicy(u64(0x08)),
    familyId: bytes(0x10, 16),
    imageId: bytes(0x20, 16),
    vmpl: u32(0x30),
    signatureAlgo: u32(0x34),
    currentTcb: tcb(raw, 0x38),
    platformInfo: parsePlatformInfo(u64(0x40)),
    authorKeyEn: (keyInfo & 1) === 1,
    maskChipKey: (keyInfo & 2) === 2,
    signingKey: (keyInfo >>> 2) & 7,
    reportData: bytes(0x50, 64),
    measurement: bytes(0x90, 48),
    hostData: bytes(0xc0, 32),
    idKeyDigest: bytes(0xe0, 48),
    authorKeyDigest: bytes(0x110, 48),
    reportId: bytes(0x140, 32),
    reportIdMa: bytes(0x160, 32),
    reportedTcb: tcb(raw, 0x180),
    chipId: bytes(0x1a0, 64),
    committedTcb: tcb(raw, 0x1e0),
    current: { build: raw[0x1e8]!, minor: raw[0x1e9]!, major: raw[0x1ea]! },
    committed: { build: raw[0x1ec]!, minor: raw[0x1ed]!, major: raw[0x1ee]! },
    launchTcb: tcb(raw, 0x1f0),
    signature: {
      r: bytes(SNP_SIGNATURE_OFFSET, 72),
      s: bytes(SNP_SIGNATURE_OFFSET + 72, 72),
    },
    raw,
    signedBytes: raw.subarray(0, SNP_SIGNED_LENGTH),
  };
  if (version >= 3) report.cpuid = { family: raw[0x188]!, model: raw[0x189]!, stepping: raw[0x18a]! };
  if (version >= 5) {
    report.launchMitVector = u64(0x1f8);
    report.currentMitVector = u64(0x200);
  }
  return report;
}

function nonZero(raw: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (raw[i] !== 0) return true;
  return false;
}

const hexRange = (from: number, to: number) => `0x${from.toString(16)}..0x${(to - 1).toString(16)}`;

/**
 * Structural problems in the signed part of a parsed report: reserved (must-be-zero) fields that
 * are not zero, reserved SIGNING_KEY values, POLICY bit 17 (must be one) clear. Empty when fine.
 */
export function reservedFieldProblems(report: SnpReport): string[] {
  const raw = report.raw;
  const problems: string[] = [];
  const mbz = (from: number, to: number) => {
    if (nonZero(raw, from, to)) problems.push(`reserved bytes ${hexRange(from, to)} are not zero`);
  };
  if (new DataView(raw.buffer, raw.byteOffset).getUint32(0x48, true) >>> 5 !== 0) {
    problems.push('reserved bits 31:5 at 0x48 are not zero');
  }
  if (report.signingKey > SIGNING_KEY_VLEK && report.signingKey < SIGNING_KEY_NONE) {
    problems.push(`SIGNING_KEY ${report.signingKey} is reserved`);
  }
  if (!report.policy.reserved1) problems.push('POLICY bit 17 must be 1');
  mbz(0x4c, 0x50);
  mbz(report.version >= 3 ? 0x18b : 0x188, 0x1a0);
  mbz(0x1eb, 0x1ec);
  mbz(0x1ef, 0x1f0);
  mbz(report.version >= 5 ? 0x208 : 0x1f8, SNP_SIGNED_LENGTH);
  return problems;
}
