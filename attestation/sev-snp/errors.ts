// Stable failure reasons of SEV-SNP attestation verification (docs/attestation.md lists them).
import { ZtmintError, type ZtmintErrorOptions } from '../../errors/ztmint-error.js';

export type SnpFailure =
  | 'report_size'
  | 'report_version'
  | 'signature_algo'
  | 'vcek_chain'
  | 'report_signature'
  | 'report_format'
  | 'signing_key'
  | 'vcek_tcb_mismatch'
  | 'policy'
  | 'vmpl'
  | 'tcb'
  | 'measurement'
  | 'report_data';

/**
 * Verification failure. `code` is the stable reason; `message` starts with `snp <code>: ` and then
 * explains in English (it holds public facts only: versions, hex digests, TCB numbers).
 */
export class SnpVerifyError extends ZtmintError<SnpFailure> {
  constructor(code: SnpFailure, detail: string, options: ZtmintErrorOptions = {}) {
    super(code, `snp ${code}: ${detail}`, options);
  }
}

export function fail(code: SnpFailure, detail: string, cause?: unknown): never {
  throw new SnpVerifyError(code, detail, { cause });
}
