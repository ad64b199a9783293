// `ztmint dev --state DIR` on an existing state: which signers to start. Every signer folder the
// state has runs (one whose share was lost starts share-less and waits for `ztmint keys repair`);
// with `--signers N` above that, the missing members get what a signer needs to start and join a
// reshare: an mTLS certificate from the state's CA (as `ztmint pki issue signer-<i>`) and a folder
// with a file-provider seal key (dev only), no share.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCa } from '../pki/ca.js';
import { issueCertificate } from '../pki/issue.js';
import { leafPaths } from '../pki/layout.js';
import { createSealKey } from '../signers/sealed-share.js';

/** The dev stack's leaves live 30 days (pki/local-pki.ts). */
const DEV_LEAF_DAYS = 30;

/** The highest signer index with a folder under `<state>/signers`. */
function highestSignerFolder(state: string): number {
  const dir = join(state, 'signers');
  if (!existsSync(dir)) return 0;
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() && /^[1-9][0-9]{0,2}$/.test(d.name) ? [Number(d.name)] : [])));
}

/**
 * Makes signers 1…max(wanted, the folders there) startable: a folder (with a seal key) and a
 * certificate for each one that lacks them. Returns how many signers to start.
 */
export async function addDevSigners(state: string, wanted: number, log: (line: string) => void): Promise<number> {
  const count = Math.max(wanted, highestSignerFolder(state));
  if (count > 255) throw new Error(`--signers ${count}: at most 255 signers`);
  let ca: Awaited<ReturnType<typeof loadCa>> | undefined;
  for (let i = 1; i <= count; i++) {
    const dir = join(state, 'signers', String(i));
    if (!existsSync(dir)) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await createSealKey(join(dir, 'seal.key'));
      log(`signer-${i}: new member (no share: it waits for a reshare) in ${dir}`);
    }
    const name = `signer-${i}`;
    const paths = leafPaths(join(state, 'tls'), name);
    if (!existsSync(paths.cert) || !existsSync(paths.key)) {
      ca ??= await loadCa(state);
      const issued = await issueCertificate(state, ca, { name, days: DEV_LEAF_DAYS });
      log(`${name}: certificate issued by the state's CA (until ${issued.not_after})`);
    }
  }
  return count;
}
