// `ztmint keygen`: trusted-dealer FROST key set (dev only) plus the local CA, written as the
// state directory of docs/architecture.md. The dealer sees the whole key: production uses DKG.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CIPHERSUITE, frost, identifierFromIndex, type GroupInfo } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { createSealKey, sealShare } from '../signers/sealed-share.js';
import { writeDevPki } from '../pki/local-pki.js';

export interface KeygenOptions {
  state: string;
  signers: number;
  threshold: number;
  log?: (line: string) => void;
}

export function validateQuorum(signers: number, threshold: number): void {
  if (!Number.isInteger(signers) || !Number.isInteger(threshold) || threshold < 2 || threshold > signers || signers > 255) {
    throw new Error(`need integers with 2 ≤ threshold ≤ signers ≤ 255 (got threshold ${threshold}, signers ${signers})`);
  }
}

function signerDir(state: string, index: number): string {
  return join(state, 'signers', String(index));
}

export async function keygen(opts: KeygenOptions): Promise<GroupInfo> {
  validateQuorum(opts.signers, opts.threshold);
  const log = opts.log ?? (() => {});
  const identifiers = Array.from({ length: opts.signers }, (_, i) => identifierFromIndex(i + 1));
  const deal = frost.trustedDealer({ min: opts.threshold, max: opts.signers }, identifiers);
  const group: GroupInfo = {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(deal.public.commitments[0]!),
    threshold: opts.threshold,
    signers: opts.signers,
    identifiers,
    verifying_shares: Object.fromEntries(Object.entries(deal.public.verifyingShares).map(([id, v]) => [id, b64url(v)])),
    commitments: deal.public.commitments.map((c) => b64url(c)),
  };
  await mkdir(join(opts.state, 'audit'), { recursive: true, mode: 0o700 });
  await writeFile(join(opts.state, 'group.json'), JSON.stringify(group, null, 2) + '\n');
  log(`group key ${group.group_public_key} (${opts.threshold}-of-${opts.signers})`);

  for (const [i, id] of identifiers.entries()) {
    const dir = signerDir(opts.state, i + 1);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const share = deal.secretShares[id]!;
    await createSealKey(join(dir, 'seal.key'));
    await sealShare(share, group.group_public_key, { type: 'file', keyFile: join(dir, 'seal.key') }, join(dir, 'share.sealed'));
    share.signingShare.fill(0);
    log(`sealed share for signer ${i + 1}`);
  }

  const entities = [{ name: 'coordinator', role: 'both' as const }, { name: 'admin', role: 'client' as const }, ...identifiers.map((_, i) => ({ name: `signer-${i + 1}`, role: 'server' as const }))];
  await writeDevPki(opts.state, entities);
  log(`local CA (key sealed in ${join(opts.state, 'pki')}) and ${entities.length} certificates in ${join(opts.state, 'tls')}`);
  return group;
}
