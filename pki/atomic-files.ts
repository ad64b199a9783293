// Files replaced atomically (temporary file in the same folder, fsync, rename): a process that
// reloads on change never reads half a certificate. A pair is written key first, then certificate;
// between the two renames the pair does not match, which tls/credential-files.ts refuses (the old
// pair stays in force) until the certificate follows a moment later.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function replaceFile(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function replacePair(paths: { cert: string; key: string }, certPem: string, keyPem: string): Promise<void> {
  await replaceFile(paths.key, keyPem, 0o600);
  await replaceFile(paths.cert, certPem);
}
