// What a ztmint signer puts in its SEV-SNP REPORT_DATA, so a report vouches for one TLS key and one
// policy bundle:
//
//   REPORT_DATA = SHA-512( "ztmint-snp-v1" 0x00
//                          || uint32_be(len(SPKI)) || SPKI
//                          || policy_hash )                      (64 bytes, the field's size)
//
// SPKI is the DER SubjectPublicKeyInfo of the signer's TLS certificate key; policy_hash is the 32
// bytes of the hex SHA-256 `pol` value (protocol/policy-hash.ts). The NUL-terminated label keeps
// these digests apart from any other use of SHA-512; the length prefix makes the split between the
// variable-length SPKI and the fixed-length policy hash unambiguous.
import { createHash } from 'node:crypto';
import { Sequence } from 'asn1js';
import { readSingle } from './asn1.js';

export const SNP_BINDING_LABEL = 'ztmint-snp-v1\0';

const POLICY_HASH_RE = /^[0-9a-fA-F]{64}$/;

export function snpReportData(tlsPublicKeySpkiDer: Uint8Array, policyHashHex: string): Uint8Array {
  if (!(tlsPublicKeySpkiDer instanceof Uint8Array) || tlsPublicKeySpkiDer.length === 0) {
    throw new TypeError('SPKI must be non-empty DER bytes');
  }
  let isSequence: boolean;
  try {
    isSequence = readSingle(tlsPublicKeySpkiDer) instanceof Sequence;
  } catch {
    isSequence = false;
  }
  if (!isSequence) throw new TypeError('SPKI is not one DER SEQUENCE');
  if (typeof policyHashHex !== 'string' || !POLICY_HASH_RE.test(policyHashHex)) {
    throw new TypeError('policy hash must be 64 hex digits (SHA-256)');
  }
  const length = Buffer.alloc(4);
  length.writeUInt32BE(tlsPublicKeySpkiDer.length);
  const digest = createHash('sha512').update(SNP_BINDING_LABEL, 'latin1').update(length).update(tlsPublicKeySpkiDer).update(Buffer.from(policyHashHex, 'hex')).digest();
  return new Uint8Array(digest);
}
