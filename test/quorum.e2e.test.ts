// t-of-n in practice: with one of three signers killed mints go on; with two killed nothing is
// issued (503 quorum_unavailable) and the coordinator reports itself not ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killPid, startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('signer quorum (2 of 3)', () => {
  it('mints with one signer killed', async () => {
    await killPid(stack.signers[0]!.pid);
    for (let i = 0; i < 3; i++) {
      const res = await stack.mint(await stack.idToken());
      expect(res.status).toBe(200);
      expect(res.body.token).toBeTypeOf('string');
    }
    const records = await stack.auditRecords();
    expect(records.at(-1)!.signers).toEqual(['signer-2', 'signer-3']);
    const ready = await fetch(`${stack.coordinator}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, signers_reachable: 2 });
  });

  it('issues nothing and is not ready with two signers killed', async () => {
    await killPid(stack.signers[1]!.pid);
    const res = await stack.mint(await stack.idToken());
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(res.body).toMatchObject({ code: 'quorum_unavailable', status: 503 });
    expect(res.body.token).toBeUndefined();
    expect((await stack.auditRecords()).at(-1)).toMatchObject({ event: 'deny', code: 'quorum_unavailable' });

    const ready = await fetch(`${stack.coordinator}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, signers_reachable: 1, threshold: 2 });
    expect((await fetch(`${stack.coordinator}/healthz`)).status).toBe(200);
  });
});
