// `ztmint coordinator` / `ztmint signer` refuse an invalid configuration at start: exit status 1,
// one line naming each bad key, and nothing listening.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/stack.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztmint-config-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ztmint(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
}

describe('invalid configuration fails at start', () => {
  it('coordinator: unknown file key and a bad environment value, both named', async () => {
    const config = join(dir, 'coordinator.yaml');
    await writeFile(config, 'state: /nonexistent\noidcAudience: https://c.example\nsigners: ["signer-1=https://a:9443"]\nsigner_timeout: 5\n');
    const r = ztmint(['coordinator', '--config', config], { ZTMINT_COORDINATOR_PUBLIC_URL: 'ftp://x' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`unknown key "signer_timeout" in ${config}`);
    expect(r.stderr).toContain('publicUrl (--public-url, ZTMINT_COORDINATOR_PUBLIC_URL) (from the environment) must match pattern');
  });

  it('signer: a missing required key via ZTMINT_SIGNER_CONFIG; a flag overrides the file', async () => {
    const config = join(dir, 'signer.json');
    await writeFile(config, JSON.stringify({ state: '/nonexistent', index: 'one', oidcAudience: 'https://c.example' }));
    const r = ztmint(['signer', '--index', '0'], { ZTMINT_SIGNER_CONFIG: config });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('tokenIssuer (--token-issuer, ZTMINT_SIGNER_TOKEN_ISSUER) is required');
    // The flag's 0 is what is checked, not the file's "one".
    expect(r.stderr).toContain('index (--index, ZTMINT_SIGNER_INDEX) (from the flag) must be >= 1');
  });
});
