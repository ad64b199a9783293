// Two coordinators on one file state directory would fork the audit chain: the second must refuse
// to start, naming the first, and the first must keep minting.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('embedded store lock', () => {
  it('refuses a second coordinator on the same state directory; the first keeps working', async () => {
    const second = spawnSync(
      process.execPath,
      [CLI, 'coordinator', '--state', stack.state, '--oidc-issuer', stack.issuer, '--oidc-audience', stack.coordinator, '--signer', `signer-1=${stack.signers[0]!.url}`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/state directory .* is in use by another coordinator \(pid \d+ on /);
    expect(second.stdout).not.toContain('"ready"');
    const mint = await stack.mint(await stack.idToken());
    expect(mint.status).toBe(200);
    const records = await stack.auditRecords();
    expect(records.at(-1)).toMatchObject({ event: 'mint', jti: mint.body.jti });
  });
});
