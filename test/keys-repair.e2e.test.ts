// `ztmint keys repair --index 2` against `ztmint dev --state DIR` (docs/keys.md): the stack is
// stopped, signer-2's sealed share deleted, the stack started again — signer-2 runs without its
// share and the others keep minting; the repair (the CLI, a child process) runs while two workers
// mint, none fails; afterwards signer-2's unsealed share·G is its verifying share in the key set,
// the JWKS is unchanged, key_repaired is audited, and the stack mints with signer-1 killed (so
// signer-2 must sign).
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsealShare } from '../signers/sealed-share.js';
import { killPid } from './helpers/dev-stack.js';
import { iatOf, keySetGroup, mintLoad, restartableStack, sleep, verifyingShareOf, ztmint } from './helpers/key-ceremony.js';

let state: string;
let dev: ReturnType<typeof restartableStack>;
const unlimited = '100000/min,10000'; // the load is about keys, not rate limits
const rates = ['--rate-repository', unlimited, '--rate-sub', unlimited];

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ztmint-keys-repair-'));
  dev = restartableStack(state);
});
afterAll(async () => {
  await dev?.stop();
  await rm(state, { recursive: true, force: true });
});

const shareFile = (i: number) => join(state, 'signers', String(i), 'share.sealed');

async function jwks(): Promise<JSONWebKeySet> {
  const res = await fetch(dev.stack.jwks, { signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as JSONWebKeySet;
}

async function mintsOk(times: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < times; i++) {
    const res = await dev.stack.mint(await dev.stack.idToken());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    tokens.push(res.body.token as string);
  }
  return tokens;
}

describe('ztmint keys repair (live dev stack)', () => {
  it('repairs a signer that lost its share while two workers mint; it then signs', async () => {
    await dev.start(...rates);
    const before = await jwks();
    const early = await mintsOk(1);
    await dev.stop();
    await rm(shareFile(2));
    await dev.start(...rates);
    // signer-2 runs without its share; 1 and 3 mint.
    early.push(...(await mintsOk(2)));
    const group = await keySetGroup(state);

    const load = mintLoad(dev.stack, 2);
    let r;
    try {
      await sleep(1500);
      r = await ztmint(['keys', 'repair', '--state', state, '--index', '2', '--json']);
      await sleep(1500);
    } finally {
      await load.stop();
    }
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ kind: 'repair', dealers: ['signer-1', 'signer-3'], recipients: ['signer-2'], threshold: 2, signers: 3 });
    console.log(`keys repair under load: ${load.tokens.length} mints, ${load.retried.length} retried${load.retried.length ? `: ${load.retried.join(' | ')}` : ''}`);
    expect(load.failures).toEqual([]);

    // The same share as before it was lost: share·G is signer-2's verifying share, which did not change.
    expect(existsSync(shareFile(2))).toBe(true);
    const repaired = await unsealShare(shareFile(2));
    expect(verifyingShareOf(repaired)).toBe(group.verifying_shares[repaired.identifier]);
    expect((await keySetGroup(state)).verifying_shares).toEqual(group.verifying_shares);
    const audited = (await dev.stack.auditRecords()).filter((e) => e.event === 'key_repaired');
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ dealers: ['signer-1', 'signer-3'], recipients: ['signer-2'] });

    // signer-1 down: 2 and 3 must sign, so signer-2 signs with its repaired share.
    await killPid(dev.stack.signers.find((s) => s.id === 1)!.pid);
    const late = await mintsOk(2);
    const lastMint = (await dev.stack.auditRecords()).filter((e) => e.event === 'mint').at(-1)!;
    expect(lastMint.signers).toEqual(['signer-2', 'signer-3']);
    const after = await jwks();
    expect(after).toEqual(before);
    const keySet = createLocalJWKSet(after);
    for (const token of [...early, ...load.tokens, ...late]) await jwtVerify(token, keySet, { algorithms: ['EdDSA'], currentDate: new Date(iatOf(token) * 1000) });
  }, 600_000);
});
