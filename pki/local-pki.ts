// PKIs made in one go: the dev stack's (`ztmint keygen`, `ztmint dkg`), whose CA key is kept sealed
// with the file provider so that `ztmint pki renew/issue/status --state DIR` work on it later, and
// throwaway ones for tests (writeLocalPki: the CA key is not kept).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initCa } from './ca.js';
import { createCa, issueLeaf, type CertRole } from './certificates.js';
import { issueCertificate } from './issue.js';
import { privateKeyPem } from './x509.js';

export type { CertRole } from './certificates.js';

/** Leaves of the dev stack live 30 days; its CA a year, so that they can be renewed. */
const DEV_LEAF_DAYS = 30;
const DEV_CA_DAYS = 365;

/**
 * Writes `<tlsDir>/ca.pem` and `<name>.pem` / `<name>-key.pem` for each entity (keys mode 0600).
 * The CA private key is not kept (tests that need a foreign or throwaway CA).
 */
export async function writeLocalPki(tlsDir: string, entities: Array<{ name: string; role: CertRole }>, days = DEV_LEAF_DAYS): Promise<void> {
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const ca = await createCa({ days });
  await writeFile(join(tlsDir, 'ca.pem'), ca.cert.toString('pem') + '\n');
  for (const { name, role } of entities) {
    const leaf = await issueLeaf(ca, { name, role, days });
    await writeFile(join(tlsDir, `${name}.pem`), leaf.cert.toString('pem') + '\n');
    await writeFile(join(tlsDir, `${name}-key.pem`), await privateKeyPem(leaf.keys.privateKey), { mode: 0o600 });
  }
}

/**
 * The dev stack's PKI in `<state>`: a CA whose key is sealed with the file provider (allowed here,
 * and only here, without --insecure-allow-file-key-provider) and the standard certificates.
 */
export async function writeDevPki(state: string, entities: Array<{ name: string; role: CertRole }>): Promise<void> {
  const ca = await initCa(state, { days: DEV_CA_DAYS, target: { type: 'file', keyFile: join(state, 'pki', 'seal.key') }, allowFileProvider: true });
  for (const { name, role } of entities) await issueCertificate(state, ca, { name, role, days: DEV_LEAF_DAYS });
}
