// TLS credential files (tls/credential-files.ts): a pair is used only when the key matches the
// certificate, a change on disk is applied once the files form a usable pair again, and errors
// name the files but never their content.
import { mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLocalPki } from '../pki/local-pki.js';
import { readCredentials, TlsCredentialError, watchCredentials, type Credentials } from '../tls/credential-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztmint-tlscred-'));
  await writeLocalPki(join(dir, 'a'), [{ name: 'svc', role: 'server' }]);
  await writeLocalPki(join(dir, 'b'), [{ name: 'svc', role: 'server' }]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const paths = () => ({ cert: join(dir, 'live.pem'), key: join(dir, 'live-key.pem'), ca: join(dir, 'a', 'ca.pem') });

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('TLS credential files', () => {
  it('reads a matching pair; refuses a key of another certificate, naming the files only', async () => {
    await copyFile(join(dir, 'a', 'svc.pem'), paths().cert);
    await copyFile(join(dir, 'a', 'svc-key.pem'), paths().key);
    const creds = await readCredentials(paths());
    expect(creds.cert).toContain('BEGIN CERTIFICATE');
    await copyFile(join(dir, 'b', 'svc-key.pem'), paths().key);
    const err = await readCredentials(paths()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TlsCredentialError);
    expect((err as TlsCredentialError).code).toBe('tls_credentials_invalid');
    expect((err as Error).message).toContain(paths().cert);
    expect((err as Error).message).not.toContain('PRIVATE KEY');
    const missing = await readCredentials({ cert: join(dir, 'nope.pem'), key: paths().key }).catch((e: unknown) => e);
    expect((missing as Error).message).toContain('ENOENT');
  });

  it('applies a renewed pair once both files changed, never a half-written one', async () => {
    await copyFile(join(dir, 'a', 'svc.pem'), paths().cert);
    await copyFile(join(dir, 'a', 'svc-key.pem'), paths().key);
    const initial = await readCredentials(paths());
    const applied: Credentials[] = [];
    const logs: string[] = [];
    const stop = watchCredentials(paths(), initial, (next) => applied.push(next), { intervalMs: 50, debounceMs: 50, log: (m) => logs.push(m) });
    try {
      await writeFile(paths().cert, await readFile(join(dir, 'b', 'svc.pem')));
      await until(() => logs.some((l) => l.includes('not reloaded')));
      expect(applied).toEqual([]);
      await writeFile(paths().key, await readFile(join(dir, 'b', 'svc-key.pem')));
      await until(() => applied.length === 1);
      expect(applied[0]!.cert).toBe(await readFile(join(dir, 'b', 'svc.pem'), 'utf8'));
      expect(logs).toContain('TLS credentials reloaded');
    } finally {
      stop();
    }
  });
});
