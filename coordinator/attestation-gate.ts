// With REQUIRE_SNP_ATTESTATION=true the coordinator uses only signers whose SEV-SNP report
// verifies (VCEK → ASK → ARK, measurement allowlist, TCB and policy bits) and binds the very TLS
// key the coordinator sees on its connection and the policy hash the coordinator enforces.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { snpReportData } from '../attestation/sev-snp/binding.js';
import { parseVcek, productOfName } from '../attestation/sev-snp/certs.js';
import { SnpVerifyError, verifySnpAttestation, type SnpMinTcb } from '../attestation/sev-snp/verify.js';
import { fromB64url } from '../protocol/encoding.js';
import { PACKAGE_ROOT } from '../runtime/package-root.js';

export interface AttestationConfig {
  required: boolean;
  allowedMeasurements: string[];
  minTcb?: SnpMinTcb;
  allowDebug?: boolean;
  /** How long a verified report is trusted before it is checked again. */
  ttlMs?: number;
}

const AMD_DIR = join(PACKAGE_ROOT, 'coordinator', 'amd');

function amdChain(product: 'Milan' | 'Genoa'): string {
  return readFileSync(join(AMD_DIR, `ask_ark_${product.toLowerCase()}.pem`), 'utf8');
}

export function attestationConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AttestationConfig {
  return {
    required: env.REQUIRE_SNP_ATTESTATION === 'true',
    allowedMeasurements: (env.SNP_MEASUREMENTS ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((m) => m.toLowerCase()),
    allowDebug: env.SNP_ALLOW_DEBUG === 'true',
  };
}

export interface PeerInfo {
  /** The signer's /v1/info document. */
  info: { attestation?: unknown };
  /** DER SPKI of the certificate the signer presented on the same TLS connection. */
  spki: Uint8Array;
}

/** Verifies one signer's evidence; returns nothing or throws an Error naming the failed check. */
export function verifySignerEvidence(peer: PeerInfo, policyHash: string, config: AttestationConfig, now = new Date()): void {
  const evidence = peer.info.attestation as { type?: unknown; report?: unknown; vcek?: unknown } | undefined;
  if (!evidence || evidence.type !== 'sev-snp' || typeof evidence.report !== 'string' || typeof evidence.vcek !== 'string') {
    throw new Error('signer offers no SEV-SNP attestation');
  }
  const vcek = fromB64url(evidence.vcek);
  const product = productOfName(parseVcek(vcek).productName ?? '');
  if (!product) throw new Error('VCEK names no supported product (Milan, Genoa)');
  try {
    verifySnpAttestation({
      report: fromB64url(evidence.report),
      vcek,
      amdChain: amdChain(product),
      product,
      allowedMeasurements: config.allowedMeasurements,
      expectedReportData: snpReportData(peer.spki, policyHash),
      ...(config.minTcb ? { minTcb: config.minTcb } : {}),
      policy: { allowDebug: config.allowDebug ?? false },
      now,
    });
  } catch (err) {
    if (err instanceof SnpVerifyError) throw new Error(`attestation refused (${err.code}): ${err.message}`, { cause: err });
    throw err;
  }
}

/** Caches each signer's verdict for a while, keyed by the SPKI it presented. */
export class AttestationGate {
  private readonly verdicts = new Map<string, { ok: boolean; until: number; reason?: string }>();

  constructor(
    readonly config: AttestationConfig,
    private readonly policyHash: () => string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** True when the signer may be used; without `required` every signer may. */
  async admit(name: string, fetchPeer: () => Promise<PeerInfo>, log?: (msg: string, fields: Record<string, unknown>) => void): Promise<boolean> {
    if (!this.config.required) return true;
    const cached = this.verdicts.get(name);
    if (cached && cached.until > this.now()) return cached.ok;
    let verdict: { ok: boolean; until: number; reason?: string };
    try {
      const peer = await fetchPeer();
      verifySignerEvidence(peer, this.policyHash(), this.config, new Date(this.now()));
      verdict = { ok: true, until: this.now() + (this.config.ttlMs ?? 10 * 60_000) };
      log?.('signer attestation verified', { signer: name, spki_sha256: createHash('sha256').update(peer.spki).digest('hex') });
    } catch (err) {
      verdict = { ok: false, until: this.now() + 30_000, reason: (err as Error).message };
      log?.('signer refused: attestation', { signer: name, reason: verdict.reason });
    }
    this.verdicts.set(name, verdict);
    return verdict.ok;
  }
}
