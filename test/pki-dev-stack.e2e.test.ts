// `ztmint pki` on a running `ztmint dev --state DIR` stack: the dev stack's keygen kept its CA key
// (sealed with the file provider), so `pki renew` re-issues its certificates in place; `pki status`
// reads <state>/dev-stack.json and shows each running signer moving to its renewed certificate
// (SERVED: older → this) without a restart, and the stack keeps minting.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;

interface Status {
  certificates: Array<{ name: string; state: string; served?: { current: boolean; not_after?: string; error?: string } }>;
  warnings: string[];
}

async function ztmint(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 120_000 });
  return stdout;
}

const status = async () => JSON.parse(await ztmint('pki', 'status', '--state', stack.state, '--json')) as Status;
const signerRows = (s: Status) => s.certificates.filter((c) => /^signer-\d+$/.test(c.name));

beforeAll(async () => {
  stack = await startDevStack();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('ztmint pki --state on a running dev stack', () => {
  it('renews in place; status shows every signer serving its renewed certificate; mints go on', async () => {
    const before = await status();
    expect(signerRows(before)).toHaveLength(3);
    for (const row of signerRows(before)) expect(row.served).toMatchObject({ current: true });
    expect(before.warnings).toEqual([]);

    const renewed = JSON.parse(await ztmint('pki', 'renew', '--state', stack.state, '--force', '--json')) as { renewed: Array<{ name: string }> };
    expect(renewed.renewed.map((r) => r.name)).toEqual(expect.arrayContaining(['coordinator', 'admin', 'signer-1', 'signer-2', 'signer-3']));

    const deadline = Date.now() + 60_000;
    let after = await status();
    while (!signerRows(after).every((r) => r.served?.current) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      after = await status();
    }
    expect(signerRows(after).map((r) => [r.name, r.served?.current])).toEqual([
      ['signer-1', true],
      ['signer-2', true],
      ['signer-3', true],
    ]);
    const table = await ztmint('pki', 'status', '--state', stack.state);
    expect(table).toMatch(/^signer-1\s+server\s+\S+\s+[\d.]+\s+ok\s+this$/m);

    // The coordinator reloads its renewed client certificate too; mints keep working.
    let minted = 0;
    while (minted === 0 && Date.now() < deadline) minted = (await stack.mint(await stack.idToken(), { scopes: ['deploy:canary'] })).status === 200 ? 1 : 0;
    expect(minted).toBe(1);
  }, 180_000);
});
